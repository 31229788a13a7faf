"""Priors p(z) of the VAE (models/vae.py, notebook 04): the fixed standard normal, or a learned mixture.

Both have `log_prob(z)` (..., d) -> (...) nats and `sample(n, generator)` -> (n, d). The VAE uses its prior
in all three places where p(z) appears: the KL term of the ELBO, the IWAE weights p(x|z) p(z) / q(z|x), and
sampling (decode(z), z ~ p(z)).

Why learn the prior: the ELBO's KL term, averaged over the data, is KL(q(z) || p(z)) plus the mutual
information of x and z, where q(z) = mean_x q(z|x) is the aggregate posterior. With N(0, I) fixed, q(z) never
fills the ball exactly, so a prior sample can land in a hole the decoder never learnt to map to a digit; a
mixture of Gaussians with learned means, variances and weights moves its mass to where q(z) is (Tomczak &
Welling, "VAE with a VampPrior", 2018, and Hoffman & Johnson, "ELBO surgery", 2016).
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["StandardNormalPrior", "MixturePrior"]

LOG_2PI = math.log(2 * math.pi)


class StandardNormalPrior(nn.Module):
    """p(z) = N(0, I): no parameters."""

    def __init__(self, latent_dim: int):
        super().__init__()
        self.latent_dim = latent_dim

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log N(z | 0, I), summed over the last dim: (..., d) -> (...)."""
        return -0.5 * (z.pow(2) + LOG_2PI).sum(-1)

    def sample(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, generator=generator, device=device)


class MixturePrior(nn.Module):
    """p(z) = sum_k pi_k N(z | m_k, diag exp(s_k)): K diagonal Gaussians, all learnt.

    Parameters: `means` (K, d), `logvars` (K, d), `logits` (K,) with pi = softmax(logits). Initialised as K
    spread-out unit Gaussians of equal weight, so that training starts near the standard normal prior's scale.
    """

    def __init__(self, latent_dim: int, components: int):
        super().__init__()
        self.latent_dim, self.components = latent_dim, components
        generator = torch.Generator().manual_seed(0)  # the same start whatever the global seed's state
        self.means = nn.Parameter(torch.randn(components, latent_dim, generator=generator))
        self.logvars = nn.Parameter(torch.zeros(components, latent_dim))
        self.logits = nn.Parameter(torch.zeros(components))

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log sum_k pi_k N(z | m_k, diag exp(s_k)): (..., d) -> (...), by logsumexp over the K components."""
        z = z.unsqueeze(-2)  # (..., 1, d) against (K, d)
        log_normal = -0.5 * ((z - self.means).pow(2) / self.logvars.exp() + self.logvars + LOG_2PI).sum(-1)
        # log_normal: (..., K), log N(z | m_k, diag exp(s_k)) for each component k
        return torch.logsumexp(log_normal + self.logits.log_softmax(0), -1)

    def sample(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        """Pick a component k ~ pi, then z ~ N(m_k, diag exp(s_k)): (n, d)."""
        k = torch.multinomial(self.logits.softmax(0), n, replacement=True, generator=generator)  # (n,)
        eps = torch.randn(n, self.latent_dim, generator=generator, device=device)
        return self.means[k] + (0.5 * self.logvars[k]).exp() * eps
