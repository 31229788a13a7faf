"""The grader: run notebooks in fresh kernels and score their exercises.

    python -m course_utils grade notebooks/02_tractable_density.ipynb student/*.ipynb

Each notebook runs top to bottom in a fresh kernel (a time limit per cell; a cell that fails does not
stop the run). Every `check(...)` the notebook calls appends its verdict to a log file (the environment
variable COURSE_GRADE_LOG, see course_utils.exercises.registry); an exercise scores its points when its
last verdict is "correct". An exercise whose check never ran (its cell or an earlier one failed) scores 0.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .exercises import exercises_of
from .exercises.registry import GRADE_LOG_ENV
from .tables import format_table

__all__ = ["Grade", "grade_notebook", "format_grades"]


@dataclass(frozen=True)
class Grade:
    notebook: str
    exercise: str
    points: int
    earned: int
    status: str  # correct / wrong / not answered yet / not run
    message: str


def _execute(path: Path, log: Path, cell_timeout: int) -> list[str]:
    """Run the notebook with the log file set; returns one line per cell that raised."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    old = os.environ.get(GRADE_LOG_ENV)
    os.environ[GRADE_LOG_ENV] = str(log)
    try:
        NotebookClient(nb, timeout=cell_timeout, allow_errors=True, kernel_name="python3",
                       extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no start-up warnings in the report
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        if old is None:
            os.environ.pop(GRADE_LOG_ENV, None)
        else:
            os.environ[GRADE_LOG_ENV] = old
    errors = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                errors.append(f"cell {i}: {out.get('ename')}: {out.get('evalue', '')[:120]}")
    return errors


def grade_notebook(path: str | Path, cell_timeout: int = 600) -> tuple[list[Grade], list[str]]:
    """(one Grade per exercise of the notebook, the cells that raised)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"grade: no notebook at {path}: give the path of an .ipynb file.")
    exercises = exercises_of(path.stem)
    if not exercises:
        raise ValueError(f"grade: {path.name} has no registered exercises (expected a course notebook NN_name.ipynb "
                         "or its student edition).")
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "checks.jsonl"
        errors = _execute(path, log, cell_timeout)
        verdicts = {}
        if log.exists():
            for line in log.read_text(encoding="utf-8").splitlines():
                entry = json.loads(line)
                verdicts[entry["exercise"]] = entry  # the last verdict counts
    grades = []
    for ex in exercises:
        v = verdicts.get(ex.id)
        status = {"CORRECT": "correct", "WRONG": "wrong", "NOT_ANSWERED": "not answered yet"}[v["status"]] \
            if v else "not run"
        message = v["message"] if v else "its check never ran (a cell before it failed)"
        grades.append(Grade(path.name, ex.id, ex.points, ex.points if status == "correct" else 0, status, message))
    return grades, errors


def format_grades(grades: list[Grade], width: int = 70) -> str:
    rows = [(g.notebook, g.exercise, f"{g.earned}/{g.points}", g.status,
             g.message if len(g.message) <= width else g.message[: width - 1] + "…") for g in grades]
    width_nb = max([len("notebook")] + [len(g.notebook) for g in grades])
    table = format_table(rows, [("notebook", f"<{width_nb}"), ("exercise", "<8"), ("points", ">6"),
                                ("status", "<16"), ("message", "<")], sep="  ")
    per_notebook = []
    for name in dict.fromkeys(g.notebook for g in grades):
        mine = [g for g in grades if g.notebook == name]
        per_notebook.append(f"{name}: {sum(g.earned for g in mine)}/{sum(g.points for g in mine)}")
    earned, total = sum(g.earned for g in grades), sum(g.points for g in grades)
    return "\n".join([table, *per_notebook, f"score: {earned}/{total}"])


def main(notebooks: list[str], cell_timeout: int = 600) -> int:
    """The `grade` command: exit code 0 whenever grading itself worked."""
    grades = []
    for nb in notebooks:
        start = time.perf_counter()
        got, errors = grade_notebook(nb, cell_timeout)
        grades += got
        print(f"{Path(nb).name}: ran in {time.perf_counter() - start:.0f} s"
              + (f"; {len(errors)} cell(s) raised: " + "; ".join(errors[:3]) if errors else ""))
    print(format_grades(grades))
    return 0
