"""`fit_gan`: the GANs' alternating training loop (D steps, then a G step), with the same budgets as `fit`."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import nn

from .runtime import capped_seconds
from .runtime import device as default_device
from .train import Budgeted, TrainingDiverged, _check_budget, _check_lr, _run_callbacks, _say_if_cut_short

__all__ = ["fit_gan", "GANHistory"]


@dataclass
class GANHistory(Budgeted):
    """What `fit_gan` measured: both players' loss at every step (one step = d_steps D updates + one G update)."""

    d_loss: list[float] = field(default_factory=list)  # D's loss (mean over its d_steps updates)
    g_loss: list[float] = field(default_factory=list)
    epochs: int = 0


def _gan_diverged(what: str, value: float, hist: GANHistory, lr: float) -> TrainingDiverged:
    return TrainingDiverged(
        f"the {what} loss became {value} at step {hist.steps + 1}. GANs diverge when one player overwhelms the "
        f"other: try a smaller learning rate (lr={lr:g} -> {lr / 4:g}), Adam betas=(0.5, 0.999), the "
        "non-saturating loss, spectral_norm=True, and check the data for NaN or out-of-range values."
    )


@contextmanager
def _frozen(params: list[nn.Parameter]):
    """Inside: `params` need no gradient (autograd still passes gradients through their layers)."""
    before = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(params, before):
            p.requires_grad_(flag)


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
    seconds = capped_seconds(seconds)
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
    d_params = gan.discriminator_parameters()
    opt_d = torch.optim.Adam(d_params, lr=lr_d or lr, betas=betas)
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
                with _frozen(d_params):  # G's step: autograd can skip D's weight gradients
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
