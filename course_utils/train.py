"""`fit`: the one training loop of every non-adversarial model in the course; `fit_gan`: the GANs' alternating loop.

The loop knows nothing about the model beyond `model.loss(x) -> scalar`; evaluation and plots
hang off `test_metric` and `callbacks` (per epoch) or `step_callbacks` (per step). Budget in epochs or
seconds (whichever ends first), a `tqdm.auto` progress bar, a per-epoch history and a guard that stops
on a NaN/inf loss. The recipes' training helpers (`fit_binarized`, `train_classifier`) are built on `fit`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
from torch import nn

from . import data as datasets
from .data import make_loader
from .runtime import device as default_device

__all__ = ["fit", "fit_gan", "History", "GANHistory", "TrainingDiverged", "fit_binarized", "train_classifier",
           "live_or_shipped", "smooth"]


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite during training."""


@dataclass
class History:
    """What `fit` measured: one entry per (possibly partial) epoch, plus every step's loss."""

    train_loss: list[float] = field(default_factory=list)  # mean loss of each epoch
    test_metric: list[float] = field(default_factory=list)  # test_metric(model) after each epoch
    step_loss: list[float] = field(default_factory=list)  # loss of every optimisation step
    seconds: float = 0.0  # wall-clock training time (evaluation excluded)
    steps: int = 0
    stopped_by: str = ""  # "epochs" or "seconds"
    budget: str = ""  # the repeatable budget, e.g. "20 epochs"; "" when seconds were the only budget

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    @property
    def cut_short(self) -> bool:
        """True when the wall-clock cap stopped training before its epoch/step budget (a busy or slow CPU)."""
        return self.stopped_by == "seconds" and bool(self.budget)


def _batches(data, batch_size: int, seed: int) -> Iterable:
    if torch.is_tensor(data):
        return make_loader(data, batch_size=batch_size, shuffle=True, seed=seed)
    if isinstance(data, torch.utils.data.DataLoader):
        return data
    raise TypeError(
        f"fit() expects `data` as a tensor of training examples (N, ...) or a DataLoader, got {type(data).__name__}. "
        "Pass e.g. load_mnist('train')[0]."
    )


def _check_budget(epochs, seconds) -> None:
    if epochs is None and seconds is None:
        raise ValueError("fit() needs a budget: pass epochs=N, seconds=S, or both (it stops at whichever comes first).")
    if epochs is not None and (not isinstance(epochs, int) or epochs <= 0):
        raise ValueError(f"epochs must be a positive int, got {epochs!r}.")
    if seconds is not None and (not isinstance(seconds, (int, float)) or not seconds > 0):
        raise ValueError(f"seconds must be a positive number, got {seconds!r}.")


def _check_lr(**rates) -> None:
    for name, value in rates.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0):
            raise ValueError(f"{name} must be a positive number (a learning rate such as 1e-3), got {value!r}.")


def fit(
    model: nn.Module,
    data,
    *,
    labels: torch.Tensor | None = None,
    epochs: int | None = None,
    seconds: float | None = None,
    batch_size: int = 128,
    lr: float = 1e-3,
    optimizer: torch.optim.Optimizer | None = None,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    test_metric: Callable[[nn.Module], float] | None = None,
    callbacks: Iterable[Callable[[nn.Module, History], None]] = (),
    step_callbacks: Iterable[Callable[[nn.Module, History], None]] = (),
    max_grad_norm: float | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
    seed: int = 0,
) -> History:
    """Train `model` by minimising `model.loss(x)` with Adam; return the History.

    Budget: `epochs` (repeatable), `seconds`, or both: then `seconds` is a wall-clock cap, and when it stops
    training before the epochs are done, `history.cut_short` is True and one line says so.

    data: tensor (N, ...) of training examples, or a DataLoader yielding x or (x, y).
    labels: tensor (N,) for supervised models, trained with `model.loss(x, y)` (e.g. the FID classifier).
    transform: applied to each batch on the device, e.g. `dynamic_binarize`.
    test_metric: called with the model (in eval mode, no grad) after each epoch.
    callbacks: called as cb(model, history) after each epoch (live plots, checkpoints...).
    step_callbacks: called as cb(model, history) after each optimisation step (e.g. `MADE.next_mask`).
    """
    from tqdm.auto import tqdm

    _check_budget(epochs, seconds)
    if not hasattr(model, "loss"):
        hint = " A GAN has two losses: train it with fit_gan()." if hasattr(model, "g_loss") else ""
        raise TypeError(f"fit() trains models with a loss(x) method; {type(model).__name__} has none.{hint}")
    dev = torch.device(device) if device is not None else default_device()
    model.to(dev)
    if labels is not None:
        if not torch.is_tensor(data) or not torch.is_tensor(labels) or labels.shape != (len(data),):
            got = tuple(labels.shape) if torch.is_tensor(labels) else type(labels).__name__
            raise ValueError(f"labels must be a tensor (N,) with one label per example of `data`, got {got}.")
        loader = make_loader(data, labels, batch_size=batch_size, shuffle=True, seed=seed)
    else:
        loader = _batches(data, batch_size, seed)
    if optimizer is None:
        _check_lr(lr=lr)
    opt = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    hist = History(budget=f"{epochs:,} epochs" if epochs is not None and seconds is not None else "")
    total = epochs * len(loader) if epochs is not None else None
    bar = tqdm(total=total, disable=not progress, desc=type(model).__name__, leave=False)
    start = time.perf_counter()
    epoch = 0
    try:
        while True:
            model.train()
            running, count = 0.0, 0
            for batch in loader:
                x = (batch[0] if isinstance(batch, (tuple, list)) else batch).to(dev)
                if transform is not None:
                    x = transform(x)
                loss = model.loss(x) if labels is None else model.loss(x, batch[1].to(dev))
                if not torch.isfinite(loss):
                    last = f"{hist.step_loss[-1]:.4g}" if hist.step_loss else "none yet"
                    raise TrainingDiverged(
                        f"the loss became {loss.item()} at epoch {epoch + 1}, step {hist.steps + 1} "
                        f"(last finite loss: {last}). Try a smaller learning rate (lr={lr:g} -> {lr / 10:g}), "
                        "gradient clipping (max_grad_norm=1.0), and check the data for NaN or out-of-range values."
                    )
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if max_grad_norm is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
                opt.step()
                value = loss.item()
                hist.step_loss.append(value)
                hist.steps += 1
                running, count = running + value * len(x), count + len(x)
                bar.update(1)
                if hist.steps % 20 == 0:
                    bar.set_postfix(loss=f"{value:.4g}")
                for cb in step_callbacks:
                    cb(model, hist)
                if seconds is not None and time.perf_counter() - start >= seconds:
                    break
            epoch += 1
            hist.train_loss.append(running / max(count, 1))
            hist.seconds = time.perf_counter() - start
            out_of_time = seconds is not None and hist.seconds >= seconds
            if test_metric is not None:
                model.eval()
                with torch.no_grad():
                    hist.test_metric.append(float(test_metric(model)))
            for cb in callbacks:
                cb(model, hist)
            start += (time.perf_counter() - start) - hist.seconds  # evaluation time is not training time
            if out_of_time or (epochs is not None and epoch >= epochs):
                hist.stopped_by = "seconds" if out_of_time else "epochs"
                break
    finally:
        bar.close()
        model.eval()
    _say_if_cut_short(type(model).__name__, hist, seconds)
    return hist


def fit_binarized(model: nn.Module, dataset: str = "mnist", *, epochs: int, lr: float, batch_size: int = 100,
                  weight_decay: float = 0.0, **fit_kwargs) -> History:
    """`fit` on the training images of `dataset`, freshly binarized each batch: AdamW with a cosine decay.

    How every binary-pixel checkpoint is trained; fit_kwargs go to `fit` (e.g. step_callbacks).
    """
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    return fit(model, datasets.load_dataset(dataset, "train")[0], epochs=epochs, batch_size=batch_size,
               optimizer=opt, transform=datasets.dynamic_binarize, callbacks=[lambda m, h: schedule.step()],
               device="cpu", **fit_kwargs)


def train_classifier(model: nn.Module, dataset: str = "mnist", *, epochs: int, batch_size: int,
                     augment: bool) -> History:
    """The feature networks' training: AdamW (lr 3e-3, weight decay 1e-4), cosine decay, optional random shifts."""
    from .models.features import random_shift

    x, y = datasets.load_dataset(dataset, "train")
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    return fit(model, x, labels=y, epochs=epochs, batch_size=batch_size, optimizer=opt,
               transform=random_shift if augment else None, callbacks=[lambda m, h: schedule.step()], device="cpu")


@dataclass
class GANHistory:
    """What `fit_gan` measured: both players' loss at every step (one step = d_steps D updates + one G update)."""

    d_loss: list[float] = field(default_factory=list)  # D's loss (mean over its d_steps updates)
    g_loss: list[float] = field(default_factory=list)
    seconds: float = 0.0
    steps: int = 0
    epochs: int = 0
    stopped_by: str = ""  # "steps", "epochs" or "seconds"
    budget: str = ""  # the repeatable budget, e.g. "2,000 steps"; "" when seconds were the only budget

    @property
    def cut_short(self) -> bool:
        """True when the wall-clock cap stopped training before its epoch/step budget (a busy or slow CPU)."""
        return self.stopped_by == "seconds" and bool(self.budget)


def _gan_diverged(what: str, value: float, hist: GANHistory, lr: float) -> TrainingDiverged:
    return TrainingDiverged(
        f"the {what} loss became {value} at step {hist.steps + 1}. GANs diverge when one player overwhelms the "
        f"other: try a smaller learning rate (lr={lr:g} -> {lr / 4:g}), Adam betas=(0.5, 0.999), the "
        "non-saturating loss, spectral_norm=True, and check the data for NaN or out-of-range values."
    )


def fit_gan(
    gan: nn.Module,
    data,
    *,
    labels: torch.Tensor | None = None,
    epochs: int | None = None,
    seconds: float | None = None,
    steps: int | None = None,
    batch_size: int = 64,
    lr: float = 2e-4,
    lr_d: float | None = None,
    betas: tuple[float, float] = (0.5, 0.999),
    d_steps: int = 1,
    decay: bool = False,
    callbacks: Iterable[Callable[[nn.Module, GANHistory], None]] = (),
    callback_every: int | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
    seed: int = 0,
) -> GANHistory:
    """Alternating GAN training: d_steps updates of D on real vs generated batches, then one update of G.

    data: tensor (N, *data_shape) of real examples (images in [0, 1]); labels (N,) for a conditional GAN.
    Budget: epochs over the data, seconds, steps (G updates) — whichever ends first. With steps (or epochs) and
    seconds, the seconds are a wall-clock cap: `history.cut_short` says whether it stopped training early.
    decay: both learning rates follow a cosine from lr to 0 over `steps` (sharper samples at the end).
    callbacks: cb(gan, history) every `callback_every` steps (default: after each epoch), e.g. snapshots.
    """
    from tqdm.auto import tqdm

    if epochs is None and seconds is None and steps is None:
        raise ValueError("fit_gan() needs a budget: pass epochs=N, seconds=S and/or steps=K (it stops at the first).")
    if epochs is not None or seconds is not None:
        _check_budget(epochs, seconds)
    if steps is not None and (not isinstance(steps, int) or steps <= 0):
        raise ValueError(f"steps must be a positive int, got {steps!r}.")
    if decay and steps is None:
        raise ValueError("decay=True decays the learning rate over a known number of steps: pass steps=K too.")
    if not (hasattr(gan, "d_loss") and hasattr(gan, "g_loss")):
        raise TypeError(f"fit_gan() trains a GAN (methods d_loss and g_loss); {type(gan).__name__} "
                        "has neither. Train density models and autoencoders with fit().")
    if not torch.is_tensor(data):
        raise TypeError(f"fit_gan() expects `data` as a tensor of real examples (N, ...), got {type(data).__name__}.")
    if labels is not None and (not torch.is_tensor(labels) or labels.shape != (len(data),)):
        got = tuple(labels.shape) if torch.is_tensor(labels) else type(labels).__name__
        raise ValueError(f"labels must be a tensor of shape ({len(data)},), one per example, got {got}.")
    _check_lr(lr=lr, lr_d=lr_d)
    pack = getattr(gan.config, "pack", 1)
    if batch_size % pack:
        raise ValueError(f"batch_size={batch_size} must be divisible by the GAN's pack={pack}.")
    dev = torch.device(device) if device is not None else default_device()
    gan.to(dev)
    tensors = (data,) if labels is None else (data, labels)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*tensors), batch_size=batch_size, shuffle=True,
                                         drop_last=True, generator=torch.Generator().manual_seed(seed))
    if len(loader) == 0:
        raise ValueError(f"fit_gan() got {len(data)} examples, fewer than one batch of {batch_size}.")
    opt_d = torch.optim.Adam(gan.discriminator_parameters(), lr=lr_d or lr, betas=betas)
    opt_g = torch.optim.Adam(gan.generator.parameters(), lr=lr, betas=betas)
    schedules = [torch.optim.lr_scheduler.LambdaLR(o, lambda i: 0.5 * (1 + math.cos(math.pi * min(i, steps) / steps)))
                 for o in (opt_d, opt_g)] if decay else []
    budgets = [f"{steps:,} steps" if steps is not None else "", f"{epochs:,} epochs" if epochs is not None else ""]
    hist = GANHistory(budget=" or ".join(b for b in budgets if b) if seconds is not None else "")
    limits = [k for k in (steps, epochs * len(loader) // d_steps if epochs else None) if k is not None]
    total = min(limits) if limits else None
    bar = tqdm(total=total, disable=not progress, desc=type(gan).__name__, leave=False)
    start = time.perf_counter()
    done = False
    gan.train()
    try:
        while not done:
            d_values = []
            for batch in loader:
                x = batch[0].to(dev)
                y = batch[1].to(dev) if labels is not None else None
                d_loss = gan.d_loss(x, y)
                if not torch.isfinite(d_loss):
                    raise _gan_diverged("discriminator", d_loss.item(), hist, lr_d or lr)
                opt_d.zero_grad(set_to_none=True)
                d_loss.backward()
                opt_d.step()
                d_values.append(d_loss.item())
                if len(d_values) < d_steps:
                    continue
                g_loss = gan.g_loss(len(x), y)
                if not torch.isfinite(g_loss):
                    raise _gan_diverged("generator", g_loss.item(), hist, lr)
                opt_g.zero_grad(set_to_none=True)
                g_loss.backward()
                opt_g.step()
                for sched in schedules:
                    sched.step()
                hist.d_loss.append(sum(d_values) / len(d_values))
                hist.g_loss.append(g_loss.item())
                d_values = []
                hist.steps += 1
                bar.update(1)
                if hist.steps % 20 == 0:
                    bar.set_postfix(d=f"{hist.d_loss[-1]:.3g}", g=f"{hist.g_loss[-1]:.3g}")
                hist.seconds = time.perf_counter() - start
                if callback_every and hist.steps % callback_every == 0:
                    start += _run_callbacks(gan, hist, callbacks)  # not training time
                if (steps is not None and hist.steps >= steps) or (seconds is not None and hist.seconds >= seconds):
                    hist.stopped_by = "steps" if steps is not None and hist.steps >= steps else "seconds"
                    done = True
                    break
            hist.epochs += 1
            if not done and epochs is not None and hist.epochs >= epochs:
                hist.stopped_by, done = "epochs", True
            if not callback_every:
                start += _run_callbacks(gan, hist, callbacks)  # not training time
    finally:
        bar.close()
        gan.eval()
    _say_if_cut_short(type(gan).__name__, hist, seconds)
    return hist


def _say_if_cut_short(name: str, hist, seconds: float | None) -> None:
    # One line, so that a student on a busy machine knows why the numbers differ from the committed ones.
    if hist.cut_short:
        print(f"{name}: the {seconds:g} s cap stopped training after {hist.steps:,} steps, before its budget of "
              f"{hist.budget}: this CPU is busy or slower than the course's reference machine.")


def live_or_shipped(model: nn.Module, history, name: str) -> nn.Module:
    """`model` if its training ran its full budget, else the shipped checkpoint NAME (and one line saying so).

    A notebook's later cells use what this returns, so they never depend on how far a live run got.
    """
    if not history.cut_short:
        return model
    from .checkpoints import load_pretrained

    print(f"The cells below use the shipped checkpoint {name!r} instead of this half-trained model.")
    return load_pretrained(name)


def smooth(values, window: int = 50, every: int = 10) -> tuple[list[int], list[float]]:
    """A moving average of a loss curve: (step of each window's end, its mean), every `every` steps.

    Short runs get a shorter window (never an error): a run of 30 steps is averaged over windows of 30.
    """
    values = torch.as_tensor(list(values), dtype=torch.float64)
    if values.numel() == 0:
        return [], []
    window = max(1, min(window, values.numel()))
    means = values.unfold(0, window, every).mean(1)  # (number of windows,)
    ends = [window + i * every for i in range(len(means))]
    return ends, means.tolist()


def _run_callbacks(model: nn.Module, hist, callbacks) -> float:
    """Run cb(model, hist) in eval mode; return the seconds they took (not counted as training time)."""
    t0 = time.perf_counter()
    model.eval()
    for cb in callbacks:
        cb(model, hist)
    model.train()
    return time.perf_counter() - t0
