"""`show(obj)`: display the package's own source of a model or function in a notebook.

Notebooks never paste a copy of package code; they show the real thing, so what students read
is what runs.
"""

from __future__ import annotations

import inspect

__all__ = ["show", "source_of"]


def source_of(obj) -> str:
    """The source code of a class, function or method, as a string."""
    try:
        return inspect.getsource(obj)
    except (TypeError, OSError) as err:
        raise TypeError(
            f"show() needs a class, function or method defined in Python source, got {type(obj).__name__} "
            f"({obj!r:.60}). Pass e.g. show(BernoulliImageModel.log_prob)."
        ) from err


def show(obj, start: str | None = None):
    """Syntax-highlighted source of `obj` (HTML in Jupyter, plain text elsewhere).

    `start` keeps the source from the first line that contains that text, to skip long docstrings.
    """
    code = source_of(obj)
    if start is not None:
        lines = code.splitlines(keepends=True)
        hits = [i for i, line in enumerate(lines) if start in line]
        if not hits:
            raise ValueError(f"show(): no line of {obj.__qualname__} contains {start!r}.")
        code = "".join(lines[hits[0] :])
    try:
        from IPython.display import HTML
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:  # plain Python: print it
        print(code)
        return None
    formatter = HtmlFormatter(noclasses=True, style="default", nobackground=True)
    return HTML(highlight(code, PythonLexer(), formatter))
