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
