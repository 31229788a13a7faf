"""Datasets of the course, loaded offline from the project's `data/` folder.

- MNIST: the first 10,000 official training images, with one fixed split used everywhere:
  images 0-7,999 are the course's *train* split, 8,000-9,999 its *test* split.
- Fashion-MNIST: the complete official release (60,000 train / 10,000 test).
- Binarized MNIST: dynamic binarization for training batches (a fresh Bernoulli draw per batch),
  one fixed seeded binarization of the test split, so every model's NLL is on the same bits.
- 2-D toy distributions (two moons, ring of 8, grid of 25) for notebooks 01, 02 and 05.

The files are IDX (.gz), read by torchvision's own readers; nothing is downloaded.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

__all__ = [
    "DATA_DIR", "DATA_FILES", "DataFileError", "verify_data_files", "load_mnist", "load_fashion_mnist",
    "DATASETS", "load_dataset", "binarized_test", "binarized_mnist_test", "binarized_fashion_mnist_test", "dynamic_binarize", "make_loader", "two_moons", "ring_of_gaussians",
    "grid_of_gaussians", "MNIST_TRAIN", "MNIST_TEST", "BINARIZATION_SEED",
]

DATA_DIR = Path(os.environ.get("COURSE_DATA_DIR", Path(__file__).resolve().parent.parent / "data"))

# relative path -> SHA-256 (the same as data/README.md and shared/datasets/SHA256SUMS)
DATA_FILES = {
    "mnist/train10k-images-idx3-ubyte.gz": "8d551838fb581003d4f038c33d8d052a3dedcbc154329f95e0fcb9eefddc3819",
    "mnist/train10k-labels-idx1-ubyte.gz": "f3bae815f00c58b96a05ff628c21688da13b12a78d300b16d286e3621d68b536",
    "fashion-mnist/train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "fashion-mnist/train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "fashion-mnist/t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "fashion-mnist/t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}

MNIST_TRAIN = range(0, 8000)  # the course's fixed MNIST split
MNIST_TEST = range(8000, 10000)
BINARIZATION_SEED = 2024  # seed of the one fixed binarization of the MNIST test split


class DataFileError(FileNotFoundError):
    """A data file is missing or does not have its expected checksum."""


def sha256_of_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _restore_hint(rel: str) -> str:
    return (
        f"Restore it with `git checkout -- data/{rel}` from the course repository (the file is committed), "
        f"or set COURSE_DATA_DIR to a folder that holds {rel}."
    )


@functools.cache
def _verified(rel: str, root: str) -> Path:
    path = Path(root) / rel
    expected = DATA_FILES[rel]
    if not path.is_file():
        raise DataFileError(f"data file not found: {path} (expected SHA-256 {expected}). {_restore_hint(rel)}")
    got = sha256_of_file(path)
    if got != expected:
        raise DataFileError(
            f"data file is corrupt: {path} has SHA-256 {got}, expected {expected}. {_restore_hint(rel)}"
        )
    return path


def verify_data_files(root: str | Path | None = None) -> dict[str, str]:
    """Check every data file's SHA-256; return {relative path: checksum}. Raises DataFileError."""
    root = str(root or DATA_DIR)
    return {rel: DATA_FILES[rel] for rel in DATA_FILES if _verified(rel, root)}


def _read_idx(rel: str, root: Path) -> torch.Tensor:
    """Verify, decompress once into data/.cache, and read an IDX file with torchvision's reader."""
    from torchvision.datasets.mnist import read_sn3_pascalvincent_tensor
    from torchvision.datasets.utils import extract_archive

    gz = _verified(rel, str(root))
    raw = root / ".cache" / rel.removesuffix(".gz")
    if not raw.is_file():  # decompress into a private folder, then move: safe with parallel kernels
        raw.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=raw.parent))
        extract_archive(str(gz), str(tmp))
        os.replace(tmp / raw.name, raw)
        tmp.rmdir()
    return read_sn3_pascalvincent_tensor(str(raw), strict=True)


@functools.lru_cache(maxsize=8)
def _images_and_labels(images: str, labels: str, root: str) -> tuple[torch.Tensor, torch.Tensor]:
    x = _read_idx(images, Path(root))  # (N, 28, 28) uint8
    y = _read_idx(labels, Path(root)).long()  # (N,)
    x = x.unsqueeze(1).float().div_(255.0)  # (N, 1, 28, 28) in [0, 1]
    return x, y


def _check_split(split: str, allowed: tuple[str, ...]) -> None:
    if split not in allowed:
        raise ValueError(f"unknown split {split!r}: expected one of {', '.join(map(repr, allowed))}.")


def load_mnist(split: str = "train", root: str | Path | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST grey levels and labels of the course's fixed split.

    Returns images (N, 1, 28, 28) float32 in [0, 1] and labels (N,) int64; N = 8,000 for
    "train", 2,000 for "test", 10,000 for "all".
    """
    _check_split(split, ("train", "test", "all"))
    x, y = _images_and_labels(
        "mnist/train10k-images-idx3-ubyte.gz", "mnist/train10k-labels-idx1-ubyte.gz", str(root or DATA_DIR)
    )
    rows = {"train": MNIST_TRAIN, "test": MNIST_TEST, "all": range(0, len(x))}[split]
    return x[rows.start : rows.stop], y[rows.start : rows.stop]


def load_fashion_mnist(split: str = "train", root: str | Path | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST, official split: images (N, 1, 28, 28) in [0, 1], labels (N,); N = 60,000 or 10,000."""
    _check_split(split, ("train", "test"))
    prefix = {"train": "train", "test": "t10k"}[split]
    return _images_and_labels(
        f"fashion-mnist/{prefix}-images-idx3-ubyte.gz", f"fashion-mnist/{prefix}-labels-idx1-ubyte.gz",
        str(root or DATA_DIR),
    )


FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def binarized_mnist_test(root: str | Path | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The course's fixed binarized MNIST test set: (2000, 1, 28, 28) float32 in {0, 1}, and labels.

    Pixel i is 1 with probability equal to its grey level, drawn once with NumPy's PCG64 seeded
    by BINARIZATION_SEED (stable across NumPy and PyTorch versions): every model of the course
    reports its NLL on exactly these bits.
    """
    x, y = load_mnist("test", root)
    u = np.random.default_rng(BINARIZATION_SEED).random(x.shape, dtype=np.float32)
    return torch.from_numpy(u < x.numpy()).float(), y


def binarized_fashion_mnist_test(root: str | Path | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST's official test set (10,000) binarized once, like `binarized_mnist_test`: (10000, 1, 28, 28) in {0, 1}."""
    x, y = load_fashion_mnist("test", root)
    u = np.random.default_rng(BINARIZATION_SEED).random(x.shape, dtype=np.float32)
    return torch.from_numpy(u < x.numpy()).float(), y


DATASETS = ("mnist", "fashion")  # the course's image datasets, by the name every helper takes


def _check_dataset(dataset: str) -> None:
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}: expected one of {', '.join(map(repr, DATASETS))}.")


def load_dataset(dataset: str = "mnist", split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """Grey-level images (N, 1, 28, 28) and labels (N,) of `dataset` ("mnist": the course's split, "fashion")."""
    _check_dataset(dataset)
    return (load_mnist if dataset == "mnist" else load_fashion_mnist)(split)


def binarized_test(dataset: str = "mnist") -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed binarized test set of `dataset`, on which every NLL of the course is measured."""
    _check_dataset(dataset)
    return (binarized_mnist_test if dataset == "mnist" else binarized_fashion_mnist_test)()


def dynamic_binarize(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A fresh Bernoulli draw of every pixel: x (..., values in [0, 1]) -> same shape, values in {0, 1}.

    Used on every training batch, so a model never sees the same bits twice (less overfitting
    than one fixed binarization of the training set).
    """
    if not torch.is_tensor(x) or not x.is_floating_point():
        raise TypeError(f"dynamic_binarize expects a float tensor of grey levels in [0, 1], got {type(x).__name__}"
                        + (f" of dtype {x.dtype}" if torch.is_tensor(x) else "") + ". Use load_mnist()[0].")
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"dynamic_binarize expects grey levels in [0, 1], got values in [{x.min():.3g}, {x.max():.3g}]. "
                         "Divide uint8 images by 255 first.")
    return torch.bernoulli(x, generator=generator)


def make_loader(x: torch.Tensor, *tensors: torch.Tensor, batch_size: int = 128, shuffle: bool = True,
                seed: int = 0) -> torch.utils.data.DataLoader:
    """A DataLoader over in-memory tensors; num_workers=0 (safe on Windows and in Jupyter), seeded shuffling."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    g = torch.Generator().manual_seed(seed)
    ds = torch.utils.data.TensorDataset(x, *tensors)
    return torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=shuffle, generator=g, num_workers=0)


# ---------------------------------------------------------------- 2-D toy distributions

def two_moons(n: int, noise: float = 0.08, seed: int = 0) -> torch.Tensor:
    """n points of scikit-learn's two moons, centred and scaled to about [-2, 2]: (n, 2) float32.

    Two moons has no closed-form density; the models of notebooks 01 and 02 estimate it.
    """
    from sklearn.datasets import make_moons

    _check_count("two_moons", "n", n, "points")
    if not noise >= 0:
        raise ValueError(f"two_moons needs noise >= 0 (the std of the Gaussian noise), got {noise!r}.")
    x, _ = make_moons(n_samples=n, noise=noise, random_state=seed)
    x = (x - np.array([0.5, 0.25])) * 1.6
    return torch.from_numpy(x).float()


def _check_count(who: str, name: str, value, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{who} needs {name} as a positive int (the number of {what}), got {value!r}.")


def _mixture(means: torch.Tensor, std: float) -> MixtureSameFamily:
    if not std > 0:
        raise ValueError(f"a mixture of Gaussians needs std > 0 (each mode's standard deviation), got {std!r}.")
    k = means.shape[0]
    comps = Independent(Normal(means, torch.full_like(means, std)), 1)
    return MixtureSameFamily(Categorical(probs=torch.full((k,), 1.0 / k)), comps)


def ring_of_gaussians(k: int = 8, radius: float = 2.0, std: float = 0.02) -> MixtureSameFamily:
    """Equal mixture of k Gaussians on a circle (the VEEGAN/PacGAN ring-of-8 protocol).

    A torch.distributions object: `.sample((n,))` gives (n, 2), `.log_prob(x)` the true density,
    `.component_distribution.base_dist.loc` the (k, 2) mode centres.
    """
    _check_count("ring_of_gaussians", "k", k, "modes")
    angle = torch.arange(k) * (2 * math.pi / k)
    return _mixture(radius * torch.stack([angle.cos(), angle.sin()], dim=1), std)


def grid_of_gaussians(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> MixtureSameFamily:
    """Equal mixture of side x side Gaussians on a grid centred at 0 (the grid-of-25 protocol)."""
    _check_count("grid_of_gaussians", "side", side, "modes per side")
    ticks = (torch.arange(side) - (side - 1) / 2) * spacing
    means = torch.cartesian_prod(ticks, ticks)  # (side*side, 2)
    return _mixture(means, std)
