"""Catalogues of typical wrong answers, one module per exercise module of course_utils.exercises.

Each module defines MISTAKES: {exercise id: [Mistake(...), ...]} (at least 3 per exercise) and may define
ALSO_RIGHT: {exercise id: [zero-argument callables giving answers that must be accepted]}.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer: `make()` builds it (lazily); the check's message must contain `says`
    (case-insensitive), i.e. name the problem."""

    name: str
    make: Callable[[], object]
    says: str
