"""Environment check of notebook 00: versions, device, threads, datasets and checkpoints found."""

from __future__ import annotations

import importlib.metadata
import platform

import torch

from .checkpoints import CHECKPOINT_DIR, available_checkpoints, read_sidecar
from .data import DATA_DIR, DATA_FILES, DataFileError, _verified
from .runtime import device

__all__ = ["package_versions", "dataset_status", "checkpoint_status", "environment_report"]

PACKAGES = ("torch", "torchvision", "numpy", "matplotlib", "scikit-learn", "ipywidgets", "tqdm",
            "jupyterlab", "jupyterlab-rise", "nbval")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def dataset_status() -> list[dict]:
    """One row per data file: found, checksum OK or the error's first sentence."""
    rows = []
    for rel, sha in DATA_FILES.items():
        try:
            _verified(rel, str(DATA_DIR))
            status = "OK"
        except DataFileError as err:
            status = str(err).split(":")[0]
        rows.append({"file": rel, "sha256": sha[:12] + "…", "status": status})
    return rows


def checkpoint_status() -> list[dict]:
    rows = []
    for name in available_checkpoints():
        meta = read_sidecar(name)
        rows.append({"checkpoint": name, "metrics": meta.get("metrics", {}), "command": meta.get("command", "")})
    return rows


def environment_report() -> str:
    """A plain-text report of everything above (the notebook prints it)."""
    lines = [f"{k:16s} {v}" for k, v in package_versions().items()]
    lines.append(f"{'device':16s} {device()} (CUDA available: {torch.cuda.is_available()})")
    lines.append(f"{'torch threads':16s} {torch.get_num_threads()}")
    lines.append(f"\ndatasets in {DATA_DIR}:")
    lines += [f"  {r['status']:4s} {r['file']}  sha256 {r['sha256']}" for r in dataset_status()]
    ckpts = checkpoint_status()
    lines.append(f"\ncheckpoints in {CHECKPOINT_DIR}: {len(ckpts)}")
    lines += [f"  {r['checkpoint']:22s} {r['metrics']}" for r in ckpts]
    return "\n".join(lines)
