"""Exercise self-checks: every notebook exercise ends with one of these.

A check never raises. It prints one line and returns a CheckResult:
- "not answered yet" while the answer is still `...`/None or the function raises NotImplementedError;
- "correct" when it matches the reference;
- what exactly is wrong otherwise (shape, dtype, value, with expected and received).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

__all__ = ["Status", "CheckResult", "check_value", "check_function", "is_unanswered"]


class Status(enum.Enum):
    NOT_ANSWERED = "not answered yet"
    CORRECT = "correct"
    WRONG = "wrong"


@dataclass(frozen=True)
class CheckResult:
    exercise: str
    status: Status
    message: str

    def __bool__(self) -> bool:
        return self.status is Status.CORRECT

    def __str__(self) -> str:
        mark = {Status.CORRECT: "✅", Status.WRONG: "❌", Status.NOT_ANSWERED: "⏳"}[self.status]
        return f"{mark} {self.exercise} — {self.status.value}: {self.message}"

    def _ipython_display_(self) -> None:
        """Show nothing when a notebook cell ends with a check: the check has already printed its verdict."""


def is_unanswered(answer) -> bool:
    return answer is None or answer is Ellipsis


def _report(exercise: str, status: Status, message: str) -> CheckResult:
    result = CheckResult(exercise, status, message)
    print(result)
    return result


def _compare(got, want, rtol: float, atol: float) -> str | None:
    """None if `got` matches `want`, else a sentence saying what differs."""
    want_t = torch.as_tensor(want, dtype=torch.float64)
    try:
        got_t = torch.as_tensor(got.detach() if torch.is_tensor(got) else got, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        return f"expected a number or tensor like {tuple(want_t.shape) or 'a scalar'}, got {type(got).__name__} ({got!r:.60})."
    if got_t.shape != want_t.shape and got_t.numel() == want_t.numel() == 1:
        got_t = got_t.reshape(want_t.shape)
    if got_t.shape != want_t.shape:
        return f"expected shape {tuple(want_t.shape)}, got shape {tuple(got_t.shape)}."
    if not torch.isfinite(got_t).all():
        return "your answer contains NaN or inf."
    close = torch.isclose(got_t, want_t, rtol=rtol, atol=atol)
    if bool(close.all()):
        return None
    i = int((~close).flatten().nonzero()[0])
    g, w = got_t.flatten()[i].item(), want_t.flatten()[i].item()
    where = f" at index {tuple(int(j) for j in torch.unravel_index(torch.tensor(i), want_t.shape))}" if want_t.dim() else ""
    return f"expected {w:.6g}{where}, got {g:.6g} (tolerance rtol={rtol:g}, atol={atol:g})."


def check_value(exercise: str, answer, expected, rtol: float = 1e-4, atol: float = 1e-6, hint: str = "") -> CheckResult:
    """Compare a numeric answer (number, list, array or tensor) with the expected value."""
    if is_unanswered(answer):
        return _report(exercise, Status.NOT_ANSWERED, "replace the `...` with your answer and run the cell again.")
    problem = _compare(answer, expected, rtol, atol)
    if problem is None:
        return _report(exercise, Status.CORRECT, "well done.")
    return _report(exercise, Status.WRONG, problem + (f" Hint: {hint}" if hint else ""))


def check_function(exercise: str, fn: Callable | None, reference: Callable, cases: Sequence[tuple],
                   rtol: float = 1e-4, atol: float = 1e-6, hint: str = "") -> CheckResult:
    """Call the student's `fn` and the `reference` on each tuple of arguments in `cases` and compare."""
    if is_unanswered(fn):
        return _report(exercise, Status.NOT_ANSWERED, "define the function and run the cell again.")
    if not callable(fn):
        return _report(exercise, Status.WRONG, f"expected a function, got {type(fn).__name__}.")
    for n, args in enumerate(cases, 1):
        try:
            got = fn(*args)
        except NotImplementedError:
            return _report(exercise, Status.NOT_ANSWERED, "replace `raise NotImplementedError` with your code.")
        except Exception as err:  # the student's code failed: say how, do not raise
            return _report(exercise, Status.WRONG, f"on test case {n} your function raised {type(err).__name__}: {err}")
        problem = _compare(got, reference(*args), rtol, atol)
        if problem is not None:
            return _report(exercise, Status.WRONG, f"on test case {n}: {problem}" + (f" Hint: {hint}" if hint else ""))
    return _report(exercise, Status.CORRECT, f"correct on all {len(cases)} test cases.")
