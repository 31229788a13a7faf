import inspect

import pytest
import torch

from course_utils import device, seed_everything, set_threads, show
from course_utils.__main__ import main
from course_utils.environment import environment_report
from course_utils.models.density import BernoulliImageModel
from course_utils.source import source_bundle


def test_seed_everything_repeats_draws_and_rejects_non_ints():
    seed_everything(3)
    a = torch.rand(3)
    seed_everything(3)
    assert torch.equal(a, torch.rand(3))
    with pytest.raises(TypeError, match="seed must be an int"):
        seed_everything("0")


def test_device_and_threads():
    assert device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="unknown device"):
        device("tpu9")
    before = torch.get_num_threads()
    assert set_threads(1) == 1 and torch.get_num_threads() == 1
    set_threads(before)
    with pytest.raises(ValueError, match="positive int"):
        set_threads(0)


def test_show_renders_the_real_source(capsys):
    data, metadata = source_bundle(BernoulliImageModel.fit_closed_form)
    assert "fit_closed_form" in data["text/html"] and "clamp" in data["text/html"]
    assert data["text/plain"] == inspect.getsource(BernoulliImageModel.fit_closed_form)
    assert metadata["course_utils.show"]["object"] == "course_utils.models.density.BernoulliImageModel.fit_closed_form"
    assert source_bundle(BernoulliImageModel.fit_closed_form, start="check_tensor")[0]["text/plain"].lstrip().startswith(
        "check_tensor")
    assert show(BernoulliImageModel.fit_closed_form) is None  # it displays (here: prints), it returns nothing
    assert "def fit_closed_form" in capsys.readouterr().out
    with pytest.raises(TypeError, match="needs a class, function or method"):
        show(42)


def test_every_show_call_in_a_kernel_displays():
    """Two show() calls in one cell must give two listings (a returned HTML object would show only the last)."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shown = []
    shell.display_pub.publish = lambda data, metadata=None, **kw: shown.append(metadata)
    try:
        shell.run_cell("from course_utils import show\n"
                       "from course_utils.models.density import BernoulliImageModel as B\n"
                       "show(B.fit_closed_form)\nshow(B.distribution)")
    finally:
        InteractiveShell.clear_instance()
    assert [m["course_utils.show"]["object"].rsplit(".", 1)[1] for m in shown] == ["fit_closed_form", "distribution"]


def test_environment_report_lists_data_and_checkpoints():
    report = environment_report()
    assert "OK   mnist/train10k-images-idx3-ubyte.gz" in report
    assert "bernoulli_mnist" in report


def test_cli_lists_and_evaluates(capsys):
    assert main(["list"]) == 0
    assert "ae_mnist_2d" in capsys.readouterr().out
    assert main(["evaluate", "bernoulli_mnist"]) == 0
    assert "OK" in capsys.readouterr().out
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        main(["evaluate", "nope"])


def test_quick_benchmark_writes_one_table_per_dataset(tmp_path):
    from course_utils.benchmark import run_benchmark

    out = tmp_path / "B.md"
    rows = run_benchmark(quick=True, output=str(out), names=["bernoulli_mnist", "gan_grid25_mbstd", "dcgan_fashion"])
    text = out.read_text()
    assert [r["model"] for r in rows] == ["bernoulli_mnist", "gan_grid25_mbstd", "dcgan_fashion"]
    assert "## MNIST" in text and "## Fashion-MNIST" in text and "python -m course_utils benchmark --quick" in text
    bernoulli = rows[0]
    assert bernoulli["test NLL (nats)"] == pytest.approx(208.077, abs=0.01)
    assert bernoulli["course FID (2,000 samples)"].endswith("(500 samples)")
    assert "25/25 modes" in rows[1]["headline metric"] and rows[1]["test NLL (nats)"] == "none (implicit)"


def test_sampling_flops_counts_every_product_and_update_of_a_sampler():
    from course_utils.benchmark import sampling_flops
    from course_utils.models.autoregressive import NADE
    from course_utils.models.pixel_models import PixelCNN

    # NADE draws each of its D pixels with one matrix-vector product (2nH), the update a += x_i W[:, i]
    # (nH multiplies, nH adds) and a bias add (n): D n (4H + 1) in all, linear in n.
    nade = NADE(NADE.Config(shape=(1, 4, 5), hidden=3))
    assert sampling_flops(nade, 1) == 20 * (4 * 3 + 1)
    assert sampling_flops(nade, 6) == 6 * sampling_flops(nade, 1)
    # A PixelCNN step runs a layer stack per pixel: far more arithmetic than NADE's update.
    assert sampling_flops(PixelCNN(), 2) > 10 * sampling_flops(NADE(), 2)


def test_default_threads_leave_a_core_free(monkeypatch):
    from course_utils.runtime import default_threads

    assert [default_threads(c) for c in (1, 2, 3, 4, 8, 64)] == [1, 1, 2, 3, 4, 4]
    before = torch.get_num_threads()
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    try:
        assert set_threads() == default_threads()
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        assert set_threads() == 1
    finally:
        set_threads(before)


def test_train_uses_every_core_unless_told(monkeypatch, capsys, tmp_path):
    # A training run uses every core (most sidecars' times were measured so); a notebook kernel leaves one free.
    import os
    from types import SimpleNamespace

    trained = []

    def run():  # a recipe's run: (model, metrics, seconds); here it only notes the threads it was given
        trained.append(torch.get_num_threads())
        return None, {"loss": 1.0}, 0.1

    monkeypatch.setattr("course_utils.zoo.get_recipe", lambda name: SimpleNamespace(half=False, run=run))
    monkeypatch.setattr("course_utils.checkpoints.save", lambda *a, **k: tmp_path / "x.pt")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    try:
        assert main(["train", "some_model"]) == 0
        assert main(["train", "some_model", "--threads", "1"]) == 0
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        assert main(["train", "some_model"]) == 0
        assert trained == [os.cpu_count(), 1, 1]
        assert f"training with {os.cpu_count()} torch thread(s)" in capsys.readouterr().out
        with pytest.raises(ValueError, match="positive int"):
            main(["train", "some_model", "--threads", "0"])
    finally:
        set_threads(before)


@pytest.mark.slow
def test_the_whole_quick_benchmark_runs_from_the_command_line(tmp_path):
    # Every model of the zoo through `python -m course_utils benchmark --quick` (about 45 s on one thread): the
    # command the README offers keeps working. It prints, and writes only where --output says.
    import subprocess
    import sys

    from course_utils.zoo import RECIPES

    out = tmp_path / "BENCHMARKS-quick.md"
    run = subprocess.run([sys.executable, "-m", "course_utils", "benchmark", "--quick", "--output", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    text = out.read_text()
    missing = [name for name in RECIPES if name not in text]
    assert not missing, f"the quick benchmark lost models {missing}"
