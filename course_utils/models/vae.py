"""Variational autoencoders (notebook 04_variational_autoencoders, lecture 6.2.3).

A latent-variable model p(x) = ∫ p(z) p(x|z) dz with p(z) = N(0, I) and a decoder p(x|z). The
integral is intractable, so an encoder q(z|x) = N(mu(x), diag sigma(x)^2) gives a lower bound,

    log p(x) >= ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z)),

trained with the reparameterisation z = mu + sigma * eps, eps ~ N(0, I). The importance-weighted
bound (IWAE) with k samples, log (1/k) sum_j p(x, z_j) / q(z_j|x), tightens towards log p(x).

VAE: encode(x) -> (mu, logvar) (N, latent_dim) each; decode(z) -> (N, 1, 28, 28) pixel means;
elbo(x) -> (N,) nats; loss(x) = -mean(E log p(x|z) - beta KL); log_prob(x, k) -> (N,) IWAE estimate;
sample(n) -> (n, 1, 28, 28) pixel means of decode(z), z ~ p(z).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..validation import check_binary, check_finite, check_tensor, module_device

__all__ = ["VAE", "gaussian_kl", "reparameterize"]

IMAGE = (1, 28, 28)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, diag exp(logvar)) || N(0, I) ) in closed form, summed over the last dim: (N, d) -> (N,).

    = 1/2 sum_j (mu_j^2 + sigma_j^2 - log sigma_j^2 - 1).
    """
    if not (torch.is_tensor(mu) and torch.is_tensor(logvar)) or mu.shape != logvar.shape:
        shapes = [tuple(t.shape) if torch.is_tensor(t) else type(t).__name__ for t in (mu, logvar)]
        raise ValueError(f"gaussian_kl needs mu and logvar as tensors of the same shape (N, d), got {shapes[0]} and "
                         f"{shapes[1]}: pass the two halves that encode(x) returns.")
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(-1)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """z = mu + sigma * eps with eps ~ N(0, I): a sample of q(z|x) through which gradients flow to mu and logvar."""
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps


class VAE(nn.Module):
    """A VAE for 28x28 images with an MLP or a small convolutional encoder/decoder.

    likelihood="bernoulli": binarized images, p(x|z) = prod Bernoulli(x_i | decoder logits);
    likelihood="gaussian": grey levels in [0, 1], p(x|z) = N(x | decoder mean, obs_std^2 I).
    """

    @dataclass(frozen=True)
    class Config:
        latent_dim: int = 32
        hidden: tuple = (512, 256)  # MLP widths (encoder; the decoder mirrors them)
        arch: str = "mlp"  # "mlp" or "conv"
        channels: int = 32  # conv: channels of the first conv layer (the second has twice as many)
        likelihood: str = "bernoulli"  # "bernoulli" (binary pixels) or "gaussian" (grey levels)
        obs_std: float = 0.1  # gaussian likelihood: the fixed pixel noise
        beta: float = 1.0  # weight of the KL term in loss() (beta-VAE); 1 gives the ELBO

    def __init__(self, config: Config | None = None):
        super().__init__()
        self.config = cfg = config or self.Config()
        if cfg.arch not in ("mlp", "conv"):
            raise ValueError(f"arch must be 'mlp' or 'conv', got {cfg.arch!r}.")
        if cfg.likelihood not in ("bernoulli", "gaussian"):
            raise ValueError(f"likelihood must be 'bernoulli' or 'gaussian', got {cfg.likelihood!r}.")
        if cfg.latent_dim < 1 or cfg.beta < 0 or cfg.obs_std <= 0:
            raise ValueError(f"need latent_dim >= 1, beta >= 0 and obs_std > 0, got {cfg}.")
        d = cfg.latent_dim
        if cfg.arch == "mlp":
            widths = [784, *cfg.hidden]
            enc = [nn.Flatten()]
            for a, b in zip(widths[:-1], widths[1:]):
                enc += [nn.Linear(a, b), nn.ReLU()]
            self.encoder = nn.Sequential(*enc)
            feat = widths[-1]
            dec = []
            rev = [d, *reversed(cfg.hidden)]
            for a, b in zip(rev[:-1], rev[1:]):
                dec += [nn.Linear(a, b), nn.ReLU()]
            self.decoder = nn.Sequential(*dec, nn.Linear(rev[-1], 784), nn.Unflatten(1, IMAGE))
        else:
            c = cfg.channels
            self.encoder = nn.Sequential(
                nn.Conv2d(1, c, 4, 2, 1), nn.ReLU(),  # 14x14
                nn.Conv2d(c, 2 * c, 4, 2, 1), nn.ReLU(),  # 7x7
                nn.Flatten(), nn.Linear(2 * c * 49, 256), nn.ReLU(),
            )
            feat = 256
            self.decoder = nn.Sequential(
                nn.Linear(d, 256), nn.ReLU(), nn.Linear(256, 2 * c * 49), nn.ReLU(), nn.Unflatten(1, (2 * c, 7, 7)),
                nn.ConvTranspose2d(2 * c, c, 4, 2, 1), nn.ReLU(),  # 14x14
                nn.ConvTranspose2d(c, 1, 4, 2, 1),  # 28x28
            )
        self.to_mu = nn.Linear(feat, d)
        self.to_logvar = nn.Linear(feat, d)

    # ------------------------------------------------------------------ checks

    def _check_x(self, x: torch.Tensor) -> torch.Tensor:
        who = type(self).__name__
        x = check_finite(check_tensor(x, IMAGE, who=who, device=module_device(self)), who=who)
        if self.config.likelihood == "bernoulli":
            return check_binary(x, who=f"{who} (Bernoulli likelihood)")
        return x

    def _check_z(self, z: torch.Tensor) -> torch.Tensor:
        return check_tensor(z, (self.config.latent_dim,), name="z", who=type(self).__name__,
                            device=module_device(self))

    # ------------------------------------------------------------------ the model

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Parameters of q(z|x) = N(mu, diag exp(logvar)): x (N, 1, 28, 28) -> (mu, logvar), each (N, latent_dim)."""
        x = self._check_x(x)
        h = self.encoder(x * 2 - 1 if self.config.likelihood == "bernoulli" else x)  # binary pixels as -1/+1
        return self.to_mu(h), self.to_logvar(h).clamp(-12, 8)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, latent_dim) -> decoder output (N, 1, 28, 28): Bernoulli logits, or Gaussian means."""
        return self.decoder(self._check_z(z))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, latent_dim) -> pixel means E[x|z] in [0, 1], (N, 1, 28, 28)."""
        out = self.decode_logits(z)
        return torch.sigmoid(out) if self.config.likelihood == "bernoulli" else out.clamp(0, 1)

    def log_likelihood(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """log p(x|z) per example from the decoder output `out` = decode_logits(z): (..., 1, 28, 28) -> (...)."""
        if self.config.likelihood == "bernoulli":
            return -F.binary_cross_entropy_with_logits(out, x.expand_as(out), reduction="none").flatten(-3).sum(-1)
        s = self.config.obs_std
        return (-0.5 * ((x - out) / s).pow(2) - math.log(s) - 0.5 * math.log(2 * math.pi)).flatten(-3).sum(-1)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """decode(mu(x)): the mean reconstruction, (N, 1, 28, 28)."""
        return self.decode(self.encode(x)[0])

    def elbo_terms(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(E_q log p(x|z) estimated with one reparameterised z, KL(q(z|x) || p(z))), each (N,) nats."""
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar)
        return self.log_likelihood(x, self.decoder(z)), gaussian_kl(mu, logvar)

    def elbo(self, x: torch.Tensor) -> torch.Tensor:
        """The evidence lower bound, one-sample estimate, (N,) nats: log p(x) >= ELBO."""
        rec, kl = self.elbo_terms(x)
        return rec - kl

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """-mean(E log p(x|z) - beta * KL): the negative ELBO when beta = 1."""
        rec, kl = self.elbo_terms(x)
        return -(rec - self.config.beta * kl).mean()

    @torch.no_grad()
    def log_prob(self, x: torch.Tensor, k: int = 100, chunk: int = 100) -> torch.Tensor:
        """IWAE estimate of log p(x) with k importance samples from q(z|x), (N,) nats.

        log (1/k) sum_j p(x|z_j) p(z_j) / q(z_j|x), computed with logsumexp in chunks of `chunk`
        samples. It is a lower bound in expectation that rises with k towards log p(x); k=1 is the ELBO.
        """
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k (importance samples) must be a positive int, got {k!r}.")
        mu, logvar = self.encode(x)
        std = torch.exp(0.5 * logvar)
        log_w = []
        for start in range(0, k, chunk):
            m = min(chunk, k - start)
            eps = torch.randn(m, *mu.shape, device=mu.device)
            z = mu + std * eps  # (m, N, d)
            out = self.decoder(z.flatten(0, 1)).unflatten(0, (m, len(x)))
            log_pz = -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(-1)
            log_qz = -0.5 * (eps.pow(2) + logvar + math.log(2 * math.pi)).sum(-1)
            log_w.append(self.log_likelihood(x, out) + log_pz - log_qz)  # (m, N)
        return torch.logsumexp(torch.cat(log_w), 0) - math.log(k)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n images decode(z), z ~ N(0, I): pixel means (n, 1, 28, 28) in [0, 1]."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"sample(n) needs a positive int n, got {n!r}.")
        dev = next(self.parameters()).device
        return self.decode(torch.randn(n, self.config.latent_dim, generator=generator, device=dev))
