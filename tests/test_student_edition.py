"""The student edition (nbgrader's conventions) and the grader.

Without kernels: every instructor notebook's student edition has no solution left (each solution's distinctive
lines are searched for), keeps every other cell, clears the exercise cells' outputs, and marks solution and
check cells the way nbgrader does; student/ is the current edition. With kernels (slow): the grader gives
notebook 00 full marks, its untouched student edition 0, and a notebook with one wrong answer part marks.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_utils.exercises import EXERCISES
from course_utils.student_edition import BEGIN, END, check_calls, exercise_cells, student_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))


def _solution_lines(source: str) -> list[str]:
    """The distinctive lines inside BEGIN/END SOLUTION regions (not blank, not a bare `return x`-size line)."""
    lines, inside = [], False
    for line in source.splitlines():
        if BEGIN in line:
            inside = True
        elif END in line:
            inside = False
        elif inside and len(line.strip()) >= 12 and not line.strip().startswith("#"):
            lines.append(line.strip())
    return lines


@pytest.fixture(scope="module", params=NOTEBOOKS, ids=lambda p: p.stem)
def editions(request):
    nb = nbformat.read(request.param, as_version=4)
    return request.param, nb, student_notebook(nb)


def test_every_exercise_has_a_solution_cell_before_its_check(editions):
    path, nb, _ = editions
    for i, cell in enumerate(nb.cells):
        for ex_id in check_calls(cell.source) if cell.cell_type == "code" else []:
            before = [c for c in nb.cells[:i] if BEGIN in c.source]
            assert before, f"{path.name}: check({ex_id!r}) has no solution cell (### BEGIN SOLUTION) before it"


def test_the_student_edition_contains_no_solution(editions):
    path, nb, student = editions
    text = "\n".join(c.source for c in student.cells)
    assert BEGIN not in text and END not in text
    elsewhere = "\n".join(c.source for c in nb.cells if BEGIN not in c.source)
    solution = [line for c in nb.cells for line in _solution_lines(c.source) if line not in elsewhere]
    assert solution, f"{path.name} has no distinctive solution lines"
    leaked = [line for line in solution if line in text]
    assert not leaked, f"{path.name}: the student edition still contains solution lines {leaked[:3]}"


def test_the_student_edition_keeps_everything_else(editions):
    path, nb, student = editions
    kept = [c for c in nb.cells if BEGIN not in c.source]
    graded = [c for c in student.cells if c.metadata.get("nbgrader", {}).get("grade")]
    checking = [c for c in nb.cells if c.cell_type == "code" and check_calls(c.source)]
    assert len(graded) == len(checking), f"{path.name}: {len(graded)} grade cells for {len(checking)} check cells"
    by_id = {c.get("id"): c for c in student.cells}
    cleared = {c.get("id") for c in exercise_cells(student)}
    for cell in kept:
        twin = by_id[cell.get("id")]
        assert twin.source == cell.source, f"{path.name}: cell {cell.get('id')} changed"
        if cell.cell_type == "code":
            if twin.get("id") in cleared:
                assert twin.outputs == [], f"{path.name}: cell {cell.get('id')} uses an answer; its outputs stay"
            else:
                assert twin.outputs == cell.outputs, f"{path.name}: outputs of cell {cell.get('id')} changed"


def test_exercise_cells_are_marked_the_nbgrader_way(editions):
    path, _, student = editions
    for cell in student.cells:
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            continue
        assert re.fullmatch(r"[A-Za-z0-9_-]+", meta["grade_id"]), meta
        if meta["grade"]:
            ids = check_calls(cell.source)
            assert meta["locked"] and meta["points"] == sum(EXERCISES[i].points for i in ids)
        else:
            assert meta["solution"]
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_top_level_answers_become_blanks_and_function_bodies_raise():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(f"{BEGIN}\nanswer_0_1 = len(x)\n{END}"),
        nbformat.v4.new_code_cell("def f(x):\n    \"\"\"Doc.\"\"\"\n    " + BEGIN + "\n    return x + 1\n    " + END),
        nbformat.v4.new_code_cell('check("0.1", answer_0_1)'),
        nbformat.v4.new_markdown_cell(f"{BEGIN}\nThe answer is 2,000.\n{END}"),
    ])
    student = student_notebook(nb)
    assert student.cells[0].source == "answer_0_1 = ...  # YOUR ANSWER HERE"
    assert "raise NotImplementedError()" in student.cells[1].source and "x + 1" not in student.cells[1].source
    assert student.cells[2].metadata["nbgrader"]["points"] == EXERCISES["0.1"].points
    assert len(student.cells) == 3, "a markdown cell that was all solution is removed"
    assert "answer_0_1 = len(x)" in nb.cells[0].source, "the instructor notebook is not changed"


def test_student_folder_is_the_current_edition():
    folder = ROOT / "student"
    if not folder.is_dir():
        pytest.skip("no student/ folder: run `python -m course_utils student-edition` (.ci/run does)")
    for path in NOTEBOOKS:
        mine = folder / path.name
        assert mine.is_file(), f"student/{path.name} is missing: run `python -m course_utils student-edition`"
        want = student_notebook(nbformat.read(path, as_version=4))
        got = nbformat.read(mine, as_version=4)
        assert [c.source for c in got.cells] == [c.source for c in want.cells], \
            f"student/{path.name} is stale: run `python -m course_utils student-edition`"


def _grade(*paths: Path) -> str:
    run = subprocess.run([sys.executable, "-m", "course_utils", "grade", *map(str, paths)], cwd=ROOT,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


@pytest.mark.slow
def test_the_grader_gives_full_marks_zero_and_part_marks(tmp_path):
    instructor = ROOT / "notebooks" / "00_start_here.ipynb"
    nb = nbformat.read(instructor, as_version=4)
    total = sum(e.points for e in EXERCISES.values() if e.notebook == instructor.stem)
    (tmp_path / "student").mkdir()
    untouched = tmp_path / "student" / instructor.name
    nbformat.write(student_notebook(nb), untouched)
    partly = copy.deepcopy(nb)
    answer = next(c for c in partly.cells if "answer_0_3 =" in c.source and BEGIN in c.source)
    answer.source = "answer_0_3 = 784  # bits, not nats"
    (tmp_path / "partly").mkdir()
    partly_path = tmp_path / "partly" / instructor.name
    nbformat.write(partly, partly_path)

    out = _grade(instructor, untouched, partly_path)
    scores = re.findall(r"^(\S+)\s+0\.3\s+(\d+)/(\d+)\s+(\S+)", out, flags=re.M)
    assert len(scores) == 3, out
    assert [s[3] for s in scores] == ["correct", "not", "wrong"], out
    assert f"score: {2 * total - 1}/{3 * total}" in out, out
    assert "in bits" in out, "the grade table carries the check's message"
