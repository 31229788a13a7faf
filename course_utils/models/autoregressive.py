"""Autoregressive models of binary images (notebook 02_tractable_density, lecture 6.2.2).

The chain rule writes any density as a product of one-dimensional conditionals,

    p(x) = prod_i p(x_i | x_<i),   each p(x_i | x_<i) = Bernoulli(sigmoid(logit_i(x_<i))),

so log p(x) is exact: one forward pass computes every logit at once, provided logit_i never
looks at x_i or at a later pixel (the *autoregressive property*). The models differ only in how
they compute the logits:

- FVSBN: logit_i = b_i + sum_{j<i} W_ij x_j, one logistic regression per pixel.
- NADE: a hidden layer h_i = sigmoid(c + W_{:,<i} x_<i) with weights shared across i.
- MADE (models/made.py): an MLP whose weight matrices are masked so that output i sees only inputs
  before i.
- PixelCNN, PixelRNN (models/pixel_models.py): masked convolutions; an LSTM over rows.

This module holds what they share (`AutoregressiveImageModel`, the pixel order, the reference sampler)
and the two models of the first slides, FVSBN and NADE.

Every model is a `DensityModel` (models/base.py): logits(x) -> (N, 1, H, W); log_prob(x) -> (N,) nats;
loss(x) = -mean log_prob(x); sample(n, *, generator=None). x has shape (N, 1, H, W) with values in {0, 1};
H, W = 28, 28 unless the config says otherwise. Sampling is sequential, one pixel after the other, in
`model.order`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..validation import check_binary, check_finite, check_tensor
from .base import DensityModel, ModelConfig, check_sample_count

__all__ = ["AutoregressiveImageModel", "FVSBN", "NADE", "pixel_order", "sample_by_full_passes", "logit_jacobian",
           "ImageConfig"]


def pixel_order(num_pixels: int, seed: int | None = None) -> torch.Tensor:
    """The order in which pixels are generated: raster (0, 1, ..., D-1) or a seeded random permutation. (D,)"""
    if seed is None:
        return torch.arange(num_pixels)
    return torch.randperm(num_pixels, generator=torch.Generator().manual_seed(seed))


@dataclass(frozen=True)
class ImageConfig(ModelConfig):
    """The field every autoregressive image model's Config shares."""

    shape: tuple = (1, 28, 28)  # (1, H, W): one channel of binary pixels

    def validate(self):
        self.require(len(self.shape) == 3 and self.shape[0] == 1, "shape", "(1, H, W) for a one-channel binary image")
        self.require_positive("shape")


class AutoregressiveImageModel(DensityModel):
    """Shared by every autoregressive model: subclasses define logits(x) with the autoregressive property."""

    def _init_shape(self, shape) -> None:
        self.event_shape = tuple(shape)  # (1, H, W), checked by the Config
        self.num_pixels = self.event_shape[1] * self.event_shape[2]

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        who = type(self).__name__
        check_tensor(x, self.event_shape, who=who, device=self.device)
        return check_binary(check_finite(x, who=who), who=who)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, 1, H, W) in {0, 1} -> logits of p(x_i = 1 | x_<i), (N, 1, H, W)."""
        raise NotImplementedError

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) = sum_i log p(x_i | x_<i), (N,) nats."""
        x = self._check(x)
        return -F.binary_cross_entropy_with_logits(self.logits(x), x, reduction="none").flatten(1).sum(1)

    @torch.no_grad()
    def _sample(self, n: int, generator=None, on_pixel=None) -> torch.Tensor:
        """Generic sampler: one full forward pass per pixel. Subclasses override with cheaper ones.

        on_pixel(step, x) is called after each drawn pixel (for `sample_progress`).
        """
        x = torch.zeros(n, *self.event_shape, device=self.device)
        flat = x.view(n, -1)
        for step, i in enumerate(self.order.tolist()):
            p = torch.sigmoid(self.logits(x).view(n, -1)[:, i])
            flat[:, i] = torch.bernoulli(p, generator=generator)
            if on_pixel is not None:
                on_pixel(step, x)
        return x

    @torch.no_grad()
    def sample_progress(self, n: int, every: int = 28, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """Snapshots of sampling n images, (T, n, 1, H, W): pixels not drawn yet are 0.5 (grey).

        Snapshot t is taken after (t+1)*every pixels; the last one is the finished sample.
        """
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive int (pixels between snapshots), got {every!r}.")
        was_training = self.training
        self.eval()
        order = self.order.tolist()
        shots = []

        def on_pixel(step, x):
            if (step + 1) % every == 0 or step + 1 == len(order):
                drawn = torch.zeros(self.num_pixels, dtype=torch.bool)
                drawn[order[: step + 1]] = True
                shot = x.detach().cpu().clone().view(x.shape[0], -1)
                shot[:, ~drawn] = 0.5
                shots.append(shot.view_as(x.cpu()))

        try:
            self._sample(check_sample_count(n), generator, on_pixel)
        finally:
            self.train(was_training)
        return torch.stack(shots)


# ------------------------------------------------------------------ FVSBN

class FVSBN(AutoregressiveImageModel):
    """Fully visible sigmoid belief network: logit_i = b_i + sum_{j before i} W_ij x_j.

    One logistic regression per pixel; W is masked to be strictly lower-triangular in `order`.
    Parameters: D(D-1)/2 useful weights + D biases.
    """

    @dataclass(frozen=True)
    class Config(ImageConfig):
        order_seed: int | None = None  # None: raster order; an int: that random pixel order

    def __init__(self, config: Config | None = None):
        super().__init__()
        self.config = config or self.Config()
        self._init_shape(self.config.shape)
        D = self.num_pixels
        self.register_buffer("order", pixel_order(D, self.config.order_seed), persistent=False)
        self.weight = nn.Parameter(torch.zeros(D, D))  # in generation order: row i = pixel order[i]
        self.bias = nn.Parameter(torch.zeros(D))
        self.register_buffer("mask", torch.ones(D, D).tril(-1), persistent=False)  # masks follow from the config

    def _logits_in_order(self, x_ordered: torch.Tensor) -> torch.Tensor:
        return F.linear(x_ordered, self.weight * self.mask, self.bias)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1)
        out = torch.empty_like(flat)
        out[:, self.order] = self._logits_in_order(flat[:, self.order])
        return out.view_as(x)

    @torch.no_grad()
    def _sample(self, n, generator=None, on_pixel=None):
        # Incremental: after drawing pixel i, add its contribution W[:, i] x_i to every later logit.
        W = self.weight * self.mask
        a = self.bias.expand(n, -1).clone()
        x = torch.zeros(n, *self.event_shape, device=self.device)
        flat = x.view(n, -1)
        for i, pixel in enumerate(self.order.tolist()):
            xi = torch.bernoulli(torch.sigmoid(a[:, i]), generator=generator)
            flat[:, pixel] = xi
            a += xi[:, None] * W[:, i]
            if on_pixel is not None:
                on_pixel(i, x)
        return x


# ------------------------------------------------------------------ NADE

class NADE(AutoregressiveImageModel):
    """Neural autoregressive density estimator (Larochelle & Murray, 2011).

    h_i = sigmoid(c + W[:, <i] x_<i)  (H,), shared W (H, D);  logit_i = b_i + V_i . h_i.
    The pre-activations for all i are one cumulative sum, so log p(x) costs O(D H).
    """

    @dataclass(frozen=True)
    class Config(ImageConfig):
        hidden: int = 500  # H, the size of every h_i
        order_seed: int | None = None  # None: raster order; an int: that random pixel order

        def validate(self):
            super().validate()
            self.require_positive("hidden")

    def __init__(self, config: Config | None = None):
        super().__init__()
        self.config = config or self.Config()
        self._init_shape(self.config.shape)
        D, H = self.num_pixels, self.config.hidden
        self.register_buffer("order", pixel_order(D, self.config.order_seed), persistent=False)
        self.W = nn.Parameter(torch.randn(H, D) / D**0.5)  # input -> hidden, columns in generation order
        self.c = nn.Parameter(torch.zeros(H))
        self.V = nn.Parameter(torch.randn(D, H) / H**0.5)  # hidden -> output logit i
        self.b = nn.Parameter(torch.zeros(D))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        xo = x.flatten(1)[:, self.order]  # (N, D) in generation order
        contrib = xo.unsqueeze(2) * self.W.t().unsqueeze(0)  # (N, D, H): x_j W[:, j]
        a = contrib.cumsum(1) - contrib + self.c  # exclusive cumsum: a_i = c + sum_{j<i} x_j W[:, j]
        logit_ordered = torch.einsum("ndh,dh->nd", torch.sigmoid(a), self.V) + self.b  # (N, D)
        out = torch.empty_like(xo)
        out[:, self.order] = logit_ordered
        return out.view_as(x)

    @torch.no_grad()
    def _sample(self, n, generator=None, on_pixel=None):
        a = self.c.expand(n, -1).clone()  # (n, H)
        x = torch.zeros(n, *self.event_shape, device=self.device)
        flat = x.view(n, -1)
        for i, pixel in enumerate(self.order.tolist()):
            xi = torch.bernoulli(torch.sigmoid(torch.sigmoid(a) @ self.V[i] + self.b[i]), generator=generator)
            flat[:, pixel] = xi
            a += xi[:, None] * self.W[:, i]
            if on_pixel is not None:
                on_pixel(i, x)
        return x


# ------------------------------------------------------------------ the reference sampler

def sample_by_full_passes(model: AutoregressiveImageModel, n: int, generator: torch.Generator | None = None):
    """The reference sampler: one full `logits` pass over the whole image per pixel, (n, 1, H, W).

    Every model's own `sample` is a faster way to the same result: with the same generator it
    must give the same images (the tests check this).
    """
    if not isinstance(model, AutoregressiveImageModel):
        raise TypeError(f"sample_by_full_passes needs an autoregressive image model, got {type(model).__name__}.")
    was_training = model.training
    model.eval()
    try:
        return AutoregressiveImageModel._sample(model, check_sample_count(n), generator)
    finally:
        model.train(was_training)


def logit_jacobian(model: AutoregressiveImageModel, image: torch.Tensor) -> torch.Tensor:
    """d logits / d x at one image (C, H, W): a (D, D) matrix whose rows (logits) and columns (pixels) are both
    in the model's generation order. The autoregressive property makes it strictly lower-triangular: notebook
    02 draws its non-zeros."""
    def logits(v):  # (D,) pixels -> (D,) logits, in raster order
        return model.logits(v.view(1, *image.shape)).flatten()

    jac = torch.autograd.functional.jacobian(logits, image.flatten(), vectorize=True)  # (D, D)
    return jac[model.order][:, model.order]
