"""`fit_next_frame`: train a next-frame predictor (models/next_frame.py) with the course's one loop, `fit`.

`fit` calls `model.loss(x)` on batches of one tensor; a predictor's loss takes two, `loss(past, next)`. So the
sequences are cut into windows of K + 1 frames (K past frames and the next one), stored as one uint8 tensor
(moving-digit frames are MNIST grey levels k/255, so this is exact and four times smaller than float32), and
`fit` trains a thin wrapper whose `loss(windows)` splits each batch and calls the predictor's loss. Budget,
progress bar, NaN guard, wall-clock cap (`capped_seconds`) and History are fit's own.
"""

from __future__ import annotations

import torch
from torch import nn

from .moving_digits import MovingDigits, next_frame_pairs
from .train import History, fit

__all__ = ["fit_next_frame", "frame_windows"]


def frame_windows(frames: torch.Tensor, context: int, chunk: int = 1000) -> torch.Tensor:
    """Every window of context + 1 consecutive frames of (N, T, 1, H, W) in [0, 1], as uint8 (M, context+1, 1, H, W).

    Cut `chunk` sequences at a time so that no float copy of every window is ever held.
    """
    parts = []
    for start in range(0, len(frames), chunk):
        past, following = next_frame_pairs(frames[start:start + chunk], context)
        window = torch.cat([past, following[:, None]], 1)
        parts.append(window.mul(255).round_().to(torch.uint8))
    return torch.cat(parts)


class _WindowLoss(nn.Module):
    """`loss(windows)` for `fit`: uint8 windows (B, K+1, 1, H, W) -> predictor.loss(past, next)."""

    def __init__(self, predictor: nn.Module):
        super().__init__()
        self.predictor = predictor

    def loss(self, windows: torch.Tensor) -> torch.Tensor:
        frames = windows.float() / 255
        return self.predictor.loss(frames[:, :-1], frames[:, -1])


def fit_next_frame(model: nn.Module, sequences: MovingDigits | torch.Tensor, *, epochs: int | None = None,
                   seconds: float | None = None, batch_size: int = 64, lr: float = 1e-3, decay: bool = False,
                   device: torch.device | str | None = "cpu", progress: bool = True, seed: int = 0) -> History:
    """Train a next-frame predictor on every window of `sequences` (MovingDigits, or frames (N, T, 1, S, S)).

    Budget as in `fit`: epochs and/or seconds (with both, seconds is a cap and history.cut_short says whether it
    cut training short). decay: the learning rate follows a cosine to 0 over `epochs` (needs epochs).
    """
    if not (hasattr(model, "loss") and hasattr(model, "rollout")):
        raise TypeError(f"fit_next_frame() trains a next-frame predictor (L2FramePredictor, "
                        f"StochasticFramePredictor); {type(model).__name__} is none. Train other models with fit().")
    frames = sequences.frames if isinstance(sequences, MovingDigits) else sequences
    context = model.config.context
    if not torch.is_tensor(frames) or frames.dim() != 5 or frames.shape[1] <= context:
        got = tuple(frames.shape) if torch.is_tensor(frames) else type(frames).__name__
        raise ValueError(f"fit_next_frame() needs sequences of more than context={context} frames, "
                         f"(N, T > {context}, 1, S, S), e.g. moving_digits(n, {context + 1}); got {got}.")
    if decay and epochs is None:
        raise ValueError("decay=True decays the learning rate over a known number of epochs: pass epochs=N too.")
    # named after the predictor: fit's progress bar and its "cut short" line show type(model).__name__
    wrapper = type(type(model).__name__, (_WindowLoss,), {})(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    callbacks = []
    if decay:
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
        callbacks.append(lambda m, h: schedule.step())
    return fit(wrapper, frame_windows(frames, context), epochs=epochs, seconds=seconds, batch_size=batch_size,
               optimizer=optimizer, callbacks=callbacks, device=device, progress=progress, seed=seed)
