import itertools
import math

import pytest
import torch

from course_utils.models.density import BernoulliImageModel, DiagonalGaussian, FullGaussian, GaussianMixture


def all_binary_images(c, h, w):
    d = c * h * w
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=d))).view(-1, c, h, w)  # (2^d, c, h, w)


def test_bernoulli_probabilities_of_all_binary_images_sum_to_one():
    m = BernoulliImageModel(BernoulliImageModel.Config(shape=(1, 2, 3)))
    with torch.no_grad():
        m.logits.normal_()
    x = all_binary_images(1, 2, 3)
    assert torch.logsumexp(m.log_prob(x), 0).item() == pytest.approx(0.0, abs=1e-5)


def test_bernoulli_closed_form_is_the_pixel_mean_and_samples_match_it():
    x = torch.bernoulli(torch.full((4000, 1, 2, 2), 0.3))
    m = BernoulliImageModel(BernoulliImageModel.Config(shape=(1, 2, 2))).fit_closed_form(x)
    torch.testing.assert_close(m.probs, x.mean(0), atol=1e-6, rtol=1e-5)
    s = m.sample(20000)
    assert s.shape == (20000, 1, 2, 2) and set(s.unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(s.mean(0), m.probs, atol=0.015, rtol=0)


def test_bernoulli_rejects_grey_levels_and_wrong_shapes():
    m = BernoulliImageModel()
    with pytest.raises(ValueError, match=r"values in \{0, 1\}.*dynamic_binarize"):
        m.log_prob(torch.rand(2, 1, 28, 28))
    with pytest.raises(ValueError, match=r"expects x of shape \(N, 1, 28, 28\), got \(1, 28, 28\).*unsqueeze"):
        m.log_prob(torch.zeros(1, 28, 28))
    with pytest.raises(TypeError, match="torch.Tensor"):
        m.log_prob([[0, 1]])
    with pytest.raises(ValueError, match="positive int"):
        m.sample(0)


@pytest.mark.parametrize("model", [DiagonalGaussian(), FullGaussian(), GaussianMixture(GaussianMixture.Config(components=3))])
def test_2d_densities_integrate_to_one(model):
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.3)
    n = 300
    xs = torch.linspace(-8, 8, n)
    pts = torch.cartesian_prod(xs, xs)  # (n*n, 2)
    cell = (16 / (n - 1)) ** 2
    assert model.log_prob(pts).exp().sum().item() * cell == pytest.approx(1.0, abs=0.01)


def test_1d_gaussian_integrates_to_one_numerically():
    m = DiagonalGaussian(DiagonalGaussian.Config(dim=1))
    with torch.no_grad():
        m.mean.fill_(0.7)
        m.log_std.fill_(math.log(0.4))
    xs = torch.linspace(-5, 5, 20001).unsqueeze(1)
    assert torch.trapezoid(m.log_prob(xs).exp(), xs[:, 0]).item() == pytest.approx(1.0, abs=1e-6)


def test_gaussian_closed_form_mle_matches_sample_moments_and_samples():
    torch.manual_seed(1)
    true_cov = torch.tensor([[1.0, 0.6], [0.6, 0.5]])
    x = torch.distributions.MultivariateNormal(torch.tensor([1.0, -2.0]), true_cov).sample((20000,))
    full = FullGaussian().fit_closed_form(x)
    cov = full.scale_tril @ full.scale_tril.T
    torch.testing.assert_close(cov, torch.cov(x.T, correction=0), atol=1e-4, rtol=1e-4)
    diag = DiagonalGaussian().fit_closed_form(x)
    torch.testing.assert_close(diag.mean, x.mean(0), atol=1e-5, rtol=1e-5)
    s = full.sample(20000)
    torch.testing.assert_close(s.mean(0), x.mean(0), atol=0.03, rtol=0)
    torch.testing.assert_close(torch.cov(s.T), true_cov, atol=0.05, rtol=0)
    # the MLE has the highest likelihood: any perturbation lowers it
    with torch.no_grad():
        before = full.log_prob(x).mean()
        full.mean.add_(0.05)
        assert full.log_prob(x).mean() < before


def test_mixture_log_prob_is_logsumexp_of_components():
    m = GaussianMixture(GaussianMixture.Config(dim=2, components=4))
    x = torch.randn(7, 2)
    comps = torch.stack([
        torch.distributions.Normal(m.means[k], m.log_stds[k].exp()).log_prob(x).sum(1) for k in range(4)
    ], 1)  # (7, 4)
    expected = torch.logsumexp(comps + torch.log_softmax(m.weight_logits, 0), 1)
    torch.testing.assert_close(m.log_prob(x), expected)


def test_gaussian_rejects_bad_input():
    m = FullGaussian(FullGaussian.Config(dim=2))
    with pytest.raises(ValueError, match=r"shape \(N, 2\), got \(5, 3\)"):
        m.log_prob(torch.zeros(5, 3))
    with pytest.raises(ValueError, match="NaN or inf"):
        m.log_prob(torch.tensor([[float("nan"), 0.0]]))
    with pytest.raises(TypeError, match="float tensor"):
        m.log_prob(torch.zeros(5, 2, dtype=torch.long))
