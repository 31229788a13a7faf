"""End to end, in a real browser: what students see in JupyterLab and what an instructor shows as slides.

Headless Chromium (Debian's `chromium` package; `.ci/run` installs it) driven by Playwright's Python package.
Without Chromium or Playwright these tests are *skipped* with the reason shown by `pytest -rs`; never passed.
Screenshots go to screenshots/browser/ (or $COURSE_SCREENSHOTS); the tests print the folder.
"""

from __future__ import annotations

import json
import os
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
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
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
    settings = work / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # Every cell in the DOM (no virtual scrolling), so the test can read every output; no news pop-up.
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    news = work / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(work / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"), OMP_NUM_THREADS="2")
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
