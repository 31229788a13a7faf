"""Why GAN training circles, and why its gradients vanish: two small games (notebook 05b, lecture 6.4).

1. **The bilinear game** min_x max_y f(x, y) = x·y, whose only equilibrium is (0, 0). It is the simplest
   model of a GAN near equilibrium (Mescheder et al. 2018). With step size eta:

   - simultaneous gradient descent-ascent (both players step from the same point): the update is
     sqrt(1 + eta^2) times a rotation, so the iterates spiral *outwards* by that factor every step;
   - alternating steps (y sees the new x, as `fit_gan` does): the update has determinant 1, so the
     iterates circle on a closed curve for eta < 2, bounded but never converging;
   - extragradient (Korpelevich 1976; Gidel et al. 2019): look ahead one step, then step with the
     look-ahead's gradient: sqrt(1 - eta^2 + eta^4) times a rotation, a spiral *inwards* for eta < 1;
   - optimistic GDA (Daskalakis et al. 2018): step with 2 g_t - g_{t-1}, which also converges.

2. **Disjoint supports** (Arjovsky & Bottou 2017): data at 0, the generator at theta != 0 (two point
   masses). A discriminator D(x) = sigmoid(w x + b) trained for longer and longer drives
   V(D, G) = log D(0) + log(1 - D(theta)) up to its maximum 0 = -log 4 + 2 JS, i.e. JS = log 2 whatever
   theta is; the saturating generator loss's gradient d/dtheta log(1 - D(theta)) vanishes, the
   non-saturating one's does not, and a WGAN-GP critic's gradient keeps the size of W = |theta|'s, 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F

__all__ = ["METHODS", "bilinear_game", "distance_to_equilibrium", "update_matrix", "spiral_factor",
           "extragradient_factor", "DisjointSupport", "disjoint_support", "js_of_uniforms"]

METHODS = ("simultaneous", "alternating", "extragradient", "optimistic")


# ---------------------------------------------------------------- argument checks

def _check_positive_int(value, name: str, who: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{who}: {name} must be a positive int, got {value!r}.")
    return value


def _check_lr(lr, who: str) -> float:
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"{who}: the step size lr must be a finite number > 0, got {lr!r}.")
    return float(lr)


def _check_method(method: str, who: str) -> None:
    if method not in METHODS:
        raise ValueError(f"{who}: unknown method {method!r}; expected one of {', '.join(map(repr, METHODS))}.")


# ---------------------------------------------------------------- 1. the bilinear game x·y

def update_matrix(method: str, lr: float) -> torch.Tensor:
    """The linear map (x, y) -> (x', y') of one step on f = x·y: a (2, 2) float64 tensor.

    Optimistic GDA needs the previous point too, so it has no 2x2 matrix (a ValueError says so)."""
    _check_method(method, "update_matrix")
    e = _check_lr(lr, "update_matrix")
    if method == "simultaneous":  # x' = x - e y, y' = y + e x
        rows = [[1.0, -e], [e, 1.0]]
    elif method == "alternating":  # x' = x - e y, y' = y + e x'
        rows = [[1.0, -e], [e, 1.0 - e * e]]
    elif method == "extragradient":  # look-ahead (x - e y, y + e x), then its gradients at (x, y)
        rows = [[1.0 - e * e, -e], [e, 1.0 - e * e]]
    else:
        raise ValueError("update_matrix: optimistic GDA uses two past points (x_t, y_t, x_{t-1}, y_{t-1}); "
                         "it is a 4x4 map, not a 2x2 matrix. Use 'simultaneous', 'alternating' or 'extragradient'.")
    return torch.tensor(rows, dtype=torch.float64)


def spiral_factor(lr: float) -> float:
    """|eigenvalue| of simultaneous GDA on x·y, sqrt(1 + lr^2): the distance to (0, 0) grows by it per step."""
    return math.sqrt(1 + _check_lr(lr, "spiral_factor") ** 2)


def extragradient_factor(lr: float) -> float:
    """|eigenvalue| of extragradient on x·y, sqrt(1 - lr^2 + lr^4): < 1 (a contraction) for lr < 1."""
    e = _check_lr(lr, "extragradient_factor")
    return math.sqrt(1 - e ** 2 + e ** 4)


def bilinear_game(method: str, steps: int = 100, lr: float = 0.1, start: tuple[float, float] = (1.0, 1.0)
                  ) -> torch.Tensor:
    """Iterates of `method` on min_x max_y x·y from `start`: a (steps + 1, 2) float64 tensor of (x, y).

    x descends grad_x f = y, y ascends grad_y f = x. Row 0 is the start."""
    who = "bilinear_game"
    _check_method(method, who)
    steps, e = _check_positive_int(steps, "steps", who), _check_lr(lr, who)
    try:
        x, y = (float(v) for v in start)
    except (TypeError, ValueError):
        raise ValueError(f"{who}: start must be two numbers (x0, y0), got {start!r}.") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"{who}: start must be finite, got {start!r}.")
    path = [(x, y)]
    px, py = x, y  # the previous point (optimistic GDA); its first step is a plain simultaneous one
    for _ in range(steps):
        if method == "simultaneous":
            x, y = x - e * y, y + e * x
        elif method == "alternating":
            x = x - e * y
            y = y + e * x  # sees the new x
        elif method == "extragradient":
            hx, hy = x - e * y, y + e * x  # look ahead
            x, y = x - e * hy, y + e * hx  # step from (x, y) with the look-ahead's gradients
        else:  # optimistic: gradient 2 g_t - g_{t-1}
            (x, y), (px, py) = (x - e * (2 * y - py), y + e * (2 * x - px)), (x, y)
        path.append((x, y))
    return torch.tensor(path, dtype=torch.float64)


def distance_to_equilibrium(trajectory: torch.Tensor) -> torch.Tensor:
    """Euclidean distance of each point of a (steps + 1, 2) trajectory to the equilibrium (0, 0): (steps + 1,)."""
    if not torch.is_tensor(trajectory) or trajectory.dim() != 2 or trajectory.shape[1] != 2:
        got = tuple(trajectory.shape) if torch.is_tensor(trajectory) else type(trajectory).__name__
        raise ValueError(f"distance_to_equilibrium expects a trajectory tensor of shape (steps + 1, 2), got {got}; "
                         "pass the output of bilinear_game(...).")
    return trajectory.norm(dim=1)


# ---------------------------------------------------------------- 2. disjoint supports

@dataclass(frozen=True)
class DisjointSupport:
    """What `disjoint_support` measured after each number of discriminator steps (all (K,) float64)."""

    steps: torch.Tensor  # D's (and the critic's) training steps so far
    value: torch.Tensor  # V(D, G) = log D(0) + log(1 - D(theta)); its maximum is 0 = -log 4 + 2 log 2
    d_real: torch.Tensor  # D(0), the data point: -> 1
    d_fake: torch.Tensor  # D(theta), the generator's point: -> 0
    grad_saturating: torch.Tensor  # d/dtheta log(1 - D(theta)), the game as written: vanishes
    grad_non_saturating: torch.Tensor  # d/dtheta -log D(theta): does not
    grad_wasserstein: torch.Tensor  # d/dtheta -f(theta) for a WGAN-GP critic f: stays ~ d|theta|/dtheta = 1


def _sigmoid(a: float) -> float:
    return 1 / (1 + math.exp(-a)) if a >= 0 else math.exp(a) / (1 + math.exp(a))


def _measure(theta: float, w: float, b: float, v: float) -> tuple[float, ...]:
    """V(D, G), D(0), D(theta) and, by autograd, d/dtheta of the saturating, non-saturating and WGAN G losses."""
    wt, bt = torch.tensor(w, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
    value = (F.logsigmoid(bt) + F.logsigmoid(-(wt * theta + bt))).item()  # log D(0) + log(1 - D(theta))
    losses = (lambda t: -F.softplus(wt * t + bt),  # saturating: log(1 - D(G))
              lambda t: F.softplus(-(wt * t + bt)),  # non-saturating: -log D(G)
              lambda t: -v * t)  # WGAN: -f(G)
    grads = []
    for loss in losses:
        t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
        grads.append(torch.autograd.grad(loss(t), t)[0].item() + 0.0)  # no -0.0
    return (value, _sigmoid(b), _sigmoid(w * theta + b), *grads)


def disjoint_support(theta: float = 2.0, checkpoints: tuple[int, ...] = (0, 1, 10, 100, 1_000, 10_000, 100_000),
                     lr: float = 0.05, gp_weight: float = 10.0) -> DisjointSupport:
    """Train D and a WGAN-GP critic on data at 0 vs a generator at theta; measure them at each checkpoint.

    D(x) = sigmoid(w x + b) does gradient ascent on V(D, G) (step lr); the critic f(x) = v x on
    f(0) - f(theta) - gp_weight (|f'| - 1)^2 (the gradient penalty of a linear critic). Both start at 0, where
    D = 1/2 and V = -log 4. checkpoints: increasing step counts (ints >= 0). About 0.2 s for 100,000 steps
    (the steps use the closed-form gradients; the measurements use autograd)."""
    who = "disjoint_support"
    if isinstance(theta, bool) or not isinstance(theta, (int, float)) or not math.isfinite(theta) or theta == 0:
        raise ValueError(f"{who}: theta must be a finite number != 0 (the generator's point; at 0 the two "
                         f"supports overlap and there is nothing to discriminate), got {theta!r}.")
    lr = _check_lr(lr, who)
    marks = list(checkpoints)
    if not marks or any(isinstance(k, bool) or not isinstance(k, int) or k < 0 for k in marks) or \
            marks != sorted(set(marks)):
        raise ValueError(f"{who}: checkpoints must be increasing ints >= 0 (steps of D), got {checkpoints!r}.")
    theta, w, b, v = float(theta), 0.0, 0.0, 0.0
    rows, done = [], 0
    for mark in marks:
        for _ in range(mark - done):
            fake = _sigmoid(w * theta + b)  # D(theta)
            # dV/dw, dV/db for V = log sigmoid(b) + log sigmoid(-(w theta + b)); the critic's objective's dv
            w, b = w - lr * theta * fake, b + lr * (1 - _sigmoid(b) - fake)
            v += lr * (-theta - 2 * gp_weight * (abs(v) - 1) * (1.0 if v > 0 else -1.0 if v < 0 else 0.0))
        done = mark
        rows.append((mark, *_measure(theta, w, b, v)))
    return DisjointSupport(*(torch.tensor(c, dtype=torch.float64) for c in zip(*rows)))


def js_of_uniforms(theta: torch.Tensor | float, width: float = 0.5) -> torch.Tensor:
    """JS(U[0, width] || U[theta, theta + width]) in nats: log 2 * min(1, |theta| / width), any shape.

    Where the two uniforms overlap they are equal and add nothing; each non-overlapping part adds log 2 times
    its mass. Once the supports are disjoint (|theta| >= width) JS is stuck at log 2: flat, zero gradient.
    (The Wasserstein-1 distance of the same pair is |theta|: it keeps growing.)"""
    if not width > 0:
        raise ValueError(f"js_of_uniforms: width must be > 0, got {width!r}.")
    t = torch.as_tensor(theta, dtype=torch.float64)
    return math.log(2) * (t.abs() / width).clamp(max=1.0)
