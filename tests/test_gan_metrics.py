"""Mode coverage, the Fréchet distance and the course's FID feature network."""

import numpy as np
import pytest
import torch
from scipy import linalg

from course_utils import data
from course_utils.metrics import course_fid, frechet_distance, gaussian_statistics, mode_coverage
from course_utils.models.features import MNISTClassifier, load_feature_network, random_shift

RING = data.ring_of_gaussians()
MODES = RING.component_distribution.base_dist.loc


def test_samples_on_five_of_eight_modes_cover_five():
    torch.manual_seed(0)
    x = MODES[torch.arange(2500) % 5] + 0.02 * torch.randn(2500, 2)
    cov = mode_coverage(x, MODES, std=0.02)
    assert cov.modes_captured == 5 and cov.modes_total == 8
    assert cov.high_quality_fraction > 0.98  # 3 sigma keeps 98.9% of a 2-D Gaussian's mass
    assert sum(cov.counts[5:]) == 0 and "5/8 modes" in str(cov)


def test_far_samples_are_not_high_quality_and_strays_do_not_capture_a_mode():
    x = torch.cat([MODES[:1].expand(990, 2), torch.zeros(5, 2), MODES[1:2].expand(5, 2)])
    cov = mode_coverage(x, MODES, std=0.02)
    assert cov.high_quality_fraction == pytest.approx(995 / 1000)
    assert cov.modes_captured == 1  # 5 samples < 10% of a fair share (1000 / 8)
    assert mode_coverage(x, MODES, std=0.02, min_count=1).modes_captured == 2


def test_true_samples_cover_every_mode_of_both_protocols():
    torch.manual_seed(0)
    grid = data.grid_of_gaussians()
    cov = mode_coverage(grid.sample((2500,)), grid.component_distribution.base_dist.loc, std=0.05)
    assert cov.modes_captured == 25 and cov.high_quality_fraction > 0.97


def test_mode_coverage_bad_input():
    with pytest.raises(ValueError, match="std > 0"):
        mode_coverage(torch.zeros(4, 2), MODES, std=0)
    with pytest.raises(ValueError, match=r"modes of shape \(N, 3\)"):
        mode_coverage(torch.zeros(4, 3), MODES, std=0.02)


def test_frechet_distance_identical_is_zero_and_matches_scipy_sqrtm():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6))
    mu, cov = gaussian_statistics(f)
    assert abs(frechet_distance(mu, cov, mu, cov)) < 1e-8
    a, b = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    c1, c2 = a @ a.T, b @ b.T
    reference = np.trace(c1) + np.trace(c2) - 2 * np.trace(linalg.sqrtm(c1 @ c2).real)
    assert frechet_distance(np.zeros(6), c1, np.zeros(6), c2) == pytest.approx(reference, rel=1e-9)


def test_frechet_distance_of_shifted_gaussians_has_the_closed_form():
    # N(m1, diag a) vs N(m2, diag b): ||m1 - m2||^2 + sum (sqrt a - sqrt b)^2
    m1, m2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    a, b = np.array([1.0, 4.0, 0.25]), np.array([4.0, 1.0, 0.25])
    expected = 5.0 + 1.0 + 1.0 + 0.0
    assert frechet_distance(m1, np.diag(a), m2, np.diag(b)) == pytest.approx(expected)
    assert frechet_distance(m2, np.diag(b), m1, np.diag(a)) == pytest.approx(expected)  # symmetric
    # and from samples: two large Gaussian samples differing by a shift of 3 in one coordinate
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(50_000, 2)), rng.normal(size=(50_000, 2)) + [3.0, 0.0]
    assert frechet_distance(*gaussian_statistics(x), *gaussian_statistics(y)) == pytest.approx(9.0, abs=0.1)


def test_frechet_distance_bad_input():
    with pytest.raises(ValueError, match="same d"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="NaN or inf"):
        frechet_distance(np.zeros(2), np.eye(2) * np.nan, np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match=r"\(N, d\) with N >= 2"):
        gaussian_statistics(np.zeros(5))


def test_course_fid_is_zero_on_identical_sets_and_grows_with_corruption():
    x = data.load_mnist("test")[0][:500]
    net = load_feature_network()
    assert abs(course_fid(x, x, net)) < 1e-3  # rounding only: real differences are > 1
    noisy = (x + 0.3 * torch.rand_like(x)).clamp(0, 1)
    very_noisy = (x + 0.8 * torch.rand_like(x)).clamp(0, 1)
    assert 0 < course_fid(x, noisy, net) < course_fid(x, very_noisy, net)


def test_shipped_feature_network_is_accurate():
    x, y = data.load_mnist("test")
    acc = (load_feature_network().predict(x) == y).double().mean().item()
    assert acc >= 0.98


def test_classifier_shapes_and_bad_input():
    net = MNISTClassifier()
    x = torch.rand(3, 1, 28, 28)
    assert net(x).shape == (3, 10) and net.features(x).shape == (3, 128) and net.predict(x).shape == (3,)
    with pytest.raises(ValueError, match=r"images in \[0, 1\]"):
        net(x * 255)


def test_random_shift_moves_whole_images():
    x = torch.zeros(50, 1, 28, 28)
    x[:, :, 10:14, 10:14] = 1.0
    y = random_shift(x, max_shift=2)
    assert y.shape == x.shape and torch.equal(y.sum((1, 2, 3)), x.sum((1, 2, 3)))
    assert (y != x).any(dim=(1, 2, 3)).float().mean() > 0.5


def test_seeded_samples_repeat():
    from course_utils.evaluation import seeded_samples
    from course_utils.models.density import BernoulliImageModel
    from course_utils.models.gans import GAN

    for model in (BernoulliImageModel(), GAN(GAN.Config(data_shape=(1, 28, 28), hidden=(8,)))):
        torch.testing.assert_close(seeded_samples(model, 5, seed=1), seeded_samples(model, 5, seed=1))
        assert not torch.equal(seeded_samples(model, 5, seed=1), seeded_samples(model, 5, seed=2))


def test_fashion_test_set_is_binarized_once_and_the_feature_networks_are_named():
    a, y = data.binarized_fashion_mnist_test()
    b, _ = data.binarized_fashion_mnist_test()
    assert a.shape == (10000, 1, 28, 28) and y.shape == (10000,) and torch.equal(a, b)
    assert set(a.unique().tolist()) == {0.0, 1.0}
    with pytest.raises(ValueError, match="expected 'mnist' or 'fashion'"):
        load_feature_network("cifar")
