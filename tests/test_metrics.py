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


def test_recognisability_counts_confident_images_and_their_classes():
    from course_utils.metrics import recognisability

    probs = torch.tensor([[0.95, 0.05, 0.0], [0.02, 0.97, 0.01], [0.5, 0.5, 0.0], [0.91, 0.09, 0.0]])
    r = recognisability(probs)
    assert r.share == 0.75 and r.counts == (2, 1, 0) and r.classes_present == 2 and r.num_classes == 3
    assert recognisability(probs, threshold=0.96).share == 0.25
    assert recognisability(probs, min_count=2).classes_present == 1
    assert str(r) == "75.0% recognisable, 2/3 classes"
    with pytest.raises(ValueError, match="probabilities.*logits"):
        recognisability(torch.randn(4, 3))
    with pytest.raises(ValueError, match="threshold in \\(0, 1\\]"):
        recognisability(probs, threshold=0)


def test_real_digits_are_recognisable_and_noise_is_not():
    from course_utils.data import load_mnist
    from course_utils.evaluation import recognisable

    real = recognisable(load_mnist("test")[0])
    assert real.share > 0.9 and real.classes_present == 10
    # A classifier can be confident on garbage: uniform noise is "recognised" as one class. The class count
    # exposes it (a mode count on images), which is why the benchmark reports both.
    noise = recognisable(torch.rand(500, 1, 28, 28, generator=torch.Generator().manual_seed(0)))
    assert noise.classes_present <= 1


def test_a_quick_benchmark_from_the_command_line_does_not_replace_the_committed_tables(monkeypatch):
    from course_utils import __main__ as cli
    from course_utils import benchmark

    calls = []
    monkeypatch.setattr(benchmark, "run_benchmark", lambda quick, output: calls.append((quick, output)))
    cli.main(["benchmark", "--quick"])
    cli.main(["benchmark", "--quick", "--output", "elsewhere.md"])
    cli.main(["benchmark"])
    assert calls == [(True, None), (True, "elsewhere.md"), (False, "BENCHMARKS.md")]
