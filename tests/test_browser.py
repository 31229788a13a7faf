"""End to end, in a real browser: what students see in JupyterLab and what an instructor shows as slides.

Headless Chromium (Debian's `chromium` package; `.ci/run` installs it) driven by Playwright's Python package.
Without Chromium or Playwright these tests are *skipped* with the reason shown by `pytest -rs`; never passed.
Screenshots go to screenshots/browser/ (or $COURSE_SCREENSHOTS); the tests print the folder. The walk over every
slide of every exported deck saves a screenshot of each slide in its decks/ folder only with
COURSE_DECK_SCREENSHOTS=1 (a failing slide always); so does the keyboard walk through RISE slideshows in the Lab, in
its rise/ folder.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = Path(os.environ.get("COURSE_SCREENSHOTS", ROOT / "screenshots" / "browser"))
CHROMIUM_CANDIDATES = [os.environ.get("COURSE_CHROMIUM", ""), "/usr/lib/chromium/chromium", "/usr/bin/chromium",
                       shutil.which("chromium") or "", shutil.which("chromium-browser") or "",
                       shutil.which("google-chrome") or ""]


def _chromium() -> str | None:
    return next((c for c in CHROMIUM_CANDIDATES if c and Path(c).is_file() and os.access(c, os.X_OK)), None)


try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

CHROMIUM = _chromium()
if os.environ.get("COURSE_REQUIRE_BROWSER") and (sync_playwright is None or CHROMIUM is None):
    raise RuntimeError("COURSE_REQUIRE_BROWSER is set (as in CI) but Playwright or Chromium is missing: "
                       "pip install -r requirements.txt; apt-get install chromium")
pytestmark = [
    pytest.mark.skipif(sync_playwright is None, reason="browser tests need Playwright: pip install -r requirements.txt"),
    pytest.mark.skipif(CHROMIUM is None, reason="browser tests need Chromium: `apt-get install chromium` (Debian/Ubuntu) "
                                                "or set COURSE_CHROMIUM=/path/to/chrome"),
]


def _screenshot(page, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=False)
    print(f"screenshot: {path}")
    return path


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        # --no-sandbox: CI runs as root in a container, where Chromium's sandbox cannot start.
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


# ---------------------------------------------------------------------------------------------- the slides

def test_exported_deck_renders_offline(browser, tmp_path):
    from course_utils.slides import export_slides

    deck, = export_slides([ROOT / "notebooks" / "01_maximum_likelihood.ipynb"], tmp_path / "slides")
    context = browser.new_context(offline=True, viewport={"width": 1280, "height": 800})  # the network is off
    requests, failed, errors = [], [], []
    context.on("request", lambda r: requests.append(r.url))
    context.on("requestfailed", lambda r: failed.append((r.resource_type, r.url)))
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(deck.as_uri())
    page.wait_for_selector(".reveal.ready", timeout=20_000)  # reveal.js initialised
    assert page.evaluate("Reveal.getTotalSlides()") >= 5
    page.keyboard.press("ArrowRight")
    page.wait_for_function("Reveal.getIndices().h === 1", timeout=5_000)
    slide = page.locator(".reveal .slides > section.present")
    assert slide.is_visible() and "DENSITY ESTIMATION" in slide.inner_text().upper()
    page.wait_for_function("window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0", timeout=20_000)
    assert page.locator(".reveal section.present .MathJax, .reveal section.present .MathJax_Display").count() > 0
    _screenshot(page, "slides_01_slide2")
    remote = [u for u in requests if not u.startswith(("file:", "data:", "about:"))]
    assert not remote, f"the deck asked the network for {remote}"
    # Scripts, styles and images must all load; MathJax also probes optional TeX fonts the package leaves out.
    missing = [(kind, u) for kind, u in failed if u.startswith("file:") and kind != "font"]
    assert not missing, f"the deck's local files are missing: {missing}"
    assert not errors, errors
    context.close()


DECKS = [p.stem for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))]
SIZES = [(1280, 720), (1920, 1080)]

# Measures the current slide in the page. Cut off: a block of content whose bottom lies below what the window
# shows and that no scroll box of the slide can bring into view (the end of a scroll box taller than the window
# cannot be). Too wide: a code or output block wider than its box, or it or an equation sticking out of the slide. Rects are in
# screen pixels; scrollTop/scrollHeight are in the slide's own pixels, so they are multiplied by reveal's scale.
MEASURE_JS = """() => {
    const slide = Reveal.getCurrentSlide(), H = window.innerHeight, scale = Reveal.getScale();
    const name = el => el.tagName.toLowerCase() + (el.className && typeof el.className === 'string'
        ? '.' + el.className.trim().split(/\\s+/)[0] : '') + ' "' + (el.innerText || '').trim().slice(0, 40) + '"';
    const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowY)
        && el.scrollHeight > el.clientHeight + 1;
    const cut = [], wide = [];
    for (const el of slide.querySelectorAll(
            'h1, h2, h3, h4, p, li, pre, img, table, .MathJax_Display, .jp-InputArea, .jp-OutputArea-output')) {
        const r = el.getBoundingClientRect();
        if (!el.checkVisibility({visibilityProperty: true}) || r.height === 0) continue;  // e.g. speaker notes
        let box = el.parentElement;
        while (box && !scrolls(box) && box !== slide) box = box.parentElement;
        let reach = 0, bottom = H;  // how far a scroll box can still move up, and where the visible area ends
        if (box && scrolls(box)) {
            const b = box.getBoundingClientRect();
            reach = (box.scrollHeight - box.clientHeight - box.scrollTop) * scale;
            bottom = Math.min(H, b.bottom);
        }
        if (r.bottom - reach > bottom + 1) cut.push(name(el));
    }
    const edge = slide.getBoundingClientRect();
    // Displayed math: MathJax's span holds the equation at its real width inside a full-width block.
    for (const el of slide.querySelectorAll(
            'pre, code, .jp-InputArea-editor, .jp-OutputArea-output, .MathJax_Display > .MathJax')) {
        const r = el.getBoundingClientRect();
        if (!el.checkVisibility({visibilityProperty: true}) || r.width === 0) continue;
        if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0 || r.right > edge.right + 1)
            wide.push(name(el));
    }
    return {cut, wide, scrolls: scrolls(slide)};
}"""


@pytest.fixture(scope="module")
def exported_decks(tmp_path_factory):
    from course_utils.slides import export_slides

    return export_slides(out_dir=tmp_path_factory.mktemp("decks"))


def _open_deck(browser, deck: Path, width: int = 1280, height: int = 720, printing: bool = False):
    """The deck in a fresh offline page, once reveal.js is ready and MathJax has typeset it (printing: laid out
    for print, ?print-pdf, and fitted by the deck); and the list of URLs it asks for. page.errors: script errors."""
    context = browser.new_context(offline=True, viewport={"width": width, "height": height})
    requests = []
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    if printing:
        page.goto(deck.as_uri() + "?print-pdf")
        page.wait_for_selector("html.course-print-ready", state="attached", timeout=60_000)
        return page, requests
    page.goto(deck.as_uri())
    page.wait_for_selector(".reveal.ready", timeout=30_000)
    page.wait_for_function("window.MathJax && MathJax.Hub && MathJax.Hub.Register", timeout=30_000)
    page.evaluate("() => new Promise(done => MathJax.Hub.Register.StartupHook('End', done))")
    return page, requests


# Shows one slide as the presenter would at its end (every fragment, every solution <details> open: the tallest
# it gets), waits for the deck to re-fit it (MathJax re-renders a slide's math on its first visit), measures it.
SHOW_AND_MEASURE_JS = """async ([h, v, f]) => {
    Reveal.slide(h, v, f);
    for (const d of Reveal.getCurrentSlide().querySelectorAll('details:not([open])')) {
        const toggled = new Promise(done => d.addEventListener('toggle', done, {once: true}));
        d.open = true;
        await toggled;  // the deck re-fits the slide on this event
    }
    await new Promise(done => MathJax.Hub.Queue(done));
    await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
    return (""" + MEASURE_JS + """)();
}"""


@pytest.mark.parametrize("name", DECKS)
def test_every_slide_fits_the_window(browser, exported_decks, name):
    """At 1280x720 and 1920x1080, every slide: nothing cut off out of reach, no code or output wider than its block
    or the slide. One page per deck, resized between the two walks (the deck fits slides in its own pixels).

    COURSE_DECK_SCREENSHOTS=1 saves every slide as screenshots/browser/decks/<deck>_<size>_<index>.png; a failing
    slide is always saved.
    """
    deck = next(d for d in exported_decks if d.name == f"{name}.slides.html")
    page, requests = _open_deck(browser, deck, *SIZES[0])
    every = bool(os.environ.get("COURSE_DECK_SCREENSHOTS"))
    slides = page.evaluate("Reveal.getSlides().map(s => [Reveal.getIndices(s), s.querySelectorAll('.fragment').length])")
    problems = []
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        cut = wide = scrolling = 0
        for i, (at, fragments) in enumerate(slides, start=1):
            found = page.evaluate(SHOW_AND_MEASURE_JS, [at["h"], at["v"] or 0, fragments - 1 if fragments else None])
            cut, wide, scrolling = cut + bool(found["cut"]), wide + bool(found["wide"]), scrolling + found["scrolls"]
            if found["cut"] or found["wide"]:
                problems.append(f"{width}x{height} slide {i}: cut off {found['cut'][:3]}, too wide {found['wide'][:3]}")
            if every or found["cut"] or found["wide"]:
                _screenshot(page, f"decks/{name}_{width}x{height}_{i:02d}")
        print(f"{name} at {width}x{height}: {len(slides)} slides, {cut} cut off, {wide} too wide, "
              f"{scrolling} scroll inside")
    page.context.close()
    remote = [u for u in requests if not u.startswith(("file:", "data:", "about:"))]
    assert not remote, f"the deck asked the network for {remote}"
    assert not page.errors, page.errors
    assert not problems, f"{name}: slides cut off or too wide:\n" + "\n".join(problems)


def test_slides_print_to_pdf_one_page_per_slide(browser, tmp_path):
    """`python -m course_utils slides --pdf`: each deck printed offline, one PDF page per slide, none cut off."""
    notebooks = [ROOT / "notebooks" / f"{name}.ipynb" for name in ("00_start_here", "06_model_comparison")]
    # Its own process: Playwright's sync API cannot run inside this module's browser session. It fails if a deck
    # asks for the network.
    done = subprocess.run([sys.executable, "-m", "course_utils", "slides", *map(str, notebooks), "--output",
                           str(tmp_path), "--pdf"], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, COURSE_CHROMIUM=CHROMIUM))
    assert done.returncode == 0, done.stderr[-3000:]
    for notebook in notebooks:
        pdf = tmp_path / f"{notebook.stem}.pdf"
        pages = len(re.findall(rb"/Type\s*/Page\b", pdf.read_bytes()))  # page objects, not the /Pages tree
        # The same print layout in this test's browser: a page per slide, every slide inside its page.
        page, requests = _open_deck(browser, tmp_path / f"{notebook.stem}.slides.html", printing=True)
        slides, outside = page.evaluate("""() => [Reveal.getTotalSlides(),
            [...document.querySelectorAll('.reveal .pdf-page')].map((p, i) => {
                const a = p.getBoundingClientRect(), s = p.querySelector(':scope > section').getBoundingClientRect();
                return s.top < a.top - 1 || s.bottom > a.bottom + 1 || s.left < a.left - 1 || s.right > a.right + 1
                    ? i + 1 : 0; }).filter(Boolean)]""")
        page.context.close()
        assert not page.errors, page.errors
        assert pages == slides >= 5, f"{pdf.name}: {pages} pages for {slides} slides"
        assert not outside, f"{pdf.name}: slides {outside} do not fit their page"
        assert all(u.startswith(("file:", "data:", "about:")) for u in requests), requests


# ---------------------------------------------------------------------------------------------- JupyterLab

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a free loopback port, serving a copy of the notebooks (running them must not edit ours)."""
    work = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", work / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    # The RISE walk reads the committed outputs: the copies above are run (and autosaved) by the tests before it.
    (work / "notebooks" / "as_committed").mkdir()
    for name in RISE_NOTEBOOKS:
        shutil.copy(ROOT / "notebooks" / f"{name}.ipynb", work / "notebooks" / "as_committed")
    settings = work / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # Every cell in the DOM (no virtual scrolling), so the test can read every output; no news pop-up.
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    news = work / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    port, token = _free_port(), secrets.token_hex(16)
    # One torch thread per kernel, as nbval's: in CI the other xdist worker keeps the second core busy.
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(work / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"), OMP_NUM_THREADS="1")
    log = open(work / "lab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work / 'notebooks'}", "--allow-root",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.time() > deadline:
                server.kill()
                pytest.fail(f"JupyterLab did not start: {(work / 'lab.log').read_text()[-2000:]}")
            time.sleep(0.5)
    yield url, token
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


def _offline_page(browser, lab):
    """A page that may reach only the JupyterLab server: every other request is blocked and recorded."""
    url, _ = lab
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.remote_requests = []

    def only_the_lab(route):
        if route.request.url.startswith((url, "data:", "blob:", "about:")):
            route.continue_()
        else:
            context.remote_requests.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_lab)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return page


def _open_and_run_all(browser, lab, name: str, timeout_s: float):
    url, token = lab
    page = _offline_page(browser, lab)
    try:
        page.goto(f"{url}/lab/tree/{name}?reset&token={token}")  # reset: no tabs restored from a last visit
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)  # kernel up
        page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").first.click()  # the notebook is current
        _clear_all_outputs(page)  # the committed outputs go, so what follows is this run's
        _menu(page, "Run", "runmenu:run-all")
        # Done when the code cells show execution counts 1..n in order and the kernel is idle.
        page.wait_for_function("""() => {
            const prompts = [...document.querySelectorAll(`.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt`)];
            const idle = document.querySelector(".jp-Notebook-ExecutionIndicator[data-status='idle']");
            return prompts.length > 0 && idle && prompts.every((p, i) => p.textContent.trim() === `[${i + 1}]:`);
        }""", timeout=timeout_s * 1000, polling=500)
    except Exception:
        _screenshot(page, f"lab_{Path(name).stem}_failed")
        raise
    return page


def _clear_all_outputs(page) -> None:
    for _ in range(3):
        _menu(page, "Edit", "editmenu:clear-all")
        try:
            page.wait_for_function("""() => [...document.querySelectorAll(
                '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')]
                .every(p => !/\\d/.test(p.textContent))""", timeout=5_000)
            return
        except Exception:
            continue
    raise AssertionError("Edit > Clear Outputs of All Cells left execution counts behind")


def _menu(page, menu: str, command: str) -> None:
    """Click Menu > item; Lumino disables items until the notebook and its kernel are ready, so wait for that."""
    for _ in range(60):
        page.locator(".lm-MenuBar-item", has_text=menu).first.click()
        item = page.locator(f".lm-Menu-item[data-command='{command}']")
        item.wait_for(timeout=10_000)
        if "lm-mod-disabled" not in (item.get_attribute("class") or ""):
            item.click()
            return
        page.keyboard.press("Escape")
        page.wait_for_timeout(500)
    raise AssertionError(f"menu {menu} > {command} stayed disabled for 30 s")


def _error_outputs(page) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll(`.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output`)]
        .map(o => o.innerText).filter(t => t.includes('Traceback (most recent call last)') ||
                                           /^\\s*-{20,}\\s*\\n\\s*\\w+(Error|Exception)/.test(t))""")


def test_start_here_runs_in_the_lab(browser, lab):
    page = _open_and_run_all(browser, lab, "00_start_here.ipynb", timeout_s=120)
    assert not _error_outputs(page), _error_outputs(page)
    figure = page.locator(".jp-OutputArea-output img")
    assert figure.count() >= 1  # the taxonomy figure rendered
    assert "environment" in page.locator(".jp-NotebookPanel").inner_text().lower()
    figure.first.scroll_into_view_if_needed()
    _screenshot(page, "lab_00_start_here")
    assert not page.context.remote_requests, page.context.remote_requests  # JupyterLab itself needs no network
    page.context.close()


def test_widget_responds_in_the_lab(browser, lab):
    page = _open_and_run_all(browser, lab, "01_maximum_likelihood.ipynb", timeout_s=300)
    assert not _error_outputs(page), _error_outputs(page)
    widget = page.locator(".widget-interact").first  # the likelihood explorer: two sliders and a plot
    widget.scroll_into_view_if_needed()
    assert widget.locator(".widget-slider").count() == 2
    plot = widget.locator(".widget-output img")
    plot.first.wait_for(timeout=30_000)
    before = plot.first.get_attribute("src")
    _screenshot(page, "lab_01_widget_before")
    handle = widget.locator(".widget-slider .noUi-handle").first  # the mu slider
    handle.focus()
    for _ in range(10):
        handle.press("ArrowRight")
    page.wait_for_function("""(src) => {
        const img = document.querySelector('.widget-interact .widget-output img');
        return img !== null && img.getAttribute('src') !== src; }""", arg=before, timeout=30_000)
    after = widget.locator(".widget-output img").first.get_attribute("src")
    assert after != before, "moving the slider did not redraw the plot"
    _screenshot(page, "lab_01_widget_after")
    assert not page.context.remote_requests, page.context.remote_requests
    page.context.close()


def test_rise_slideshow_renders_offline_in_the_lab(browser, lab):
    """jupyterlab-rise (installed by the requirements) turns a notebook into a live reveal.js deck offline."""
    url, token = lab
    page = _offline_page(browser, lab)
    page.goto(f"{url}/rise/00_start_here.ipynb?token={token}")
    page.wait_for_selector(".reveal.ready", timeout=60_000)
    assert "start here" in page.locator(".reveal section.present").first.inner_text().lower()
    page.keyboard.press("Space")
    page.wait_for_function("""() => [...document.querySelectorAll('.reveal section.present')]
        .some(s => s.innerText.includes('Why generative models'))""", timeout=10_000)
    _screenshot(page, "rise_00_slide2")
    assert not page.errors, page.errors
    # RISE's theme asks Google Fonts for two typefaces; blocked, the browser's own fonts are used.
    assert all(u.startswith("https://fonts.googleapis.com/") for u in page.context.remote_requests), \
        page.context.remote_requests
    page.context.close()


# ---------------------------------------------------------------------------------------------- RISE in the Lab

RISE_NOTEBOOKS = ["01_maximum_likelihood", "06_model_comparison"]

# The current RISE slide (the innermost present <section>) as the presenter sees it now: the blocks cut off out of
# reach, the code that overflows sideways and the printed text whose lines wrap. RISE (`scroll: true` in the notebook's `rise` metadata) turns a slide
# taller than 95 % of the window into a scroll box when the slide is entered; a block below the window is
# reachable only by scrolling such a box. Rects are in screen pixels; a box's scroll offsets are multiplied by the
# slide's scale (1 in RISE: width and height 100 %, minScale 1).
RISE_MEASURE_JS = """() => {
    const stack = document.querySelector('.reveal .slides > section.present');
    const slide = stack.querySelector(':scope > section.present') || stack;
    const W = window.innerWidth, H = window.innerHeight;
    const scale = slide.offsetHeight ? slide.getBoundingClientRect().height / slide.offsetHeight : 1;
    const name = el => el.tagName.toLowerCase() + (el.className && typeof el.className === 'string'
        ? '.' + el.className.trim().split(/\\s+/)[0] : '') + ' "' + (el.innerText || '').trim().slice(0, 40) + '"';
    const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowY)
        && el.scrollHeight > el.clientHeight + 1;
    const shown = el => el.checkVisibility({visibilityProperty: true, opacityProperty: true});
    const cut = [], wide = [];
    for (const el of slide.querySelectorAll('h1, h2, h3, h4, p, li, table, img, mjx-container[display="true"], '
            + '.jp-CodeCell .jp-InputArea-editor, .jp-OutputArea-output')) {
        const r = el.getBoundingClientRect();
        if (!shown(el) || r.height === 0) continue;  // skipped cells, notes, fragments not shown yet
        let box = el.parentElement;
        while (box && !scrolls(box) && box !== slide.parentElement) box = box.parentElement;
        let top = 0, bottom = H, up = 0, down = 0;
        if (box && scrolls(box)) {
            const b = box.getBoundingClientRect();
            top = Math.max(0, b.top); bottom = Math.min(H, b.bottom);
            up = box.scrollTop * scale;
            down = (box.scrollHeight - box.clientHeight - box.scrollTop) * scale;
        }
        if (r.bottom - down > bottom + 1) cut.push(name(el) + ` below by ${Math.round(r.bottom - down - bottom)} px`);
        else if (r.top + up < top - 1) cut.push(name(el) + ` above by ${Math.round(top - r.top - up)} px`);
        if (r.right > W + 1) cut.push(name(el) + ` right of the window by ${Math.round(r.right - W)} px`);
    }
    for (const el of slide.querySelectorAll('.jp-CodeCell .cm-scroller, .jp-OutputArea-output, '
            + '.jp-OutputArea-output pre, mjx-container[display="true"]')) {
        const r = el.getBoundingClientRect();
        if (!shown(el) || r.width === 0) continue;
        if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0 || r.right > W + 1)
            wide.push(name(el) + ` by ${Math.max(el.scrollWidth - el.clientWidth, Math.round(r.right - W))} px`);
    }
    // Printed text wraps its long lines in the Lab (a table's rows break in two): measured unwrapped.
    for (const el of slide.querySelectorAll('.jp-OutputArea-output pre')) {
        if (!shown(el) || el.clientWidth === 0) continue;
        const before = el.style.whiteSpace;
        el.style.whiteSpace = 'pre';
        const over = el.scrollWidth - el.clientWidth;
        el.style.whiteSpace = before;
        if (over > 1) wide.push(name(el) + ` wraps lines ${over} px too long`);
    }
    return {id: slide.id, hash: location.hash, cut, wide, scrolls: scrolls(slide)};
}"""

# Waits until the current slide stops changing size (MathJax, images) and its images have loaded.
RISE_SETTLE_JS = """async () => {
    const frame = () => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
    let last = -1;
    for (let i = 0; i < 40; i++) {
        await frame();
        const stack = document.querySelector('.reveal .slides > section.present');
        const slide = stack.querySelector(':scope > section.present') || stack;
        const size = slide.scrollHeight * 10000 + slide.scrollWidth;
        if (size === last && [...slide.querySelectorAll('img')].every(img => img.complete)) return i;
        last = size;
    }
    return -1;
}"""

# Every step of the deck in presenting order: one per slide or subslide (the innermost <section>s) plus one per
# fragment group in it.
RISE_STEPS_JS = """() => [...document.querySelectorAll('.reveal .slides section')]
    .filter(s => !s.querySelector('section'))
    .map(s => [s.id, new Set([...s.querySelectorAll('.fragment')].map(f => f.dataset.fragmentIndex)).size])"""


def _lab_sessions(lab) -> set[str]:
    url, token = lab
    with urllib.request.urlopen(f"{url}/api/sessions?token={token}", timeout=10) as r:
        return {s["id"] for s in json.load(r)}


# The present RISE slide (the innermost present <section>), for scrolling it.
RISE_SLIDE_JS = """(() => { const stack = document.querySelector('.reveal .slides > section.present');
    return stack.querySelector(':scope > section.present') || stack; })()"""

# Opens the present slide's closed solutions (<details>), as a click on "Solution (click to reveal)" does; says
# whether there were any. RISE fits a slide (its scroll box) only when the slide is entered, not after this.
RISE_OPEN_SOLUTIONS_JS = """async () => {
    const closed = [...""" + RISE_SLIDE_JS + """.querySelectorAll('details:not([open])')];
    for (const d of closed) d.open = true;
    return closed.length > 0;
}"""

# Back to the first slide for a walk at another window size: RISE's scroll fix (inline height, overflow and margin
# on slides taller than the window it had) is undone, so that it is made again for this size as the slides are
# entered; the solutions opened are closed; the URL is reveal.js's own (history: true), which hides the fragments.
RISE_RESTART_JS = """() => {
    for (const s of document.querySelectorAll('.reveal .slides section'))
        for (const prop of ['height', 'overflow-y', 'margin-top']) s.style.removeProperty(prop);
    for (const d of document.querySelectorAll('.reveal details[open]')) d.open = false;
    location.hash = '#/slide-0-0';
}"""


@pytest.mark.parametrize("name", RISE_NOTEBOOKS)
def test_every_rise_slide_fits_the_window(browser, lab, name):
    """The notebook with its committed outputs (not run) in JupyterLab's RISE slideshow, walked with the keyboard
    (Space: every slide, subslide and fragment) at 1280x720 and then, resized, at 1920x1080: nothing cut off out
    of reach (a slide taller than the window must scroll inside itself far enough), no code or output wider than
    its block or the window.

    COURSE_DECK_SCREENSHOTS=1 saves every step as screenshots/browser/rise/<notebook>_<size>_<slide>[_f<n>].png, and
    a slide that scrolls inside itself also scrolled to its end after its last fragment (..._end.png); a failing
    step is always saved.
    """
    url, token = lab
    every = bool(os.environ.get("COURSE_DECK_SCREENSHOTS"))
    before, started = _lab_sessions(lab), time.time()
    page = _offline_page(browser, lab)
    problems, said = [], set()
    try:
        page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
        page.goto(f"{url}/rise/as_committed/{name}.ipynb?token={token}")
        page.wait_for_selector(".reveal.ready", timeout=60_000)
        steps = page.evaluate(RISE_STEPS_JS)
        fragments = dict(steps)
        total = sum(1 + n for n in fragments.values())
        loaded = time.time() - started
        for size, (width, height) in enumerate(SIZES):
            if size:
                page.set_viewport_size({"width": width, "height": height})
                page.evaluate(RISE_RESTART_JS)
                page.wait_for_function(f"() => location.hash === '#/slide-0-0' && {RISE_SLIDE_JS}.id === 'slide-0-0'",
                                       timeout=10_000)
            seen, slide, fragment, cut, wide, scrolling = {}, 0, 0, set(), set(), 0
            for step in range(total):
                if step:
                    at = page.evaluate("location.hash")
                    page.keyboard.press("Space")
                    page.wait_for_function("h => location.hash !== h", arg=at, timeout=10_000)
                page.evaluate(RISE_SETTLE_JS)
                found = page.evaluate(RISE_MEASURE_JS)
                if found["id"] not in seen:
                    slide, fragment = slide + 1, 0
                    seen[found["id"]] = slide
                    scrolling += found["scrolls"]
                else:
                    fragment += 1
                label = f"rise/{name}_{width}x{height}_{slide:02d}" + (f"_f{fragment}" if fragment else "")
                views = [(found, label)]
                if fragment == fragments[found["id"]] and page.evaluate(RISE_OPEN_SOLUTIONS_JS):
                    page.evaluate(RISE_SETTLE_JS)  # the presenter clicked "Solution (click to reveal)"
                    views.append((page.evaluate(RISE_MEASURE_JS), f"{label}_solution"))
                for view, shot in views:
                    bad = view["cut"] or view["wide"]
                    if bad:
                        cut.update([slide] if view["cut"] else [])
                        wide.update([slide] if view["wide"] else [])
                        key = (width, slide, *view["cut"], *view["wide"])
                        if key not in said:  # the same on a slide's next fragment or with its solution: said once
                            said.add(key)
                            problems.append(f"{width}x{height} slide {slide}"
                                            f"{' with its solution shown' * shot.endswith('_solution')}: "
                                            f"cut off {view['cut'][:3]}, too wide {view['wide'][:3]}")
                    if every or bad:
                        _screenshot(page, shot)
                if every and found["scrolls"] and fragment == fragments[found["id"]]:  # the end, scrolled to
                    page.evaluate(f"() => {{ const s = {RISE_SLIDE_JS}; s.scrollTop = s.scrollHeight; }}")
                    page.evaluate(RISE_SETTLE_JS)
                    _screenshot(page, f"{label}_end")
                    page.evaluate(f"() => {{ {RISE_SLIDE_JS}.scrollTop = 0; }}")
            missed = [sid for sid, _ in steps if sid not in seen]
            assert not missed, f"{name} at {width}x{height}: Space never reached slides {missed}"
            print(f"RISE {name} at {width}x{height}: {len(steps)} slides, {total} steps, {len(cut)} cut off, "
                  f"{len(wide)} too wide, {scrolling} scroll inside")
        print(f"RISE {name}: opened in {loaded:.0f} s, walked twice in {time.time() - started - loaded:.0f} s")
        assert not page.errors, page.errors
        # RISE's theme asks Google Fonts for two typefaces; blocked, the browser's own fonts are used.
        assert all(u.startswith("https://fonts.googleapis.com/") for u in page.context.remote_requests), \
            page.context.remote_requests
    finally:
        page.context.close()
        for session in _lab_sessions(lab) - before:  # the kernel RISE started for the notebook
            urllib.request.urlopen(urllib.request.Request(f"{url}/api/sessions/{session}?token={token}",
                                                          method="DELETE"), timeout=10)
    assert not problems, f"{name} in RISE: slides cut off or too wide:\n" + "\n".join(problems)
