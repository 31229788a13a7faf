"""Simple density models fitted by maximum likelihood (notebook 01_maximum_likelihood).

- BernoulliImageModel: independent Bernoulli pixels, the course's baseline image model.
- DiagonalGaussian, FullGaussian: Gaussians with learnable mean and covariance.
- GaussianMixture: K diagonal Gaussians, fitted by gradient ascent on the log-likelihood
  (notebook 01 cross-checks it against scikit-learn's EM).

Each is a `DensityModel` (models/base.py): log_prob(x) -> (N,) nats, sample(n, *, generator=None),
loss(x) = -mean log_prob(x), and a closed-form `fit_closed_form(x)` where one exists. The densities come
from torch.distributions; sampling draws from a torch.Generator so that seeded draws repeat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.distributions import (
    Bernoulli,
    Categorical,
    Independent,
    MixtureSameFamily,
    MultivariateNormal,
    Normal,
)

from ..validation import check_binary, check_finite, check_tensor
from .base import DensityModel, ModelConfig

__all__ = ["BernoulliImageModel", "DiagonalGaussian", "FullGaussian", "GaussianMixture"]


class _DistributionModel(DensityModel):
    """log_prob on top of the torch.distributions object that `distribution()` returns."""

    event_shape: tuple = ()

    def distribution(self):
        raise NotImplementedError

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor(x, self.event_shape, who=type(self).__name__, device=self.device)
        return check_finite(x, who=type(self).__name__)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, *event_shape) -> log p(x) per example, (N,) nats."""
        return self.distribution().log_prob(self._check(x))

    def _noise(self, n: int, generator) -> torch.Tensor:
        """eps ~ N(0, I), (n, *event_shape), from `generator`."""
        return torch.randn(n, *self.event_shape, generator=generator, device=self.device)


# ------------------------------------------------------------------ images

class BernoulliImageModel(_DistributionModel):
    """p(x) = prod_i Bernoulli(x_i | sigmoid(l_i)): every pixel independent, one logit per pixel.

    The MLE is closed form: p_i = mean of pixel i over the training set. Ignoring all
    dependencies between pixels, its samples are noise around a mean digit.
    """

    @dataclass(frozen=True)
    class Config(ModelConfig):
        shape: tuple = (1, 28, 28)  # image shape (C, H, W)
        clamp: float = 1e-3  # closed-form fit keeps p in [clamp, 1-clamp] so no test pixel gets p=0

        def validate(self):
            self.require(len(self.shape) == 3, "shape", "an image shape (C, H, W)")
            self.require_positive("shape")
            self.require(0 < self.clamp < 0.5, "clamp", "a number in (0, 0.5)")

    def __init__(self, config: Config | None = None):
        super().__init__()
        self.config = config or self.Config()
        self.event_shape = tuple(self.config.shape)
        self.logits = nn.Parameter(torch.zeros(self.event_shape))  # (C, H, W)

    def distribution(self):
        return Independent(Bernoulli(logits=self.logits), len(self.event_shape))

    def _check(self, x):
        return check_binary(super()._check(x), who=type(self).__name__)

    def _sample(self, n, generator):
        return torch.bernoulli(self.probs.expand(n, *self.event_shape), generator=generator)

    @torch.no_grad()
    def fit_closed_form(self, x: torch.Tensor) -> BernoulliImageModel:
        """Set p_i = mean_n x_ni (clamped). x: (N, C, H, W) in {0, 1} or grey levels in [0, 1]."""
        check_tensor(x, self.event_shape, who=type(self).__name__, device=self.device)
        p = x.mean(0).clamp(self.config.clamp, 1 - self.config.clamp)
        self.logits.copy_(torch.log(p) - torch.log1p(-p))
        return self

    @property
    def probs(self) -> torch.Tensor:
        return torch.sigmoid(self.logits)


# ------------------------------------------------------------------ Gaussians on R^d

class DiagonalGaussian(_DistributionModel):
    """N(x | mu, diag(sigma^2)); the MLE is the sample mean and the (biased) sample std."""

    @dataclass(frozen=True)
    class Config(ModelConfig):
        dim: int = 2  # dimension d of x

        def validate(self):
            self.require_positive("dim")

    def __init__(self, config: Config | None = None):
        super().__init__()
        self.config = config or self.Config()
        self.event_shape = (self.config.dim,)
        self.mean = nn.Parameter(torch.zeros(self.config.dim))
        self.log_std = nn.Parameter(torch.zeros(self.config.dim))  # sigma = exp(log_std) > 0

    def distribution(self):
        return Independent(Normal(self.mean, self.log_std.exp()), 1)

    def _sample(self, n, generator):
        return self.mean + self.log_std.exp() * self._noise(n, generator)  # (n, d)

    @torch.no_grad()
    def fit_closed_form(self, x: torch.Tensor) -> DiagonalGaussian:
        self._check(x)
        self.mean.copy_(x.mean(0))
        self.log_std.copy_(x.std(0, correction=0).log())
        return self


class FullGaussian(_DistributionModel):
    """N(x | mu, L L^T) with a learnable lower-triangular L (positive diagonal via exp)."""

    @dataclass(frozen=True)
    class Config(ModelConfig):
        dim: int = 2  # dimension d of x

        def validate(self):
            self.require_positive("dim")

    def __init__(self, config: Config | None = None):
        super().__init__()
        self.config = config or self.Config()
        d = self.config.dim
        self.event_shape = (d,)
        self.mean = nn.Parameter(torch.zeros(d))
        self.tril = nn.Parameter(torch.zeros(d, d))  # strictly-lower part used as is, diagonal as log
        self.register_buffer("lower", torch.tril(torch.ones(d, d), diagonal=-1))

    @property
    def scale_tril(self) -> torch.Tensor:
        return self.tril * self.lower + torch.diag(self.tril.diagonal().exp())  # (d, d)

    def distribution(self):
        return MultivariateNormal(self.mean, scale_tril=self.scale_tril)

    def _sample(self, n, generator):
        return self.mean + self._noise(n, generator) @ self.scale_tril.T  # x = mu + L eps, (n, d)

    @torch.no_grad()
    def fit_closed_form(self, x: torch.Tensor) -> FullGaussian:
        """mu = mean, Sigma = (1/N) sum (x - mu)(x - mu)^T, stored as its Cholesky factor."""
        self._check(x)
        mu = x.mean(0)
        cov = (x - mu).T @ (x - mu) / len(x)  # (d, d)
        chol = torch.linalg.cholesky(cov)
        self.mean.copy_(mu)
        self.tril.copy_(chol * self.lower + torch.diag(chol.diagonal().log()))
        return self


class GaussianMixture(_DistributionModel):
    """p(x) = sum_k pi_k N(x | mu_k, diag(sigma_k^2)), fitted by gradient MLE.

    log p(x) = logsumexp_k [log pi_k + log N(x | mu_k, sigma_k)]; torch.distributions'
    MixtureSameFamily computes exactly that.
    """

    @dataclass(frozen=True)
    class Config(ModelConfig):
        dim: int = 2  # dimension d of x
        components: int = 8  # number K of Gaussians
        init_std: float = 0.5  # initial sigma of every component

        def validate(self):
            self.require_positive("dim", "components")
            self.require(self.init_std > 0, "init_std", "a positive number")

    def __init__(self, config: Config | None = None):
        super().__init__()
        self.config = config or self.Config()
        d, k = self.config.dim, self.config.components
        self.event_shape = (d,)
        self.weight_logits = nn.Parameter(torch.zeros(k))  # pi = softmax(weight_logits)
        self.means = nn.Parameter(torch.randn(k, d))
        self.log_stds = nn.Parameter(torch.full((k, d), math.log(self.config.init_std)))

    def distribution(self):
        comps = Independent(Normal(self.means, self.log_stds.exp()), 1)
        return MixtureSameFamily(Categorical(logits=self.weight_logits), comps)

    def _sample(self, n, generator):
        k = torch.multinomial(self.weights, n, replacement=True, generator=generator)  # (n,) component of each
        return self.means[k] + self.log_stds[k].exp() * self._noise(n, generator)  # (n, d)

    @torch.no_grad()
    def init_from_data(self, x: torch.Tensor, seed: int = 0) -> GaussianMixture:
        """Put the K means on K distinct random data points (a standard, cheap initialisation)."""
        self._check(x)
        g = torch.Generator().manual_seed(seed)
        idx = torch.randperm(len(x), generator=g)[: self.config.components]
        self.means.copy_(x[idx])
        return self

    @property
    def weights(self) -> torch.Tensor:
        return torch.softmax(self.weight_logits, 0)
