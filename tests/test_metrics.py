import math

import pytest
import torch

from course_utils.metrics import bits_per_dim, evaluate_nll, nats_from_bits_per_dim
from course_utils.models.density import DiagonalGaussian


def test_bits_per_dim_known_value_and_round_trip():
    assert bits_per_dim(784 * math.log(2)) == pytest.approx(1.0)
    assert nats_from_bits_per_dim(bits_per_dim(87.3)) == pytest.approx(87.3)
    with pytest.raises(ValueError, match="dims must be positive"):
        bits_per_dim(1.0, dims=0)


def test_evaluate_nll_is_mean_negative_log_prob():
    m = DiagonalGaussian(DiagonalGaussian.Config(dim=2))
    x = torch.randn(1001, 2)
    assert evaluate_nll(m, x, batch_size=100) == pytest.approx(-m.log_prob(x).mean().item(), rel=1e-5)
    with pytest.raises(TypeError, match="not a density model"):
        evaluate_nll(torch.nn.Linear(2, 2), x)
