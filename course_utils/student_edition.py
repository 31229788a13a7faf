"""Instructor notebooks -> student edition, with nbgrader's conventions.

In an instructor notebook an exercise is two cells:
- the answer cell: the solution between `### BEGIN SOLUTION` and `### END SOLUTION`;
- the check cell: `check("2.1", answer)` (course_utils.exercises).
`mark_exercise_cells` gives them nbgrader's cell metadata (solution cell; locked grade cell with the
exercise's points). `student_notebook` then clears the solutions with nbgrader's own ClearSolutions:
a solution inside a function becomes `raise NotImplementedError()`; a top-level answer
`answer_2_2 = <solution>` becomes `answer_2_2 = ...` (so every cell of the student edition runs and the
check says "not answered yet"). Markdown cells that are entirely solution are removed, and the outputs of
exercise cells are cleared; every other cell (text, figures) is kept as it is.
"""

from __future__ import annotations

import ast
import copy
import re
from pathlib import Path

import nbformat

__all__ = ["BEGIN", "END", "check_calls", "exercise_cells", "mark_exercise_cells", "student_notebook",
           "write_student_edition"]

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
ANSWER_STUB = "...  # YOUR ANSWER HERE"
_CHECK = re.compile(r"""\bcheck\(\s*["']([0-9A-Za-z.\-]+)["']""")
SCHEMA = 3


def check_calls(source: str) -> list[str]:
    """The exercise ids of the `check("...", ...)` calls in a cell's source."""
    return _CHECK.findall(source)


def _grade_id(kind: str, exercise_id: str, index: int | None = None) -> str:
    """nbgrader's grade ids allow letters, digits, _ and -: "answer-2_1-17"."""
    tail = f"-{index}" if index is not None else ""
    return f"{kind}-{exercise_id.replace('.', '_')}{tail}"


def _is_solution_cell(cell) -> bool:
    return BEGIN in cell.source


def mark_exercise_cells(nb) -> None:
    """Give solution and check cells nbgrader's metadata (in place; idempotent)."""
    from .exercises import EXERCISES, load_all

    load_all()
    for index, cell in enumerate(nb.cells):
        ids = check_calls(cell.source) if cell.cell_type == "code" else []
        if _is_solution_cell(cell):
            after = next((check_calls(c.source) for c in nb.cells[index:] if check_calls(c.source)), ["x"])
            kind = "answer" if cell.cell_type == "code" else "explanation"
            cell.metadata["nbgrader"] = {"grade": False, "grade_id": _grade_id(kind, after[0], index), "locked": False,
                                         "schema_version": SCHEMA, "solution": True, "task": False}
        elif ids:
            unknown = [i for i in ids if i not in EXERCISES]
            if unknown:
                raise ValueError(f"cell {index} checks unknown exercise(s) {unknown}: register them in "
                                 "course_utils/exercises/.")
            cell.metadata["nbgrader"] = {"grade": True, "grade_id": _grade_id("check", "-".join(ids)), "locked": True,
                                         "points": sum(EXERCISES[i].points for i in ids),
                                         "schema_version": SCHEMA, "solution": False, "task": False}
        else:
            cell.metadata.pop("nbgrader", None)


def _stub_top_level_answers(source: str) -> str:
    """Replace each unindented solution region that assigns names by `name = ...` (the student's blank)."""
    out, region = [], None
    for line in source.split("\n"):
        if line.startswith(BEGIN):
            region = []
        elif line.startswith(END) and region is not None:
            names = [t.id for node in ast.parse("\n".join(region)).body if isinstance(node, ast.Assign)
                     for t in node.targets if isinstance(t, ast.Name)]
            if not names:  # top-level code that is not an answer assignment: nbgrader's stub
                out += [BEGIN, *region, END]
            out += [f"{name} = {ANSWER_STUB}" for name in dict.fromkeys(names)]
            region = None
        elif region is not None:
            region.append(line)
        else:
            out.append(line)
    return "\n".join(out)


def student_notebook(nb):
    """A student edition of an instructor notebook (a new notebook; `nb` is not changed)."""
    from nbgrader.preprocessors import ClearSolutions

    nb = copy.deepcopy(nb)
    mark_exercise_cells(nb)
    for cell in nb.cells:
        if cell.cell_type == "code" and _is_solution_cell(cell):
            cell.source = _stub_top_level_answers(cell.source)
    clear = ClearSolutions()
    for index, cell in enumerate(nb.cells):  # nbgrader's stub where solution regions remain
        if _is_solution_cell(cell):
            clear.preprocess_cell(cell, {"language": "python"}, index)
    text_stub = clear.text_stub
    nb.cells = [c for c in nb.cells
                if not (c.cell_type == "markdown" and "nbgrader" in c.metadata and c.source.strip() == text_stub)]
    for cell in exercise_cells(nb):
        cell.outputs, cell.execution_count = [], None
    return nb


def _names(source: str, loads: bool) -> set[str]:
    """Top-level names a cell defines (loads=False) or every name it reads (loads=True)."""
    try:
        tree = ast.parse("\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))))
    except SyntaxError:
        return set()
    if loads:
        return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for target in targets for t in ast.walk(target) if isinstance(t, ast.Name)}
    return names


def exercise_cells(nb) -> list:
    """The code cells whose outputs show the instructor's answers: solution and check cells, and every later cell
    that uses a name they define (e.g. a lab's cell that trains with the student's function)."""
    cells = [c for c in nb.cells if c.cell_type == "code"]
    marked = [c for c in cells if "nbgrader" in c.metadata]
    answers = set().union(*(_names(c.source, loads=False) for c in marked)) if marked else set()
    first = cells.index(marked[0]) if marked else len(cells)
    return marked + [c for c in cells[first:] if c not in marked and _names(c.source, loads=True) & answers]


def write_student_edition(notebooks: list[Path], output: Path) -> list[Path]:
    """Write the student edition of each notebook into `output`; returns the written paths."""
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        target = output / Path(path).name
        nbformat.write(student_notebook(nb), target)
        written.append(target)
    return written
