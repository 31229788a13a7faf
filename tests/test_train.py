import time
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from course_utils import fit
from course_utils.models.gans import GAN
from course_utils.train import TrainingDiverged, fit_gan, live_or_shipped, smooth


class LinearRegression(nn.Module):
    @dataclass(frozen=True)
    class Config:
        dim: int = 3

    def __init__(self, config=None):
        super().__init__()
        self.config = config or self.Config()
        self.w = nn.Parameter(torch.zeros(self.config.dim))

    def loss(self, x):
        return ((x @ self.w - x.sum(1)) ** 2).mean()


class ExplodingModel(LinearRegression):
    def loss(self, x):
        return super().loss(x) * (torch.tensor(float("nan")) if self.w.abs().sum() > 0 else 1.0)


def test_loss_decreases_on_a_tiny_problem():
    x = torch.randn(256, 3)
    hist = fit(LinearRegression(), x, epochs=20, batch_size=32, lr=0.05, progress=False, device="cpu")
    assert hist.epochs == 20 and hist.stopped_by == "epochs"
    assert hist.train_loss[-1] < 0.01 * hist.train_loss[0]


def test_nan_guard_names_the_step_and_what_to_try():
    x = torch.randn(64, 3)
    with pytest.raises(TrainingDiverged, match=r"epoch 1, step 2 .*smaller learning rate"):
        fit(ExplodingModel(), x, epochs=1, batch_size=16, progress=False, device="cpu")


def test_seconds_budget_is_respected():
    x = torch.randn(200_000, 3)
    hist = fit(LinearRegression(), x, seconds=0.5, batch_size=8, progress=False, device="cpu")
    assert hist.stopped_by == "seconds"
    assert 0.5 <= hist.seconds < 1.0
    assert hist.steps < 200_000 // 8  # stopped inside the first epoch


def test_test_metric_and_callbacks_run_each_epoch():
    seen = []
    hist = fit(LinearRegression(), torch.randn(64, 3), epochs=3, batch_size=32, progress=False, device="cpu",
               test_metric=lambda m: m.w.sum().item(), callbacks=[lambda m, h: seen.append(h.epochs)])
    assert len(hist.test_metric) == 3 and seen == [1, 2, 3]


@pytest.mark.parametrize("kwargs, message", [
    ({}, "needs a budget"),
    ({"epochs": 0}, "epochs must be a positive int"),
    ({"epochs": -2}, "epochs must be a positive int"),
    ({"seconds": 0}, "seconds must be a positive number"),
])
def test_bad_budgets(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit(LinearRegression(), torch.randn(8, 3), progress=False, **kwargs)


def test_bad_data_and_model():
    with pytest.raises(TypeError, match="tensor of training examples"):
        fit(LinearRegression(), [[1, 2, 3]], epochs=1)
    with pytest.raises(TypeError, match="loss"):
        fit(nn.Linear(3, 1), torch.randn(8, 3), epochs=1)


def test_same_seed_same_result():
    x = torch.randn(128, 3)
    a = fit(LinearRegression(), x, epochs=2, batch_size=16, progress=False, device="cpu", seed=1)
    b = fit(LinearRegression(), x, epochs=2, batch_size=16, progress=False, device="cpu", seed=1)
    assert a.step_loss == b.step_loss


# ---------------------------------------------------------------- budgets, caps and short runs

def notice(out: str) -> str:
    """A live cell's printed notice as one line, after checking it fits a slide (no line over 80 characters)."""
    too_wide = [line for line in out.splitlines() if len(line) > 80]
    assert not too_wide, f"a notice line over 80 characters runs off a projected slide: {too_wide}"
    return " ".join(out.split())


def test_a_cap_that_stops_training_early_is_reported(capsys):
    x = torch.randn(4096, 3)
    hist = fit(LinearRegression(), x, epochs=10_000, seconds=0.3, batch_size=8, progress=False, device="cpu")
    assert hist.cut_short and hist.stopped_by == "seconds" and hist.budget == "10,000 epochs"
    out = notice(capsys.readouterr().out)
    assert "0.3 s cap stopped training" in out and "10,000 epochs" in out


def test_a_budget_reached_within_the_cap_is_not_cut_short(capsys):
    hist = fit(LinearRegression(), torch.randn(64, 3), epochs=2, seconds=60, batch_size=8, progress=False,
               device="cpu")
    assert hist.stopped_by == "epochs" and not hist.cut_short
    assert "cap" not in capsys.readouterr().out


def test_seconds_alone_are_a_budget_not_a_cap(capsys):
    hist = fit(LinearRegression(), torch.randn(64, 3), seconds=0.2, batch_size=8, progress=False, device="cpu")
    assert hist.stopped_by == "seconds" and not hist.cut_short
    assert "cap" not in capsys.readouterr().out


def test_fit_gan_excludes_callback_time_from_training_time():
    gan = GAN(GAN.Config(latent_dim=2, hidden=(8,)))
    hist = fit_gan(gan, torch.randn(256, 2), steps=4, batch_size=64, progress=False, device="cpu",
                   callbacks=[lambda g, h: time.sleep(0.5)], callback_every=1)
    assert hist.steps == 4
    assert hist.seconds < 0.5, f"four 0.5 s callbacks must not count as training time, got {hist.seconds:.2f} s"


def test_fit_gan_cap_and_live_or_shipped(capsys, monkeypatch):
    gan = GAN(GAN.Config(latent_dim=2, hidden=(8,)))
    slow = [lambda g, h: time.sleep(0.05)]  # not training time, so the cap needs real steps: use a tiny cap
    hist = fit_gan(gan, torch.randn(256, 2), steps=1_000_000, seconds=0.2, batch_size=64, progress=False,
                   device="cpu", callbacks=slow, callback_every=1000)
    assert hist.cut_short and hist.budget == "1,000,000 steps"
    assert "cap stopped training" in notice(capsys.readouterr().out)
    shipped = object()
    monkeypatch.setattr("course_utils.checkpoints.load_pretrained", lambda name: shipped)
    assert live_or_shipped(gan, hist, "gan_ring8") is shipped
    assert "shipped checkpoint 'gan_ring8'" in notice(capsys.readouterr().out)
    full = fit_gan(gan, torch.randn(256, 2), steps=2, seconds=60, batch_size=64, progress=False, device="cpu")
    assert live_or_shipped(gan, full, "gan_ring8") is gan


@pytest.mark.parametrize("n", [0, 1, 7, 49, 50, 51, 500])
def test_smooth_never_fails_on_short_runs(n):
    ends, means = smooth([float(i) for i in range(n)], window=50, every=10)
    assert len(ends) == len(means)
    if n:
        assert means and ends[-1] <= n
        assert means[0] == pytest.approx(sum(range(min(n, 50))) / min(n, 50))


def test_the_training_cap_from_the_environment_cuts_fit_short(monkeypatch, capsys):
    # CI runs the student edition with COURSE_MAX_TRAIN_SECONDS set: live cells stop early and say so.
    from course_utils.models.density import BernoulliImageModel
    from course_utils.runtime import capped_seconds
    from course_utils.train import fit

    monkeypatch.setenv("COURSE_MAX_TRAIN_SECONDS", "0.001")
    assert capped_seconds(None) == 0.001 and capped_seconds(5) == 0.001
    hist = fit(BernoulliImageModel(), torch.randint(0, 2, (2000, 1, 28, 28)).float(), epochs=50, batch_size=10,
               lr=1e-2, progress=False)
    assert hist.cut_short and "cap stopped training" in notice(capsys.readouterr().out)
    monkeypatch.setenv("COURSE_MAX_TRAIN_SECONDS", "soon")
    with pytest.raises(ValueError, match="number of seconds"):
        capped_seconds(3)
    monkeypatch.delenv("COURSE_MAX_TRAIN_SECONDS")
    assert capped_seconds(3) == 3 and capped_seconds(None) is None


def test_claims_about_cut_short_runs_are_reported_not_asserted(capsys):
    from course_utils.train import History, assert_if_trained

    full, short = History(budget="5 epochs", stopped_by="epochs"), History(budget="5 epochs", stopped_by="seconds")
    assert_if_trained(True, "fine", full)
    with pytest.raises(AssertionError, match="the claim"):
        assert_if_trained(False, "the claim", full)
    assert_if_trained(False, "the claim", full, short)
    assert "not checked: 1 of 2" in notice(capsys.readouterr().out)


def test_the_sample_cap_from_the_environment_lowers_the_default_sample_count(monkeypatch):
    # CI runs the student edition with COURSE_MAX_SAMPLES set: notebook 06's measurements on fewer samples.
    from course_utils.evaluation import FID_SAMPLES, seeded_samples
    from course_utils.models.density import BernoulliImageModel
    from course_utils.runtime import capped_samples

    model = BernoulliImageModel()
    monkeypatch.delenv("COURSE_MAX_SAMPLES", raising=False)
    assert capped_samples(FID_SAMPLES) == FID_SAMPLES and len(seeded_samples(model)) == FID_SAMPLES
    monkeypatch.setenv("COURSE_MAX_SAMPLES", "500")
    assert len(seeded_samples(model)) == 500
    assert len(seeded_samples(model, 16)) == 16 and len(seeded_samples(model, 2500)) == 2500  # explicit n: as asked
    assert torch.equal(seeded_samples(model), seeded_samples(model, 2000)[:500])  # the same seeded draws, fewer
    for bad in ("many", "0", "-3", "2.5"):
        monkeypatch.setenv("COURSE_MAX_SAMPLES", bad)
        with pytest.raises(ValueError, match="COURSE_MAX_SAMPLES must be a positive whole number"):
            seeded_samples(model)
