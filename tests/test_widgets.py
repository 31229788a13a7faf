import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_utils.widgets import gaussian_likelihood_explorer, gaussian_likelihood_view  # noqa: E402


def test_gaussian_view_returns_the_log_likelihood_it_draws():
    data = torch.randn(500) * 2 + 1
    value = gaussian_likelihood_view(data, 1.0, 2.0)
    expected = torch.distributions.Normal(1.0, 2.0).log_prob(data).mean().item()
    assert value == pytest.approx(expected, rel=1e-5)
    assert f"{expected:.3f}" in plt.gca().get_title()
    plt.close("all")
    with pytest.raises(ValueError, match="sigma must be positive"):
        gaussian_likelihood_view(data, 0.0, -1.0)


def test_explorer_responds_to_its_sliders():
    data = torch.randn(300) + 3
    explorer = gaussian_likelihood_explorer(data)
    mu, sigma = explorer.children[0], explorer.children[1]
    explorer.update()
    before = explorer.result
    mu.value = float(data.mean())
    sigma.value = round(float(data.std()), 2)
    assert explorer.result > before  # moving to the MLE raises the log-likelihood
    plt.close("all")
