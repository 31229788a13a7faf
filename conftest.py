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
# ... and its sample-quality cells (notebook 06: FID and recognisable share of every model) draw 500 samples
# instead of 2,000: the same code and claims as the instructor notebook, which CI runs in full.
STUDENT_SAMPLE_CAP = "500"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before a notebook's first cell starts its kernel, set the caps for student/ notebooks (kernels inherit them).

    Every other item clears them: an xdist worker runs unit tests after student notebooks, and a cap left in its
    environment would cut their training runs short (capped_seconds reads it in-process too)."""
    if item.nodeid.startswith("student/") and ".ipynb" in item.nodeid:
        os.environ["COURSE_MAX_TRAIN_SECONDS"] = STUDENT_TRAIN_CAP_SECONDS
        os.environ["COURSE_MAX_SAMPLES"] = STUDENT_SAMPLE_CAP
    else:
        os.environ.pop("COURSE_MAX_TRAIN_SECONDS", None)
        os.environ.pop("COURSE_MAX_SAMPLES", None)
