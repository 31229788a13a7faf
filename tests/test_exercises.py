"""Every exercise: its reference passes, a blank is "not answered", and each typical wrong answer fails
with a message that names the problem and does not give the expected value.

The wrong-answer catalogues are in tests/exercise_mistakes/ (one module per exercise module)."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest
import torch

from course_utils.checks import Status
from course_utils.exercises import EXERCISES, MODULES, check, load_all
from course_utils.student_edition import check_calls

load_all()
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CATALOGUE = {}
ALSO_RIGHT = {}
for _name in MODULES:
    _mod = importlib.import_module(f"tests.exercise_mistakes.{_name}")
    CATALOGUE.update(_mod.MISTAKES)
    ALSO_RIGHT.update(getattr(_mod, "ALSO_RIGHT", {}))

IDS = sorted(EXERCISES)
MISTAKE_CASES = [(ex_id, m) for ex_id in IDS for m in CATALOGUE.get(ex_id, [])]


def _right_answer(ex):
    return ex.reference() if ex.value else ex.reference


def _quiet_check(ex_id, answer, capsys):
    result = check(ex_id, answer)
    capsys.readouterr()
    return result


def test_every_notebook_module_is_registered():
    notebooks = {e.notebook for e in EXERCISES.values()}
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]*_*.ipynb")):
        assert path.stem in notebooks, f"{path.name} has no registered exercises"


@pytest.mark.parametrize("stem", sorted(p.stem for p in NOTEBOOKS.glob("0[1-6]_*.ipynb")))
def test_each_lecture_notebook_has_four_exercises_a_lab_and_two_long_ones(stem):
    exercises = [e for e in EXERCISES.values() if e.notebook == stem]
    assert len(exercises) >= 4, f"{stem}: {len(exercises)} exercises, want at least 4"
    assert any(e.lab for e in exercises), f"{stem}: no lab"
    assert sum(e.minutes >= 10 for e in exercises) >= 2, f"{stem}: fewer than two exercises of 10 minutes or more"


@pytest.mark.parametrize("ex_id", IDS)
def test_catalogue_has_three_wrong_answers(ex_id):
    assert len(CATALOGUE.get(ex_id, [])) >= 3, f"exercise {ex_id}: fewer than 3 wrong answers in the catalogue"


@pytest.mark.parametrize("ex_id", IDS)
def test_reference_passes(ex_id, capsys):
    ex = EXERCISES[ex_id]
    assert ex.reference is not None, f"exercise {ex_id} has no reference"
    result = _quiet_check(ex_id, _right_answer(ex), capsys)
    assert result.status is Status.CORRECT, result.message


@pytest.mark.parametrize("ex_id", [i for i in IDS if ALSO_RIGHT.get(i)])
def test_other_right_answers_pass(ex_id, capsys):
    for make in ALSO_RIGHT[ex_id]:
        result = _quiet_check(ex_id, make(), capsys)
        assert result.status is Status.CORRECT, result.message


@pytest.mark.parametrize("ex_id", IDS)
def test_blank_is_not_answered(ex_id, capsys):
    assert _quiet_check(ex_id, ..., capsys).status is Status.NOT_ANSWERED

    def unfinished(*args, **kwargs):
        raise NotImplementedError()

    if not EXERCISES[ex_id].value:
        result = _quiet_check(ex_id, unfinished, capsys)
        assert result.status is Status.NOT_ANSWERED, result.message


def _printed_values(value) -> list[str]:
    """How an expected number would appear in a message (3-6 significant figures)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value in (0, 1):
        return []
    shown = [f"{value:.{k}g}" for k in range(3, 7)]
    return shown + ([f"{value:,.1f}", f"{value:,}"] if abs(value) >= 100 else [])


def _without_own_value(message: str, answer) -> str:
    """The message without the student's own value (echoing it gives nothing away)."""
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return message.replace(str(answer), "")
    for text in sorted({str(answer), f"{value:g}", f"{abs(value):g}", f"{value:.4g}", f"{value:,.0f}"}, key=len,
                       reverse=True):
        message = message.replace(text, "")
    return message


@pytest.mark.parametrize(("ex_id", "mistake"), MISTAKE_CASES, ids=[f"{i}-{m.name}" for i, m in MISTAKE_CASES])
def test_wrong_answer_fails_and_names_the_problem(ex_id, mistake, capsys):
    torch.manual_seed(0)
    answer = mistake.make()
    result = _quiet_check(ex_id, answer, capsys)
    assert result.status is Status.WRONG, f"{ex_id}, {mistake.name}: {result}"
    assert mistake.says.lower() in result.message.lower(), f"{ex_id}, {mistake.name}: {result.message}"
    ex = EXERCISES[ex_id]
    if ex.value:
        message = _without_own_value(result.message, answer)
        for shown in _printed_values(ex.reference()):
            assert not re.search(rf"(?<![\d.]){re.escape(shown)}(?!\d|\.\d)", message), \
                f"{ex_id}: the message gives away the expected value {shown}: {result.message}"


def test_hints_do_not_contain_reference_values():
    for ex in EXERCISES.values():
        if ex.value and ex.hint:
            for shown in _printed_values(ex.reference()):
                assert shown not in ex.hint, f"exercise {ex.id}'s hint gives away {shown}"


def _code_cells(path):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("[0-9][0-9]*_*.ipynb")), ids=lambda p: p.stem)
def test_notebook_checks_exactly_its_registered_exercises(path):
    sources = ["".join(c["source"]) for c in _code_cells(path)]
    called = [i for s in sources for i in check_calls(s)]
    registered = sorted(e.id for e in EXERCISES.values() if e.notebook == path.stem)
    assert sorted(set(called)) == registered, f"{path.name} checks {sorted(set(called))}, registered {registered}"
    for s in sources:
        assert "check_value(" not in s and "check_function(" not in s, \
            f"{path.name}: a cell still passes a reference to check_value/check_function:\n{s}"
