"""`fit`: the one training loop of every non-adversarial model in the course.

The loop knows nothing about the model beyond `model.loss(x) -> scalar`; evaluation and plots
hang off `test_metric` and `callbacks`. Budget in epochs or seconds (whichever ends first), a
`tqdm.auto` progress bar, a per-epoch history and a guard that stops on a NaN/inf loss.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
from torch import nn

from .data import make_loader
from .runtime import device as default_device

__all__ = ["fit", "History", "TrainingDiverged"]


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


def fit(
    model: nn.Module,
    data,
    *,
    epochs: int | None = None,
    seconds: float | None = None,
    batch_size: int = 128,
    lr: float = 1e-3,
    optimizer: torch.optim.Optimizer | None = None,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    test_metric: Callable[[nn.Module], float] | None = None,
    callbacks: Iterable[Callable[[nn.Module, History], None]] = (),
    max_grad_norm: float | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
    seed: int = 0,
) -> History:
    """Train `model` by minimising `model.loss(x)` with Adam; return the History.

    data: tensor (N, ...) of training examples, or a DataLoader yielding x or (x, y).
    transform: applied to each batch on the device, e.g. `dynamic_binarize`.
    test_metric: called with the model (in eval mode, no grad) after each epoch.
    callbacks: called as cb(model, history) after each epoch (live plots, checkpoints...).
    """
    from tqdm.auto import tqdm

    _check_budget(epochs, seconds)
    if not hasattr(model, "loss"):
        raise TypeError(f"fit() trains models with a loss(x) method; {type(model).__name__} has none.")
    dev = torch.device(device) if device is not None else default_device()
    model.to(dev)
    loader = _batches(data, batch_size, seed)
    opt = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    hist = History()
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
                loss = model.loss(x)
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
    return hist
