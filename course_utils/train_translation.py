"""`fit_translation`: the training loop of notebook 07's paired models (`ImageTranslator`).

One step: (if the model has a discriminator) one update of D on real pairs (x, y) against generated pairs
(x, G(x)), then one update of G on its loss, pixel + adversarial_weight * GAN loss. A plain regression model
(adversarial_weight=0) has only the G step. Budgets as in `fit_gan`: steps, epochs and/or a wall-clock
`seconds` cap (lowered by COURSE_MAX_TRAIN_SECONDS, `runtime.capped_seconds`), whichever ends first.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from .runtime import capped_seconds
from .runtime import device as default_device
from .train import Budgeted, TrainingDiverged, _check_budget, _check_lr, _say_if_cut_short

__all__ = ["fit_translation", "TranslationHistory"]


@dataclass
class TranslationHistory(Budgeted):
    """What `fit_translation` measured at every step (one step = one D update, if any, and one G update)."""

    loss: list[float] = field(default_factory=list)  # G's full loss
    pixel_loss: list[float] = field(default_factory=list)  # its L1 or L2 part
    d_loss: list[float] = field(default_factory=list)  # D's loss (empty for a regression model)
    epochs: int = 0  # complete passes over the data


def _diverged(what: str, value: float, hist: TranslationHistory, lr: float) -> TrainingDiverged:
    return TrainingDiverged(
        f"the {what} loss became {value} at step {hist.steps + 1}. Try a smaller learning rate "
        f"(lr={lr:g} -> {lr / 4:g}) or a smaller adversarial_weight, and check that inputs and targets are "
        "finite images in [0, 1]."
    )


def _check_pairs(model: nn.Module, inputs, targets) -> None:
    if not (hasattr(model, "loss") and hasattr(model, "generator_parameters")):
        raise TypeError(f"fit_translation() trains an ImageTranslator; {type(model).__name__} is none. "
                        "Train other models with fit() or fit_gan().")
    if not (torch.is_tensor(inputs) and torch.is_tensor(targets)):
        raise TypeError("fit_translation() expects `inputs` and `targets` as tensors (N, 1, s, s) and "
                        "(N, 1, 28, 28), e.g. from paired_images.paired_mnist(task, 'train')[:2].")
    if len(inputs) != len(targets):
        raise ValueError(f"fit_translation() needs one target per input: got {len(inputs)} inputs and "
                         f"{len(targets)} targets.")


def fit_translation(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    steps: int | None = None,
    epochs: int | None = None,
    seconds: float | None = None,
    batch_size: int = 64,
    lr: float = 1e-3,
    lr_d: float | None = None,
    betas: tuple[float, float] = (0.5, 0.999),
    decay: bool = False,
    device: torch.device | str | None = None,
    progress: bool = True,
    seed: int = 0,
) -> TranslationHistory:
    """Train `model` (an ImageTranslator) on pairs inputs (N, 1, s, s) -> targets (N, 1, 28, 28) with Adam.

    Budget: steps, epochs and/or seconds; with steps or epochs, seconds is a wall-clock cap and
    `history.cut_short` says whether it stopped training early.
    lr_d: D's learning rate (default lr); decay: both rates follow a cosine to 0 over `steps`.
    """
    from tqdm.auto import tqdm

    if epochs is None and seconds is None and steps is None:
        raise ValueError("fit_translation() needs a budget: pass steps=K, epochs=N and/or seconds=S "
                         "(it stops at the first).")
    if epochs is not None or seconds is not None:
        _check_budget(epochs, seconds)
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps <= 0):
        raise ValueError(f"steps must be a positive int, got {steps!r}.")
    if decay and steps is None:
        raise ValueError("decay=True decays the learning rate over a known number of steps: "
                         "pass steps=K too.")
    seconds = capped_seconds(seconds)
    _check_pairs(model, inputs, targets)
    _check_lr(lr=lr, lr_d=lr_d)
    dev = torch.device(device) if device is not None else default_device()
    model.to(dev)
    pairs = torch.utils.data.TensorDataset(inputs, targets)
    loader = torch.utils.data.DataLoader(pairs, batch_size=batch_size, shuffle=True, drop_last=True,
                                         generator=torch.Generator().manual_seed(seed))
    if len(loader) == 0:
        raise ValueError(f"fit_translation() got {len(inputs)} pairs, fewer than one batch of {batch_size}.")
    opt_g = torch.optim.Adam(model.generator_parameters(), lr=lr, betas=betas)
    optimizers = [opt_g]
    if model.adversarial:
        opt_d = torch.optim.Adam(model.discriminator_parameters(), lr=lr_d or lr, betas=betas)
        optimizers.append(opt_d)
    cosine = lambda i: 0.5 * (1 + math.cos(math.pi * min(i, steps) / steps))  # noqa: E731
    schedules = [torch.optim.lr_scheduler.LambdaLR(o, cosine) for o in optimizers] if decay else []
    budgets = [f"{steps:,} steps" if steps is not None else "",
               f"{epochs:,} epochs" if epochs is not None else ""]
    hist = TranslationHistory(budget=" or ".join(b for b in budgets if b) if seconds is not None else "")
    limits = [k for k in (steps, epochs * len(loader) if epochs else None) if k is not None]
    bar = tqdm(total=min(limits) if limits else None, disable=not progress, desc=type(model).__name__,
               leave=False)
    start = time.perf_counter()
    done = False
    model.train()
    try:
        while not done:
            for x, y in loader:
                x, y = x.to(dev), y.to(dev)
                if model.adversarial:
                    d_loss = model.d_loss(x, y)
                    if not torch.isfinite(d_loss):
                        raise _diverged("discriminator", d_loss.item(), hist, lr_d or lr)
                    opt_d.zero_grad(set_to_none=True)
                    d_loss.backward()
                    opt_d.step()
                    hist.d_loss.append(d_loss.item())
                terms = model.loss_terms(x, y)
                loss = terms["pixel"] + model.config.adversarial_weight * terms["adversarial"]
                if not torch.isfinite(loss):
                    raise _diverged("generator", loss.item(), hist, lr)
                opt_g.zero_grad(set_to_none=True)
                loss.backward()
                opt_g.step()  # D's gradients from this loss are cleared before D's next update
                for sched in schedules:
                    sched.step()
                hist.loss.append(loss.item())
                hist.pixel_loss.append(terms["pixel"].item())
                hist.steps += 1
                bar.update(1)
                if hist.steps % 20 == 0:
                    bar.set_postfix(loss=f"{hist.loss[-1]:.4g}")
                hist.seconds = time.perf_counter() - start
                steps_done = steps is not None and hist.steps >= steps
                if steps_done or (seconds is not None and hist.seconds >= seconds):
                    hist.stopped_by = "steps" if steps_done else "seconds"
                    hist.epochs += hist.steps % len(loader) == 0  # the last batch of a pass ended it
                    done = True
                    break
            else:
                hist.epochs += 1
                if epochs is not None and hist.epochs >= epochs:
                    hist.stopped_by, done = "epochs", True
    finally:
        bar.close()
        model.eval()
    _say_if_cut_short(type(model).__name__, hist, seconds)
    return hist
