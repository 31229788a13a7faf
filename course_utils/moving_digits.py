"""Moving-digit videos for notebook 07's next-frame prediction (lecture 6.1), and the measures of a prediction.

A sequence shows one MNIST digit (28x28) gliding across a `size` x `size` black frame (48x48 by default). The
digit's top-left corner sits on integer pixels and moves diagonally, `speed` pixels along each axis per step (a
speed drawn once per sequence). At a border the digit bounces: the position is mirrored back inside and that
velocity component changes sign. To make the future genuinely uncertain, at every step the digit picks, with
probability `turn_probability`, a new direction uniformly among the four diagonals (the old one included), at
the same speed. So even a perfect predictor that sees the past exactly faces up to four possible next frames:
a predictor trained with L2 averages them (a blur), a stochastic one should draw one of them.

`moving_digits(n, length, split=..., seed=...)` -> MovingDigits: frames (N, T, 1, size, size) in [0, 1] and the
trajectories (positions, velocities, turns) the tests check the physics with. Train sequences use the course's
MNIST training split, test sequences its test split; the same arguments give the same sequences.

The measures (`copy_last_frame`, `per_step_mse`, `best_of_k_mse`, `sharpness`, `rollout_report`) compare a
predicted rollout (N, steps, 1, H, W) with the true future, step by step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .data import load_mnist

__all__ = ["MovingDigits", "moving_digits", "next_frame_pairs", "DIGIT", "copy_last_frame", "per_step_mse",
           "best_of_k_mse", "sharpness", "rollout_report"]

DIGIT = 28  # side of an MNIST digit in pixels
DIAGONALS = torch.tensor([[1, 1], [1, -1], [-1, 1], [-1, -1]])  # the four directions (row, col)


@dataclass(frozen=True)
class MovingDigits:
    """Sequences of one moving digit, and how it moved.

    frames (N, T, 1, size, size) float32 in [0, 1]; positions (N, T, 2) int64, the (row, col) of the digit's
    top-left corner, in 0..size-28; velocities (N, T, 2) int64, the velocity the digit has in frame t (it would
    move by it next, unless it turns); turned (N, T) bool, True where a new direction was drawn on the way into
    frame t (always False at t = 0); digits (N,) int64, the index of each sequence's digit in its split;
    labels (N,) int64, the digit's class.
    """

    frames: torch.Tensor
    positions: torch.Tensor
    velocities: torch.Tensor
    turned: torch.Tensor
    digits: torch.Tensor
    labels: torch.Tensor
    split: str

    def __len__(self) -> int:
        return len(self.frames)


def _check_int(name: str, value, low: int, why: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"moving_digits: {name} must be an int >= {low} ({why}), got {value!r}.")


def moving_digits(n: int, length: int, *, split: str = "train", size: int = 48, speed: tuple[int, int] = (2, 4),
                  turn_probability: float = 0.25, seed: int = 0) -> MovingDigits:
    """n sequences of `length` frames, each one digit of `split` ("train" or "test") moving in a size x size frame.

    speed: (lowest, highest) pixels per step along each axis, one integer drawn per sequence;
    turn_probability: the chance, at every step, of a new random diagonal direction (same speed);
    seed: the sequences depend on nothing else (digits are taken in a seeded random order, each once before any
    repeats).
    """
    _check_int("n", n, 1, "the number of sequences")
    _check_int("length", length, 1, "frames per sequence")
    _check_int("size", size, DIGIT, f"the frame must hold a {DIGIT}x{DIGIT} digit")
    _check_int("seed", seed, 0, "a torch seed")
    room = size - DIGIT  # largest coordinate of the top-left corner
    if (not isinstance(speed, (tuple, list)) or len(speed) != 2
            or not all(isinstance(s, int) and not isinstance(s, bool) for s in speed)
            or not 1 <= speed[0] <= speed[1] or (room > 0 and speed[1] > room)):
        raise ValueError(f"moving_digits: speed must be a pair of ints (lowest, highest) with 1 <= lowest <= highest "
                         f"<= size - {DIGIT} = {room} (one bounce per step at most), got {speed!r}.")
    if room == 0:
        raise ValueError(f"moving_digits: a {size}x{size} frame leaves a {DIGIT}x{DIGIT} digit no room to move; "
                         f"use size >= {DIGIT + speed[1]}.")
    if isinstance(turn_probability, bool) or not isinstance(turn_probability, (int, float)) \
            or not 0 <= turn_probability <= 1:
        raise ValueError(f"moving_digits: turn_probability must be a number in [0, 1], got {turn_probability!r}.")
    images, classes = load_mnist(split)
    g = torch.Generator().manual_seed(seed)
    digits = torch.cat([torch.randperm(len(images), generator=g) for _ in range(math.ceil(n / len(images)))])[:n]

    per_axis = torch.randint(speed[0], speed[1] + 1, (n, 1), generator=g)
    position = torch.randint(0, room + 1, (n, 2), generator=g)
    velocity = DIAGONALS[torch.randint(0, 4, (n,), generator=g)] * per_axis
    positions, velocities = [position], [velocity]
    turned = [torch.zeros(n, dtype=torch.bool)]
    for _ in range(length - 1):
        turn = torch.rand(n, generator=g) < turn_probability
        new_direction = DIAGONALS[torch.randint(0, 4, (n,), generator=g)] * per_axis
        velocity = torch.where(turn[:, None], new_direction, velocity)
        position = position + velocity
        # a bounce: mirror the overshoot back inside, reverse that component of the velocity
        below, above = position < 0, position > room
        position = torch.where(below, -position, torch.where(above, 2 * room - position, position))
        velocity = torch.where(below | above, -velocity, velocity)
        positions.append(position)
        velocities.append(velocity)
        turned.append(turn)
    positions, velocities = torch.stack(positions, 1), torch.stack(velocities, 1)  # (N, T, 2)
    return MovingDigits(frames=_render(images[digits, 0], positions, size), positions=positions,
                        velocities=velocities, turned=torch.stack(turned, 1), digits=digits, labels=classes[digits],
                        split=split)


def _render(digits: torch.Tensor, positions: torch.Tensor, size: int) -> torch.Tensor:
    """Paste digit n (N, 28, 28) at positions[n, t] (N, T, 2) into black frames: (N, T, 1, size, size)."""
    n, length = positions.shape[:2]
    frames = torch.zeros(n, length, size, size)
    offsets = torch.arange(DIGIT)
    rows = (positions[..., 0, None] + offsets)[..., :, None]  # (N, T, 28, 1)
    cols = (positions[..., 1, None] + offsets)[..., None, :]  # (N, T, 1, 28)
    seq = torch.arange(n)[:, None, None, None]
    step = torch.arange(length)[None, :, None, None]
    frames[seq, step, rows, cols] = digits[:, None].expand(n, length, DIGIT, DIGIT)
    return frames.unsqueeze(2)


def next_frame_pairs(frames: torch.Tensor, context: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every (past, next) window of sequences (N, T, 1, H, W): past (M, context, 1, H, W), next (M, 1, H, W).

    M = N * (T - context): the windows of one sequence follow each other.
    """
    if not torch.is_tensor(frames) or frames.dim() != 5:
        got = tuple(frames.shape) if torch.is_tensor(frames) else type(frames).__name__
        raise ValueError(f"next_frame_pairs expects frames (N, T, 1, H, W), e.g. moving_digits(...).frames; got {got}.")
    if isinstance(context, bool) or not isinstance(context, int) or not 1 <= context < frames.shape[1]:
        raise ValueError(f"next_frame_pairs needs 1 <= context < T = {frames.shape[1]} frames, got {context!r}.")
    windows = frames.unfold(1, context + 1, 1)  # (N, T - context, 1, H, W, context + 1)
    windows = windows.permute(0, 1, 5, 2, 3, 4).flatten(0, 1)  # (M, context + 1, 1, H, W)
    return windows[:, :context], windows[:, context]


# ---------------------------------------------------------------- measures of a predicted future

def copy_last_frame(past: torch.Tensor, steps: int) -> torch.Tensor:
    """The trivial forecast: the last past frame, repeated. past (N, K, 1, H, W) -> (N, steps, 1, H, W)."""
    return past[:, -1:].expand(-1, steps, -1, -1, -1).clone()


def _check_pair(prediction: torch.Tensor, target: torch.Tensor, who: str) -> None:
    if prediction.shape[-5:] != target.shape or target.dim() != 5:
        raise ValueError(f"{who} compares rollouts (N, steps, 1, H, W) with the true future of the same shape; got "
                         f"{tuple(prediction.shape)} and {tuple(target.shape)}.")


def per_step_mse(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared pixel error of each step ahead: (N, steps, 1, H, W) twice -> (steps,)."""
    _check_pair(prediction, target, "per_step_mse")
    return (prediction - target).pow(2).mean((0, 2, 3, 4))


def best_of_k_mse(samples: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-step error of the best of k sampled rollouts: samples (k, N, steps, 1, H, W) -> (steps,).

    For each sequence the sample closest to the true future over the whole rollout is kept (one choice per
    sequence, not one per step), then errors are averaged over sequences.
    """
    _check_pair(samples, target, "best_of_k_mse")
    errors = (samples - target).pow(2).mean((3, 4, 5))  # (k, N, steps)
    best = errors.mean(2).argmin(0)  # (N,)
    return errors[best, torch.arange(errors.shape[1])].mean(0)


def sharpness(frames: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of neighbouring pixels (horizontal and vertical) of each image: (..., H, W) -> (...).

    Averaging several distinct images lowers it (the square is convex), so a blurred guess scores below the
    real frames it averages; a sharp digit on black scores high.
    """
    dx = (frames[..., :, 1:] - frames[..., :, :-1]).pow(2).mean((-2, -1))
    dy = (frames[..., 1:, :] - frames[..., :-1, :]).pow(2).mean((-2, -1))
    return dx + dy


@torch.no_grad()
def rollout_report(sequences: MovingDigits | torch.Tensor, *, deterministic=None, stochastic=None,
                   context: int = 2, steps: int = 5, samples: int = 5, seed: int = 0) -> dict[str, list[float]]:
    """Per-step errors and sharpness of rolled-out predictions of frames[:, context:context + steps].

    deterministic: e.g. an L2FramePredictor; stochastic: e.g. a StochasticFramePredictor, rolled out `samples`
    times with one torch.Generator seeded with `seed`. Returns rows (name -> one value per step ahead):
    "mse copy last frame", "mse L2" / "mse one sample" (mean over samples) / "mse best of k", "sharpness real",
    "sharpness L2" / "sharpness samples", and "sample spread" (pixel variance across samples: 0 = one future).
    """
    frames = sequences.frames if isinstance(sequences, MovingDigits) else sequences
    if frames.shape[1] < context + steps:
        raise ValueError(f"rollout_report needs sequences of >= context + steps = {context + steps} frames, "
                         f"got {frames.shape[1]}.")
    past, future = frames[:, :context], frames[:, context:context + steps]
    report = {"mse copy last frame": per_step_mse(copy_last_frame(past, steps), future),
              "sharpness real": sharpness(future).mean((0, 2))}
    if deterministic is not None:
        prediction = deterministic.rollout(past, steps)
        report["mse L2"] = per_step_mse(prediction, future)
        report["sharpness L2"] = sharpness(prediction).mean((0, 2))
    if stochastic is not None:
        g = torch.Generator(device=stochastic.device).manual_seed(seed)
        draws = torch.stack([stochastic.rollout(past, steps, generator=g) for _ in range(samples)])
        report["mse one sample"] = per_step_mse(draws.flatten(0, 1), future.repeat(samples, 1, 1, 1, 1))
        report["mse best of k"] = best_of_k_mse(draws, future)
        report["sharpness samples"] = sharpness(draws).mean((0, 1, 3))
        report["sample spread"] = draws.var(0).mean((0, 2, 3, 4))
    return {name: [round(float(v), 6) for v in values] for name, values in report.items()}
