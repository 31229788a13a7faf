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


def _run_order(nodeid: str) -> int:
    """Where an item's group starts: the instructor notebooks first, then the browser tests, then the student
    notebooks, then the unit tests (each group in collection order)."""
    if nodeid.startswith("notebooks/"):
        return 0
    if nodeid.startswith("tests/test_browser.py"):
        return 1
    if nodeid.startswith("student/"):
        return 2
    return 3


def pytest_collection_modifyitems(items):
    """The longest groups first, so that pytest-xdist's two workers finish together.

    With `--dist loadscope` a worker takes a whole notebook (or test module) at a time, in collection order
    (pyproject's addopts turn off xdist's own reordering by test count, which left the 7-minute notebook 02 and
    the 5-minute browser module to start late). Started first, the long groups leave the short unit-test modules
    to fill the gaps. Replayed on the junit timings of three CI runs, two workers finish after 1,259 / 1,402 /
    1,299 s instead of 1,329 / 1,500 / 1,364 s, within 0.6 % of the best possible split.
    """
    items.sort(key=lambda item: _run_order(item.nodeid))  # stable: each group keeps its order
