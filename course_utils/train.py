"""`fit`: the one training loop of every non-adversarial model in the course (`fit_gan`, the GANs' alternating
loop, is in train_gan.py and importable from here).

The loop knows nothing about the model beyond `model.loss(x) -> scalar`; evaluation and plots
hang off `test_metric` and `callbacks` (per epoch) or `step_callbacks` (per step). Budget in epochs or
seconds (whichever ends first), a `tqdm.auto` progress bar, a per-epoch history and a guard that stops
on a NaN/inf loss. The recipes' training helpers (`fit_binarized`, `train_classifier`) are built on `fit`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
from torch import nn

from . import data as datasets
from .data import make_loader
from .runtime import capped_seconds, say
from .runtime import device as default_device

__all__ = ["fit", "History", "TrainingDiverged", "fit_binarized", "train_classifier", "live_or_shipped", "smooth",
           "assert_if_trained"]


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite during training."""


@dataclass
class Budgeted:
    """What every training loop records about its budget (History, GANHistory, TranslationHistory)."""

    seconds: float = 0.0  # wall-clock training time (evaluation excluded)
    steps: int = 0
    stopped_by: str = ""  # "steps", "epochs" or "seconds"
    budget: str = ""  # the repeatable budget, e.g. "20 epochs"; "" when seconds were the only budget

    @property
    def cut_short(self) -> bool:
        """True when the wall-clock cap stopped training before its epoch/step budget (a busy or slow CPU)."""
        return self.stopped_by == "seconds" and bool(self.budget)


@dataclass
class History(Budgeted):
    """What `fit` measured: one entry per (possibly partial) epoch, plus every step's loss."""

    train_loss: list[float] = field(default_factory=list)  # mean loss of each epoch
    test_metric: list[float] = field(default_factory=list)  # test_metric(model) after each epoch
    step_loss: list[float] = field(default_factory=list)  # loss of every optimisation step

    @property
    def epochs(self) -> int:
        return len(self.train_loss)


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
    seconds = capped_seconds(seconds)
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


def _say_if_cut_short(name: str, hist, seconds: float | None) -> None:
    # One line, so that a student on a busy machine knows why the numbers differ from the committed ones.
    if hist.cut_short:
        say(f"{name}: the {seconds:g} s cap stopped training after {hist.steps:,} steps, before its budget of "
            f"{hist.budget}: this CPU is busy or slower than the course's reference machine.")


def live_or_shipped(model: nn.Module, history, name: str) -> nn.Module:
    """`model` if its training ran its full budget, else the shipped checkpoint NAME (and one line saying so).

    A notebook's later cells use what this returns, so they never depend on how far a live run got.
    """
    if not history.cut_short:
        return model
    from .checkpoints import load_pretrained

    say(f"The cells below use the shipped checkpoint {name!r} instead of this half-trained model.")
    return load_pretrained(name)


def assert_if_trained(claim: bool, message: str, *histories) -> None:
    """Assert a notebook's claim about live-trained models, unless a wall-clock cap cut their training short.

    On a busy machine (or in CI's student-edition run, which caps every live cell) a cut-short model may not
    reach the claimed numbers: then one line says the claim is not checked, instead of the cell failing.
    """
    short = [h for h in histories if getattr(h, "cut_short", False)]
    if short:
        say(f"(not checked: {len(short)} of {len(histories)} training run(s) were cut short by their cap; "
            "the committed outputs show the full runs)")
        return
    assert claim, message


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


def __getattr__(name: str):
    # fit_gan and GANHistory live in train_gan.py; `from course_utils.train import fit_gan` keeps working.
    if name in ("fit_gan", "GANHistory"):
        from . import train_gan

        return getattr(train_gan, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
