"""Generative adversarial networks (notebook 05_gans, lecture 6.3 and 6.4).

A generator G maps simple noise z ~ N(0, I) to a sample x = G(z); a discriminator D(x) = sigmoid(logit)
says how likely x is real. Notation, as in notebooks 03-05 (notebook 00's key): G_theta has parameters
theta, D_psi parameters psi (phi is kept for encoders). The two play the minimax game

    min_G max_D  V(D, G) = E_data[log D(x)] + E_z[log (1 - D(G(z)))].

For a fixed G the best discriminator is D*(x) = p_data(x) / (p_data(x) + p_g(x)), and then
V(D*, G) = -log 4 + 2 JS(p_data || p_g). Losses here take the discriminator's *logits*:

- "saturating": G minimises E log(1 - D(G(z))), the game as written (vanishing gradients when D wins),
- "non_saturating": G minimises -E log D(G(z)) (same fixed point, strong gradients early on),
- "wasserstein_gp": a critic f (no sigmoid) with a gradient penalty (WGAN-GP).

Remedies for mode collapse and instability: `pack` > 1 (PacGAN: D judges `pack` samples at once),
`spectral_norm=True` (every D layer has spectral norm 1), or the WGAN-GP loss.
A conditional GAN (`num_classes` > 0) with `class_weights` draws its own labels when sampling: trained on
k-means clusters instead of digits, it is a self-conditioned, unconditional model (self_conditioning.py).

GAN, a `GenerativeModel` (models/base.py) without a likelihood: sample(n, *, generator=None, labels=None)
-> (n, *data_shape); generate(z) -> samples; discriminate(x) -> (N // pack,) logits; d_loss(x) and
g_loss(n) -> scalars for `fit_gan`'s alternating updates. The module-level functions `discriminator_loss`
and `generator_loss` compute the same losses from logits.
Image GANs (data_shape (1, 28, 28)) take and give images in [0, 1]; internally G ends in tanh.
"""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from ..validation import check_finite, check_tensor
from .base import GenerativeModel, ModelConfig

__all__ = ["GAN", "LOSSES", "discriminator_loss", "generator_loss", "gradient_penalty", "optimal_discriminator"]

Loss = Literal["saturating", "non_saturating", "wasserstein_gp"]
LOSSES = typing.get_args(Loss)


def _check_loss(kind: str) -> None:
    if kind not in LOSSES:
        raise ValueError(f"unknown GAN loss {kind!r}: expected one of {', '.join(map(repr, LOSSES))}.")


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    """What D minimises, from its logits on real (N,) and fake (M,) samples.

    Minimax losses: -E log D(x) - E log(1 - D(G(z))) = E softplus(-real) + E softplus(fake)
    (the binary cross-entropy with labels 1 for real, 0 for fake). WGAN: E f(fake) - E f(real).
    """
    _check_loss(kind)
    if kind == "wasserstein_gp":
        return fake_logits.mean() - real_logits.mean()
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    """What G minimises, from D's logits on its samples (M,).

    saturating: E log(1 - D(G(z))) = -E softplus(logit); non_saturating: -E log D(G(z)) = E softplus(-logit);
    wasserstein_gp: -E f(G(z)).
    """
    _check_loss(kind)
    if kind == "saturating":
        return -F.softplus(fake_logits).mean()
    if kind == "non_saturating":
        return F.softplus(-fake_logits).mean()
    return -fake_logits.mean()


def optimal_discriminator(log_p_data: torch.Tensor, log_p_model: torch.Tensor) -> torch.Tensor:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) = sigmoid(log p_data(x) - log p_g(x)), from log densities."""
    return torch.sigmoid(log_p_data - log_p_model)


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP's penalty E (||grad_x f(x_hat)|| - 1)^2 at random points x_hat between real and fake samples."""
    alpha = torch.rand((len(real),) + (1,) * (real.dim() - 1), device=real.device)
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    out = critic(x_hat)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


def _mlp(sizes: list[int], final_activation: nn.Module | None, sn: bool = False, slope: float = 0.0) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = nn.Linear(a, b)
        layers.append(_spectral_norm(lin) if sn else lin)
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(slope) if slope else nn.ReLU())
    if final_activation is not None:
        layers.append(final_activation)
    return nn.Sequential(*layers)


class _DCGenerator(nn.Module):
    """z (N, latent) -> (N, 1, 28, 28) in [-1, 1]: linear to 7x7 maps, two stride-2 transposed convolutions."""

    def __init__(self, latent_in: int, width: int):
        super().__init__()
        self.width = width
        self.project = nn.Sequential(nn.Linear(latent_in, 2 * width * 7 * 7), nn.BatchNorm1d(2 * width * 7 * 7), nn.ReLU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1), nn.BatchNorm2d(width), nn.ReLU(),  # 14x14
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1), nn.Tanh(),  # 28x28
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.project(z).view(len(z), 2 * self.width, 7, 7))


class _DCDiscriminator(nn.Module):
    """(N, C, 28, 28) -> (N, features): two stride-2 convolutions with leaky ReLUs."""

    def __init__(self, in_channels: int, width: int, sn: bool):
        super().__init__()
        wrap = _spectral_norm if sn else (lambda m: m)
        self.net = nn.Sequential(
            wrap(nn.Conv2d(in_channels, width, 4, stride=2, padding=1)), nn.LeakyReLU(0.2),  # 14x14
            wrap(nn.Conv2d(width, 2 * width, 4, stride=2, padding=1)), nn.LeakyReLU(0.2),  # 7x7
            nn.Flatten(),
        )
        self.out_features = 2 * width * 7 * 7

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class GAN(GenerativeModel):
    """A generator and a discriminator (MLP or DCGAN), optionally class-conditional, with the chosen loss."""

    @dataclass(frozen=True)
    class Config(ModelConfig):
        data_shape: tuple = (2,)  # (2,) for the 2-D toys, (1, 28, 28) for MNIST images in [0, 1]
        latent_dim: int = 2  # size of the noise z
        arch: Literal["mlp", "dcgan"] = "mlp"  # MLPs, or DCGAN convolutions (28x28 images only)
        hidden: tuple = (128, 128, 128)  # MLP widths of G
        d_hidden: tuple | None = None  # MLP widths of D (None: G's, reversed)
        width: int = 32  # DCGAN: channels of the first D layer / last G layer
        loss: Loss = "non_saturating"  # what G and D minimise (see the module docstring)
        pack: int = 1  # PacGAN: D sees `pack` samples at once (1 = a plain GAN)
        spectral_norm: bool = False  # spectral normalisation of D's layers
        minibatch_std: bool = False  # D's last layer also sees the batch's feature spread (ProGAN)
        num_classes: int = 0  # > 0: class-conditional G(z, y) and D(x, y)
        class_weights: tuple = ()  # how sample() draws y when not given: () cycles 0, 1, ...; else these odds
        gp_weight: float = 10.0  # WGAN-GP penalty weight

        def validate(self):
            self.require_positive("data_shape", "latent_dim", "hidden", "width", "pack")
            if self.d_hidden is not None:
                self.require_positive("d_hidden")
            self.require(isinstance(self.num_classes, int) and self.num_classes >= 0, "num_classes", "an int >= 0")
            self.require(self.arch == "mlp" or tuple(self.data_shape) == (1, 28, 28), "data_shape",
                         "(1, 28, 28) for the DCGAN; use arch='mlp' for other shapes")
            self.require(not (self.num_classes and self.pack > 1), "pack",
                         "1 for a conditional GAN (pack > 1 with num_classes > 0 is not supported)")
            self.require(self.gp_weight >= 0, "gp_weight", "a penalty weight >= 0")
            self.require(not self.class_weights or (len(self.class_weights) == self.num_classes
                                                    and all(w > 0 for w in self.class_weights)),
                         "class_weights", f"() or {self.num_classes} positive odds, one per class")

    def __init__(self, config: Config | None = None):
        super().__init__()
        c = self.config = config or self.Config()
        self.data_shape = tuple(c.data_shape)
        self.is_image = len(self.data_shape) == 3
        dim = math.prod(self.data_shape)
        cond = c.num_classes
        if c.arch == "mlp":
            self.generator = _mlp([c.latent_dim + cond, *c.hidden, dim], nn.Tanh() if self.is_image else None)
            d_hidden = c.hidden[::-1] if c.d_hidden is None else c.d_hidden
            self.discriminator = _mlp([dim * c.pack + cond, *d_hidden], nn.LeakyReLU(0.2), sn=c.spectral_norm, slope=0.2)
            features = d_hidden[-1]
        else:
            self.generator = _DCGenerator(c.latent_dim + cond, c.width)
            self.discriminator = _DCDiscriminator(self.data_shape[0] * c.pack, c.width, c.spectral_norm)
            features = self.discriminator.out_features
        head = nn.Linear(features + int(c.minibatch_std), 1)
        self.head = _spectral_norm(head) if c.spectral_norm else head
        if cond and c.arch == "dcgan":  # projection discriminator: logit += <embed(y), features>
            self.embed = nn.Embedding(cond, features)

    # ------------------------------------------------------------------ helpers
    def _one_hot(self, labels: torch.Tensor | None, n: int) -> torch.Tensor | None:
        if not self.config.num_classes:
            if labels is not None:
                raise ValueError("this GAN is unconditional (num_classes=0); call it without labels.")
            return None
        if labels is None:
            raise ValueError(f"this GAN is conditional on {self.config.num_classes} classes: pass labels (N,) int64.")
        if not torch.is_tensor(labels) or labels.dtype != torch.long or labels.shape != (n,):
            got = f"{tuple(labels.shape)} {labels.dtype}" if torch.is_tensor(labels) else type(labels).__name__
            raise ValueError(f"labels must be an int64 tensor of shape ({n},), got {got}.")
        if labels.numel() and (labels.min() < 0 or labels.max() >= self.config.num_classes):
            raise ValueError(f"labels must lie in 0..{self.config.num_classes - 1}, got {labels.min()}..{labels.max()}.")
        return F.one_hot(labels.to(self.device), self.config.num_classes).float()

    def _check_data(self, x: torch.Tensor, who: str) -> torch.Tensor:
        """x (N, *data_shape), finite, images in [0, 1] -> x on the model's device."""
        check_finite(check_tensor(x, self.data_shape, who=who), who=who)
        if self.is_image and x.numel() and (x.min() < 0 or x.max() > 1):
            raise ValueError(f"{who} expects images in [0, 1], got values in [{x.min():.3g}, {x.max():.3g}]. "
                             "Divide uint8 images by 255; map [-1, 1] images with (x + 1) / 2.")
        return x.to(self.device)

    def _to_internal(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2 - 1 if self.is_image else x  # images: [0, 1] -> [-1, 1], as G's tanh

    def _to_data(self, x: torch.Tensor) -> torch.Tensor:
        return (x + 1) / 2 if self.is_image else x

    def _raw_generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        onehot = self._one_hot(labels, len(z))
        h = z if onehot is None else torch.cat([z, onehot], dim=1)
        return self.generator(h).view(len(z), *self.data_shape)

    def _raw_discriminate(self, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        c = self.config
        if len(x) % c.pack:
            raise ValueError(f"PacGAN with pack={c.pack} needs a batch size divisible by {c.pack}, got {len(x)}.")
        packed = x.reshape(len(x) // c.pack, c.pack * x[0].numel()) if c.arch == "mlp" else \
            x.reshape(len(x) // c.pack, c.pack * x.shape[1], *x.shape[2:])
        onehot = self._one_hot(labels, len(x))
        if c.arch == "mlp" and onehot is not None:
            packed = torch.cat([packed, onehot], dim=1)
        features = self.discriminator(packed)
        head_in = features
        if c.minibatch_std:  # one extra feature: how varied this batch is (a collapsed G gives ~0)
            spread = features.std(dim=0, unbiased=False).mean() if len(features) > 1 else features.new_zeros(())
            head_in = torch.cat([features, spread.expand(len(features), 1)], dim=1)
        logit = self.head(head_in).squeeze(1)
        if onehot is not None and c.arch == "dcgan":
            logit = logit + (self.embed(labels.to(self.device)) * features).sum(1)
        return logit

    # ------------------------------------------------------------------ public interface
    def discriminator_parameters(self):
        """D's parameters (its layers, plus the DCGAN's head and class embedding)."""
        return [p for name, p in self.named_parameters() if not name.startswith("generator.")]

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z ~ N(0, I): (n, latent_dim) on the model's device."""
        return torch.randn(n, self.config.latent_dim, generator=generator, device=self.device)

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """x = G(z): z (N, latent_dim) -> (N, *data_shape); images in [0, 1]."""
        check_finite(check_tensor(z, (self.config.latent_dim,), name="z", who="GAN.generate"), "z", "GAN.generate")
        return self._to_data(self._raw_generate(z.to(self.device), labels))

    def discriminate(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """D's logits: x (N, *data_shape) -> (N // pack,); D(x) = sigmoid(logit) for the minimax losses."""
        return self._raw_discriminate(self._to_internal(self._check_data(x, "GAN.discriminate")), labels)

    def _sample(self, n, generator, labels: torch.Tensor | None = None) -> torch.Tensor:
        """G(z), z ~ N(0, I): (n, *data_shape). A conditional GAN without labels cycles 0, 1, 2, ...,
        or draws them with `class_weights` (a self-conditioned GAN: p(x) = sum_k w_k p(x | cluster k))."""
        c = self.config
        if labels is None and c.num_classes:
            labels = torch.arange(n) % c.num_classes
            if c.class_weights:
                labels = torch.multinomial(torch.tensor(c.class_weights, dtype=torch.float), n, replacement=True,
                                           generator=generator)
        return self.generate(self.noise(n, generator), labels)

    def d_loss(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """D's loss on a real batch x (N, *data_shape) and N fresh generator samples (G is not updated)."""
        c = self.config
        real = self._to_internal(self._check_data(x, "GAN.d_loss"))
        with torch.no_grad():
            fake = self._raw_generate(self.noise(len(x)), labels)
        loss = discriminator_loss(self._raw_discriminate(real, labels), self._raw_discriminate(fake, labels), c.loss)
        if c.loss == "wasserstein_gp":
            critic = lambda h: self._raw_discriminate(h, labels)
            loss = loss + c.gp_weight * gradient_penalty(critic, real, fake)
        return loss

    def g_loss(self, n: int, labels: torch.Tensor | None = None, kind: str | None = None) -> torch.Tensor:
        """G's loss on n fresh samples, through the current D (`kind` overrides the configured loss)."""
        fake = self._raw_generate(self.noise(n), labels)
        return generator_loss(self._raw_discriminate(fake, labels), kind or self.config.loss)
