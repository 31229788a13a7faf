"""Simple density models fitted by maximum likelihood (notebook 01_maximum_likelihood).

- BernoulliImageModel: independent Bernoulli pixels, the course's baseline image model.
- DiagonalGaussian, FullGaussian: Gaussians with learnable mean and covariance.
- GaussianMixture: K diagonal Gaussians, fitted by gradient ascent on the log-likelihood
  (notebook 01 cross-checks it against scikit-learn's EM).

Each has log_prob(x) -> (N,) nats, sample(n), loss(x) = -mean log_prob(x), and a closed-form
`fit_closed_form(x)` where one exists. Built on torch.distributions.
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

from ..validation import check_binary, check_finite, check_tensor, module_device

__all__ = ["BernoulliImageModel", "DiagonalGaussian", "FullGaussian", "GaussianMixture"]


class _DensityModel(nn.Module):
    """log_prob/sample/loss on top of a torch.distributions object returned by `distribution()`."""

    event_shape: tuple = ()

    def distribution(self):
        raise NotImplementedError

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor(x, self.event_shape, who=type(self).__name__, device=module_device(self))
        return check_finite(x, who=type(self).__name__)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, *event_shape) -> log p(x) per example, (N,) nats."""
        return self.distribution().log_prob(self._check(x))

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """Negative mean log-likelihood: minimising it is maximum likelihood."""
        return -self.log_prob(x).mean()

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        """n samples, (n, *event_shape)."""
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"sample(n) needs a positive int n, got {n!r}.")
        return self.distribution().sample((n,))


# ------------------------------------------------------------------ images

class BernoulliImageModel(_DensityModel):
    """p(x) = prod_i Bernoulli(x_i | sigmoid(l_i)): every pixel independent, one logit per pixel.

    The MLE is closed form: p_i = mean of pixel i over the training set. Ignoring all
    dependencies between pixels, its samples are noise around a mean digit.
    """

    @dataclass(frozen=True)
    class Config:
        shape: tuple = (1, 28, 28)  # image shape (C, H, W)
        clamp: float = 1e-3  # closed-form fit keeps p in [clamp, 1-clamp] so no test pixel gets p=0

    def __init__(self, config: Config | None = None):
        super().__init__()
        self.config = config or self.Config()
        self.event_shape = tuple(self.config.shape)
        self.logits = nn.Parameter(torch.zeros(self.event_shape))  # (C, H, W)

    def distribution(self):
        return Independent(Bernoulli(logits=self.logits), len(self.event_shape))

    def _check(self, x):
        return check_binary(super()._check(x), who=type(self).__name__)

    @torch.no_grad()
    def fit_closed_form(self, x: torch.Tensor) -> BernoulliImageModel:
        """Set p_i = mean_n x_ni (clamped). x: (N, C, H, W) in {0, 1} or grey levels in [0, 1]."""
        check_tensor(x, self.event_shape, who=type(self).__name__, device=module_device(self))
        p = x.mean(0).clamp(self.config.clamp, 1 - self.config.clamp)
        self.logits.copy_(torch.log(p) - torch.log1p(-p))
        return self

    @property
    def probs(self) -> torch.Tensor:
        return torch.sigmoid(self.logits)


# ------------------------------------------------------------------ Gaussians on R^d

class DiagonalGaussian(_DensityModel):
    """N(x | mu, diag(sigma^2)); the MLE is the sample mean and the (biased) sample std."""

    @dataclass(frozen=True)
    class Config:
        dim: int = 2  # dimension d of x

    def __init__(self, config: Config | None = None):
        super().__init__()
        self.config = config or self.Config()
        self.event_shape = (self.config.dim,)
        self.mean = nn.Parameter(torch.zeros(self.config.dim))
        self.log_std = nn.Parameter(torch.zeros(self.config.dim))  # sigma = exp(log_std) > 0

    def distribution(self):
        return Independent(Normal(self.mean, self.log_std.exp()), 1)

    @torch.no_grad()
    def fit_closed_form(self, x: torch.Tensor) -> DiagonalGaussian:
        self._check(x)
        self.mean.copy_(x.mean(0))
        self.log_std.copy_(x.std(0, correction=0).log())
        return self


class FullGaussian(_DensityModel):
    """N(x | mu, L L^T) with a learnable lower-triangular L (positive diagonal via exp)."""

    @dataclass(frozen=True)
    class Config:
        dim: int = 2  # dimension d of x

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


class GaussianMixture(_DensityModel):
    """p(x) = sum_k pi_k N(x | mu_k, diag(sigma_k^2)), fitted by gradient MLE.

    log p(x) = logsumexp_k [log pi_k + log N(x | mu_k, sigma_k)]; torch.distributions'
    MixtureSameFamily computes exactly that.
    """

    @dataclass(frozen=True)
    class Config:
        dim: int = 2  # dimension d of x
        components: int = 8  # number K of Gaussians
        init_std: float = 0.5  # initial sigma of every component

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
