"""`check(id, answer)`: never raises for a wrong or missing answer, names unknown exercises, logs for the grader."""

import json

import pytest

from course_utils.checks import Status
from course_utils.exercises import check, solution


def test_not_answered_never_raises(capsys):
    assert check("0.1", ...).status is Status.NOT_ANSWERED
    assert check("0.1", None).status is Status.NOT_ANSWERED

    def todo(*args):
        raise NotImplementedError

    assert check("3.1", todo).status is Status.NOT_ANSWERED
    assert "not answered yet" in capsys.readouterr().out


def test_a_crash_in_the_students_code_is_a_wrong_answer_not_an_error(capsys):
    result = check("3.1", lambda x, x_hat: 1 / 0)
    assert result.status is Status.WRONG and "ZeroDivisionError" in result.message


def test_the_hint_comes_only_after_a_wrong_answer(capsys):
    assert "Hint:" not in check("0.3", ...).message
    assert "Hint:" in check("0.3", 1.0).message
    assert "Hint:" not in check("0.3", 543.4).message


def test_an_unknown_exercise_says_which_exist():
    with pytest.raises(KeyError, match=r"no exercise '9\.9'.*0\.1"):
        check("9.9", 1)


def test_every_verdict_goes_to_the_grade_log(tmp_path, monkeypatch, capsys):
    log = tmp_path / "checks.jsonl"
    monkeypatch.setenv("COURSE_GRADE_LOG", str(log))
    check("0.3", 784)
    check("0.3", 543.4)
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["exercise"], e["status"]) for e in entries] == [("0.3", "WRONG"), ("0.3", "CORRECT")]


def test_solution_shows_the_reference_on_request(capsys):
    solution("0.3")
    assert "784" in capsys.readouterr().out


def test_a_check_at_the_end_of_a_cell_is_not_echoed_twice():
    from IPython.core.interactiveshell import InteractiveShell

    result = check("0.3", 543.4)
    assert result  # the value is returned (for tests and graders) ...
    data, _ = InteractiveShell.instance().display_formatter.format(result)
    assert data == {}, f"a notebook would show {data} under the printed verdict"  # ... but displays nothing
