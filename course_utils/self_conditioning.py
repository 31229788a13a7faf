"""Self-conditioning (Liu et al., 2020): a GAN that makes its own labels by clustering the data.

A conditional GAN draws sharper, more varied digits than an unconditional one (notebook 05 measures it): the
label tells G which of ten separate groups of images to draw, so G need not stretch one connected noise space
over all of them. The labels need not be true classes. k-means on the training images' pixels finds clusters
(a "1", a slanted "1", a round "0", ...); a conditional GAN trained on the cluster ids, with each id drawn as
often as its cluster is large, is an *unconditional* model again: p(x) = sum_k w_k p_G(x | k). No human label
enters; the course's classifier, which judges the samples, never sees the clusters.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

__all__ = ["pixel_clusters", "mnist_clusters", "recognisable_along_lines"]


def pixel_clusters(images: torch.Tensor, k: int, seed: int = 0) -> tuple[torch.Tensor, tuple[float, ...]]:
    """k-means on the raw pixels of images (N, C, H, W) -> (cluster ids (N,) int64, weights: k cluster shares)."""
    from sklearn.cluster import KMeans

    if not torch.is_tensor(images) or images.dim() != 4:
        got = tuple(images.shape) if torch.is_tensor(images) else type(images).__name__
        raise ValueError(f"pixel_clusters expects images (N, C, H, W), got {got}.")
    if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k <= len(images):
        raise ValueError(f"k (clusters) must be an int from 2 to the number of images ({len(images)}), got {k!r}.")
    flat = images.flatten(1).double().numpy()
    ids = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(flat).labels_
    shares = np.bincount(ids, minlength=k) / len(ids)
    return torch.from_numpy(ids).long(), tuple(round(float(s), 6) for s in shares)


@lru_cache(maxsize=4)
def mnist_clusters(k: int) -> tuple[torch.Tensor, tuple[float, ...]]:
    """pixel_clusters of the course's 8,000 MNIST training images (seeded, cached: a few seconds once)."""
    from . import data

    return pixel_clusters(data.load_dataset("mnist", "train")[0], k)


@torch.no_grad()
def recognisable_along_lines(gan, ts=(0.0, 0.25, 0.5, 0.75, 1.0), n: int = 600, seed: int = 0,
                             threshold: float = 0.9) -> tuple[int, list[float]]:
    """How recognisable G's images are on straight lines between two *different* confident digits.

    Draws n seeded z, keeps those whose G(z) the MNIST classifier labels with confidence >= threshold, pairs the
    first half with the second and keeps the pairs with different digits; returns (number of lines, the share of
    recognisable images at each t of G((1 - t) z_a + t z_b)). A dip in the middle: G bridges the digits.
    """
    from .evaluation import recognisable
    from .models.features import load_feature_network

    z = gan.noise(n, generator=torch.Generator(device=gan.device).manual_seed(seed))
    confidence, digit = load_feature_network().probabilities(gan.generate(z)).max(1)
    sure = confidence >= threshold
    z, digit = z[sure], digit[sure]
    half = len(z) // 2
    different = digit[:half] != digit[half : 2 * half]
    a, b = z[:half][different], z[half : 2 * half][different]
    return len(a), [recognisable(gan.generate((1 - t) * a + t * b), threshold=threshold).share for t in ts]
