"""A change-of-variables model: a RealNVP-style affine coupling flow (notebook 02, lecture 6.2.2).

An invertible f maps data x to a latent z = f(x) with a simple density p_z (standard normal), and

    log p_x(x) = log p_z(f(x)) + log |det df/dx|.

An affine coupling layer keeps one part of x, x_a = x * mask, and transforms the rest:

    y = x_a + (1 - mask) * (x * exp(s(x_a)) + t(x_a)),   log |det dy/dx| = sum((1 - mask) * s(x_a)),

so both its inverse and its log-determinant are cheap (the Jacobian is triangular). Layers
alternate which coordinates they keep.

CouplingFlow (a `DensityModel`, models/base.py): forward(x) -> (z, log_det) (N, D), (N,); inverse(z) -> x;
log_prob(x) -> (N,) nats; sample(n, *, generator=None) -> (n, D); loss(x) = -mean log_prob(x).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.distributions import Independent, Normal

from ..validation import check_finite, check_tensor
from .base import DensityModel, ModelConfig

__all__ = ["AffineCoupling", "CouplingFlow"]


class AffineCoupling(nn.Module):
    """One coupling layer: coordinates where mask == 1 pass through and parametrise the others."""

    def __init__(self, mask: torch.Tensor, hidden: int):
        super().__init__()
        self.register_buffer("mask", mask.float())
        D = mask.numel()
        self.net = nn.Sequential(nn.Linear(D, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 2 * D))
        nn.init.zeros_(self.net[-1].weight)  # starts as the identity map
        nn.init.zeros_(self.net[-1].bias)
        self.scale = nn.Parameter(torch.ones(D))

    def _shift_and_log_scale(self, x_kept: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s, t = self.net(x_kept).chunk(2, dim=1)
        s = self.scale * torch.tanh(s)  # bounded log-scale: training stays stable
        return (1 - self.mask) * s, (1 - self.mask) * t

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (N, D) -> (y (N, D), log |det dy/dx| (N,))."""
        s, t = self._shift_and_log_scale(x * self.mask)
        return x * torch.exp(s) + t, s.sum(1)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        s, t = self._shift_and_log_scale(y * self.mask)  # y * mask == x * mask
        return (y - t) * torch.exp(-s)


class CouplingFlow(DensityModel):
    """A stack of affine coupling layers with alternating masks and a standard normal base density."""

    @dataclass(frozen=True)
    class Config(ModelConfig):
        dim: int = 2  # D, the data dimension (a coupling layer needs two parts: D >= 2)
        layers: int = 8  # coupling layers; even and odd ones keep alternate coordinates (>= 2)
        hidden: int = 64  # width of the MLP that gives each layer's shift and log-scale

        def validate(self):
            self.require_positive("hidden")
            for field in ("dim", "layers"):
                self.require(isinstance(getattr(self, field), int) and getattr(self, field) >= 2, field, "an int >= 2")

    def __init__(self, config: Config | None = None):
        super().__init__()
        self.config = config or self.Config()
        D = self.config.dim
        first = (torch.arange(D) % 2 == 0).float()
        self.couplings = nn.ModuleList(
            AffineCoupling(first if i % 2 == 0 else 1 - first, self.config.hidden) for i in range(self.config.layers)
        )
        self.register_buffer("_zero", torch.zeros(D))

    @property
    def base(self) -> Independent:
        """p_z: a standard normal on R^D."""
        return Independent(Normal(self._zero, torch.ones_like(self._zero)), 1)

    def _check(self, x: torch.Tensor, name: str = "x") -> torch.Tensor:
        who = type(self).__name__
        x = check_tensor(x, (self.config.dim,), name=name, who=who, device=self.device)
        return check_finite(x, name=name, who=who)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Data -> latent: x (N, D) -> (z = f(x) (N, D), log |det df/dx| (N,))."""
        z, log_det = self._check(x), torch.zeros(len(x), device=x.device)
        for layer in self.couplings:
            z, ld = layer(z)
            log_det = log_det + ld
        return z, log_det

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        """Latent -> data: z (N, D) -> x = f^{-1}(z) (N, D)."""
        x = self._check(z, "z")
        for layer in reversed(self.couplings):
            x = layer.inverse(x)
        return x

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p_x(x) = log p_z(f(x)) + log |det df/dx|, (N,) nats."""
        z, log_det = self.forward(x)
        return self.base.log_prob(z) + log_det

    def _sample(self, n, generator):
        """x = f^{-1}(z), z ~ N(0, I): (n, D)."""
        return self.inverse(torch.randn(n, self.config.dim, generator=generator, device=self.device))
