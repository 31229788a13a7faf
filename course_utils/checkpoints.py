"""Save and load trained models: weights + a JSON sidecar that says how to reproduce them.

`data/checkpoints/NAME.pt` holds only tensors (a state_dict) and is loaded with
`torch.load(weights_only=True)`, which refuses pickles that would run code.
`data/checkpoints/NAME.json` holds the model's registry key (its class name, e.g. "MADE", see
`models.base.MODEL_REGISTRY`) and config (to rebuild it), its metrics, training time, library versions
and the exact command that made it. Naming the model by its key, not its module path, means a class
can move between modules without breaking its checkpoints; sidecars written before that (with a path
such as "course_utils.models.autoregressive.MADE") still load.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import pickle
import platform
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from .data import DATA_DIR, sha256_of_file
from .models import MODEL_REGISTRY
from .runtime import say

__all__ = ["CHECKPOINT_DIR", "CheckpointError", "save", "load_pretrained", "load_weights", "read_sidecar",
           "available_checkpoints", "load_or_train", "registry_key"]

CHECKPOINT_DIR = DATA_DIR / "checkpoints"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: unsafe, corrupt, or made for another model or config."""


def _config_dict(model: nn.Module) -> dict:
    cfg = getattr(model, "config", None)
    if cfg is None or not dataclasses.is_dataclass(cfg):
        raise TypeError(f"{type(model).__name__} has no dataclass `config`; course models keep one so they can be rebuilt.")
    return json.loads(json.dumps(dataclasses.asdict(cfg)))  # tuples -> lists, as in the sidecar


def _config_defaults(config_cls) -> dict:
    """The default of every field of a config class, as a sidecar stores it: a field added to the class after a
    checkpoint was made is missing from its sidecar, and the checkpoint was made with what is now its default."""
    out = {}
    for f in dataclasses.fields(config_cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return json.loads(json.dumps(out))


def _paths(name: str, root) -> tuple[Path, Path]:
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"checkpoint name must be a plain file stem such as 'vae_mnist', got {name!r}.")
    root = Path(root) if root is not None else CHECKPOINT_DIR
    return root / f"{name}.pt", root / f"{name}.json"


def save(model: nn.Module, name: str, *, metrics: dict, command: str, train_seconds: float | None = None,
         half: bool = False, root: str | Path | None = None) -> Path:
    """Write NAME.pt (weights; float16 if `half`) and NAME.json (sidecar); return the weights' path."""
    pt, js = _paths(name, root)
    pt.parent.mkdir(parents=True, exist_ok=True)
    state = {k: (v.detach().cpu().half() if half and v.is_floating_point() else v.detach().cpu())
             for k, v in model.state_dict().items()}
    torch.save(state, pt)
    import numpy
    import torchvision

    sidecar = {
        "name": name,
        "model": registry_key(type(model)),
        "config": _config_dict(model),
        "metrics": metrics,
        "train_seconds": None if train_seconds is None else round(float(train_seconds), 1),
        "command": command,
        "stored_as": "float16" if half else "float32",
        "parameters": sum(p.numel() for p in model.parameters()),
        "weights_sha256": sha256_of_file(pt),
        "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "torchvision": torchvision.__version__, "numpy": numpy.__version__},
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads",
    }
    js.write_text(json.dumps(sidecar, indent=2) + "\n")
    return pt


def read_sidecar(name: str, root: str | Path | None = None) -> dict:
    """The JSON sidecar of a checkpoint as a dict."""
    pt, js = _paths(name, root)
    if not js.is_file():
        have = ", ".join(available_checkpoints(root)) or "none"
        raise FileNotFoundError(
            f"no checkpoint named {name!r} in {js.parent} (available: {have}). "
            f"Create it with `python -m course_utils train {name}`."
        )
    return json.loads(js.read_text())


def _load_state(pt: Path, name: str) -> dict:
    if not pt.is_file():
        raise FileNotFoundError(f"checkpoint weights {pt} are missing (the sidecar exists). "
                                f"Re-create them with `python -m course_utils train {name}`.")
    try:
        state = torch.load(pt, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f"refused to load {pt}: it contains Python objects, not only tensors, and loading it could run code "
            f"(torch.load with weights_only=True said: {str(err).splitlines()[0]}). Course checkpoints hold only "
            f"tensors; re-create this one with `python -m course_utils train {name}`."
        ) from err
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise CheckpointError(f"{pt} is not a state_dict of tensors; re-create it with `python -m course_utils train {name}`.")
    return state


def registry_key(cls: type) -> str:
    """The key a sidecar stores for a model class: its class name, if the class is registered."""
    if MODEL_REGISTRY.get(cls.__name__) is not cls:
        raise TypeError(f"{cls.__qualname__} is not a registered course model: derive it from "
                        "course_utils.models.base.CourseModel and give it a Config.")
    return cls.__name__


def _sidecar_key(model: str) -> str:
    """The registry key of a sidecar's "model" entry; older sidecars hold a module path ("course_utils....MADE")."""
    if "." in model:
        if not model.startswith("course_utils."):
            raise CheckpointError(f"sidecar names model class {model!r}; only course_utils models are rebuilt.")
        return model.rpartition(".")[2]
    return model


def _model_class(model: str) -> type:
    key = _sidecar_key(model)
    if key not in MODEL_REGISTRY:
        raise CheckpointError(f"sidecar names model {model!r}, which this version of course_utils does not have "
                              f"(it has: {', '.join(sorted(MODEL_REGISTRY))}).")
    return MODEL_REGISTRY[key]


def load_weights(model: nn.Module, name: str, root: str | Path | None = None) -> nn.Module:
    """Load checkpoint NAME into an existing model, after checking that its config matches."""
    pt, _ = _paths(name, root)
    meta = read_sidecar(name, root)
    have = _config_dict(model)
    want = {**_config_defaults(type(model.config)), **meta["config"]}
    if _sidecar_key(meta["model"]) != type(model).__name__:
        raise CheckpointError(
            f"checkpoint {name!r} holds a {_sidecar_key(meta['model'])}, not a {type(model).__name__}. "
            f"Load it with load_pretrained({name!r}), which builds the right model."
        )
    diff = {k: (want.get(k), have.get(k)) for k in sorted(set(want) | set(have)) if want.get(k) != have.get(k)}
    if diff:
        details = "; ".join(f"{k}: checkpoint {a!r}, model {b!r}" for k, (a, b) in diff.items())
        raise CheckpointError(
            f"checkpoint {name!r} was made for a {_sidecar_key(meta['model'])} with another config ({details}). "
            f"Build the model with the checkpoint's config (load_pretrained({name!r}) does this), "
            f"or re-train it with `python -m course_utils train {name}`."
        )
    state = _load_state(pt, name)
    target = model.state_dict()
    state = {k: v.to(target[k].dtype) if k in target else v for k, v in state.items()}
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise CheckpointError(f"checkpoint {name!r} does not fit {type(model).__name__}: {err}") from err
    return model.eval()


def load_pretrained(name: str, root: str | Path | None = None, device: torch.device | str | None = None) -> nn.Module:
    """Rebuild the model from the sidecar's class and config, load its weights, return it in eval mode."""
    meta = read_sidecar(name, root)
    cls = _model_class(meta["model"])
    try:
        config = cls.Config(**meta["config"])
    except TypeError as err:  # a field this version does not know (or no longer has)
        raise CheckpointError(
            f"checkpoint {name!r} has a config this version of course_utils cannot build ({err}): it was made by "
            f"another version. Re-create it with `python -m course_utils train {name}`."
        ) from err
    model = cls(config)
    load_weights(model, name, root)
    return model.to(device) if device is not None else model


def available_checkpoints(root: str | Path | None = None) -> list[str]:
    """Names of the checkpoints (sidecars) in the checkpoint folder."""
    root = Path(root) if root is not None else CHECKPOINT_DIR
    return sorted(p.stem for p in root.glob("*.json")) if root.is_dir() else []


def load_or_train(name: str, train: Callable[[], nn.Module], root: str | Path | None = None) -> nn.Module:
    """The shipped checkpoint NAME if present; otherwise say so and train live with `train()`."""
    if name in available_checkpoints(root):
        return load_pretrained(name, root)
    say(f"Checkpoint {name!r} not found: training it now (the shipped one would load instantly; "
        f"`python -m course_utils train {name}` makes it).")
    return train()
