"""The exercise registry: each exercise's check lives here, out of the student's sight.

A notebook calls only `check("2.1", answer)`. The exercise's checker (a function in
`course_utils/exercises/<notebook>.py`, registered with `@exercise`) runs properties that wrong
answers break and raises `Wrong("what is wrong")`. Messages name the problem (shape, a failing
property, the test case, the student's value) and never the expected value; the exercise's hint is
printed only after a wrong answer and never contains the answer.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from ..checks import CheckResult, Status, is_unanswered

__all__ = ["Exercise", "Wrong", "NotAnswered", "exercise", "check", "EXERCISES", "exercises_of", "solution",
           "GRADE_LOG_ENV"]

GRADE_LOG_ENV = "COURSE_GRADE_LOG"  # when set, every check appends one JSON line to this file (the grader reads it)


class Wrong(Exception):
    """The answer is wrong; the message says what is wrong without giving the right answer."""


class NotAnswered(Exception):  # noqa: N818 (a verdict, not an error)
    """The student has not answered yet (e.g. their function still raises NotImplementedError)."""


@dataclass(frozen=True)
class Exercise:
    """One exercise: where it is, how long it takes, what it is worth and how it is checked.

    checker(answer) returns a short success message or raises Wrong / NotAnswered.
    reference: the model answer (a function, or a zero-argument callable returning the value); shown
    only on request by `solution(id)` and used by the tests.
    """

    id: str
    title: str
    notebook: str  # the notebook's stem, e.g. "02_tractable_density"
    minutes: int
    points: int
    checker: Callable = field(repr=False)
    reference: Callable | None = field(default=None, repr=False)
    hint: str = ""
    lab: bool = False
    value: bool = False  # the answer is a value, not a function (reference() gives it)


EXERCISES: dict[str, Exercise] = {}


def exercise(id: str, title: str, *, notebook: str, minutes: int, points: int = 1, reference=None,
             hint: str = "", lab: bool = False, value: bool = False):
    """Register the decorated checker as exercise `id` (a string such as "2.1")."""

    def register(checker: Callable) -> Callable:
        if id in EXERCISES:
            raise ValueError(f"exercise {id!r} is registered twice ({EXERCISES[id].notebook} and {notebook}).")
        EXERCISES[id] = Exercise(id, title, notebook, minutes, points, checker, reference, hint, lab, value)
        return checker

    return register


def _get(exercise_id: str) -> Exercise:
    from . import load_all

    load_all()
    if exercise_id not in EXERCISES:
        known = ", ".join(sorted(EXERCISES, key=_order))
        raise KeyError(f"there is no exercise {exercise_id!r}: expected one of {known}. "
                       f"Check the number in the call check({exercise_id!r}, ...).")
    return EXERCISES[exercise_id]


def _order(exercise_id: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in exercise_id.replace("-", ".").split("."))


def exercises_of(notebook: str) -> list[Exercise]:
    """The exercises of one notebook (its stem or file name), in order."""
    from . import load_all

    load_all()
    stem = os.path.splitext(os.path.basename(notebook))[0]
    return sorted((e for e in EXERCISES.values() if e.notebook == stem), key=lambda e: _order(e.id))


def _verdict(ex: Exercise, answer) -> tuple[Status, str]:
    if is_unanswered(answer):
        return Status.NOT_ANSWERED, "replace the `...` with your answer and run the cell again."
    try:
        message = ex.checker(answer)
    except (NotAnswered, NotImplementedError) as err:
        return Status.NOT_ANSWERED, str(err) if isinstance(err, NotAnswered) and str(err) else (
            "replace `raise NotImplementedError` with your code and run the cell again.")
    except Wrong as err:
        hint = f" Hint: {ex.hint}" if ex.hint else ""
        return Status.WRONG, f"{err}{hint}"
    except Exception as err:  # the student's code failed inside the check: say how, do not raise
        return Status.WRONG, f"your answer raised {type(err).__name__}: {err}"
    return Status.CORRECT, message or "well done."


def check(exercise_id: str, answer) -> CheckResult:
    """Check the answer to exercise `exercise_id`; print one line and return the verdict (never raises for
    a wrong or missing answer)."""
    ex = _get(exercise_id)
    status, message = _verdict(ex, answer)
    result = CheckResult(f"Exercise {ex.id}", status, message)
    from .expect import say

    say(str(result))
    log = os.environ.get(GRADE_LOG_ENV)
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps({"exercise": ex.id, "status": status.name, "message": message}) + "\n")
    return result


def solution(exercise_id: str) -> None:
    """Show the model answer of an exercise (for after you have tried it)."""
    from ..source import show

    ex = _get(exercise_id)
    if ex.reference is None:
        from .expect import say

        say(f"Exercise {ex.id} has no shown solution: its check explains what it tests.")
        return
    show(ex.reference)
