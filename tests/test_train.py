from dataclasses import dataclass

import pytest
import torch
from torch import nn

from course_utils import fit
from course_utils.train import TrainingDiverged


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
