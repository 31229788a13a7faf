"""`python -m course_utils benchmark`: every model of the course measured on the same test split.

Prints a Markdown table and writes it, with the machine, date, versions and command, to BENCHMARKS.md.
"""

from __future__ import annotations

import datetime
import math
import os
import platform
import sys
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from .checkpoints import available_checkpoints, load_pretrained, read_sidecar
from .evaluation import (
    FID_SAMPLES,
    fid_reference,
    real_fid_floor,
    recognisable,
    sample_quality,
    seeded_samples,
)
from .runtime import set_threads
from .zoo import RECIPES

__all__ = ["run_benchmark", "sampling_flops", "sampling_seconds"]


def sampling_seconds(model, n: int = 64, repeats: int = 3) -> float:
    """Best-of-`repeats` wall-clock seconds of model.sample(n)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model.sample(n)
        best = min(best, time.perf_counter() - start)
    return best


def _matrix_vector_flops(matrix_shape, vector_shape, *args, out_shape=None, **kwargs) -> int:
    return 2 * matrix_shape[0] * matrix_shape[1]  # a multiply and an add per matrix entry


def _elementwise_flops(*args, out_shape=None, **kwargs) -> int:
    return math.prod(out_shape)  # one operation per output entry


# FlopCounterMode counts matrix-matrix products and convolutions; the cheap samplers (FVSBN, NADE,
# MADE) spend their arithmetic on matrix-vector products and elementwise updates, so count those too.
_aten = torch.ops.aten
_MORE_FLOP_FORMULAS = {_aten.mv: _matrix_vector_flops, _aten.mul: _elementwise_flops,
                       _aten.mul_: _elementwise_flops, _aten.add: _elementwise_flops,
                       _aten.add_: _elementwise_flops}


def sampling_flops(model, n: int = 16) -> int:
    """Floating-point operations of one model.sample(n): products (matrix, matrix-vector, convolution)
    and elementwise multiplies and adds, counted by torch's FlopCounterMode; activations and copies
    are not counted. Unlike seconds, the count does not depend on the machine or on its load."""
    with FlopCounterMode(display=False, custom_mapping=_MORE_FLOP_FORMULAS) as counter, torch.no_grad():
        model.sample(n)
    return counter.get_total_flops()


def _timed_sampling(model, n: int, quick: bool):
    if not hasattr(model, "sample"):
        return "n/a (no sampler)"
    return round(sampling_seconds(model, n, repeats=1 if quick else 3), 4)


def _nll_column(metrics: dict, family: str):
    if "test_nll_nats" in metrics:
        return metrics["test_nll_nats"]  # exact
    for key, value in metrics.items():
        if key.startswith("test_nll_iwae"):
            return f"{value} (IWAE k={key[len('test_nll_iwae'):-len('_nats')]})"
    return "none (implicit)" if "GAN" in family else "none"


def _headline(recipe, metrics: dict) -> str:
    if "modes_captured" in metrics:
        return (f"{metrics['modes_captured']}/{metrics['modes_total']} modes, "
                f"{100 * metrics['high_quality_fraction']:.1f}% high quality")
    return f"{recipe.headline} = {metrics[recipe.headline]}"


def _sample_quality(model, recipe, metrics: dict, sample64_s, quick: bool) -> tuple:
    """(course FID, recognisability) of 2,000 seeded samples (--quick: 500), from one draw; "n/a" without images."""
    shape = getattr(getattr(model, "config", None), "data_shape", (1, 28, 28))
    if not hasattr(model, "sample") or tuple(shape) != (1, 28, 28) or isinstance(sample64_s, str):
        return "n/a", "n/a"
    if quick and sample64_s > 5.0:  # 500 samples would take over 40 s
        return "skipped in --quick (slow sampler)", "skipped"
    n = 500 if quick else FID_SAMPLES
    fid, recog = sample_quality(seeded_samples(model, n), recipe.dataset)
    if "course_fid" in metrics and not quick:
        fid = metrics["course_fid"]  # the sidecar's, re-checked by the tests
    suffix = " (500 samples)" if quick else ""
    return f"{fid}{suffix}", f"{100 * recog.share:.1f}% ({recog.classes_present}/{recog.num_classes})"


def _is_application(recipe) -> bool:
    return recipe.family.startswith("application")


def _application_row(name: str, model, metrics: dict, source: str, train_s, started: float) -> dict:
    """Notebook 07's models are judged by their task: every metric of the sidecar, not NLL or sample FID."""
    recipe = RECIPES[name]
    shown = ", ".join(f"{k} {v}" for k, v in metrics.items() if not k.startswith(("copy_", "real_")))
    return {"model": name, "task": recipe.family.removeprefix("application: "), "source": source,
            "metrics (2,000 test pairs; video: 500 test sequences)": shown,
            "parameters": sum(p.numel() for p in model.parameters()),
            "train (s)": "" if train_s is None else round(train_s, 1),
            "benchmark (s)": round(time.perf_counter() - started, 1)}


def _row(name: str, quick: bool) -> dict:
    started = time.perf_counter()
    recipe = RECIPES[name]
    if name in available_checkpoints():
        model, source = load_pretrained(name), "checkpoint"
        train_s = read_sidecar(name).get("train_seconds")
    else:
        model, _, train_s = recipe.run()
        source = "trained now"
    if quick and source == "checkpoint":  # the sidecar's metrics; `evaluate NAME` / the tests re-check them
        metrics = read_sidecar(name)["metrics"]
    else:
        metrics = recipe.evaluate(model)
    if _is_application(recipe):
        return _application_row(name, model, metrics, source, train_s, started)
    sample64 = _timed_sampling(model, 64, quick)
    fid, recog = _sample_quality(model, recipe, metrics, sample64, quick)
    return {
        "model": name, "family": recipe.family, "source": source,
        "test NLL (nats)": _nll_column(metrics, recipe.family),
        "bits/dim": metrics.get("test_bits_per_dim", "none"),
        "headline metric": _headline(recipe, metrics),
        "course FID (2,000 samples)": fid,
        "recognisable (classes)": recog,
        "sample 64 (s)": sample64,
        "parameters": sum(p.numel() for p in model.parameters()),
        "train (s)": "" if train_s is None else round(train_s, 1),
        "benchmark (s)": round(time.perf_counter() - started, 1),
    }


def _markdown(rows: list[dict]) -> str:
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


SECTIONS = {
    "mnist": ("MNIST (the course's split)",
              "Test split: images 8,000-9,999 of the first 10,000 MNIST training images; for NLLs binarized once with "
              "a fixed seed. Models trained on images 0-7,999."),
    "applications": ("Notebook 07's applications (MNIST, the course's split)",
                     "Image-to-image translation (sketch -> digit) and x4 super-resolution on the 2,000 test pairs: "
                     "PSNR (distortion), course FID against the test digits and the classifier's accuracy on the "
                     "outputs (perception), sharpness (edge strength, mid-grey share); next-frame prediction on 500 "
                     "seeded test sequences of moving digits: per-step MSE and sharpness (real frames: "
                     "`real_sharpness`). Bicubic x4 upscaling: see notebook 07."),
    "fashion": ("Fashion-MNIST (official split)",
                "Trained on the official 60,000 training images; NLLs on the 10,000 official test images binarized "
                "once with a fixed seed; course FID with the `fashion_features` classifier."),
}


def run_benchmark(quick: bool = False, output: str | None = "BENCHMARKS.md", names: list[str] | None = None) -> list[dict]:
    """Measure every recipe (or `names`), print one Markdown table per dataset, write them to `output` (None: print only).

    The command line writes BENCHMARKS.md only for a full run; `--quick` prints unless given `--output`.
    """
    threads = set_threads()
    start = time.perf_counter()
    chosen = [n for n in RECIPES if names is None or n in names]
    rows, text = [], []
    for dataset, (title, note) in SECTIONS.items():
        section = []
        for n in chosen:
            recipe = RECIPES[n]
            wanted = _is_application(recipe) if dataset == "applications" else \
                (recipe.dataset == dataset and not _is_application(recipe))
            if wanted:
                section.append(_row(n, quick))
                print(f"{n}: measured in {section[-1]['benchmark (s)']} s", file=sys.stderr, flush=True)
        if not section:
            continue
        rows += section
        if dataset == "applications":
            text.append(f"## {title}\n\n{note}\n\n" + _markdown(section))
            continue
        floor = f"{real_fid_floor(dataset=dataset):.1f}"
        ceiling = recognisable(fid_reference(dataset), dataset)
        text.append(f"## {title}\n\n{note} Course FID of real training images (the floor): {floor}. Real test images: "
                    f"{100 * ceiling.share:.1f}% recognisable, {ceiling.classes_present}/{ceiling.num_classes} classes "
                    "(the ceiling).\n\n"
                    + _markdown(section))
    body = "\n\n".join(text)
    print(body)
    seconds = time.perf_counter() - start
    print(f"\nbenchmark took {seconds:.0f} s")
    if output:
        import torchvision

        cmd = "python -m course_utils benchmark" + (" --quick" if quick else "")
        header = (
            "# Benchmarks\n\n"
            f"Measured by `{cmd}` on {datetime.date.today().isoformat()} in {seconds:.0f} s: {platform.machine()}, "
            f"{os.cpu_count()} cores, {threads} torch threads, device cpu; Python {platform.python_version()}, "
            f"torch {torch.__version__}, torchvision {torchvision.__version__}.\n\n"
            "NLL in nats per image (exact for the autoregressive models, an IWAE estimate for VAEs, none for GANs). "
            "Course FID: Fréchet distance between a classifier's 128 (Fashion: 64) penultimate features of 2,000 seeded "
            "samples and of the first 2,000 test images (lower is better). Toy GANs: 2,500 samples; a sample within "
            "3 std of a mode is high quality. Recognisable: the share of the same samples that the dataset's classifier "
            "labels with confidence >= 0.9, and in brackets the classes among them (at least 10% of a fair share each: "
            "a mode count on images; the classifier is confident on some garbage too: uniform noise is 100% one class, "
            "so read the share with the class count and the FID). `--quick` reads metrics from the sidecars and uses "
            "500 samples.\n\n"
        )
        with open(output, "w") as f:
            f.write(header + body + "\n")
    return rows
