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


def _nll_column(metrics: dict):
    if "test_nll_nats" in metrics:
        return metrics["test_nll_nats"]  # exact
    if "test_nll_iwae1000_nats" in metrics:
        return f"{metrics['test_nll_iwae1000_nats']} (IWAE k=1000)"
    return "none"


def _row(name: str, quick: bool) -> dict:
    recipe = RECIPES[name]
    if name in available_checkpoints():
        model, source = load_pretrained(name), "checkpoint"
        train_s = read_sidecar(name).get("train_seconds")
    else:
        model, _, train_s = train_recipe(name)
        source = "trained now"
    metrics = recipe.evaluate(model)
    return {
        "model": name, "family": recipe.family, "source": source,
        "test NLL (nats)": _nll_column(metrics),
        "bits/dim": metrics.get("test_bits_per_dim", "none"),
        "headline metric": f"{recipe.headline} = {metrics[recipe.headline]}",
        "sample 16 (s)": _timed_sampling(model, 16, quick),
        "sample 64 (s)": _timed_sampling(model, 64, quick),
        "parameters": sum(p.numel() for p in model.parameters()),
        "train (s)": "" if train_s is None else round(train_s, 1),
    }


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
            "MNIST training images, binarized once with a fixed seed). NLL in nats per image.\n\n"
        )
        with open(output, "w") as f:
            f.write(header + table + "\n")
    return rows
