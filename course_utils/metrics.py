"""Numbers the course reports: NLL in nats and bits/dim; from samples, mode coverage, the course FID and the
share of recognisable images."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

__all__ = ["bits_per_dim", "nats_from_bits_per_dim", "evaluate_nll", "MNIST_DIMS", "ModeCoverage", "mode_coverage",
           "gaussian_statistics", "frechet_distance", "course_fid", "Recognisability", "recognisability"]

MNIST_DIMS = 28 * 28


def bits_per_dim(nats, dims: int = MNIST_DIMS):
    """Negative log-likelihood per example in nats -> bits per dimension: nats / (dims * ln 2)."""
    if dims <= 0:
        raise ValueError(f"dims must be positive, got {dims}.")
    return nats / (dims * math.log(2))


def nats_from_bits_per_dim(bpd, dims: int = MNIST_DIMS):
    """Inverse of bits_per_dim: bits/dim -> nats per example."""
    if dims <= 0:
        raise ValueError(f"dims must be positive, got {dims}.")
    return bpd * dims * math.log(2)


@torch.no_grad()
def evaluate_nll(model: nn.Module, x: torch.Tensor, batch_size: int = 500, **log_prob_kwargs) -> float:
    """Mean negative log-likelihood in nats per example: -mean(model.log_prob(x, **log_prob_kwargs)).

    x: (N, ...) on any device; batches are moved to the model's device. For a VAE,
    `k=1000` asks for the IWAE estimate with 1000 importance samples.
    """
    if not hasattr(model, "log_prob"):
        raise TypeError(f"{type(model).__name__} has no log_prob(x): it is not a density model.")
    was_training = model.training
    model.eval()
    dev = next((p.device for p in model.parameters()), torch.device("cpu"))
    total = 0.0
    for i in range(0, len(x), batch_size):
        total += model.log_prob(x[i : i + batch_size].to(dev), **log_prob_kwargs).sum().item()
    model.train(was_training)
    return -total / len(x)


# ---------------------------------------------------------------- implicit models: coverage and FID

@dataclass(frozen=True)
class ModeCoverage:
    """How well 2-D samples cover a mixture's modes (the VEEGAN/PacGAN protocol)."""

    modes_captured: int  # modes with at least `min_count` high-quality samples
    modes_total: int
    high_quality_fraction: float  # samples within 3 std of their nearest mode
    counts: tuple  # high-quality samples per mode

    def __str__(self) -> str:
        return f"{self.modes_captured}/{self.modes_total} modes, {100 * self.high_quality_fraction:.1f}% high quality"


def mode_coverage(samples: torch.Tensor, modes: torch.Tensor, std: float, min_count: int | None = None) -> ModeCoverage:
    """Modes captured and the fraction of high-quality samples.

    samples (N, 2), modes (K, 2), std: the modes' standard deviation. A sample is high quality when it lies
    within 3 std of its nearest mode; a mode is captured when at least `min_count` high-quality samples
    land on it (default: 10% of a fair share, max(1, N / (10 K)), so a few stray samples do not count).
    """
    from .validation import check_tensor

    check_tensor(samples, (None,), name="samples", who="mode_coverage")
    check_tensor(modes, (samples.shape[1],), name="modes", who="mode_coverage")
    if not std > 0:
        raise ValueError(f"mode_coverage needs the modes' standard deviation std > 0, got {std!r}.")
    samples, modes = samples.detach().cpu().double(), modes.detach().cpu().double()
    dist, nearest = torch.cdist(samples, modes).min(dim=1)
    good = dist <= 3 * std
    counts = torch.bincount(nearest[good], minlength=len(modes))
    threshold = max(1, len(samples) // (10 * len(modes))) if min_count is None else min_count
    return ModeCoverage(int((counts >= threshold).sum()), len(modes), good.double().mean().item(), tuple(counts.tolist()))


def gaussian_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean (d,) and covariance (d, d) of features (N, d), in float64."""
    f = np.asarray(features.detach().cpu() if torch.is_tensor(features) else features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"features must be a 2-D array (N, d) with N >= 2, got shape {f.shape}.")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def frechet_distance(mu1, cov1, mu2, cov2) -> float:
    """Fréchet distance between N(mu1, cov1) and N(mu2, cov2), the FID formula:

        ||mu1 - mu2||^2 + tr(cov1) + tr(cov2) - 2 tr((cov1 cov2)^(1/2)).

    tr((cov1 cov2)^(1/2)) is the sum of square roots of the eigenvalues of S cov2 S with S = cov1^(1/2)
    (symmetric, so scipy.linalg.eigh is exact and stable even when a covariance is singular).
    """
    from scipy import linalg

    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    cov1, cov2 = np.atleast_2d(np.asarray(cov1, np.float64)), np.atleast_2d(np.asarray(cov2, np.float64))
    if mu1.shape != mu2.shape or cov1.shape != cov2.shape or cov1.shape != (len(mu1), len(mu1)):
        raise ValueError(f"frechet_distance needs means (d,) and covariances (d, d) of the same d, got "
                         f"{mu1.shape}, {cov1.shape}, {mu2.shape}, {cov2.shape}.")
    if not (np.isfinite(mu1).all() and np.isfinite(mu2).all() and np.isfinite(cov1).all() and np.isfinite(cov2).all()):
        raise ValueError("frechet_distance got NaN or inf statistics: the features (or the samples) contain NaN/inf.")
    w, v = linalg.eigh(cov1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    trace_sqrt = np.sqrt(np.clip(linalg.eigvalsh(root1 @ cov2 @ root1), 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(cov1) + np.trace(cov2) - 2 * trace_sqrt)


def course_fid(images_a: torch.Tensor, images_b: torch.Tensor, feature_net: nn.Module | None = None) -> float:
    """The course FID: Fréchet distance between the feature statistics of two image sets (N, 1, 28, 28) in [0, 1].

    Features are the penultimate layer of the course's MNIST classifier (checkpoint `mnist_features`,
    see `course_utils.models.features`). Lower is better; identical sets give 0. Numbers are comparable
    only between sets of the same size (FID is biased upwards for small sets).
    """
    if feature_net is None:
        from .models.features import load_feature_network

        feature_net = load_feature_network()
    fa, fb = feature_net.features_of(images_a), feature_net.features_of(images_b)
    return frechet_distance(*gaussian_statistics(fa), *gaussian_statistics(fb))


@dataclass(frozen=True)
class Recognisability:
    """How many images a classifier labels confidently, and how many classes those cover (a mode count on images)."""

    share: float  # fraction of the images labelled with confidence >= threshold
    classes_present: int  # classes with at least `min_count` confident images
    num_classes: int
    counts: tuple  # confident images per class

    def __str__(self) -> str:
        return f"{100 * self.share:.1f}% recognisable, {self.classes_present}/{self.num_classes} classes"


def recognisability(probabilities: torch.Tensor, threshold: float = 0.9, min_count: int | None = None) -> Recognisability:
    """From a classifier's class probabilities (N, C): the share with max probability >= threshold, and the classes.

    A class is present when at least `min_count` confident images have it (default: 10% of a fair share,
    max(1, N / (10 C)), the rule of `mode_coverage`), so a few stray images do not count.
    """
    from .validation import check_tensor

    check_tensor(probabilities, (None,), name="probabilities", who="recognisability")
    if not 0 < threshold <= 1:
        raise ValueError(f"recognisability needs a confidence threshold in (0, 1], got {threshold!r}.")
    if probabilities.numel() and not torch.allclose(probabilities.sum(1), torch.ones(len(probabilities)), atol=1e-3):
        raise ValueError("recognisability expects probabilities (rows summing to 1), e.g. classifier.probabilities(x); "
                         "got rows that do not sum to 1 (logits?).")
    n, c = probabilities.shape
    confidence, label = probabilities.max(1)
    confident = confidence >= threshold
    counts = torch.bincount(label[confident], minlength=c)
    needed = max(1, n // (10 * c)) if min_count is None else min_count
    return Recognisability(confident.double().mean().item(), int((counts >= needed).sum()), c, tuple(counts.tolist()))
