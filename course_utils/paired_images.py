"""Paired MNIST images for notebook 07's applications, and the numbers that judge a translation.

Two paired tasks, deterministic functions of the course's MNIST split (no randomness, so nothing to seed):

- "sketch" (image-to-image translation, pix2pix): input = a rough sketch of the digit, the morphological
  skeleton (Lantuéjoul's, 3x3 cross, `scipy.ndimage`) of the binarized digit drawn on a 14x14 grid and shown
  at 28x28; target = the grey-level digit. The sketch keeps where the strokes run, to about a pixel, but not
  how wide they are, so the target is genuinely ambiguous: a regression model settles on an average answer
  (thin, broken or faint strokes where it is unsure), an adversarial one must commit to a plausible stroke.
- "lowres" (x4 super-resolution): input = 4x4 average pooling of the digit (N, 1, 7, 7), target = the digit.
  `bicubic_upscale` is the classical baseline.

Numbers (all per image first, then averaged over the set): `psnr` (distortion, dB, peak 1),
`mid_grey_share` and `edge_strength` (sharpness), and `translation_metrics` (the sidecars' dict: L1 error,
PSNR, course FID, classifier accuracy against the true labels, sharpness).
"""

from __future__ import annotations

import typing
from functools import lru_cache
from typing import Literal

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .validation import check_finite, check_tensor

__all__ = ["TASKS", "UPSCALE", "SKETCH_CELL", "skeleton", "sketch", "downsample", "bicubic_upscale",
           "paired_mnist", "psnr", "mid_grey_share", "edge_strength", "image_metrics", "translate_all",
           "translation_metrics", "translation_headline", "bicubic_metrics"]

Task = Literal["sketch", "lowres"]
TASKS = typing.get_args(Task)
UPSCALE = 4  # super-resolution factor: 28x28 digits from 7x7 inputs
SKETCH_CELL = 2  # a sketch is drawn on a grid of 2x2-pixel cells (14x14)


def _check_images(x, who: str, size: int = 28) -> torch.Tensor:
    """x (N, 1, size, size), finite, in [0, 1]."""
    check_finite(check_tensor(x, (1, size, size), who=who), who=who)
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"{who} expects images in [0, 1], got values in [{x.min():.3g}, {x.max():.3g}]. "
                         "Divide uint8 images by 255; map [-1, 1] images with (x + 1) / 2.")
    return x


def skeleton(images: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Lantuéjoul's morphological skeleton of binarized images: (N, 1, H, H) in [0, 1] -> same shape, {0, 1}.

    skeleton(X) = union over k of  E^k(X) minus opening(E^k(X)),  E = erosion by a 3x3 cross: the centres of
    the largest crosses that fit in the strokes. Strokes keep their course, lose their width.
    """
    from scipy import ndimage

    _check_images(images, "skeleton", images.shape[-1] if torch.is_tensor(images) else 28)
    if not 0 < threshold < 1:
        raise ValueError(f"skeleton needs a binarization threshold in (0, 1), got {threshold!r}.")
    cross = ndimage.generate_binary_structure(2, 1)[None, None]  # (1, 1, 3, 3): one image at a time
    eroded = images.cpu().numpy() > threshold
    out = np.zeros_like(eroded)
    while eroded.any():
        out |= eroded & ~ndimage.binary_opening(eroded, structure=cross)
        eroded = ndimage.binary_erosion(eroded, structure=cross)
    return torch.from_numpy(out).float()


def sketch(images: torch.Tensor, cell: int = SKETCH_CELL) -> torch.Tensor:
    """The pix2pix input: (N, 1, 28, 28) digits -> (N, 1, 28, 28) sketches in {0, 1}.

    Binarize at 0.5, mark each `cell` x `cell` block that holds ink, take the skeleton of that coarse image,
    draw each of its cells back as a block of pixels: a one-cell-wide line along the strokes.
    """
    _check_images(images, "sketch")
    if cell not in (1, 2, 4):
        raise ValueError(f"sketch needs a cell size of 1, 2 or 4 pixels, got {cell!r}.")
    coarse = F.max_pool2d((images > 0.5).float(), cell)
    return F.interpolate(skeleton(coarse), scale_factor=cell, mode="nearest")


def downsample(images: torch.Tensor, factor: int = UPSCALE) -> torch.Tensor:
    """The low-resolution input: `factor` x `factor` average pooling, (N, 1, 28, 28) -> (N, 1, 28/f, 28/f)."""
    _check_images(images, "downsample")
    if factor not in (1, 2, 4, 7):
        raise ValueError(f"downsample needs a factor that divides 28 (1, 2, 4 or 7), got {factor!r}.")
    return F.avg_pool2d(images, factor)


def bicubic_upscale(lowres: torch.Tensor, factor: int = UPSCALE) -> torch.Tensor:
    """Bicubic interpolation back to 28x28, clamped to [0, 1] (bicubic overshoots at edges)."""
    size = 28 // factor if factor in (1, 2, 4, 7) else None
    if size is None:
        raise ValueError(f"bicubic_upscale needs a factor that divides 28 (1, 2, 4 or 7), got {factor!r}.")
    _check_images(lowres, "bicubic_upscale", size)
    return F.interpolate(lowres, scale_factor=factor, mode="bicubic", align_corners=False).clamp(0, 1)


@lru_cache(maxsize=4)
def _paired(task: str, split: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    from . import data

    targets, labels = data.load_mnist(split)
    inputs = sketch(targets) if task == "sketch" else downsample(targets)
    return inputs, targets, labels


def paired_mnist(task: str, split: str = "test") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(inputs, targets, labels) of the course's MNIST split ("train": 8,000, "test": 2,000) for `task`.

    inputs: (N, 1, 28, 28) sketches in {0, 1} ("sketch") or (N, 1, 7, 7) pooled digits ("lowres");
    targets: the grey-level digits (N, 1, 28, 28) in [0, 1]; labels (N,) int64. Copies of cached tensors.
    """
    if task not in TASKS:
        raise ValueError(f"unknown paired task {task!r}: expected one of {', '.join(map(repr, TASKS))}.")
    if split not in ("train", "test"):
        raise ValueError(f"unknown split {split!r}: expected 'train' or 'test'.")
    return tuple(t.clone() for t in _paired(task, split))


def _pair(prediction, target, who: str) -> tuple[torch.Tensor, torch.Tensor]:
    _check_images(target, who)
    _check_images(prediction, who)
    if prediction.shape != target.shape:
        raise ValueError(f"{who} compares images one to one: got {tuple(prediction.shape)} predictions for "
                         f"{tuple(target.shape)} targets.")
    return prediction.double(), target.double()


def psnr(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio per image, dB: 10 log10(1 / MSE) with peak 1. (N, 1, 28, 28) x2 -> (N,).

    Identical images give +inf; the sets' mean PSNR is the mean of these per-image values.
    """
    prediction, target = _pair(prediction, target, "psnr")
    mse = (prediction - target).pow(2).flatten(1).mean(1)
    return (10 * torch.log10(1 / mse)).float()


def mid_grey_share(images: torch.Tensor, low: float = 0.25, high: float = 0.75) -> float:
    """Share of ink pixels (> 0.05) with a value strictly between `low` and `high`: more means blurrier."""
    images = _check_images(images, "mid_grey_share")
    ink = images > 0.05
    mid = (images > low) & (images < high)
    return (mid.sum() / ink.sum().clamp_min(1)).item()


def edge_strength(images: torch.Tensor) -> float:
    """Mean gradient magnitude (finite differences, per pixel): sharper edges give more, blur gives less."""
    images = _check_images(images, "edge_strength").double()
    dx, dy = images.diff(dim=3)[..., :-1, :], images.diff(dim=2)[..., :, :-1]
    return (dx.pow(2) + dy.pow(2)).sqrt().mean().item()


def image_metrics(outputs: torch.Tensor, targets: torch.Tensor, labels: torch.Tensor) -> dict:
    """The table's numbers for translated images `outputs` vs true `targets` (N, 1, 28, 28) and `labels` (N,).

    Course FID is against the first N test images (`evaluation.sample_quality`): use N = 2,000.
    """
    from .evaluation import sample_quality
    from .models.features import load_feature_network

    prediction, target = _pair(outputs, targets, "image_metrics")
    fid, recognised = sample_quality(outputs.float())
    accuracy = (load_feature_network("mnist").predict(outputs.float()) == labels).double().mean().item()
    return {"l1_error": round((prediction - target).abs().mean().item(), 4),
            "psnr": round(psnr(outputs, targets).mean().item(), 3),
            "course_fid": fid,
            "classifier_accuracy": round(accuracy, 4),
            "recognisable": round(recognised.share, 4),
            "mid_grey_share": round(mid_grey_share(outputs), 4),
            "edge_strength": round(edge_strength(outputs), 4)}


@torch.no_grad()
def translate_all(model: nn.Module, inputs: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """model.translate over many inputs, in batches, on the CPU."""
    return torch.cat([model.translate(inputs[i : i + batch_size].to(model.device)).cpu()
                      for i in range(0, len(inputs), batch_size)])


def translation_metrics(model: nn.Module) -> dict:
    """`image_metrics` of a trained ImageTranslator on the 2,000 test pairs of its task."""
    task = "lowres" if model.config.upscale > 1 else "sketch"
    inputs, targets, labels = paired_mnist(task, "test")
    return image_metrics(translate_all(model, inputs), targets, labels)


def translation_headline(model: nn.Module, metric: str) -> float:
    """One number of `translation_metrics` (the recipes' headline), computed the same way (PSNR alone is quick)."""
    if metric != "psnr":
        return translation_metrics(model)[metric]
    task = "lowres" if model.config.upscale > 1 else "sketch"
    inputs, targets, _ = paired_mnist(task, "test")
    return round(psnr(translate_all(model, inputs), targets).mean().item(), 3)


def bicubic_metrics() -> dict:
    """`image_metrics` of bicubic x4 upscaling of the 2,000 test pairs (the classic baseline)."""
    inputs, targets, labels = paired_mnist("lowres", "test")
    return image_metrics(bicubic_upscale(inputs), targets, labels)
