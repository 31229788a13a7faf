"""What an exercise check returns: a verdict (Status) and one line for the student (CheckResult).

The checks themselves live in course_utils/exercises/ (one module per notebook, out of the student's sight);
a notebook calls `course_utils.exercises.check("2.1", answer)`, which prints the line and returns the result.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Status", "CheckResult", "is_unanswered"]


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
    """The blank a student has not filled yet: `...` (or None)."""
    return answer is None or answer is Ellipsis
