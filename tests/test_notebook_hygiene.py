"""Every committed notebook is the product as students and instructors see it: check its file, not its kernel.

Executed top to bottom (execution counts 1..n), no error outputs, under 3 MB, slideshow metadata on every cell,
at least three exercises with self-checks, and every `show(...)` listing equal to the package's current source.
(nbval runs the cells; this checks what was committed.)
"""

import ast
import importlib
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}
CHECK_CALL = re.compile(r"\bcheck\(\s*\"(\d+\.\d+)")  # course_utils.exercises.check("2.1", answer)


def _load(path):
    return nbformat.read(path, as_version=4)  # sources as strings


def _code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def test_the_course_has_its_notebooks():
    # 00, 01, ... without gaps; a letter after the number marks an appendix notebook (05b follows 05)
    numbers = sorted({int(p.name[:2]) for p in NOTEBOOKS})
    assert numbers == list(range(len(numbers))) and len(numbers) >= 7, [p.name for p in NOTEBOOKS]
    assert all(re.fullmatch(r"\d\d[a-z]?_[a-z0-9_]+\.ipynb", p.name) for p in NOTEBOOKS), [p.name for p in NOTEBOOKS]


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
    checked = {f"Exercise {m}" for c in _code_cells(nb) for m in CHECK_CALL.findall(c["source"])}
    assert len(checked) >= 3, f"{path.name}: exercises with a check(...) self-check: {sorted(checked)}."
    prefix = f"Exercise {int(path.name[:2])}."
    assert all(e.startswith(prefix) for e in checked), f"{path.name}: exercises {sorted(checked)} not numbered {prefix}N."
    stated = {m for c in nb["cells"] if c["cell_type"] == "markdown" for m in re.findall(r"Exercise \d+\.\d+", c["source"])}
    assert checked <= stated, f"{path.name}: checks {sorted(checked - stated)} have no exercise text in a markdown cell."


def _show_calls(source: str) -> int:
    """How many times a cell calls `show(...)` (the package's source display)."""
    tree = ast.parse("\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))))
    return sum(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "show" for n in ast.walk(tree))


def _resolve(dotted: str):
    """The object named "package.module.Class.method" (import the longest module prefix, then getattr)."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(dotted)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_show_output_is_the_current_source(path):
    """Each `show(obj)` in a cell left one listing, and it is today's source of obj: stale or missing listings fail."""
    from course_utils.source import SHOW_METADATA_KEY, source_of

    for index, cell in enumerate(_code_cells(_load(path))):
        listings = [o for o in cell["outputs"] if SHOW_METADATA_KEY in o.get("metadata", {})]
        calls = _show_calls(cell["source"])
        assert len(listings) == calls, (f"{path.name}, code cell {index + 1}: {calls} show() calls but {len(listings)} "
                                        "source listings were committed; re-run the notebook.")
        for output in listings:
            meta = output["metadata"][SHOW_METADATA_KEY]
            current = source_of(_resolve(meta["object"]), meta["start"])
            assert output["data"]["text/plain"] == current, (
                f"{path.name}, code cell {index + 1}: the listing of {meta['object']} is out of date; re-run the notebook.")


# ---------------------------------------------------------------- readable on a projected slide (issue 17)

MAX_CODE_LINE = 80  # characters: a code line wider than this runs off the slide (ruff checks it too: .ci/run)
MAX_SLIDE_CELL = 15  # lines of a code cell shown on a slide
HIDE_INPUT = "hide-input"


def _on_a_slide(cell) -> bool:
    return cell["metadata"].get("slideshow", {}).get("slide_type") not in ("skip", "notes")


def _hidden(cell) -> bool:
    return HIDE_INPUT in cell["metadata"].get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_lines_fit_a_slide(path):
    long = [(index + 1, n + 1, len(line)) for index, cell in enumerate(_code_cells(_load(path)))
            for n, line in enumerate(cell["source"].splitlines()) if len(line) > MAX_CODE_LINE]
    assert not long, (f"{path.name}: (code cell, line, length) {long} are longer than {MAX_CODE_LINE} characters; "
                      "rewrap them (`ruff check --select E501 --line-length 80 notebooks` lists them).")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_on_a_slide_is_short_or_hidden(path):
    """A code cell on a slide has at most 15 lines, unless it is scaffolding hidden with the `hide-input` tag
    (the exported deck shows only its output) and `metadata.jupyter.source_hidden` (JupyterLab and RISE collapse
    it)."""
    long = [(index + 1, len(cell["source"].splitlines())) for index, cell in enumerate(_code_cells(_load(path)))
            if _on_a_slide(cell) and not _hidden(cell) and len(cell["source"].splitlines()) > MAX_SLIDE_CELL]
    assert not long, (f"{path.name}: code cells (number, lines) {long} show more than {MAX_SLIDE_CELL} lines on a "
                      "slide: move scaffolding into course_utils.plotting, or tag pure scaffolding hide-input.")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_hidden_inputs_are_hidden_everywhere(path):
    cells = _code_cells(_load(path))
    half = [index + 1 for index, cell in enumerate(cells)
            if _hidden(cell) != bool(cell["metadata"].get("jupyter", {}).get("source_hidden"))]
    assert not half, (f"{path.name}: code cells {half} need both the `{HIDE_INPUT}` tag (exported decks) and "
                      "metadata.jupyter.source_hidden = true (JupyterLab, RISE), or neither.")
    assert sum(map(_hidden, cells)) <= len(cells) // 3, f"{path.name}: most code should stay visible"


def _png_size(data: str) -> tuple[int, int, float | None]:
    """(width, height, dpi) of a base64 PNG: the IHDR size and the pHYs resolution matplotlib writes."""
    import base64
    import struct

    png = base64.b64decode(data)
    width, height = struct.unpack(">II", png[16:24])
    at = png.find(b"pHYs")
    dpi = struct.unpack(">I", png[at + 4:at + 8])[0] * 0.0254 if at > 0 else None
    return width, height, dpi


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_figures_are_presenting_size(path):
    """Figures were made with the course style (>= 110 dpi) and are no wider than the slide allows for its
    fonts to show >= 14 pt on a 1280-px screen (course_utils.plotting.MAX_FIGURE_PX); re-run the notebook after
    changing the style or a figure's size."""
    from course_utils.plotting import DPI, MAX_FIGURE_PX

    figures = [(index + 1, *_png_size(output["data"]["image/png"]))
               for index, cell in enumerate(_code_cells(_load(path))) for output in cell["outputs"]
               if "image/png" in output.get("data", {})]
    low = [(cell, dpi and round(dpi)) for cell, _, _, dpi in figures if dpi is None or round(dpi) < DPI]
    assert not low, f"{path.name}: figures (code cell, dpi) {low} were saved below {DPI} dpi; re-run the notebook."
    wide = [(cell, width) for cell, width, _, _ in figures if width > MAX_FIGURE_PX]
    assert not wide, (f"{path.name}: figures (code cell, width px) {wide} are wider than {MAX_FIGURE_PX} px: the "
                      "deck shrinks them and their text below 14 pt; give them a smaller figsize.")
