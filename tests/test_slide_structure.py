"""Every notebook is also a slide deck: every slide opens with a heading, every main slide has speaker notes.

A cell that starts a slide or sub-slide (slide_type "slide" or "subslide") must be a Markdown cell whose first line
is a heading ("## …" for slides, "### …" allowed for sub-slides). Every main slide after the title has exactly one
`notes` cell (speaker notes: key S in the exported decks, hidden notes in RISE) saying how long the slide takes
("~3 min") and what to skip when running late ("If late: …"); the title slide may have one. docs/presenting.md
says how the notes show in the decks and in RISE.
"""

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
FIX = ("add the heading as the first line of the slide's first Markdown cell (or a heading cell before its code), and "
       "speaker notes as a Markdown cell of slide type 'Notes' right after it")


def _load(path):
    return nbformat.read(path, as_version=4)


def _slide_type(cell):
    return cell["metadata"].get("slideshow", {}).get("slide_type")


def _first_line(cell) -> str:
    lines = cell["source"].strip().splitlines()
    return lines[0] if lines else ""


def _main_slides(cells):
    """(first cell, end) of every main slide: from a "slide" cell up to the next one."""
    starts = [i for i, c in enumerate(cells) if _slide_type(c) == "slide"]
    return list(zip(starts, starts[1:] + [len(cells)]))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_slide_starts_with_a_heading(path):
    cells = _load(path)["cells"]
    missing = [f"cell {i} ({_slide_type(c)}, {c['cell_type']}): {_first_line(c)[:60]!r}"
               for i, c in enumerate(cells)
               if _slide_type(c) in ("slide", "subslide")
               and not (c["cell_type"] == "markdown" and _first_line(c).startswith("#"))]
    assert not missing, (
        f"{path.name}: {len(missing)} slides or sub-slides do not start with a Markdown heading (a markdown cell "
        f"whose first line starts with '#'); {FIX}:\n  " + "\n  ".join(missing))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_main_slide_has_speaker_notes(path):
    cells = _load(path)["cells"]
    slides = _main_slides(cells)
    assert slides, f"{path.name}: no main slides (slide_type 'slide') at all."
    problems = []
    for number, (first, end) in enumerate(slides):
        notes = [j for j in range(first + 1, end) if _slide_type(cells[j]) == "notes"]
        where = f"slide {number + 1} (cell {first}, {_first_line(cells[first])[:50]!r})"
        if number == 0:
            if len(notes) > 1:
                problems.append(f"{where}: {len(notes)} notes cells {notes}; the title slide may have one")
            continue
        if len(notes) != 1:
            problems.append(f"{where}: {len(notes)} notes cells {notes}, expected exactly one")
            continue
        text = cells[notes[0]]["source"]
        lacking = [word for word in ("min", "If late") if word not in text]
        if cells[notes[0]]["cell_type"] != "markdown" or lacking:
            problems.append(f"{where}: notes cell {notes[0]} must be Markdown and say how long the slide takes "
                            f"('~3 min') and what to skip ('If late: ...'); it lacks {lacking}")
    assert not problems, (f"{path.name}: {len(problems)} of {len(slides)} main slides lack proper speaker notes; "
                          f"{FIX}:\n  " + "\n  ".join(problems))
