"""Every committed notebook is the product as students and instructors see it: check its file, not its kernel.

Executed top to bottom (execution counts 1..n), no error outputs, under 3 MB, slideshow metadata on every cell,
at least three exercises with self-checks. (nbval runs the cells; this checks what was committed.)
"""

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}
CHECK_CALL = re.compile(r"check_(?:value|function)\(\s*\"(Exercise \d+\.\d+)")


def _load(path):
    return nbformat.read(path, as_version=4)  # sources as strings


def _code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def test_the_course_has_its_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(len(NOTEBOOKS))] and len(NOTEBOOKS) >= 7


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_top_to_bottom(path):
    counts = [c["execution_count"] for c in _code_cells(_load(path))]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts} are not 1..{len(counts)}; re-run it from a fresh kernel with "
        f"`jupyter nbconvert --to notebook --execute --inplace notebooks/{path.name}`.")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_error_outputs(path):
    errors = [(i, o.get("ename")) for i, c in enumerate(_load(path)["cells"]) if c["cell_type"] == "code"
              for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"{path.name}: cells (index, error) {errors} were committed with an error."


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_under_three_megabytes(path):
    size = path.stat().st_size
    assert size < 3_000_000, f"{path.name} is {size / 1e6:.2f} MB (limit 3 MB): use PNG figures and fewer of them."


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_slideshow_metadata(path):
    nb = _load(path)
    types = [c["metadata"].get("slideshow", {}).get("slide_type") for c in nb["cells"]]
    missing = [i for i, t in enumerate(types) if t not in SLIDE_TYPES]
    assert not missing, f"{path.name}: cells {missing} have no valid slideshow.slide_type (one of {sorted(SLIDE_TYPES)})."
    assert types[0] == "slide", f"{path.name}: the first cell must open a slide (the title), got {types[0]!r}."
    assert nb["cells"][0]["source"].lstrip().startswith("# "), f"{path.name}: the first cell must be the title."
    assert types.count("slide") >= 5, f"{path.name}: only {types.count('slide')} slides; one idea per slide."
    setup = next(c for c in nb["cells"] if c["cell_type"] == "code")
    assert setup["metadata"]["slideshow"]["slide_type"] == "skip", f"{path.name}: the set-up cell must be 'skip'."


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_at_least_three_exercises_with_checks(path):
    nb = _load(path)
    checked = {m for c in _code_cells(nb) for m in CHECK_CALL.findall(c["source"])}
    assert len(checked) >= 3, f"{path.name}: exercises with a check_value/check_function self-check: {sorted(checked)}."
    prefix = f"Exercise {int(path.name[:2])}."
    assert all(e.startswith(prefix) for e in checked), f"{path.name}: exercises {sorted(checked)} not numbered {prefix}N."
    stated = {m for c in nb["cells"] if c["cell_type"] == "markdown" for m in re.findall(r"Exercise \d+\.\d+", c["source"])}
    assert checked <= stated, f"{path.name}: checks {sorted(checked - stated)} have no exercise text in a markdown cell."
