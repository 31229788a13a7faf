"""Autoencoders (notebook 03_autoencoders, lecture 6.2.3).

An encoder compresses x into a low-dimensional code z = f_phi(x), a decoder recovers x_hat = g_theta(z),
and training minimises the reconstruction error J(phi, theta) = sum_n ||x_n - x_hat_n||^2 (the lecture's L2
loss J(theta), whose theta stands for all the autoencoder's parameters; binary cross-entropy is the
alternative when pixels are read as probabilities). Notation, as in notebooks 03-05 (notebook 00's key):
encoder parameters phi, decoder parameters theta.

- MLPAutoencoder: fully connected, configurable widths and latent size.
- ConvAutoencoder: a small convolutional encoder/decoder for 28x28 images.
- LinearAutoencoder: no non-linearity; its optimum spans the PCA subspace.
- DenoisingAutoencoder: an MLP AE trained to map corrupted x back to the clean x.

All are `LatentModel`s (models/base.py): encode(x) -> z (N, latent_dim), decode(z) -> x_hat (N, 1, 28, 28)
(pixels in [0, 1]; the linear AE's are unbounded), reconstruct(x), loss(x). A plain autoencoder has no
density and no prior over z, so it has no `sample`: it is not yet a generative model (notebook 03).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F

from ..validation import check_finite, check_tensor
from .base import CourseModel, LatentModel, ModelConfig

__all__ = ["reconstruction_error", "MLPAutoencoder", "ConvAutoencoder", "LinearAutoencoder", "DenoisingAutoencoder"]

IMAGE = (1, 28, 28)


def reconstruction_error(x: torch.Tensor, x_hat: torch.Tensor, kind: str = "l2") -> torch.Tensor:
    """Per-example error summed over pixels, (N,): "l2" = ||x - x_hat||^2, "bce" = binary cross-entropy.

    For "bce", x_hat are logits (numerically stable); x must lie in [0, 1].
    """
    if x.shape != x_hat.shape:
        raise ValueError(f"x and x_hat must have the same shape, got {tuple(x.shape)} and {tuple(x_hat.shape)}.")
    if kind == "l2":
        return (x - x_hat).pow(2).flatten(1).sum(1)
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(x_hat, x, reduction="none").flatten(1).sum(1)
    raise ValueError(f"unknown reconstruction loss {kind!r}: expected 'l2' or 'bce'.")


class _Autoencoder(LatentModel, CourseModel):
    """Subclasses give `_encode` and `_decode_raw` (the decoder before its output function); this adds the
    checks, `encode`/`decode` and the loss."""

    sigmoid_output = True  # decode applies a sigmoid (pixels in [0, 1]); the linear AE sets False

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        who = type(self).__name__
        return check_finite(check_tensor(x, IMAGE, who=who, device=self.device), who=who)

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, 1, 28, 28) -> z = f(x), (N, latent_dim)."""
        return self._encode(self._check(x))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, latent_dim) -> x_hat = g(z), (N, 1, 28, 28); pixels in [0, 1] for the sigmoid decoders."""
        check_tensor(z, (self.config.latent_dim,), name="z", who=type(self).__name__, device=self.device)
        out = self._decode_raw(z)
        return torch.sigmoid(out) if self.config.loss == "bce" or self.sigmoid_output else out

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        return x  # plain autoencoder: the input is the target

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """Mean over the batch of the per-image reconstruction error J_n = ||x_n - x_hat_n||^2 (or BCE)."""
        self._check(x)
        z = self.encode(self.corrupt(x))
        if self.config.loss == "bce":
            if x.min() < 0 or x.max() > 1:
                raise ValueError(f"{type(self).__name__} with loss='bce' expects pixels in [0, 1], "
                                 f"got [{x.min():.3g}, {x.max():.3g}].")
            return reconstruction_error(x, self._decode_raw(z), "bce").mean()  # BCE on logits: stable
        return reconstruction_error(x, self.decode(z), "l2").mean()


class MLPAutoencoder(_Autoencoder):
    """784 -> hidden... -> latent_dim -> ...hidden -> 784, ReLU between layers, sigmoid output."""

    @dataclass(frozen=True)
    class Config(ModelConfig):
        latent_dim: int = 2  # size of the code z
        hidden: tuple = (512, 256)  # encoder widths; the decoder mirrors them
        loss: Literal["l2", "bce"] = "l2"  # "l2" (the lecture's J) or "bce"

        def validate(self):
            self.require_positive("latent_dim", "hidden")

    def __init__(self, config: Config | None = None):
        super().__init__()
        self.config = config or self.Config()
        widths = [28 * 28, *self.config.hidden]
        enc, dec = [nn.Flatten()], []
        for a, b in zip(widths[:-1], widths[1:]):
            enc += [nn.Linear(a, b), nn.ReLU()]
        enc.append(nn.Linear(widths[-1], self.config.latent_dim))
        back = [self.config.latent_dim, *reversed(widths[1:])]
        for a, b in zip(back[:-1], back[1:]):
            dec += [nn.Linear(a, b), nn.ReLU()]
        dec += [nn.Linear(back[-1], 28 * 28), nn.Unflatten(1, IMAGE)]
        self.encoder, self.decoder = nn.Sequential(*enc), nn.Sequential(*dec)

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)  # (N, latent_dim)

    def _decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)  # (N, 1, 28, 28), before the sigmoid


class ConvAutoencoder(_Autoencoder):
    """Two stride-2 convolutions (28 -> 14 -> 7) and a linear code; transposed convolutions back."""

    @dataclass(frozen=True)
    class Config(ModelConfig):
        latent_dim: int = 16  # size of the code z
        channels: int = 32  # channels of the first conv layer (the second has twice as many)
        loss: Literal["l2", "bce"] = "l2"  # "l2" or "bce"

        def validate(self):
            self.require_positive("latent_dim", "channels")

    def __init__(self, config: Config | None = None):
        super().__init__()
        self.config = config or self.Config()
        c = self.config.channels
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c, 4, stride=2, padding=1), nn.ReLU(),  # (N, c, 14, 14)
            nn.Conv2d(c, 2 * c, 4, stride=2, padding=1), nn.ReLU(),  # (N, 2c, 7, 7)
            nn.Flatten(), nn.Linear(2 * c * 49, self.config.latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(self.config.latent_dim, 2 * c * 49), nn.ReLU(), nn.Unflatten(1, (2 * c, 7, 7)),
            nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1), nn.ReLU(),  # (N, c, 14, 14)
            nn.ConvTranspose2d(c, 1, 4, stride=2, padding=1),  # (N, 1, 28, 28)
        )

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)  # (N, latent_dim)

    def _decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)  # (N, 1, 28, 28), before the sigmoid


class LinearAutoencoder(_Autoencoder):
    """z = W_e (x - b), x_hat = W_d z + b: no non-linearity, so at its optimum the decoder spans
    the top-k principal subspace and the error equals PCA's (Baldi & Hornik, 1989)."""

    sigmoid_output = False

    @dataclass(frozen=True)
    class Config(ModelConfig):
        latent_dim: int = 8  # k, the number of principal directions it can learn
        loss: Literal["l2"] = "l2"  # the squared error: what makes it equivalent to PCA

        def validate(self):
            self.require_positive("latent_dim")

    def __init__(self, config: Config | None = None):
        super().__init__()
        self.config = config or self.Config()
        self.bias = nn.Parameter(torch.zeros(28 * 28))  # b: learns the data mean
        self.enc = nn.Linear(28 * 28, self.config.latent_dim, bias=False)
        self.dec = nn.Linear(self.config.latent_dim, 28 * 28, bias=False)

    @torch.no_grad()
    def center_on(self, x: torch.Tensor) -> LinearAutoencoder:
        """Start b at the data mean, as PCA centres the data (learning the offset by SGD is slow)."""
        self.bias.copy_(self._check(x).flatten(1).mean(0))
        return self

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.enc(x.flatten(1) - self.bias)  # (N, k)

    def _decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        return (self.dec(z) + self.bias).view(-1, *IMAGE)  # (N, 1, 28, 28)


class DenoisingAutoencoder(MLPAutoencoder):
    """An MLP autoencoder trained on corrupted inputs with clean targets: ||x - g(f(x_tilde))||^2.

    noise="gaussian": x_tilde = x + noise_level * eps; noise="masking": each pixel set to 0 with
    probability noise_level. Corruption is applied only in training mode.
    """

    @dataclass(frozen=True)
    class Config(MLPAutoencoder.Config):
        latent_dim: int = 32
        noise: Literal["gaussian", "masking"] = "gaussian"  # additive Gaussian noise, or pixels set to 0
        noise_level: float = 0.5  # std of the Gaussian noise, or the masking probability

        def validate(self):
            super().validate()
            limit = float("inf") if self.noise == "gaussian" else 1
            self.require(0 <= self.noise_level <= limit, "noise_level",
                         "a std >= 0" if self.noise == "gaussian" else "a probability in [0, 1]")

    def __init__(self, config: Config | None = None):
        super().__init__(config or self.Config())

    def add_noise(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The corruption x -> x_tilde (also used in the notebook to make noisy test images)."""
        if self.config.noise == "gaussian":
            return x + self.config.noise_level * torch.randn(x.shape, generator=generator, device=x.device)
        keep = torch.rand(x.shape, generator=generator, device=x.device) >= self.config.noise_level
        return x * keep

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        return self.add_noise(x) if self.training else x
