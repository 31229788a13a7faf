"""Notebook 05 on a busy machine: two processes burn both cores while it runs from a fresh kernel.

It must pass, finish within 2x the time of an unloaded run, and print the same numbers in its cells tagged
`reproducible` (its live training runs have step budgets; their wall-clock caps only matter on a far busier
machine). The unloaded run is the parallel `pytest` run's own nbval run of the notebook when COURSE_TIMINGS names
the file where tests/conftest.py recorded its cells' seconds (each xdist worker has a core of its own, one torch
thread each); the printed numbers are then compared with the committed outputs, which were made on the same
machine. Without that file, the test runs the notebook alone first and compares the two runs.
Not part of the parallel `pytest` run, where the other worker's load would blur the measurement: CI runs it
alone, `python -m pytest -n 0 -m under_load` (.ci/run).
"""

import json
import os
import subprocess
import sys
import time

import nbformat
import pytest
from test_reproducibility import NOTEBOOK_DIR, TAG, _printed, _run

NOTEBOOK = NOTEBOOK_DIR / "05_gans.ipynb"
BURN = "import time\nend = time.time() + 900\nwhile time.time() < end: pass\n"


def _timed_run():
    start = time.perf_counter()
    printed = _run(NOTEBOOK)
    return time.perf_counter() - start, printed


@pytest.mark.slow
@pytest.mark.under_load
def test_the_gan_notebook_under_two_cpu_burners(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)  # threads as a student gets them (setup_notebook)
    timings = os.environ.get("COURSE_TIMINGS")
    recorded = json.loads(open(timings).read()) if timings and os.path.isfile(timings) else {}
    key = f"{NOTEBOOK.parent.name}/{NOTEBOOK.name}"  # as tests/conftest.py records it
    if key in recorded:
        quiet_seconds = recorded[key]
        committed = nbformat.read(NOTEBOOK, as_version=4)
        quiet = [_printed(c) for c in committed.cells if TAG in c.metadata.get("tags", [])]
    else:
        quiet_seconds, quiet = _timed_run()
    burners = [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(os.cpu_count() or 2)]
    try:
        time.sleep(1.0)
        busy_seconds, busy = _timed_run()
    finally:
        for p in burners:
            p.kill()
            p.wait()
    print(f"notebook 05: {quiet_seconds:.0f} s alone, {busy_seconds:.0f} s beside {len(burners)} CPU burners "
          f"({busy_seconds / quiet_seconds:.2f}x)")
    assert len(quiet) >= 3, f"only {len(quiet)} cells of {NOTEBOOK.name} are tagged {TAG!r}"
    for i, (a, b) in enumerate(zip(quiet, busy)):
        assert a == b, f"tagged cell {i} printed differently under load:\n--- alone\n{a}\n--- busy\n{b}"
    assert busy_seconds <= 2 * quiet_seconds, (
        f"notebook 05 took {busy_seconds:.0f} s under load, more than 2x its {quiet_seconds:.0f} s alone")
