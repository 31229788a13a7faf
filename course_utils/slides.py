"""`python -m course_utils slides`: every notebook as an offline reveal.js deck, slides/NN_name.slides.html.

The decks load nothing from the network: reveal.js comes from the installed `sphinx-revealjs` package and MathJax
from `jupyter-server-mathjax` (both in requirements.txt); both are copied next to the decks (slides/_static/), so
the folder can be copied to a USB stick and opened in any browser. Cells marked `skip` are left out, `notes`
become speaker notes (press S), and the notebooks' committed outputs (figures, tables) are shown as they are. A code
cell tagged `hide-input` (scaffolding, e.g. a figure's layout; JupyterLab and RISE collapse it through
`metadata.jupyter.source_hidden`) shows only its output.
Widgets need a kernel, so a deck shows what the notebook saved of them instead: a progress bar's last state, or a
note with a still of an interactive widget's saved view (`_static_widgets`). The slides are 16:9; the template
(templates/course_reveal/index.html.j2) shrinks a slide a little taller than the screen to fit, makes a taller one
scroll inside itself, and gives code lines too long for the slide a smaller font. `print_pdf` prints the decks with
headless Chromium, one page per slide.
"""

from __future__ import annotations

import html
import importlib.resources
import os
import re
import shutil
from pathlib import Path

__all__ = ["export_slides", "print_pdf", "find_chromium", "offline_assets", "NOTEBOOK_DIR", "HIDE_INPUT_TAG"]

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
TEMPLATES = Path(__file__).resolve().parent / "templates"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"
SLIDE_SIZE = (1440, 810)  # reveal.js scales this to the window: 16:9 like projectors, 1280x720 and 1920x1080
WIDGET = "application/vnd.jupyter.widget-view+json"
HIDE_INPUT_TAG = "hide-input"  # a code cell whose deck slide shows its output only
CHROMIUM_CANDIDATES = ["/usr/lib/chromium/chromium", "/usr/bin/chromium", "chromium", "chromium-browser",
                       "google-chrome"]


def _package_dir(package: str, inside: str) -> Path:
    try:
        path = Path(str(importlib.resources.files(package) / inside))
    except ModuleNotFoundError:
        path = None
    if path is None or not path.is_dir():
        raise FileNotFoundError(
            f"the offline slides need the package {package!r} (it ships {inside}); install the course's "
            "requirements with `pip install -r requirements.txt`."
        )
    return path


def offline_assets() -> dict[str, Path]:
    """Where the installed reveal.js and MathJax live: {"revealjs": dir, "mathjax": dir}."""
    return {"revealjs": _package_dir("sphinx_revealjs", "_static/revealjs"),
            "mathjax": _package_dir("jupyter_server_mathjax", "static")}


def _copy_assets(out_dir: Path) -> None:
    assets = offline_assets()
    static = out_dir / "_static"
    keep_reveal = shutil.ignore_patterns("*.map", "*.scss", "*.esm.js", "css", "markdown", "highlight")
    shutil.copytree(assets["revealjs"], static / "revealjs", ignore=keep_reveal, dirs_exist_ok=True)
    other_languages = [d.name for d in (assets["mathjax"] / "localization").iterdir() if d.name != "en"]
    shutil.copytree(assets["mathjax"], static / "mathjax", ignore=shutil.ignore_patterns(*other_languages),
                    dirs_exist_ok=True)


def _widget_still(model_id: str, state: dict) -> dict:
    """What a static deck shows for one saved widget (an output's new data): a tqdm progress bar's last state as
    text, like the printed lines next to it; else a note to run the cell, with the widget's saved image if any."""
    def model(ref: str) -> dict:
        return state.get(ref.removeprefix("IPY_MODEL_"), {})

    def parts(ref: str) -> list[dict]:  # the widget and everything inside it, depth first
        m = model(ref)
        return [m] + [p for child in m.get("state", {}).get("children", []) for p in parts(child)] if m else []

    inside = parts(model_id)
    names = [m["model_name"] for m in inside]
    if names == ["HBoxModel", "HTMLModel", "FloatProgressModel", "HTMLModel"]:  # tqdm.auto's progress bar
        left, bar, right = (m["state"] for m in inside[1:])
        filled = round(10 * (bar.get("value") or 0) / bar["max"]) if bar.get("max") else 0
        text = html.unescape(f"{left['value']}|{'█' * filled}{' ' * (10 - filled)}|{right['value']}")
        return {"text/plain": text.replace("\u2007", " ")}
    controls = [f"{m['state']['description']} = {m['state']['value']}" for m in inside
                if m["model_name"].endswith("SliderModel") and m["state"].get("description")]
    images = [o["data"]["image/png"] for m in inside if m["model_name"] == "OutputModel"
              for o in m["state"].get("outputs", []) if "image/png" in o.get("data", {})]
    note = "interactive widget: run this cell in JupyterLab to use it"
    if images:
        note += f" (below: its saved view{', ' + ', '.join(controls) if controls else ''})"
    still = "".join(f'<img src="data:image/png;base64,{"".join(png.split())}" alt="the widget\'s saved view">'
                    for png in images)
    return {"text/html": f'<div class="course-widget"><p class="course-widget-note">{html.escape(note)}</p>{still}</div>'}


def _static_widgets(nb) -> None:
    """Replace every ipywidgets output (blank offline: widgets need a kernel) by what `_widget_still` makes of it."""
    saved = nb.metadata.pop("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if WIDGET in output.get("data", {}):
                output["data"] = _widget_still(output["data"][WIDGET].get("model_id", ""), saved.get("state", {}))


def export_slides(notebooks: list[str | Path] | None = None, out_dir: str | Path = "slides") -> list[Path]:
    """Write one offline deck per notebook (default: every notebooks/NN_*.ipynb); return the decks' paths."""
    import nbformat
    from nbconvert import SlidesExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    paths = [Path(p) for p in notebooks] if notebooks else sorted(NOTEBOOK_DIR.glob("[0-9][0-9]*_*.ipynb"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"no notebook {', '.join(missing)}; the course's are in {NOTEBOOK_DIR}.")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _copy_assets(out_dir)
    exporter = SlidesExporter(
        template_name="course_reveal", extra_template_basedirs=[str(TEMPLATES)],
        reveal_url_prefix="_static/revealjs", reveal_theme="white", reveal_transition="none",
        reveal_scroll=True, reveal_number="c/t", reveal_width=str(SLIDE_SIZE[0]), reveal_height=str(SLIDE_SIZE[1]),
    )
    exporter.mathjax_url = f"_static/mathjax/MathJax.js?config={MATHJAX_CONFIG}"
    exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags={HIDE_INPUT_TAG}), enabled=True)
    written = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        _static_widgets(nb)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
        body = re.sub(r'href="(\d\d_\w+)\.ipynb', r'href="\1.slides.html', body)  # links between notebooks
        deck = out_dir / f"{path.stem}.slides.html"
        deck.write_text(body, encoding="utf-8")
        written.append(deck)
    return written


def find_chromium() -> str:
    """The Chromium that prints the decks: $COURSE_CHROMIUM, else Debian's or one on the PATH; a clear error if
    there is none (or no Playwright, which drives it)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as e:
        raise RuntimeError("printing the decks needs Playwright: pip install -r requirements.txt") from e
    for name in [os.environ.get("COURSE_CHROMIUM", "")] + CHROMIUM_CANDIDATES:
        path = shutil.which(name) if name else None
        if path:
            return path
    raise FileNotFoundError("printing the decks to PDF needs Chromium: `apt-get install chromium` (Debian/Ubuntu) "
                            "or set COURSE_CHROMIUM=/path/to/chromium")


def print_pdf(decks: list[str | Path], timeout_s: float = 120) -> list[Path]:
    """Print exported decks (NN_name.slides.html) to NN_name.pdf beside them: one page per slide, offline.

    reveal.js lays a deck out for printing when its URL asks for ?print-pdf; the template then shrinks any slide
    taller than a page to fit it and marks the page ready (html.course-print-ready). Raises if the deck asks
    for anything on the network.
    """
    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    with sync_playwright() as p:
        # Chromium's sandbox cannot start as root (e.g. in a container); it only opens our own local files here.
        root = hasattr(os, "geteuid") and os.geteuid() == 0
        browser = p.chromium.launch(executable_path=chromium, args=["--disable-gpu"] + ["--no-sandbox"] * root)
        try:
            return [_print_deck(browser, Path(deck), timeout_s) for deck in decks]
        finally:
            browser.close()


def _print_deck(browser, deck: Path, timeout_s: float) -> Path:
    context = browser.new_context(offline=True)  # the network is off, and any request for it is an error
    remote = []
    context.on("request", lambda r: r.url.startswith(("file:", "data:", "about:")) or remote.append(r.url))  # local or noted
    try:
        page = context.new_page()
        page.goto(deck.resolve().as_uri() + "?print-pdf")
        page.wait_for_selector("html.course-print-ready", state="attached", timeout=timeout_s * 1000)
        if remote:
            raise RuntimeError(f"{deck.name} asked the network for {remote}")
        pdf = deck.with_name(deck.name.replace(".slides.html", "") + ".pdf")
        page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
        return pdf
    finally:
        context.close()
