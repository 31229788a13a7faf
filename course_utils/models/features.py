"""The course's MNIST feature network: a small classifier whose penultimate layer defines the course FID.

The same architecture, trained on Fashion-MNIST, is `fashion_features`. The FID of Heusel et al. compares Inception-v3 features of ImageNet photos; for 28x28 digits the course
trains its own classifier (checkpoint `mnist_features`, `python -m course_utils train mnist_features`) and
uses its 128 penultimate activations instead. Numbers are "course FID", comparable within the course only.

MNISTClassifier: forward(x) (N, 1, 28, 28) in [0, 1] -> logits (N, 10); features(x) -> (N, 128);
probabilities(x) -> (N, 10); predict(x) -> labels (N,); loss(x, y) cross-entropy. Its confident labels also
say how many samples of a model are recognisable (`metrics.recognisability`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..validation import check_finite, check_tensor
from .base import CourseModel, ModelConfig

__all__ = ["MNISTClassifier", "load_feature_network", "random_shift"]

IMAGE = (1, 28, 28)


def random_shift(x: torch.Tensor, max_shift: int = 2) -> torch.Tensor:
    """Augmentation: each image moved by up to `max_shift` pixels in x and y (zero padding). (N, C, H, W) -> same."""
    n, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4)
    dx, dy = torch.randint(0, 2 * max_shift + 1, (2, n), device=x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device)[None])  # (N, H)
    cols = (dx[:, None] + torch.arange(w, device=x.device)[None])  # (N, W)
    idx = torch.arange(n, device=x.device)[:, None, None]
    return padded[idx, :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


class MNISTClassifier(CourseModel):
    """Two conv blocks (conv-BN-ReLU-pool) and a 128-unit penultimate layer: ~99% on the course's test split."""

    @dataclass(frozen=True)
    class Config(ModelConfig):
        channels: tuple = (32, 64)  # channels of the two conv blocks
        features: int = 128  # size of the penultimate layer: the course FID's features
        num_classes: int = 10

        def validate(self):
            self.require(len(self.channels) == 2, "channels", "two channel counts, one per conv block")
            self.require_positive("channels", "features", "num_classes")

    def __init__(self, config: Config | None = None):
        super().__init__()
        c = self.config = config or self.Config()
        a, b = c.channels
        self.body = nn.Sequential(
            nn.Conv2d(1, a, 3, padding=1), nn.BatchNorm2d(a), nn.ReLU(), nn.MaxPool2d(2),  # 14x14
            nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU(), nn.MaxPool2d(2),  # 7x7
            nn.Flatten(), nn.Linear(b * 7 * 7, c.features), nn.ReLU(),
        )
        self.classifier = nn.Sequential(nn.Dropout(0.3), nn.Linear(c.features, c.num_classes))

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        who = "MNISTClassifier"
        check_finite(check_tensor(x, IMAGE, who=who, device=self.device), who=who)
        if x.numel() and (x.min() < 0 or x.max() > 1):
            raise ValueError(f"{who} expects images in [0, 1], got values in [{x.min():.3g}, {x.max():.3g}]. "
                             "Divide uint8 images by 255; map [-1, 1] images with (x + 1) / 2.")
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations: (N, 1, 28, 28) -> (N, features)."""
        return self.body(self._check(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits (N, num_classes)."""
        return self.classifier(self.features(x))

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(self(x), y)

    @torch.no_grad()
    def _batched(self, fn, x: torch.Tensor, batch_size: int) -> torch.Tensor:
        """fn over x in batches, in eval mode (the training mode is restored), results on the CPU."""
        was_training = self.training
        self.eval()
        try:
            return torch.cat([fn(x[i : i + batch_size].to(self.device)).cpu() for i in range(0, len(x), batch_size)])
        finally:
            self.train(was_training)

    def features_of(self, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
        """Features of many images: (N, 1, 28, 28) -> (N, features) on the CPU."""
        return self._batched(self.features, x, batch_size)

    def probabilities(self, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
        """Class probabilities p(y | x): (N, 1, 28, 28) -> (N, num_classes) on the CPU."""
        return self._batched(lambda b: torch.softmax(self(b), 1), x, batch_size)

    def predict(self, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
        """Predicted labels (N,) int64."""
        return self._batched(lambda b: self(b).argmax(1), x, batch_size)


def load_feature_network(dataset: str = "mnist") -> MNISTClassifier:
    """The shipped feature network of `dataset` ("mnist": `mnist_features`, "fashion": `fashion_features`), cached."""
    names = {"mnist": "mnist_features", "fashion": "fashion_features"}
    if dataset not in names:
        raise ValueError(f"no feature network for dataset {dataset!r}: expected 'mnist' or 'fashion'.")
    if dataset not in _CACHED:
        from ..checkpoints import load_pretrained

        _CACHED[dataset] = load_pretrained(names[dataset])
    return _CACHED[dataset]


_CACHED: dict[str, MNISTClassifier] = {}
