"""`Recipe`: how to build, train and evaluate one shipped checkpoint (the tables are in `zoo.py`).

`python -m course_utils train NAME` runs a recipe (`Recipe.run`) and saves the checkpoint with its sidecar.
The applications of notebook 07 keep their recipes in `zoo_translation.py` and `zoo_video.py`; `zoo.RECIPES`
holds them all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["Recipe"]


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
    evaluate_headline: Callable[[nn.Module], float] | None = None  # cheaper than evaluate()[headline], same value
    dataset: str = "mnist"  # "mnist" (the course's 8,000/2,000 split) or "fashion" (official 60,000/10,000)

    def headline_value(self, model: nn.Module) -> float:
        """The headline metric of `model`, as the sidecar records it."""
        if self.evaluate_headline is not None:
            return self.evaluate_headline(model)
        return self.evaluate(model)[self.headline]

    def run(self) -> tuple[nn.Module, dict, float]:
        """Build and train this recipe (seeded); return (model, metrics, training seconds)."""
        from .runtime import seed_everything

        seed_everything(0)
        model = self.build()
        start = time.perf_counter()
        self.train(model)
        seconds = time.perf_counter() - start
        if self.half:  # evaluate the weights as they will be stored, so the sidecar matches a reload
            with torch.no_grad():
                for t in model.state_dict().values():  # parameters and buffers (batch-norm statistics)
                    if t.is_floating_point():
                        t.copy_(t.half().float())
        return model, self.evaluate(model), seconds
