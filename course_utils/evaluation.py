"""Evaluate a model on the course's fixed data: one helper per idea, each with a `dataset` argument.

`metrics.py` holds the formulas (bits/dim, Fréchet distance, mode coverage); this module applies them
to a model and the course's test sets, with seeded samples so that every number repeats. The recipes
(`zoo.py`), the benchmark and the notebooks all measure through these helpers.
"""

from __future__ import annotations

import torch
from torch import nn

from . import data
from .metrics import Recognisability, bits_per_dim, course_fid, evaluate_nll, mode_coverage, recognisability
from .runtime import capped_samples

__all__ = ["FID_SAMPLES", "TOYS", "seeded_samples", "fid_reference", "real_fid_floor", "fid_of", "toy_coverage",
           "nll_metrics", "vae_neg_elbo", "vae_metrics", "classifier_accuracy", "classifier_metrics",
           "reconstruction_metrics", "image_gan_metrics", "toy_gan_metrics", "recognisable", "sample_quality"]

FID_SAMPLES = 2000  # images per set for the course FID (the size of the MNIST test split)
TOYS = {"ring8": (data.ring_of_gaussians, 0.02), "grid25": (data.grid_of_gaussians, 0.05)}  # toy -> (make, std)


def seeded_samples(model: nn.Module, n: int | None = None, seed: int = 0, **conditions) -> torch.Tensor:
    """n samples drawn with a generator seeded by `seed` (repeatable metrics), on the CPU.

    n: default FID_SAMPLES (lowered by COURSE_MAX_SAMPLES, `runtime.capped_samples`)."""
    n = capped_samples(FID_SAMPLES) if n is None else n
    generator = torch.Generator(device=model.device).manual_seed(seed)
    return model.sample(n, generator=generator, **conditions).cpu()


# ---------------------------------------------------------------- likelihoods

def nll_metrics(model: nn.Module, dataset: str = "mnist") -> dict:
    """Exact test NLL in nats per image and bits/dim on the fixed binarized test set of `dataset`."""
    x_test, _ = data.binarized_test(dataset)
    nll = evaluate_nll(model, x_test)
    return {"test_nll_nats": round(nll, 3), "test_bits_per_dim": round(bits_per_dim(nll), 4)}


@torch.no_grad()
def vae_neg_elbo(model: nn.Module, dataset: str = "mnist") -> float:
    """Test negative ELBO in nats, one seeded z per image (repeatable)."""
    x_test, _ = data.binarized_test(dataset)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return round(-model.elbo(x_test).mean().item(), 3)


def vae_metrics(model: nn.Module, dataset: str = "mnist", k: int = 1000) -> dict:
    """-ELBO, the IWAE estimate of the NLL with k importance samples, and its bits/dim."""
    x_test, _ = data.binarized_test(dataset)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        iwae = evaluate_nll(model, x_test, batch_size=100, k=k)
    return {"test_neg_elbo": vae_neg_elbo(model, dataset), f"test_nll_iwae{k}_nats": round(iwae, 3),
            "test_bits_per_dim": round(bits_per_dim(iwae), 4)}


@torch.no_grad()
def reconstruction_metrics(model: nn.Module, dataset: str = "mnist") -> dict:
    """Mean squared reconstruction error per test image (the lecture's J), grey levels."""
    from .models.autoencoders import reconstruction_error

    x_test, _ = data.load_dataset(dataset, "test")
    return {"test_l2_error": round(reconstruction_error(x_test, model.reconstruct(x_test), "l2").mean().item(), 3)}


# ---------------------------------------------------------------- classifiers and the course FID

@torch.no_grad()
def classifier_accuracy(model: nn.Module, dataset: str = "mnist") -> float:
    """Share of the test images of `dataset` the classifier labels correctly."""
    x, y = data.load_dataset(dataset, "test")
    return round((model.predict(x) == y).double().mean().item(), 4)


def fid_reference(dataset: str = "mnist") -> torch.Tensor:
    """The real images generated samples are compared with: the first 2,000 test images of `dataset`."""
    return data.load_dataset(dataset, "test")[0][:FID_SAMPLES]


def real_fid_floor(feature_net: nn.Module | None = None, dataset: str = "mnist") -> float:
    """Course FID between 2,000 test images and the first 2,000 training images: what a perfect model scores.

    With COURSE_MAX_SAMPLES set (`runtime.capped_samples`), that many of each, as `seeded_samples` draws."""
    from .models.features import load_feature_network

    net = feature_net or load_feature_network(dataset)
    n = capped_samples(FID_SAMPLES)
    return course_fid(fid_reference(dataset)[:n], data.load_dataset(dataset, "train")[0][:n], net)


def classifier_metrics(model: nn.Module, dataset: str = "mnist") -> dict:
    """Test accuracy, and the course FID floor this classifier's features give."""
    return {"test_accuracy": classifier_accuracy(model, dataset),
            "fid_test_vs_train": round(real_fid_floor(model, dataset), 3)}


def fid_of(model: nn.Module, dataset: str = "mnist", n: int = FID_SAMPLES) -> float:
    """Course FID of n (<= 2,000) seeded samples of `model` against the first n test images of `dataset`."""
    return sample_quality(seeded_samples(model, n), dataset)[0]


def recognisable(images: torch.Tensor, dataset: str = "mnist", threshold: float = 0.9) -> Recognisability:
    """Share of images (N, 1, 28, 28) in [0, 1] that the dataset's classifier labels with confidence >= threshold."""
    from .models.features import load_feature_network

    return recognisability(load_feature_network(dataset).probabilities(images), threshold)


def sample_quality(samples: torch.Tensor, dataset: str = "mnist") -> tuple[float, Recognisability]:
    """(course FID against the first len(samples) test images, recognisability) of one set of samples."""
    from .models.features import load_feature_network

    fid = course_fid(samples, fid_reference(dataset)[: len(samples)], load_feature_network(dataset))
    return round(fid, 3), recognisable(samples, dataset)


def image_gan_metrics(model: nn.Module, dataset: str = "mnist") -> dict:
    """Course FID and recognisable share; for a class-conditional GAN also how often the classifier reads the
    asked-for label (not for a self-conditioned one: its labels are clusters, not digits)."""
    fid, recog = sample_quality(seeded_samples(model), dataset)
    out = {"course_fid": fid, "recognisable": round(recog.share, 4), "classes_present": recog.classes_present}
    if model.config.num_classes and not model.config.class_weights:
        from .models.features import load_feature_network

        labels = torch.arange(capped_samples(FID_SAMPLES)) % model.config.num_classes
        predicted = load_feature_network(dataset).predict(seeded_samples(model, labels=labels))
        out["label_accuracy"] = round((predicted == labels).double().mean().item(), 4)
    return out


# ---------------------------------------------------------------- 2-D toys

def toy_coverage(model: nn.Module, toy: str, n: int = 2500, seed: int = 0):
    """Mode coverage of n seeded samples on toy 'ring8' or 'grid25' (the VEEGAN/PacGAN protocol)."""
    if toy not in TOYS:
        raise ValueError(f"unknown toy {toy!r}: expected one of {', '.join(map(repr, TOYS))}.")
    make, std = TOYS[toy]
    modes = make().component_distribution.base_dist.loc
    return mode_coverage(seeded_samples(model, n, seed), modes, std)


def toy_gan_metrics(model: nn.Module, toy: str) -> dict:
    """Modes captured, modes in all and the high-quality share, as the sidecars record them."""
    cov = toy_coverage(model, toy)
    return {"modes_captured": cov.modes_captured, "modes_total": cov.modes_total,
            "high_quality_fraction": round(cov.high_quality_fraction, 4)}
