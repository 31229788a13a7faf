"""Exercises of the course: one module per notebook holds the references and the checks.

    from course_utils.exercises import check
    check("2.1", hidden_mask)        # prints ✅ / ❌ / ⏳ and returns a CheckResult

`solution("2.1")` shows the model answer on request; `exercises_of("02_tractable_density")` lists a
notebook's exercises (minutes, points); the grader (`python -m course_utils grade`) reads the checks'
verdicts from the file named by COURSE_GRADE_LOG.
"""

from __future__ import annotations

import importlib

from .registry import EXERCISES, Exercise, NotAnswered, Wrong, check, exercise, exercises_of, solution

__all__ = ["check", "solution", "exercises_of", "EXERCISES", "Exercise", "Wrong", "NotAnswered", "exercise",
           "MODULES", "load_all"]

# One module per notebook (05 and 05b share `gans`).
MODULES = ["start_here", "maximum_likelihood", "tractable_density", "autoencoders", "variational_autoencoders",
           "gans", "model_comparison", "applications"]


def load_all() -> None:
    """Import every exercise module (each registers its exercises); cheap after the first call."""
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")
