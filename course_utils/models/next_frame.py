"""Predicting the next video frame (notebook 07, lecture 6.1): an L2 predictor and a stochastic one.

Both predict frame t+1 of a video from its last K frames, as the motion-kernel networks of SV2P (Finn et al.'s
CDNA) do: a small convolutional network reads the K past frames, stacked as channels, together with a
correlation layer (how well the last frame matches the one before moved by each displacement, as in FlowNet),
and outputs a (2m+1) x (2m+1) kernel, a probability distribution over displacements of up to m pixels. The
prediction is the last frame convolved with it: a one-hot kernel moves the digit without blurring it; a
spread-out kernel superimposes shifted copies. (So these models move content; they cannot draw new content.)

- `L2FramePredictor` minimises the pixel L2 loss J(theta) = mean ||x_hat - x_next||^2. When the future is
  uncertain (the digit may turn), the best guess under L2 is the mean of the possible next frames,
  E[next | past] = sum_z pi_z shift_z(last): its kernel spreads over every displacement that might happen, and
  the prediction is a blur of superimposed digits, which grows when predictions are fed back.
- `StochasticFramePredictor` is a latent-variable model whose latent z is the displacement:
  p_theta(next | past) = sum_z p_theta(z | past) N(next; shift_z(last), obs_std^2 I). The same network gives
  p_theta(z | past) (the kernel), trained by exact maximum likelihood: with (2m+1)^2 = 81 values of z the sum is
  computed exactly, and so is the posterior p(z | past, next) (Bayes' rule), so unlike a VAE (notebook 04) no
  encoder q_phi and no ELBO are needed. predict draws z ~ p_theta(z | past): one sharp future per draw,
  different seeds give different futures; the L2 model outputs their average.

Shapes (S = config.size, K = config.context): past (N, T, 1, S, S) with T >= K (the last K frames are used),
next (N, 1, S, S), all in [0, 1]. Both are `CourseModel`s (models/base.py), not generative models: they draw
nothing without a past. predict(past, *, generator=None) -> (N, 1, S, S); rollout(past, steps, *,
generator=None) -> (N, steps, 1, S, S), feeding each prediction back as the newest past frame;
motion_kernel(past, *, generator=None) -> (N, 1, 2m+1, 2m+1) (the stochastic model: the drawn one-hot kernel);
loss(past, next) -> scalar. predict, rollout and motion_kernel run without gradients in eval mode; the
stochastic model draws from `generator` (seeded -> repeatable). No loss changes the model's state (no batch
norm, no dropout).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..validation import check_finite, check_tensor
from .base import CourseModel, ModelConfig

__all__ = ["L2FramePredictor", "StochasticFramePredictor", "FrameEncoder", "apply_kernel", "frame_correlation"]


def apply_kernel(frame: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Convolve each frame (N, 1, S, S) with its own kernel (N, 1, k, k) (zero padding): (N, 1, S, S).

    A kernel that is one at offset (dr, dc) from its centre moves the frame's content by (dr, dc) pixels.
    """
    n, _, k, _ = kernel.shape
    # conv2d correlates: flipping the kernel turns "weight at offset d" into "content moves by d"
    out = F.conv2d(frame.transpose(0, 1), kernel.flip(-2, -1), padding=k // 2, groups=n)
    return out.transpose(0, 1)


def frame_correlation(before: torch.Tensor, after: torch.Tensor, max_shift: int) -> torch.Tensor:
    """How well `after` matches `before` moved by each displacement d, |d_row|, |d_col| <= max_shift.

    before, after (N, S, S) -> (N, (2m+1)^2): sum_x after(x + d) before(x) / sum_x before(x)^2 (1 for a perfect
    match), a correlation layer as in FlowNet: the motion between two frames, read off directly.
    """
    n = len(before)
    energy = before.pow(2).flatten(1).sum(1).clamp_min(1e-6)
    scores = F.conv2d(after[None], before[:, None], padding=max_shift, groups=n)[0]  # (N, 2m+1, 2m+1)
    return scores.flatten(1) / energy[:, None]


class FrameEncoder(nn.Module):
    """Frames stacked as channels (N, C, S, S) -> features (N, 4 * channels * (S/8)^2): three stride-2 convs."""

    def __init__(self, in_frames: int, channels: int, size: int):
        super().__init__()
        c = channels
        self.net = nn.Sequential(
            nn.Conv2d(in_frames, c, 4, 2, 1), nn.ReLU(),  # S/2: compares the stacked frames pixel by pixel
            nn.Conv2d(c, 2 * c, 4, 2, 1), nn.ReLU(),  # S/4
            nn.Conv2d(2 * c, 4 * c, 4, 2, 1), nn.ReLU(),  # S/8
            nn.Flatten(),
        )
        self.features = 4 * c * (size // 8) ** 2

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.net(frames)


@dataclass(frozen=True)
class _PredictorConfig(ModelConfig):
    size: int = 48  # side S of the square frames
    context: int = 2  # K: how many past frames the prediction sees
    channels: int = 16  # channels of the encoder's first conv (then 2x, 4x)
    hidden: int = 256  # width of the layer that turns features into the kernel
    max_shift: int = 4  # m: the kernel is (2m+1) x (2m+1), displacements of up to m pixels per axis

    def validate(self):
        self.require_positive("size", "context", "channels", "hidden", "max_shift")
        self.require(self.size % 8 == 0 and self.size >= 16, "size", "a multiple of 8, at least 16")
        self.require(self.context >= 2, "context", "at least 2 frames (the motion is read from the last two)")
        self.require(2 * self.max_shift + 1 <= self.size, "max_shift", f"a kernel no wider than size={self.size}")


class _FramePredictor(CourseModel):
    """What both predictors share: input checks, kernels -> frames, predict and rollout."""

    config: _PredictorConfig

    def __init__(self, config: _PredictorConfig):
        super().__init__()
        self.config = cfg = config
        self.encoder = FrameEncoder(cfg.context, cfg.channels, cfg.size)
        side = 2 * cfg.max_shift + 1
        self.features = self.encoder.features + side * side  # CNN features + the last two frames' correlation
        self.to_kernel = nn.Sequential(nn.Linear(self.features, cfg.hidden), nn.ReLU(),
                                       nn.Linear(cfg.hidden, side * side))
        # a learned weight of a skip "keep the last motion" (correlation -> kernel logits), starting at 0: a
        # shortcut to the constant-velocity guess, which the network corrects (bounces, turns)
        self.persistence = nn.Parameter(torch.zeros(()))

    # ------------------------------------------------------------------ checks

    def _check_frames(self, x, name: str, shape: tuple) -> torch.Tensor:
        who = type(self).__name__
        x = check_finite(check_tensor(x, shape, name=name, who=who, device=self.device), name=name, who=who)
        if x.numel() and (x.min() < 0 or x.max() > 1):
            raise ValueError(f"{who} expects {name} with pixels in [0, 1], got values in [{x.min():.3g}, "
                             f"{x.max():.3g}]. Scale frames to [0, 1] (e.g. moving_digits(...).frames).")
        return x

    def _check_past(self, past) -> torch.Tensor:
        """past (N, T, 1, S, S) with T >= K -> the last K frames as channels (N, K, S, S)."""
        s, k = self.config.size, self.config.context
        past = self._check_frames(past, "past", (None, 1, s, s))
        if past.shape[1] < k:
            raise ValueError(f"{type(self).__name__} predicts from the last {k} frames but past has "
                             f"{past.shape[1]} (shape {tuple(past.shape)}): pass past of shape (N, >={k}, 1, {s}, {s}).")
        return past[:, -k:, 0]

    def _check_next(self, next_frame, n: int) -> torch.Tensor:
        s = self.config.size
        next_frame = self._check_frames(next_frame, "next", (1, s, s))
        if len(next_frame) != n:
            raise ValueError(f"{type(self).__name__}.loss needs one next frame per past: got {n} pasts and "
                             f"{len(next_frame)} next frames.")
        return next_frame

    def _check_generator(self, generator) -> None:
        if generator is None:
            return
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator (or None), got {type(generator).__name__}.")
        if generator.device.type != self.device.type:
            raise ValueError(f"the generator is on {generator.device} but the model on {self.device}: make it with "
                             f"torch.Generator(device={str(self.device)!r}).manual_seed(...).")

    # ------------------------------------------------------------------ kernels -> frames

    def _features(self, past: torch.Tensor) -> torch.Tensor:
        """What the kernel is computed from: CNN features of past (N, K, S, S) and the correlation of its last two
        frames: (N, F)."""
        motion = frame_correlation(past[:, -2], past[:, -1], self.config.max_shift)
        return torch.cat([self.encoder(past), motion], 1)

    def _kernel(self, features: torch.Tensor) -> torch.Tensor:
        """Features (N, F) -> a probability distribution over displacements, (N, 1, 2m+1, 2m+1)."""
        side = 2 * self.config.max_shift + 1
        motion = features[:, self.encoder.features:self.features]  # the last two frames' correlation
        logits = self.to_kernel(features) + self.persistence * motion
        return logits.softmax(-1).view(-1, 1, side, side)

    def _kernel_from_past(self, past: torch.Tensor, generator) -> torch.Tensor:
        """past (N, K, S, S), checked -> kernel (N, 1, 2m+1, 2m+1); the stochastic model draws its z here."""
        raise NotImplementedError

    def _eval_no_grad(self, fn):
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                return fn()
        finally:
            self.train(was_training)

    def motion_kernel(self, past: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """The predicted distribution over displacements of the last frame: (N, 1, 2m+1, 2m+1), sums to 1."""
        self._check_generator(generator)
        past = self._check_past(past)
        return self._eval_no_grad(lambda: self._kernel_from_past(past, generator))

    def predict(self, past: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """The next frame (N, 1, S, S) in [0, 1] from past (N, T, 1, S, S), T >= K."""
        return self.rollout(past, 1, generator=generator)[:, 0]

    def rollout(self, past: torch.Tensor, steps: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """`steps` predicted frames (N, steps, 1, S, S), each predicted from the K frames before it, its own
        earlier predictions included (an error or a blur is carried forward)."""
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"rollout needs a positive int number of steps, got {steps!r}.")
        self._check_generator(generator)
        window = self._check_past(past)  # (N, K, S, S)

        def run() -> torch.Tensor:
            nonlocal window
            frames = []
            for _ in range(steps):
                kernel = self._kernel_from_past(window, generator)
                frame = apply_kernel(window[:, -1:], kernel).clamp(0, 1)  # clamp: rounding only
                frames.append(frame)
                window = torch.cat([window[:, 1:], frame], 1)
            return torch.stack(frames, 1)

        return self._eval_no_grad(run)


class L2FramePredictor(_FramePredictor):
    """The deterministic baseline: one kernel from the past, trained with the pixel L2 loss (mean per pixel)."""

    @dataclass(frozen=True)
    class Config(_PredictorConfig):
        pass

    def __init__(self, config: Config | None = None):
        super().__init__(config or self.Config())

    def _kernel_from_past(self, past, generator):
        return self._kernel(self._features(past))  # deterministic: the generator is not used

    def forward(self, past: torch.Tensor) -> torch.Tensor:
        """The prediction with gradients: past (N, T, 1, S, S) -> (N, 1, S, S)."""
        past = self._check_past(past)
        return apply_kernel(past[:, -1:], self._kernel_from_past(past, None))

    def loss(self, past: torch.Tensor, next: torch.Tensor) -> torch.Tensor:  # noqa: A002 (the lecture's word)
        """Mean squared pixel error of the prediction, J(theta) = mean ||x_hat - x_next||^2."""
        prediction = self(past)
        return F.mse_loss(prediction, self._check_next(next, len(prediction)))


class StochasticFramePredictor(_FramePredictor):
    """A latent-variable model whose latent z is the displacement: p(next | past) = sum_z pi_z(past) N(next;
    shift_z(last frame), obs_std^2 I). Trained by exact maximum likelihood; predict draws z ~ pi(past)."""

    @dataclass(frozen=True)
    class Config(_PredictorConfig):
        obs_std: float = 0.1  # sigma of p(next | past, z) = N(shift_z(last), sigma^2 I)

        def validate(self):
            super().validate()
            self.require(self.obs_std > 0, "obs_std", "a positive pixel noise")

    def __init__(self, config: Config | None = None):
        super().__init__(config or self.Config())

    def prior(self, past: torch.Tensor) -> torch.Tensor:
        """p(z | past): the probability of each displacement, (N, 1, 2m+1, 2m+1) (the L2 model's kernel's role)."""
        past = self._check_past(past)
        return self._kernel(self._features(past))

    def _kernel_from_past(self, past, generator):
        """A one-hot kernel: one displacement z ~ p(z | past) per sequence."""
        probabilities = self._kernel(self._features(past)).flatten(1)  # (N, (2m+1)^2)
        z = torch.multinomial(probabilities, 1, generator=generator)  # (N, 1)
        side = 2 * self.config.max_shift + 1
        return torch.zeros_like(probabilities).scatter_(1, z, 1.0).view(len(past), 1, side, side)

    def shifted_frames(self, frame: torch.Tensor) -> torch.Tensor:
        """Every candidate next frame: frame (N, 1, S, S) moved by each displacement z, (N, (2m+1)^2, S, S)
        in the kernels' order (row-major over (d_row, d_col), both from -m to m)."""
        m, s = self.config.max_shift, self.config.size
        side = 2 * m + 1
        patches = F.unfold(frame, side, padding=m).view(len(frame), side, side, s, s)
        # unfold's entry (a, b) reads the pixel at offset (a - m, b - m): content moved by (m - a, m - b)
        return patches.flip(1, 2).flatten(1, 2)

    def log_prob(self, past: torch.Tensor, next: torch.Tensor) -> torch.Tensor:  # noqa: A002 (the lecture's word)
        """log p(next | past) = logsumexp_z (log pi_z(past) + log N(next; shift_z(last), sigma^2 I)), (N,) nats."""
        past = self._check_past(past)
        next_frame = self._check_next(next, len(past))
        log_pi = self._kernel(self._features(past)).flatten(1).clamp_min(1e-30).log()  # (N, Z)
        s = self.config.obs_std
        squared = (self.shifted_frames(past[:, -1:]) - next_frame).pow(2).flatten(2).sum(2)  # (N, Z)
        pixels = next_frame[0].numel()
        log_lik = -0.5 * squared / s**2 - pixels * (math.log(s) + 0.5 * math.log(2 * math.pi))
        return torch.logsumexp(log_pi + log_lik, 1)

    def posterior(self, past: torch.Tensor, next: torch.Tensor) -> torch.Tensor:  # noqa: A002
        """p(z | past, next) by Bayes' rule, exact (z takes few values): (N, 1, 2m+1, 2m+1)."""
        past = self._check_past(past)
        next_frame = self._check_next(next, len(past))
        log_pi = self._kernel(self._features(past)).flatten(1).clamp_min(1e-30).log()
        squared = (self.shifted_frames(past[:, -1:]) - next_frame).pow(2).flatten(2).sum(2)
        side = 2 * self.config.max_shift + 1
        return (log_pi - 0.5 * squared / self.config.obs_std**2).softmax(1).view(len(past), 1, side, side)

    def loss(self, past: torch.Tensor, next: torch.Tensor) -> torch.Tensor:  # noqa: A002
        """-mean log p(next | past): maximum likelihood, nats per frame."""
        return -self.log_prob(past, next).mean()
