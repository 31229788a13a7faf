"""course_utils.tables: the notebooks' plain-text tables, aligned as their hand-written f-strings were."""

import pytest

from course_utils.tables import format_table, print_table

COLUMNS = [("model", "22s"), ("params", ">10,"), ("live (nats)", ">12s"), ("shipped (nats)", ">15.2f"),
           ("bits/dim", ">9.4f"), ("course goal", ">12s"), ("published", ">10s")]


def test_format_table_matches_the_f_strings_it_replaces():
    rows = [["independent Bernoulli", 784, "-", 208.0812, 0.38289, "-", "-"],
            ["PixelRNN", 1234567, "96.10", 82.853, 0.15246, "<= 92 met", "79.20"]]
    header = (f"{'model':22s} {'params':>10s} {'live (nats)':>12s} {'shipped (nats)':>15s} {'bits/dim':>9s} "
              f"{'course goal':>12s} {'published':>10s}")
    lines = [f"{r[0]:22s} {r[1]:>10,} {r[2]:>12s} {r[3]:>15.2f} {r[4]:>9.4f} {r[5]:>12s} {r[6]:>10s}" for r in rows]
    assert format_table(rows, COLUMNS) == "\n".join([header] + lines)


def test_headers_take_alignment_and_width_from_the_spec():
    table = format_table([[1.5, "x", 3]], [("a", "8.2f"), ("b", "^5"), ("c", "d")], sep="|")
    assert table.splitlines() == [f"{'a':>8}|{'b':^5}|{'c':>}", f"{1.5:8.2f}|{'x':^5}|{3:d}"]


def test_a_row_of_the_wrong_length_says_so(capsys):
    with pytest.raises(ValueError, match="a row has 2 values for 3 columns"):
        format_table([[1, 2]], [("a", "d"), ("b", "d"), ("c", "d")])
    print_table([[1]], [("n", ">3d")])
    assert capsys.readouterr().out == "  n\n  1\n"
