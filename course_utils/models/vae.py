"""Variational autoencoders (notebook 04_variational_autoencoders, lecture 6.2.3).

A latent-variable model p_theta(x) = ∫ p(z) p_theta(x|z) dz with p(z) = N(0, I) and a decoder p_theta(x|z).
The integral is intractable, so an encoder q_phi(z|x) = N(mu(x), diag sigma(x)^2) gives a lower bound,

    log p_theta(x) >= ELBO(x) = E_q[log p_theta(x|z)] - KL(q_phi(z|x) || p(z)),

trained with the reparameterisation z = mu + sigma * eps, eps ~ N(0, I). The importance-weighted
bound (IWAE) with k samples, log (1/k) sum_j p(x, z_j) / q(z_j|x), tightens towards log p(x).
Notation, as in notebooks 03-05 (notebook 00's key): encoder parameters phi, decoder parameters theta;
the lecture's p_theta(z) is the fixed prior p(z) here (no parameters), its q(z|x) is q_phi(z|x).
Below, p(x|z) and q(z|x) drop the subscripts.

The prior (Config.prior, models/priors.py): "standard" is the fixed N(0, I) with the KL in closed form;
"mixture" learns p(z) = sum_k pi_k N(m_k, diag s_k^2), a Gaussian mixture whose mass moves to where the
encoder puts the data, so that prior samples decode to digits more often. It has no closed-form KL, so the
KL term is the one-sample estimate log q(z|x) - log p(z); the same p(z) enters the IWAE weights and sampling.

VAE, a `LatentModel` and a `GenerativeModel` (models/base.py): posterior(x) -> (mu, logvar), the parameters
of q(z|x), (N, latent_dim) each; encode(x) -> mu, the code as for an autoencoder; decode(z) -> (N, 1, 28, 28)
pixel means E[x|z]; decoder_distribution(z) -> p(x|z) as a torch.distributions object (draw pixels from it);
log_likelihood(x, z) -> log p(x|z); elbo(x) -> (N,) nats; loss(x) = -mean(E log p(x|z) - beta KL), the
negative ELBO at beta = 1 (with Config.train_samples = k > 1: minus the IWAE bound, trained directly);
log_importance_weights(x, k) -> (k, N) the IWAE bound's log weights; log_prob(x, k) -> (N,) IWAE *estimate*
of log p(x) (not exact, so the VAE is not a `DensityModel`); sample_latent(n, *, generator=None) ->
(n, latent_dim) codes z ~ p(z); sample(n, *, generator=None) -> (n, 1, 28, 28) pixel means decode(z), z ~ p(z).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn
from torch.distributions import Bernoulli, Independent, Normal
from torch.nn import functional as F

from ..validation import check_binary, check_finite, check_tensor
from .base import GenerativeModel, LatentModel, ModelConfig, check_sample_count
from .priors import MixturePrior, StandardNormalPrior

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


class VAE(LatentModel, GenerativeModel):
    """A VAE for 28x28 images with an MLP or a small convolutional encoder/decoder.

    likelihood="bernoulli": binarized images, p(x|z) = prod Bernoulli(x_i | decoder logits);
    likelihood="gaussian": grey levels in [0, 1], p(x|z) = N(x | decoder mean, obs_std^2 I).
    """

    @dataclass(frozen=True)
    class Config(ModelConfig):
        latent_dim: int = 32  # size of z
        hidden: tuple = (512, 256)  # MLP widths (encoder; the decoder mirrors them)
        arch: Literal["mlp", "conv"] = "mlp"  # MLPs, or a small convolutional encoder/decoder
        channels: int = 32  # conv: channels of the first conv layer (the second has twice as many)
        likelihood: Literal["bernoulli", "gaussian"] = "bernoulli"  # binary pixels, or grey levels
        obs_std: float = 0.1  # gaussian likelihood: the fixed pixel noise
        beta: float = 1.0  # weight of the KL term in loss() (beta-VAE); 1 gives the ELBO
        prior: Literal["standard", "mixture"] = "standard"  # p(z): N(0, I), or a learned Gaussian mixture
        prior_components: int = 16  # mixture prior: number of Gaussians K
        dropout: float = 0.0  # MLP: dropout after each hidden layer (encoder, decoder), against overfitting
        train_samples: int = 1  # k of loss(): 1 trains the ELBO, k > 1 the IWAE bound (Burda et al., 2016)

        def validate(self):
            self.require_positive("latent_dim", "hidden", "channels", "prior_components")
            self.require(self.obs_std > 0, "obs_std", "a positive pixel noise")
            self.require(self.beta >= 0, "beta", "a KL weight >= 0")
            self.require(0 <= self.dropout < 1, "dropout", "a probability in [0, 1)")
            self.require(self.dropout == 0 or self.arch == "mlp", "dropout", "0 with arch='conv' (MLP only)")
            self.require_positive("train_samples")
            self.require(self.train_samples == 1 or self.beta == 1, "train_samples",
                         "1 when beta != 1 (the IWAE bound has no KL term to weight)")

    def __init__(self, config: Config | None = None):
        super().__init__()
        self.config = cfg = config or self.Config()
        d = cfg.latent_dim
        if cfg.arch == "mlp":
            drop = [nn.Dropout(cfg.dropout)] if cfg.dropout else []  # none at 0: layer indices as before
            widths = [784, *cfg.hidden]
            enc = [nn.Flatten()]
            for a, b in zip(widths[:-1], widths[1:]):
                enc += [nn.Linear(a, b), nn.ReLU(), *drop]
            self.encoder = nn.Sequential(*enc)
            feat = widths[-1]
            dec = []
            rev = [d, *reversed(cfg.hidden)]
            for a, b in zip(rev[:-1], rev[1:]):
                dec += [nn.Linear(a, b), nn.ReLU(), *drop]
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
        mixture = cfg.prior == "mixture"
        self.prior = MixturePrior(d, cfg.prior_components) if mixture else StandardNormalPrior(d)

    # ------------------------------------------------------------------ checks

    def _check_x(self, x: torch.Tensor) -> torch.Tensor:
        who = type(self).__name__
        x = check_finite(check_tensor(x, IMAGE, who=who, device=self.device), who=who)
        if self.config.likelihood == "bernoulli":
            return check_binary(x, who=f"{who} (Bernoulli likelihood)")
        return x

    def _check_z(self, z: torch.Tensor) -> torch.Tensor:
        return check_tensor(z, (self.config.latent_dim,), name="z", who=type(self).__name__, device=self.device)

    def _decoder_output(self, z: torch.Tensor) -> torch.Tensor:
        """z (..., latent_dim) -> (..., 1, 28, 28): Bernoulli logits, or Gaussian means (unchecked: inner loops)."""
        return self.decoder(z.flatten(0, -2)).unflatten(0, z.shape[:-1])

    # ------------------------------------------------------------------ the model

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Parameters of q(z|x) = N(mu, diag exp(logvar)): x (N, 1, 28, 28) -> (mu, logvar), each (N, latent_dim)."""
        x = self._check_x(x)
        h = self.encoder(x * 2 - 1 if self.config.likelihood == "bernoulli" else x)  # binary pixels as -1/+1
        return self.to_mu(h), self.to_logvar(h).clamp(-12, 8)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code of x as for an autoencoder: the posterior mean mu(x), (N, latent_dim)."""
        return self.posterior(x)[0]

    def decoder_distribution(self, z: torch.Tensor) -> Independent:
        """p(x|z) for z (N, latent_dim): a distribution over (N, 1, 28, 28) images; `.sample()` draws pixels."""
        out = self._decoder_output(self._check_z(z))
        if self.config.likelihood == "bernoulli":
            return Independent(Bernoulli(logits=out), 3)
        return Independent(Normal(out, self.config.obs_std), 3)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, latent_dim) -> pixel means E[x|z] in [0, 1], (N, 1, 28, 28)."""
        out = self._decoder_output(self._check_z(z))
        return torch.sigmoid(out) if self.config.likelihood == "bernoulli" else out.clamp(0, 1)

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x|z) in nats: x (N, 1, 28, 28), z (..., N, latent_dim) -> (..., N)."""
        out = self._decoder_output(z)
        if self.config.likelihood == "bernoulli":
            return -F.binary_cross_entropy_with_logits(out, x.expand_as(out), reduction="none").flatten(-3).sum(-1)
        s = self.config.obs_std
        return (-0.5 * ((x - out) / s).pow(2) - math.log(s) - 0.5 * math.log(2 * math.pi)).flatten(-3).sum(-1)

    def elbo_terms(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(E_q log p(x|z) estimated with one reparameterised z, KL(q(z|x) || p(z))), each (N,) nats.

        The KL is in closed form for the standard normal prior; for a learned prior it has none, so it is the
        one-sample Monte-Carlo estimate log q(z|x) - log p(z) at the same z (unbiased).
        """
        mu, logvar = self.posterior(x)
        z = reparameterize(mu, logvar)
        if self.config.prior == "standard":
            kl = gaussian_kl(mu, logvar)
        else:
            log_q = -0.5 * ((z - mu).pow(2) / logvar.exp() + logvar + math.log(2 * math.pi)).sum(-1)
            kl = log_q - self.prior.log_prob(z)
        return self.log_likelihood(x, z), kl

    def elbo(self, x: torch.Tensor) -> torch.Tensor:
        """The evidence lower bound, one-sample estimate, (N,) nats: log p(x) >= ELBO."""
        rec, kl = self.elbo_terms(x)
        return rec - kl

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """-mean(E log p(x|z) - beta * KL): the negative ELBO when beta = 1; with Config.train_samples = k > 1,
        minus the IWAE bound with k samples (a tighter bound: the decoder need not fit q's every miss)."""
        k = self.config.train_samples
        if k > 1:
            return -(torch.logsumexp(self.log_importance_weights(x, k), 0) - math.log(k)).mean()
        rec, kl = self.elbo_terms(x)
        return -(rec - self.config.beta * kl).mean()

    def log_importance_weights(self, x: torch.Tensor, k: int) -> torch.Tensor:
        """log p(x|z_j) + log p(z_j) - log q(z_j|x) for k reparameterised z_j ~ q(z|x): (k, N) nats.

        Their log-mean-exp is the IWAE bound; k = 1 gives a one-sample ELBO."""
        mu, logvar = self.posterior(x)
        eps = torch.randn(k, *mu.shape, device=mu.device)
        z = mu + torch.exp(0.5 * logvar) * eps  # (k, N, d)
        log_qz = -0.5 * (eps.pow(2) + logvar + math.log(2 * math.pi)).sum(-1)
        return self.log_likelihood(x, z) + self.prior.log_prob(z) - log_qz

    @torch.no_grad()
    def log_prob(self, x: torch.Tensor, k: int = 100, chunk: int = 100) -> torch.Tensor:
        """IWAE estimate of log p(x) with k importance samples from q(z|x), (N,) nats.

        log (1/k) sum_j p(x|z_j) p(z_j) / q(z_j|x), computed with logsumexp in chunks of `chunk`
        samples. It is a lower bound in expectation that rises with k towards log p(x); k=1 is the ELBO.
        """
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k (importance samples) must be a positive int, got {k!r}.")
        log_w = [self.log_importance_weights(x, min(chunk, k - start)) for start in range(0, k, chunk)]
        return torch.logsumexp(torch.cat(log_w), 0) - math.log(k)  # log w: (k, N)

    @torch.no_grad()
    def sample_latent(self, n: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """n codes z ~ p(z), (n, latent_dim), from the prior the model was trained with."""
        return self.prior.sample(check_sample_count(n), generator, device=self.device)

    def _sample(self, n, generator):
        """decode(z), z ~ p(z): pixel means (n, 1, 28, 28) in [0, 1]."""
        return self.decode(self.sample_latent(n, generator=generator))
