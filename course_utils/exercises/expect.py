"""Small helpers for the exercise checkers: call the student's code, read its result, compare.

Every helper raises `Wrong` with a message that says what is wrong (type, shape, NaN, the student's
value, the test case) and never shows the expected value.
"""

from __future__ import annotations

import math

import torch

from ..runtime import WIDTH, say
from .registry import NotAnswered, Wrong

__all__ = ["call", "tensor", "number", "close", "same_to_figures", "require", "train_or_none", "say", "WIDTH"]


def require(condition: bool, message: str) -> None:
    """Raise Wrong(message) unless condition holds."""
    if not condition:
        raise Wrong(message)


def call(fn, *args, case: str = "", **kwargs):
    """Call the student's function; an unfinished one is 'not answered', a crash is 'wrong' (with the error)."""
    if not callable(fn):
        raise Wrong(f"expected a function, got {type(fn).__name__}.")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise NotAnswered("replace `raise NotImplementedError` with your code and run the cell again.") from None
    except Exception as err:
        where = f" on {case}" if case else ""
        raise Wrong(f"your function raised {type(err).__name__}{where}: {err}") from None


def tensor(got, what: str, shape: tuple | None = None, floating: bool = True) -> torch.Tensor:
    """`got` as a tensor, after checking its type, shape and that it is finite."""
    if not torch.is_tensor(got):
        raise Wrong(f"{what} should be a torch tensor, got {type(got).__name__}.")
    if shape is not None and tuple(got.shape) != tuple(shape):
        raise Wrong(f"{what} should have shape {tuple(shape)}, got {tuple(got.shape)}.")
    if floating and not got.is_floating_point():
        raise Wrong(f"{what} should be a floating-point tensor, got dtype {got.dtype}.")
    if got.is_floating_point() and not torch.isfinite(got).all():
        raise Wrong(f"{what} contains NaN or inf.")
    return got


def number(answer, what: str = "your answer") -> float:
    """The answer as a Python float (a number, a 0-d array or a one-element tensor)."""
    if isinstance(answer, (str, bytes)):
        raise Wrong(f"{what} should be a number, not the text {answer!r:.60}.")
    try:
        value = float(answer.item() if hasattr(answer, "item") else answer)
    except (TypeError, ValueError, RuntimeError):
        raise Wrong(f"{what} should be a number, got {type(answer).__name__} ({answer!r:.60}).") from None
    if not math.isfinite(value):
        raise Wrong(f"{what} is {value}: it should be a finite number.")
    return value


def same_to_figures(got: float, want: float, figures: int = 3) -> bool:
    """True if `got` agrees with `want` to `figures` significant figures (a hand calculation's precision)."""
    if want == 0:
        return abs(got) < 10.0 ** (-figures)
    scale = 10.0 ** (math.floor(math.log10(abs(want))) - figures + 1)
    return abs(got - want) <= 0.5 * scale * (1 + 1e-9) + 1e-12


def close(got: torch.Tensor, want: torch.Tensor, what: str, rtol: float = 1e-4, atol: float = 1e-6) -> None:
    """Raise Wrong naming the first wrong entry of `got` (with the student's value only)."""
    got64, want64 = got.detach().double(), want.detach().double()
    ok = torch.isclose(got64, want64, rtol=rtol, atol=atol)
    if bool(ok.all()):
        return
    i = int((~ok).flatten().nonzero()[0])
    where = ""
    if got64.dim():
        index = tuple(int(j) for j in torch.unravel_index(torch.tensor(i), got64.shape))
        where = f" at index {index if len(index) > 1 else index[0]}"
    raise Wrong(f"{what} is wrong{where}: you gave {got64.flatten()[i].item():.6g} "
                f"({int((~ok).sum())} of {ok.numel()} entries are off).")


def train_or_none(what: str, train, *args, **kwargs):
    """A lab's training run with the student's function `what`: its result, or None (and one line saying why)
    when the function is not answered yet or fails, so that the student edition's cells always run."""
    try:
        return train(*args, **kwargs)
    except NotImplementedError:
        say(f"{what} is not answered yet: nothing trained.")
    except Exception as err:
        say(f"your {what} raised {type(err).__name__} during training: {err}")
    return None
