"""Re-running a notebook from a fresh kernel on the same machine prints the same numbers.

Cells tagged `reproducible` print results of seeded training, sampling and evaluation (no timings). The notebook
is executed once in a new kernel with one torch thread, and the tagged cells' printed text must be identical to
the committed outputs, which come from a top-to-bottom run with one torch thread on the course's reference
machine (so the committed outputs are also checked to be current). On another machine, set
COURSE_REPRODUCE_TWICE=1 to compare two fresh runs with each other instead.
"""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
# 05 is checked the same way beside CPU burners (test_under_load.py).
CHECKED = ["01_maximum_likelihood.ipynb"]
TAG = "reproducible"


def _printed(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream" and out["name"] == "stdout":
            parts.append(out["text"])
        elif out["output_type"] in ("execute_result", "display_data") and "text/plain" in out.get("data", {}):
            if not any(k.startswith("image/") for k in out["data"]):  # figures' reprs carry memory addresses
                parts.append(out["data"]["text/plain"])
    return "".join(parts)


def _run(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK_DIR)}}).execute()
    return [_printed(c) for c in nb.cells if TAG in c.metadata.get("tags", [])]


def _committed(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [_printed(c) for c in nb.cells if TAG in c.metadata.get("tags", [])]


@pytest.mark.slow
@pytest.mark.parametrize("name", CHECKED)
def test_a_fresh_run_prints_the_same_numbers(name, monkeypatch):
    twice = os.environ.get("COURSE_REPRODUCE_TWICE") == "1"
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "2") if twice else "1")
    first = _run(NOTEBOOK_DIR / name) if twice else _committed(NOTEBOOK_DIR / name)
    second = _run(NOTEBOOK_DIR / name)
    what = "a second run" if twice else "a fresh run (one torch thread) than in the committed outputs"
    assert len(first) >= 3, f"{name}: only {len(first)} cells are tagged {TAG!r}"
    assert all(text.strip() for text in first), f"{name}: a cell tagged {TAG!r} printed nothing"
    for i, (a, b) in enumerate(zip(first, second)):
        assert a == b, f"{name}: tagged cell {i} printed differently on {what}:\n--- first\n{a}\n--- second\n{b}"
