"""Repository-wide pytest hooks (tests/conftest.py holds the unit tests' fixtures).

A hook here applies to every collected item, including the notebooks in notebooks/ and student/ (a conftest in
tests/ would only see tests/).
"""

import os

import pytest

# The student edition (student/, written by `python -m course_utils student-edition`) runs with every live
# training cell capped at a few seconds: its exercises are unanswered and its training cells must fall back to the
# shipped checkpoints, as on a slow or busy machine. The instructor notebooks train with their own budgets.
STUDENT_TRAIN_CAP_SECONDS = "2"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before a notebook's first cell starts its kernel, set the cap for student/ notebooks (kernels inherit it).

    Every other item clears it: an xdist worker runs unit tests after student notebooks, and a cap left in its
    environment would cut their training runs short (capped_seconds reads it in-process too)."""
    if item.nodeid.startswith("student/") and ".ipynb" in item.nodeid:
        os.environ["COURSE_MAX_TRAIN_SECONDS"] = STUDENT_TRAIN_CAP_SECONDS
    else:
        os.environ.pop("COURSE_MAX_TRAIN_SECONDS", None)
