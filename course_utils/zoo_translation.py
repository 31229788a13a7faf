"""Recipes of notebook 07: image-to-image translation (pix2pix_mnist and its L1 baseline pix2pix_mnist_l1) and
x4 super-resolution (sr_mnist_l2, sr_mnist_gan), all `ImageTranslator`s trained by `fit_translation` on the
course's 8,000 MNIST training pairs (`paired_images.paired_mnist`) and measured on the 2,000 test pairs."""

from __future__ import annotations

from functools import partial

from . import paired_images
from .models.image_to_image import ImageTranslator
from .recipe import Recipe
from .train_translation import fit_translation

__all__ = ["TRANSLATION_RECIPES"]

TRANSLATION = "application: image-to-image translation"
SUPER_RESOLUTION = "application: super-resolution"
TASK_WORDS = {"sketch": "sketch (skeleton on a 14x14 grid) -> grey-level digit",
              "lowres": "4x4-average-pooled 7x7 digit -> 28x28"}


def _translator(name: str, config: ImageTranslator.Config, *, steps: int, lr: float, what: str, headline: str,
                lr_d: float | None = None, batch_size: int = 32) -> Recipe:
    task = "lowres" if config.upscale > 1 else "sketch"

    def train(model: ImageTranslator) -> None:
        inputs, targets, _ = paired_images.paired_mnist(task, "train")
        fit_translation(model, inputs, targets, steps=steps, batch_size=batch_size, lr=lr, lr_d=lr_d,
                        decay=True, device="cpu", progress=False)

    rates = f"Adam lr {lr:g}" + (f", D lr {lr_d:g}" if lr_d else "") + " betas (0.5, 0.999), cosine decay"
    return Recipe(
        name=name,
        description=f"{what}, MNIST {TASK_WORDS[task]} ({steps:,} steps of batch {batch_size}, {rates})",
        build=lambda: ImageTranslator(config),
        train=train,
        evaluate=paired_images.translation_metrics,
        evaluate_headline=partial(paired_images.translation_headline, metric=headline),
        # PSNR re-checks the weights in a second (notebook 07 re-measures the course FIDs and asserts their order)
        headline=headline,
        # 1 vs 2 torch threads move the course FID by ~0.1 and the PSNR by ~0.001 dB
        tolerance={"course_fid": 0.5, "psnr": 0.05}[headline],
        family=SUPER_RESOLUTION if task == "lowres" else TRANSLATION,
        half=True,
        dataset="mnist",
    )


TRANSLATION_RECIPES: list[Recipe] = [
    _translator("pix2pix_mnist_l1", ImageTranslator.Config(pixel_loss="l1", width=12), steps=1500, lr=2e-3,
                headline="psnr", what="U-Net trained with L1 alone (pix2pix's baseline)"),
    _translator("pix2pix_mnist", ImageTranslator.Config(pixel_loss="l1", adversarial_weight=0.05, width=12),
                steps=1500, lr=2e-3, headline="psnr",
                what="pix2pix: U-Net G + PatchGAN D, loss L1 + 0.05 GAN (lambda_L1 = 20)"),
    _translator("sr_mnist_l2", ImageTranslator.Config(upscale=4, pixel_loss="l2", width=12), steps=1500,
                lr=2e-3, headline="psnr", what="x4 super-resolution U-Net on bicubic input, trained with L2"),
    _translator("sr_mnist_gan", ImageTranslator.Config(upscale=4, pixel_loss="l2", adversarial_weight=0.02,
                                                       width=12),
                steps=1500, lr=2e-3, headline="psnr",
                what="x4 super-resolution conditional GAN (SRGAN-style): L2 + 0.02 GAN, "
                     "PatchGAN D sees the input"),
]
