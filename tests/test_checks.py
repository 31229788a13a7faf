import torch

from course_utils.checks import Status, check_function, check_value


def test_not_answered_never_raises(capsys):
    assert check_value("Ex 1", ..., 3.0).status is Status.NOT_ANSWERED
    assert check_value("Ex 1", None, 3.0).status is Status.NOT_ANSWERED

    def todo(x):
        raise NotImplementedError

    assert check_function("Ex 2", todo, lambda x: x, [(1.0,)]).status is Status.NOT_ANSWERED
    assert "not answered yet" in capsys.readouterr().out


def test_right_answers():
    assert check_value("Ex", 0.6931, torch.tensor(2.0).log(), rtol=1e-3)
    assert check_function("Ex", lambda x: x**2, lambda x: x * x, [(torch.arange(3.0),), (2.0,)])


def test_wrong_answers_say_what_is_wrong():
    r = check_value("Ex", 0.5, 0.25)
    assert r.status is Status.WRONG and "expected 0.25, got 0.5" in r.message
    r = check_value("Ex", torch.zeros(3), torch.zeros(2))
    assert "expected shape (2,), got shape (3,)" in r.message
    r = check_value("Ex", "abc", 1.0)
    assert "expected a number" in r.message
    r = check_value("Ex", float("nan"), 1.0)
    assert "NaN" in r.message
    r = check_function("Ex", lambda x: x + 1, lambda x: x, [(torch.zeros(2),)], hint="no offset")
    assert "test case 1" in r.message and "Hint: no offset" in r.message
    r = check_function("Ex", lambda x: 1 / 0, lambda x: x, [(1.0,)])
    assert "ZeroDivisionError" in r.message
    r = check_value("Ex", torch.tensor([1.0, 2.0, 9.0]), [1.0, 2.0, 3.0])
    assert "at index (2,)" in r.message


def test_a_check_at_the_end_of_a_cell_is_not_echoed_twice():
    from IPython.core.interactiveshell import InteractiveShell

    from course_utils.checks import check_value

    result = check_value("Exercise 9.9", 1.0, 1.0)
    assert result  # the value is returned (for tests and graders) ...
    data, _ = InteractiveShell.instance().display_formatter.format(result)
    assert data == {}, f"a notebook would show {data} under the printed verdict"  # ... but displays nothing
