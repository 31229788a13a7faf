"""Conditional image-to-image models (notebook 07, lecture 6.1): pix2pix translation and x4 super-resolution.

One design serves both applications. The generator G is a small U-Net: two stride-2 convolutions down to
7x7, two transposed convolutions back up, and skip connections that hand each resolution's features to the
decoder, so the fine detail of the input need not squeeze through the bottleneck. For super-resolution
(`upscale=4`) the 7x7 input is first upsampled bicubically to 28x28 and G corrects it.

Training, with x the input and y its paired target:

- regression (`adversarial_weight=0`): minimise the pixel loss ||G(x) - y||_1 (or squared, `pixel_loss="l2"`).
  Where several targets fit one input, the best guess is their median (L1) or mean (L2): a blur.
- conditional GAN (`adversarial_weight=w > 0`): a PatchGAN discriminator D(x, image) judges each ~10x10 patch
  of the (input, image) pair as real or generated, and G minimises  pixel loss + w * non-saturating GAN loss.
  pix2pix writes the same as  GAN loss + lambda * L1  with lambda = 100, that is w = 1 / lambda = 0.01.
  D must be fooled by every patch, so G cannot hide in the blurry average.

ImageTranslator (a `CourseModel`, not a generative model: no `sample(n)`):
translate(x) (N, 1, 28, 28), or (N, 1, 7, 7) when upscale=4 -> (N, 1, 28, 28) in [0, 1], without gradients;
forward(x) the same with gradients; loss(x, y) G's full loss; d_loss(x, y) D's loss; loss_terms(x, y) both
parts of G's loss. No loss changes the model's state (no batch norm, no dropout, no spectral norm's buffers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F

from ..validation import check_finite, check_tensor
from .base import CourseModel, ModelConfig
from .gans import discriminator_loss, generator_loss

__all__ = ["ImageTranslator", "UNet", "PatchDiscriminator"]

SIZE = 28  # outputs are 28x28 digits
# G's logits are a correction of the input's: sigmoid(U-Net(c) + 3 (2c - 1)) for the condition c. At the start
# the output is about the input (sigmoid(+-3) = 0.95 / 0.05) instead of a grey field; without it the L1 loss
# first pushes every pixel to the background's 0, where the sigmoid saturates and training stalls.
INPUT_LOGIT = 3.0


def _conv(cin: int, cout: int, kernel: int = 3, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=1)


class UNet(nn.Module):
    """(N, in_channels, 28, 28) -> logits (N, 1, 28, 28): 28 -> 14 -> 7 -> 14 -> 28, skips at 28 and 14."""

    def __init__(self, width: int, in_channels: int = 1):
        super().__init__()
        w = width
        act = lambda: nn.LeakyReLU(0.2)  # noqa: E731
        self.enc28 = nn.Sequential(_conv(in_channels, w), act())
        self.enc14 = nn.Sequential(_conv(w, 2 * w, 4, 2), act())  # 28 -> 14
        self.bottleneck = nn.Sequential(_conv(2 * w, 4 * w, 4, 2), act(),  # 14 -> 7
                                        _conv(4 * w, 4 * w), act())
        self.up14 = nn.Sequential(nn.ConvTranspose2d(4 * w, 2 * w, 4, stride=2, padding=1), act())  # 7 -> 14
        self.dec14 = nn.Sequential(_conv(4 * w, 2 * w), act())  # after the 14x14 skip
        self.up28 = nn.Sequential(nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1), act())  # 14 -> 28
        self.dec28 = nn.Sequential(_conv(2 * w, w), act(), nn.Conv2d(w, 1, 1))  # after the 28x28 skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h28 = self.enc28(x)
        h14 = self.enc14(h28)
        h = self.dec14(torch.cat([self.up14(self.bottleneck(h14)), h14], dim=1))
        return self.dec28(torch.cat([self.up28(h), h28], dim=1))


class PatchDiscriminator(nn.Module):
    """(condition, image), each (N, 1, 28, 28) -> logits (N, 49): one verdict per patch of a 7x7 grid.

    Two stride-2 convolutions and a 3x3 one: each verdict sees a patch of about 18x18 pixels of both images.
    """

    def __init__(self, width: int):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(2, w, 4, stride=2, padding=1), nn.LeakyReLU(0.2),  # 14x14
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), nn.LeakyReLU(0.2),  # 7x7
            _conv(2 * w, 1),  # one logit per patch
        )

    def forward(self, condition: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([condition * 2 - 1, image * 2 - 1], dim=1)).flatten(1)


class ImageTranslator(CourseModel):
    """A U-Net G(x) trained with a pixel loss, plus (if adversarial_weight > 0) a PatchGAN D(x, image)."""

    @dataclass(frozen=True)
    class Config(ModelConfig):
        upscale: Literal[1, 4] = 1  # 1: 28x28 -> 28x28 translation; 4: 7x7 -> 28x28 super-resolution
        pixel_loss: Literal["l1", "l2"] = "l1"  # mean absolute (pix2pix) or mean squared error to the target
        adversarial_weight: float = 0.0  # w of  pixel + w * GAN loss; 0: plain regression, no discriminator
        width: int = 16  # channels of G's first layer (x2 per halving of the resolution)
        d_width: int = 32  # channels of D's first layer

        def validate(self):
            self.require_positive("width", "d_width")
            w = self.adversarial_weight
            self.require(isinstance(w, (int, float)) and not isinstance(w, bool) and 0 <= w < float("inf"),
                         "adversarial_weight", "a finite weight >= 0 (0: no discriminator)")

    def __init__(self, config: Config | None = None):
        super().__init__()
        c = self.config = config or self.Config()
        self.input_size = SIZE // c.upscale
        self.generator = UNet(c.width)
        self.discriminator = PatchDiscriminator(c.d_width) if self.adversarial else None

    @property
    def adversarial(self) -> bool:
        """True when G also plays against a discriminator (adversarial_weight > 0)."""
        return self.config.adversarial_weight > 0

    # ------------------------------------------------------------------ checks and helpers
    def _check_input(self, x, who: str) -> torch.Tensor:
        """x (N, 1, s, s) with s = 28 / upscale, finite, in [0, 1] -> on the model's device."""
        s = self.input_size
        other_size = torch.is_tensor(x) and x.dim() == 4 and x.shape[2:] != (s, s)
        if other_size and x.shape[2:] in ((7, 7), (28, 28)):
            other = "a super-resolution model (upscale=4, e.g. sr_mnist_l2)" if s == SIZE else \
                "a 28x28 translation model (upscale=1, e.g. pix2pix_mnist)"
            raise ValueError(f"{who}: this model (upscale={self.config.upscale}) takes {s}x{s} inputs, got "
                             f"{tuple(x.shape)}; {x.shape[2]}x{x.shape[3]} inputs need {other}.")
        return self._check_image(x, (1, s, s), "x", who)

    def _check_image(self, x, shape: tuple, name: str, who: str) -> torch.Tensor:
        check_finite(check_tensor(x, shape, name=name, who=who), name=name, who=who)
        if x.numel() and (x.min() < 0 or x.max() > 1):
            raise ValueError(f"{who} expects {name} in [0, 1], got values in [{x.min():.3g}, {x.max():.3g}]. "
                             "Divide uint8 images by 255; map [-1, 1] images with (x + 1) / 2.")
        return x.to(self.device)

    def _check_pair(self, x, y, who: str) -> tuple[torch.Tensor, torch.Tensor]:
        x = self._check_input(x, who)
        y = self._check_image(y, (1, SIZE, SIZE), "y", who)
        if len(x) != len(y):
            raise ValueError(f"{who} needs one target per input: got {len(x)} inputs and {len(y)} targets.")
        return x, y

    def condition(self, x: torch.Tensor) -> torch.Tensor:
        """The input at the output's resolution (N, 1, 28, 28): x, or its bicubic upsampling (clamped)."""
        if self.config.upscale == 1:
            return x
        up = F.interpolate(x, scale_factor=self.config.upscale, mode="bicubic", align_corners=False)
        return up.clamp(0, 1)

    def _generate(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(condition, G's output), both (N, 1, 28, 28); x already checked."""
        cond = self.condition(x)
        return cond, torch.sigmoid(self.generator(cond) + INPUT_LOGIT * (2 * cond - 1))

    def _pixel_loss(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        error = output - y
        return error.abs().mean() if self.config.pixel_loss == "l1" else error.pow(2).mean()

    # ------------------------------------------------------------------ public interface
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """G(x): (N, 1, s, s) -> (N, 1, 28, 28) in [0, 1], differentiable."""
        return self._generate(self._check_input(x, "ImageTranslator"))[1]

    @torch.no_grad()
    def translate(self, x: torch.Tensor) -> torch.Tensor:
        """G(x), no gradients: (N, 1, 28, 28) or, for upscale=4, (N, 1, 7, 7) in [0, 1] -> (N, 1, 28, 28)."""
        return self._generate(self._check_input(x, "ImageTranslator.translate"))[1]

    def discriminate(self, x: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        """D's logits for (input, image) pairs: (N, 49), one per patch."""
        if not self.adversarial:
            raise ValueError("this ImageTranslator has no discriminator (adversarial_weight=0): it is a "
                             "plain regression model. Build one with adversarial_weight > 0, e.g. 0.01.")
        x, image = self._check_pair(x, image, "ImageTranslator.discriminate")
        return self.discriminator(self.condition(x), image)

    def loss_terms(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """G's loss in parts: {"pixel": L1 or L2 to y, "adversarial": non-saturating GAN loss through the
        current D (0 without a discriminator)}; loss = pixel + adversarial_weight * adversarial."""
        x, y = self._check_pair(x, y, "ImageTranslator.loss")
        cond, output = self._generate(x)
        terms = {"pixel": self._pixel_loss(output, y), "adversarial": output.new_zeros(())}
        if self.adversarial:
            logits = self.discriminator(cond, output).flatten()
            terms["adversarial"] = generator_loss(logits, "non_saturating")
        return terms

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """G's training loss on inputs x (N, 1, s, s) and their targets y (N, 1, 28, 28): a scalar."""
        terms = self.loss_terms(x, y)
        return terms["pixel"] + self.config.adversarial_weight * terms["adversarial"]

    def d_loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """D's loss: real pairs (x, y) against generated pairs (x, G(x)); G is held fixed (no gradient)."""
        if not self.adversarial:
            raise ValueError("d_loss needs a discriminator, and this ImageTranslator has none "
                             "(adversarial_weight=0): train it with its pixel loss alone.")
        x, y = self._check_pair(x, y, "ImageTranslator.d_loss")
        with torch.no_grad():
            cond, fake = self._generate(x)
        real_logits, fake_logits = self.discriminator(cond, y), self.discriminator(cond, fake)
        return discriminator_loss(real_logits.flatten(), fake_logits.flatten(), "non_saturating")

    def generator_parameters(self) -> list[nn.Parameter]:
        return list(self.generator.parameters())

    def discriminator_parameters(self) -> list[nn.Parameter]:
        return list(self.discriminator.parameters()) if self.adversarial else []
