import os
import time

import pytest
import torch

# Under pytest-xdist two workers share the cores: every notebook kernel they start inherits OMP_NUM_THREADS=1
# (two processes with two threads each on two cores run many times slower than with one each; measured).
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")
# Unit tests run single-threaded: predictable speed when a notebook kernel runs beside them.
torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


_SESSION_START = time.time()


def pytest_terminal_summary(terminalreporter):
    """Say where the browser tests left their screenshots (pytest hides a passing test's prints)."""
    try:
        from test_browser import SCREENSHOTS
    except Exception:  # e.g. CI without a browser: collection already reported it
        return
    taken = sorted(p.name for p in SCREENSHOTS.glob("*.png") if p.stat().st_mtime >= _SESSION_START) \
        if SCREENSHOTS.is_dir() else []
    if taken:
        terminalreporter.write_line(f"browser screenshots in {SCREENSHOTS}: {', '.join(taken)}")


# How long each notebook's cells took under nbval, for the load test that .ci/run starts afterwards (it compares
# notebook 05 beside CPU burners with this run instead of running it a second time alone). Only when
# COURSE_TIMINGS names a file; written by the controlling process (xdist forwards every report to it).
_NOTEBOOK_SECONDS: dict[str, float] = {}



def pytest_runtest_logreport(report):
    if report.when == "call" and ".ipynb::" in report.nodeid:
        name = report.nodeid.split("::")[0]  # e.g. notebooks/05_gans.ipynb (student/05_gans.ipynb is another)
        _NOTEBOOK_SECONDS[name] = _NOTEBOOK_SECONDS.get(name, 0.0) + report.duration


def pytest_sessionfinish(session):
    path = os.environ.get("COURSE_TIMINGS")
    if path and _NOTEBOOK_SECONDS and not os.environ.get("PYTEST_XDIST_WORKER"):
        import json

        with open(path, "w") as f:
            json.dump(_NOTEBOOK_SECONDS, f, indent=1)
