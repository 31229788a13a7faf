"""`python -m course_utils slides`: every notebook becomes a deck that loads nothing from the network."""

import html
import re
from html.parser import HTMLParser

import nbformat
import pytest

import course_utils.slides
from course_utils.__main__ import main
from course_utils.slides import (
    HIDE_INPUT_TAG,
    NOTEBOOK_DIR,
    WIDGET,
    _static_widgets,
    export_slides,
    offline_assets,
)


class _Resources(HTMLParser):
    """The URLs a page loads by itself: scripts, stylesheets, images, iframes (not the links a reader may click)."""

    def __init__(self):
        super().__init__()
        self.urls, self.sections = [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.sections += 1
        if tag in ("script", "img", "iframe", "source") and a.get("src"):
            self.urls.append(a["src"])
        if tag == "link" and a.get("href"):
            self.urls.append(a["href"])


@pytest.fixture(scope="module")
def decks(tmp_path_factory):
    out = tmp_path_factory.mktemp("slides")
    return out, export_slides(out_dir=out)


def test_every_notebook_becomes_a_deck(decks):
    out, written = decks
    notebooks = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]*_*.ipynb"))
    assert [d.name for d in written] == [f"{p.stem}.slides.html" for p in notebooks]


def test_decks_load_only_local_files(decks):
    out, written = decks
    for deck in written:
        page = _Resources()
        page.feed(deck.read_text(encoding="utf-8"))
        remote = [u for u in page.urls if re.match(r"(https?:)?//", u)]
        assert not remote, f"{deck.name} loads {remote} from the network"
        local = [u.split("?")[0] for u in page.urls if not u.startswith("data:")]
        assert local and all((out / u).is_file() for u in local), f"{deck.name}: missing {local}"
        assert page.sections >= 5, f"{deck.name}: only {page.sections} slides"
        assert "_static/revealjs/dist/reveal.js" in local and "_static/mathjax/MathJax.js" in local


def test_links_between_notebooks_point_to_decks(decks):
    _, written = decks
    start = written[0].read_text(encoding="utf-8")
    assert 'href="01_maximum_likelihood.slides.html"' in start and 'href="01_maximum_likelihood.ipynb"' not in start


def test_skipped_cells_stay_out_of_the_deck(decks):
    _, written = decks
    nb = nbformat.read(NOTEBOOK_DIR / "00_start_here.ipynb", as_version=4)
    skipped = [c.source for c in nb.cells if c.metadata["slideshow"]["slide_type"] == "skip"]
    shown = [c.source for c in nb.cells if c.metadata["slideshow"]["slide_type"] != "skip" and c.cell_type == "code"]
    text = html.unescape(re.sub(r"<[^>]+>", "", written[0].read_text(encoding="utf-8")))
    assert skipped and shown
    assert all(src.splitlines()[-1] not in text for src in skipped)  # e.g. the set-up cell
    assert all(src.splitlines()[-1] in text for src in shown)


def test_the_assets_come_from_installed_packages():
    assets = offline_assets()
    assert (assets["revealjs"] / "dist" / "reveal.js").is_file()
    assert (assets["mathjax"] / "MathJax.js").is_file()


def test_command_line_and_a_missing_notebook(tmp_path, capsys):
    assert main(["slides", str(NOTEBOOK_DIR / "00_start_here.ipynb"), "--output", str(tmp_path)]) == 0
    assert (tmp_path / "00_start_here.slides.html").is_file()
    assert "00_start_here.slides.html" in capsys.readouterr().out
    with pytest.raises(FileNotFoundError, match=r"no notebook .*nope\.ipynb; the course's are in"):
        export_slides([tmp_path / "nope.ipynb"], tmp_path)


def test_widgets_show_their_saved_view_or_a_note_never_a_blank(decks):
    _, written = decks
    text = {d.name.removesuffix(".slides.html"): d.read_text(encoding="utf-8") for d in written}
    assert not [name for name, t in text.items() if WIDGET in t or "widget-state+json" in t]  # none left blank
    # The likelihood explorer: the note and the image the notebook saved of its view, with the sliders' values.
    explorer = re.search(r'<p class="course-widget-note">(.*?)</p>\s*(<img [^>]*src="data:image/png;base64,)?',
                         text["01_maximum_likelihood"])
    assert explorer and explorer[2], "the widget's saved view is missing"
    assert "interactive widget: run this cell in JupyterLab" in explorer[1] and re.search(r"mu = -?[\d.]+", explorer[1])
    # tqdm's progress bars: their last state, as text.
    assert re.search(r"FVSBN: 100%\|█{10}\| (\d+)/\1 \[", text["02_tractable_density"])


def test_a_widget_without_saved_state_becomes_a_note():
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("explorer()", outputs=[nbformat.v4.new_output(
        "execute_result", data={WIDGET: {"model_id": "f00", "version_major": 2}, "text/plain": "interactive(...)"},
        execution_count=1)]))
    _static_widgets(nb)
    html_note = nb.cells[0].outputs[0].data["text/html"]
    assert "interactive widget: run this cell in JupyterLab" in html_note and "<img" not in html_note


def test_pdf_without_chromium_says_how_to_get_it(tmp_path, monkeypatch, capsys):
    pytest.importorskip("playwright.sync_api")  # without it, the error names Playwright instead
    monkeypatch.delenv("COURSE_CHROMIUM", raising=False)
    monkeypatch.setattr(course_utils.slides, "CHROMIUM_CANDIDATES", [str(tmp_path / "no-chromium")])
    with pytest.raises(SystemExit):
        main(["slides", str(NOTEBOOK_DIR / "00_start_here.ipynb"), "--output", str(tmp_path), "--pdf"])
    error = capsys.readouterr().err
    assert "apt-get install chromium" in error and "COURSE_CHROMIUM" in error
    assert not list(tmp_path.iterdir())  # it said so before exporting anything


def test_hide_input_cells_show_their_output_only(tmp_path):
    nb = nbformat.v4.new_notebook()
    title = nbformat.v4.new_markdown_cell("# Title", metadata={"slideshow": {"slide_type": "slide"}})
    hidden = nbformat.v4.new_code_cell(
        "layout_scaffolding_marker = 41 + 1\nprint(layout_scaffolding_marker)",
        metadata={"slideshow": {"slide_type": "-"}, "tags": [HIDE_INPUT_TAG], "jupyter": {"source_hidden": True}},
        outputs=[nbformat.v4.new_output("stream", name="stdout", text="the hidden cell's output 42\n")])
    shown = nbformat.v4.new_code_cell("shown_idea_marker = 7", metadata={"slideshow": {"slide_type": "-"}})
    nb.cells = [title, hidden, shown]
    path = tmp_path / "99_hidden.ipynb"
    nbformat.write(nb, path)
    deck = export_slides([path], tmp_path / "out")[0].read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", "", deck))
    assert "the hidden cell's output 42" in text
    assert "layout_scaffolding_marker" not in text
    assert "shown_idea_marker" in text


def test_the_course_decks_hide_the_input_of_hide_input_cells(decks):
    out, written = decks
    for deck in written:
        nb = nbformat.read(NOTEBOOK_DIR / deck.name.replace(".slides.html", ".ipynb"), as_version=4)
        hidden = [c for c in nb.cells if HIDE_INPUT_TAG in c.metadata.get("tags", [])
                  and c.metadata["slideshow"]["slide_type"] != "skip"]
        text = html.unescape(re.sub(r"<[^>]+>", "", deck.read_text(encoding="utf-8")))
        elsewhere = "\n".join(c.source for c in nb.cells if c not in hidden)
        for cell in hidden:
            assert cell.metadata.get("jupyter", {}).get("source_hidden"), (
                f"{deck.name}: a hide-input cell must also set metadata.jupyter.source_hidden (JupyterLab, RISE)")
            own = [line for line in cell.source.splitlines() if len(line.strip()) > 20 and line not in elsewhere]
            assert own, "no line of the hidden cell to look for"
            shown = [line for line in own if line in text]
            assert not shown, f"{deck.name} shows the code of a hide-input cell: {shown}"
