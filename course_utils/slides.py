"""`python -m course_utils slides`: every notebook as an offline reveal.js deck, slides/NN_name.slides.html.

The decks load nothing from the network: reveal.js comes from the installed `sphinx-revealjs` package and MathJax
from `jupyter-server-mathjax` (both in requirements.txt); both are copied next to the decks (slides/_static/), so
the folder can be copied to a USB stick and opened in any browser. Cells marked `skip` are left out, `notes`
become speaker notes (press S), and the notebooks' committed outputs (figures, tables) are shown as they are.
"""

from __future__ import annotations

import importlib.resources
import re
import shutil
from pathlib import Path

__all__ = ["export_slides", "offline_assets", "NOTEBOOK_DIR"]

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
TEMPLATES = Path(__file__).resolve().parent / "templates"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"


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


def export_slides(notebooks: list[str | Path] | None = None, out_dir: str | Path = "slides") -> list[Path]:
    """Write one offline deck per notebook (default: every notebooks/NN_*.ipynb); return the decks' paths."""
    import nbformat
    from nbconvert import SlidesExporter

    paths = [Path(p) for p in notebooks] if notebooks else sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"no notebook {', '.join(missing)}; the course's are in {NOTEBOOK_DIR}.")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _copy_assets(out_dir)
    exporter = SlidesExporter(
        template_name="course_reveal", extra_template_basedirs=[str(TEMPLATES)],
        reveal_url_prefix="_static/revealjs", reveal_theme="white", reveal_transition="none",
        reveal_scroll=True, reveal_number="c/t", reveal_width="1280", reveal_height="800",
    )
    exporter.mathjax_url = f"_static/mathjax/MathJax.js?config={MATHJAX_CONFIG}"
    written = []
    for path in paths:
        body, _ = exporter.from_notebook_node(nbformat.read(path, as_version=4),
                                              resources={"metadata": {"name": path.stem}})
        body = re.sub(r'href="(\d\d_\w+)\.ipynb', r'href="\1.slides.html', body)  # links between notebooks
        deck = out_dir / f"{path.stem}.slides.html"
        deck.write_text(body, encoding="utf-8")
        written.append(deck)
    return written
