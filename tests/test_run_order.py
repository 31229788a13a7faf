"""The order pytest hands notebooks and test modules to xdist's workers (the root conftest.py)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _root_conftest():
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Item:
    def __init__(self, nodeid):
        self.nodeid = nodeid


def test_long_groups_go_first_and_each_group_keeps_its_order():
    collected = ["tests/test_autoregressive.py::test_a", "notebooks/00_start_here.ipynb::Cell 0",
                 "student/02_tractable_density.ipynb::Cell 0", "tests/test_browser.py::test_deck",
                 "notebooks/02_tractable_density.ipynb::Cell 0", "notebooks/00_start_here.ipynb::Cell 1",
                 "tests/test_vae.py::test_b", "student/00_start_here.ipynb::Cell 0"]
    items = [_Item(n) for n in collected]
    _root_conftest().pytest_collection_modifyitems(items)
    assert [i.nodeid for i in items] == [
        "notebooks/00_start_here.ipynb::Cell 0", "notebooks/02_tractable_density.ipynb::Cell 0",
        "notebooks/00_start_here.ipynb::Cell 1", "tests/test_browser.py::test_deck",
        "student/02_tractable_density.ipynb::Cell 0", "student/00_start_here.ipynb::Cell 0",
        "tests/test_autoregressive.py::test_a", "tests/test_vae.py::test_b"]


def test_xdist_keeps_that_order():
    # xdist's loadscope reorders scopes by test count unless told not to; notebooks have few, long tests
    addopts = next(line for line in (ROOT / "pyproject.toml").read_text().splitlines() if line.startswith("addopts"))
    assert "--dist loadscope" in addopts and "--no-loadscope-reorder" in addopts, addopts
