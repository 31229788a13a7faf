"""`show(obj)`: display the package's own source of a model or function in a notebook.

Notebooks never paste a copy of package code; they show the real thing, so what students read
is what runs. Every call displays (two calls in one cell show two listings). The displayed
output carries the object's name in its metadata (`SHOW_METADATA_KEY`), so a test can compare
each committed listing with the current source (tests/test_notebook_hygiene.py).
"""

from __future__ import annotations

import inspect

__all__ = ["show", "source_of", "source_bundle", "SHOW_METADATA_KEY"]

SHOW_METADATA_KEY = "course_utils.show"  # output metadata: {"object": "module.qualname", "start": ...}


def source_of(obj, start: str | None = None) -> str:
    """The source code of a class, function or method, from the first line containing `start` (if given)."""
    try:
        code = inspect.getsource(obj)
    except (TypeError, OSError) as err:
        raise TypeError(
            f"show() needs a class, function or method defined in Python source, got {type(obj).__name__} "
            f"({obj!r:.60}). Pass e.g. show(BernoulliImageModel.log_prob)."
        ) from err
    if start is None:
        return code
    lines = code.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if start in line]
    if not hits:
        raise ValueError(f"show(): no line of {obj.__qualname__} contains {start!r}.")
    return "".join(lines[hits[0] :])


def source_bundle(obj, start: str | None = None) -> tuple[dict, dict]:
    """(data, metadata) of the display: highlighted HTML and the plain source, and which object it is."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    code = source_of(obj, start)
    html = highlight(code, PythonLexer(), HtmlFormatter(noclasses=True, style="default", nobackground=True))
    name = f"{obj.__module__}.{obj.__qualname__}"
    return {"text/html": html, "text/plain": code}, {SHOW_METADATA_KEY: {"object": name, "start": start}}


def show(obj, start: str | None = None) -> None:
    """Display the syntax-highlighted source of `obj` (in Jupyter; printed elsewhere).

    `start` keeps the source from the first line that contains that text, to skip long docstrings.
    """
    data, metadata = source_bundle(obj, start)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is None or get_ipython() is None:  # plain Python: print it
        print(data["text/plain"])
        return
    display(data, raw=True, metadata=metadata)
