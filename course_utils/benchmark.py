"""`python -m course_utils benchmark`: every model of the course measured on the same test split.

Prints a Markdown table and writes it, with the machine, date, versions and command, to BENCHMARKS.md.
"""

from __future__ import annotations

import datetime
import os
import platform
import time

import torch

from .checkpoints import available_checkpoints, load_pretrained, read_sidecar
from .runtime import set_threads
from .zoo import RECIPES, train_recipe

__all__ = ["run_benchmark", "sampling_seconds"]


def sampling_seconds(model, n: int = 64, repeats: int = 3) -> float:
    """Best-of-`repeats` wall-clock seconds of model.sample(n)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model.sample(n)
        best = min(best, time.perf_counter() - start)
    return best


def _timed_sampling(model, n: int, quick: bool):
    if not hasattr(model, "sample"):
        return "n/a (no sampler)"
    return round(sampling_seconds(model, n, repeats=1 if quick else 3), 4)


def _nll_column(metrics: dict, family: str):
    if "test_nll_nats" in metrics:
        return metrics["test_nll_nats"]  # exact
    if "test_nll_iwae1000_nats" in metrics:
        return f"{metrics['test_nll_iwae1000_nats']} (IWAE k=1000)"
    return "none (implicit)" if "GAN" in family else "none"


def _headline(recipe, metrics: dict) -> str:
    if "modes_captured" in metrics:
        return (f"{metrics['modes_captured']}/{metrics['modes_total']} modes, "
                f"{100 * metrics['high_quality_fraction']:.1f}% high quality")
    return f"{recipe.headline} = {metrics[recipe.headline]}"


def _fid_column(model, metrics: dict, sample64_s):
    """Course FID of 2,000 seeded samples vs the test split, for image models with a fast sampler."""
    if "course_fid" in metrics:
        return metrics["course_fid"]
    shape = getattr(getattr(model, "config", None), "data_shape", (1, 28, 28))
    if not hasattr(model, "sample") or tuple(shape) != (1, 28, 28) or isinstance(sample64_s, str):
        return "n/a"
    if sample64_s > 1.0:  # 2,000 samples would take minutes
        return f"not measured (2,000 samples ~{sample64_s * 2000 / 64 / 60:.0f} min)"
    from .zoo import _fid_of

    return _fid_of(model)


def _row(name: str, quick: bool) -> dict:
    recipe = RECIPES[name]
    if name in available_checkpoints():
        model, source = load_pretrained(name), "checkpoint"
        train_s = read_sidecar(name).get("train_seconds")
    else:
        model, _, train_s = train_recipe(name)
        source = "trained now"
    metrics = recipe.evaluate(model)
    sample64 = _timed_sampling(model, 64, quick)
    return {
        "model": name, "family": recipe.family, "source": source,
        "test NLL (nats)": _nll_column(metrics, recipe.family),
        "bits/dim": metrics.get("test_bits_per_dim", "none"),
        "headline metric": _headline(recipe, metrics),
        "course FID (2,000 samples)": _fid_column(model, metrics, sample64),
        "sample 16 (s)": _timed_sampling(model, 16, quick),
        "sample 64 (s)": sample64,
        "parameters": sum(p.numel() for p in model.parameters()),
        "train (s)": "" if train_s is None else round(train_s, 1),
    }


def _floor() -> str:
    from .zoo import real_fid_floor

    return f"{real_fid_floor():.1f}"


def _markdown(rows: list[dict]) -> str:
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def run_benchmark(quick: bool = False, output: str | None = "BENCHMARKS.md") -> list[dict]:
    threads = set_threads()
    rows = [_row(name, quick) for name in RECIPES]
    table = _markdown(rows)
    print(table)
    if output:
        import torchvision

        cmd = "python -m course_utils benchmark" + (" --quick" if quick else "")
        header = (
            "# Benchmarks\n\n"
            f"Measured by `{cmd}` on {datetime.date.today().isoformat()}: {platform.machine()}, "
            f"{os.cpu_count()} cores, {threads} torch threads, device cpu; Python {platform.python_version()}, "
            f"torch {torch.__version__}, torchvision {torchvision.__version__}.\n\n"
            "Test split: the course's fixed binarized MNIST test set (images 8,000-9,999 of the first 10,000 "
            "MNIST training images, binarized once with a fixed seed). NLL in nats per image. Course FID: Fréchet "
            "distance between the `mnist_features` classifier's features of 2,000 seeded samples and of the 2,000 "
            f"test images (lower is better; real training images score {_floor()}). Toy GANs: 2,500 samples, "
            "a sample within 3 std of a mode is high quality.\n\n"
        )
        with open(output, "w") as f:
            f.write(header + table + "\n")
    return rows
