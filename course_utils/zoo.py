"""The recipes behind every shipped checkpoint: how to build, train and evaluate each model.

`python -m course_utils train NAME` runs a recipe and saves the checkpoint with its sidecar;
`load_pretrained(NAME)` in a notebook loads it; the benchmark evaluates them all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from . import data
from .metrics import bits_per_dim, evaluate_nll
from .models.autoencoders import MLPAutoencoder, reconstruction_error
from .models.density import BernoulliImageModel
from .train import fit

__all__ = ["Recipe", "RECIPES", "get_recipe"]


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    build: Callable[[], nn.Module]  # a fresh, untrained model
    train: Callable[[nn.Module], None]  # trains it in place (seeded, CPU-sized budget)
    evaluate: Callable[[nn.Module], dict]  # headline metrics on the course's fixed test split
    headline: str  # the metric a test re-computes and compares with the sidecar
    tolerance: float  # allowed |re-computed - sidecar| for the headline metric
    family: str = ""  # taxonomy leaf: autoregressive, change of variables, VAE, GAN, ...
    half: bool = False  # store weights in float16


def _nll_metrics(model: nn.Module) -> dict:
    x_test, _ = data.binarized_mnist_test()
    nll = evaluate_nll(model, x_test)
    return {"test_nll_nats": round(nll, 3), "test_bits_per_dim": round(bits_per_dim(nll), 4)}


def _train_bernoulli(model: BernoulliImageModel) -> None:
    model.fit_closed_form(data.load_mnist("train")[0])


@torch.no_grad()
def _reconstruction_metrics(model: nn.Module) -> dict:
    x_test, _ = data.load_mnist("test")
    err = reconstruction_error(x_test, model.reconstruct(x_test), "l2").mean().item()
    return {"test_l2_error": round(err, 3)}


def _ae_2d() -> MLPAutoencoder:
    return MLPAutoencoder(MLPAutoencoder.Config(latent_dim=2, hidden=(512, 256)))


def _train_ae_2d(model: MLPAutoencoder) -> None:
    fit(model, data.load_mnist("train")[0], epochs=100, batch_size=128, lr=1e-3, device="cpu")


RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in [
        Recipe(
            name="bernoulli_mnist",
            description="independent Bernoulli pixels on binarized MNIST (closed-form MLE): the baseline",
            build=BernoulliImageModel,
            train=_train_bernoulli,
            evaluate=_nll_metrics,
            headline="test_nll_nats",
            tolerance=0.01,
            family="explicit density (independent pixels)",
        ),
        Recipe(
            name="ae_mnist_2d",
            description="MLP autoencoder with a 2-D code on MNIST grey levels (L2 loss), for notebook 03's explorer",
            build=_ae_2d,
            train=_train_ae_2d,
            evaluate=_reconstruction_metrics,
            headline="test_l2_error",
            tolerance=0.05,
            family="autoencoder (no density)",
        ),
    ]
}


def get_recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise ValueError(f"unknown model {name!r}; the course trains: {', '.join(sorted(RECIPES))}.")
    return RECIPES[name]


def train_recipe(name: str) -> tuple[nn.Module, dict, float]:
    """Build and train recipe NAME (seeded); return (model, metrics, training seconds)."""
    from .runtime import seed_everything

    recipe = get_recipe(name)
    seed_everything(0)
    model = recipe.build()
    start = time.perf_counter()
    recipe.train(model)
    seconds = time.perf_counter() - start
    return model, recipe.evaluate(model), seconds
