"""Plain-text result tables for the notebooks: aligned columns from (header, format spec) pairs.

Scaffolding that would otherwise fill a slide with f-string headers (notebooks 02 and 05 print their tables
with it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["format_table", "print_table"]


_SPEC = re.compile(r"^(?:.?[<>=^])?")  # the [fill]align part of a format spec


def _header_spec(spec: str) -> str:
    """The alignment and width of a column's format spec, for its (string) header: "8.2f" -> ">8"."""
    align = _SPEC.match(spec).group()
    rest = spec[len(align):].lstrip("+- z#0")
    width = re.match(r"\d*", rest).group()
    numeric = bool(re.search(r"[,_.]|[bcdeEfFgGnoxX%]$", rest))
    return (align.replace("=", ">") or (">" if numeric else "<")) + width


def format_table(rows: Sequence[Sequence], columns: Sequence[tuple[str, str]], sep: str = " ") -> str:
    """A plain-text table: `columns` are (header, format spec) pairs, e.g. ("NLL", ">8.2f"); each row holds one
    value per column. Headers take the alignment and width of their column's spec."""
    lines = [sep.join(format(name, _header_spec(spec)) for name, spec in columns)]
    for row in rows:
        if len(row) != len(columns):
            raise ValueError(f"format_table: a row has {len(row)} values for {len(columns)} columns: {row!r}")
        lines.append(sep.join(format(value, spec) for value, (_, spec) in zip(row, columns)))
    return "\n".join(lines)


def print_table(rows: Sequence[Sequence], columns: Sequence[tuple[str, str]], sep: str = " ") -> None:
    """Print `format_table(rows, columns, sep)`: the notebooks' result tables."""
    print(format_table(rows, columns, sep))
