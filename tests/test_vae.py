"""VAE: the KL in closed form, the reparameterisation, and the ELBO <= IWAE_k <= IWAE_k' <= log p(x) ordering."""

import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from course_utils.models.vae import VAE, gaussian_kl, reparameterize


def test_closed_form_kl_matches_torch_and_monte_carlo():
    mu, logvar = torch.randn(4, 3), torch.randn(4, 3)
    q, p = Normal(mu, (0.5 * logvar).exp()), Normal(torch.zeros(3), torch.ones(3))
    assert torch.allclose(gaussian_kl(mu, logvar), kl_divergence(q, p).sum(-1), atol=1e-5)
    z = q.sample((200_000,))
    mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean(0)
    assert torch.allclose(gaussian_kl(mu, logvar), mc, rtol=0.03, atol=0.03)


def test_reparameterised_samples_carry_gradients_and_have_the_right_moments():
    mu = torch.tensor([1.0, -2.0], requires_grad=True)
    logvar = torch.tensor([0.0, math.log(4.0)], requires_grad=True)
    z = reparameterize(mu.expand(100_000, 2), logvar.expand(100_000, 2))
    z.mean(0).sum().backward()
    assert mu.grad is not None and torch.allclose(mu.grad, torch.ones(2))
    assert logvar.grad is not None
    assert torch.allclose(z.mean(0), mu.detach(), atol=0.03) and torch.allclose(z.std(0), torch.tensor([1.0, 2.0]), atol=0.03)


@pytest.mark.parametrize("arch", ["mlp", "conv"])
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_shapes(arch, likelihood):
    vae = VAE(VAE.Config(latent_dim=5, hidden=(32,), arch=arch, channels=4, likelihood=likelihood))
    x = torch.bernoulli(torch.full((3, 1, 28, 28), 0.3))
    mu, logvar = vae.posterior(x)
    assert mu.shape == logvar.shape == (3, 5)
    assert vae.decode(mu).shape == (3, 1, 28, 28)
    assert vae.elbo(x).shape == (3,) and vae.log_prob(x, k=7, chunk=3).shape == (3,)
    assert vae.sample(4).shape == (4, 1, 28, 28) and vae.loss(x).dim() == 0


def test_iwae_tightens_with_k():
    """E[IWAE_1] = E[ELBO] (same estimator), and E[IWAE_k] rises with k; compared within 4 standard errors."""
    torch.manual_seed(0)
    vae = VAE(VAE.Config(latent_dim=4, hidden=(64,)))
    with torch.no_grad():  # a decoder that depends strongly on z, so q(z|x) is far from the posterior
        vae.decoder[-2].weight.mul_(10)
    x = torch.bernoulli(torch.full((20, 1, 28, 28), 0.2))

    def mean_and_se(draws):
        draws = torch.stack(draws).flatten()
        return draws.mean().item(), draws.std().item() / len(draws) ** 0.5

    elbo, se_elbo = mean_and_se([vae.elbo(x) for _ in range(100)])
    iwae1, se1 = mean_and_se([vae.log_prob(x, k=1) for _ in range(100)])
    iwae10, se10 = mean_and_se([vae.log_prob(x, k=10) for _ in range(20)])
    iwae100, se100 = mean_and_se([vae.log_prob(x, k=100) for _ in range(5)])
    assert abs(iwae1 - elbo) < 4 * (se_elbo**2 + se1**2) ** 0.5
    assert iwae10 - iwae1 > 4 * (se1**2 + se10**2) ** 0.5
    assert iwae100 - iwae10 > 4 * (se10**2 + se100**2) ** 0.5


def test_iwae_approaches_log_p_by_numerical_integration():
    """With a 1-D latent, log p(x) = log ∫ p(z) p(x|z) dz is a 1-D integral: compare IWAE with a quadrature."""
    torch.manual_seed(0)
    vae = VAE(VAE.Config(latent_dim=1, hidden=(16,)))
    with torch.no_grad():  # make p(x|z) depend strongly on z
        vae.decoder[-2].weight.mul_(20)
    x = torch.bernoulli(vae.decode(torch.tensor([[0.7], [-1.2]])))
    grid = torch.linspace(-8, 8, 4001)[:, None]
    with torch.no_grad():
        log_joint = torch.stack([vae.log_likelihood(xi, grid) for xi in x]) + Normal(0, 1).log_prob(grid[:, 0])
    exact = torch.logsumexp(log_joint, 1) + math.log(grid[1, 0] - grid[0, 0])
    iwae = vae.log_prob(x, k=20_000, chunk=2000)
    elbo = torch.stack([vae.elbo(x) for _ in range(200)]).mean(0)
    assert torch.allclose(iwae, exact, atol=0.05), (iwae, exact)
    assert (elbo <= exact + 0.05).all()


def test_clear_errors():
    vae = VAE(VAE.Config(latent_dim=3, hidden=(8,)))
    with pytest.raises(ValueError, match=r"values in \{0, 1\}"):
        vae.elbo(torch.full((2, 1, 28, 28), 0.5))
    with pytest.raises(ValueError, match=r"expects z of shape \(N, 3\)"):
        vae.decode(torch.zeros(2, 2))
    with pytest.raises(ValueError, match="arch='rnn' is not implemented; expected one of 'mlp', 'conv'"):
        VAE(VAE.Config(arch="rnn"))
    with pytest.raises(ValueError, match="positive int"):
        vae.log_prob(torch.zeros(1, 1, 28, 28), k=0)
