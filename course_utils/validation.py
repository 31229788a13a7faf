"""Input checks shared by the models: say what was expected, what came, and how to fix it."""

from __future__ import annotations

import torch

__all__ = ["check_tensor", "check_binary", "check_finite", "module_device"]


def module_device(module: torch.nn.Module) -> torch.device | None:
    """The device of a module's first parameter or buffer (None for a module without tensors)."""
    for t in module.parameters():
        return t.device
    for t in module.buffers():
        return t.device
    return None


def check_tensor(x, shape: tuple, name: str = "x", who: str = "model", device: torch.device | None = None) -> torch.Tensor:
    """x must be a float tensor whose trailing dims equal `shape` (None = any) after one batch dim.

    device: where the model's weights live; x must be there too (pass module_device(self)).
    """
    if not torch.is_tensor(x):
        raise TypeError(f"{who} expects {name} as a torch.Tensor of shape (N, {', '.join(map(str, shape))}), "
                        f"got {type(x).__name__}. Convert with torch.as_tensor(...).float().")
    want = "(N, " + ", ".join("*" if s is None else str(s) for s in shape) + ")"
    if x.dim() != len(shape) + 1 or any(s is not None and s != d for s, d in zip(shape, x.shape[1:])):
        hint = " Add a batch dimension with x.unsqueeze(0)." if x.dim() == len(shape) else ""
        raise ValueError(f"{who} expects {name} of shape {want}, got {tuple(x.shape)}.{hint}")
    if not x.is_floating_point():
        raise TypeError(f"{who} expects {name} as a float tensor, got dtype {x.dtype}. Use {name}.float().")
    if device is not None and x.device != device:
        raise ValueError(f"{who} has its weights on {device} but got {name} on {x.device}. Move the data with "
                         f"{name}.to({str(device)!r}) (or the model with model.to({name}.device)).")
    return x


def check_finite(x: torch.Tensor, name: str = "x", who: str = "model") -> torch.Tensor:
    if not torch.isfinite(x).all():
        raise ValueError(f"{who} got {name} with NaN or inf values; clean the data (torch.nan_to_num) first.")
    return x


def check_binary(x: torch.Tensor, name: str = "x", who: str = "model") -> torch.Tensor:
    """Values must be exactly 0 or 1 (binarized images)."""
    if not ((x == 0) | (x == 1)).all():
        lo, hi = x.min().item(), x.max().item()
        raise ValueError(f"{who} models binary pixels and expects {name} with values in {{0, 1}}, got values in "
                         f"[{lo:.3g}, {hi:.3g}]. Binarize grey levels first: dynamic_binarize(x) for training, "
                         "binarized_mnist_test() for the test set.")
    return x
