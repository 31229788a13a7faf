"""VAE: the KL in closed form, the reparameterisation, and the ELBO <= IWAE_k <= IWAE_k' <= log p(x) ordering."""

import dataclasses
import math

import pytest
import torch
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal, kl_divergence

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


@pytest.mark.parametrize("prior", ["standard", "mixture"])
def test_iwae_tightens_with_k(prior):
    """E[IWAE_1] = E[ELBO] (same estimator), and E[IWAE_k] rises with k; compared within 4 standard errors.
    With the mixture prior, the learned p(z) enters the ELBO's KL (a Monte-Carlo term) and the IWAE weights."""
    torch.manual_seed(0)
    vae = VAE(VAE.Config(latent_dim=4, hidden=(64,))) if prior == "standard" else _mixture_vae(latent_dim=4)
    with torch.no_grad():  # a decoder that depends strongly on z, so q(z|x) is far from the posterior
        vae.decoder[-2].weight.mul_(10)
    x = torch.bernoulli(torch.full((20, 1, 28, 28), 0.2))

    def mean_and_se(draws):
        draws = torch.stack(draws).flatten()
        return draws.mean().item(), draws.std().item() / len(draws) ** 0.5

    with torch.no_grad():
        elbo, se_elbo = mean_and_se([vae.elbo(x) for _ in range(100)])
        iwae1, se1 = mean_and_se([vae.log_prob(x, k=1) for _ in range(100)])
        iwae10, se10 = mean_and_se([vae.log_prob(x, k=10) for _ in range(20)])
        iwae100, se100 = mean_and_se([vae.log_prob(x, k=100) for _ in range(5)])
    assert abs(iwae1 - elbo) < 4 * (se_elbo**2 + se1**2) ** 0.5
    assert iwae10 - elbo > 4 * (se_elbo**2 + se10**2) ** 0.5
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


# ---------------------------------------------------------------- the learned (mixture) prior


def _mixture_vae(latent_dim=3, components=4, seed=0):
    torch.manual_seed(seed)
    vae = VAE(VAE.Config(latent_dim=latent_dim, hidden=(16,), prior="mixture", prior_components=components))
    with torch.no_grad():  # an uneven mixture, so that weights and variances matter
        vae.prior.means.normal_(0, 2)
        vae.prior.logvars.uniform_(-1, 1)
        vae.prior.logits.normal_()
    return vae


def test_mixture_prior_log_density_matches_torch_and_integrates_to_one():
    prior = _mixture_vae().prior
    reference = MixtureSameFamily(Categorical(logits=prior.logits),
                                  Independent(Normal(prior.means, (0.5 * prior.logvars).exp()), 1))
    z = torch.randn(7, 5, 3) * 3
    torch.testing.assert_close(prior.log_prob(z), reference.log_prob(z))
    prior_1d = _mixture_vae(latent_dim=1, components=3).prior.double()  # float64: a sum of 40,001 terms
    grid = torch.linspace(-20, 20, 40_001, dtype=torch.float64)[:, None]
    with torch.no_grad():
        mass = prior_1d.log_prob(grid).exp().sum() * (grid[1, 0] - grid[0, 0])
    assert abs(mass.item() - 1) < 1e-4


def test_standard_prior_is_the_unit_normal_and_adds_no_weights():
    vae = VAE(VAE.Config(latent_dim=3, hidden=(16,)))
    z = torch.randn(10, 3)
    torch.testing.assert_close(vae.prior.log_prob(z), Normal(0.0, 1.0).log_prob(z).sum(-1))
    assert not any(key.startswith("prior.") for key in vae.state_dict())  # older checkpoints still load
    assert {key for key in _mixture_vae().state_dict() if key.startswith("prior.")} == {
        "prior.means", "prior.logvars", "prior.logits"}


def test_monte_carlo_kl_matches_the_closed_form_for_a_unit_normal_prior():
    """The mixture path's KL, log q(z|x) - log p(z), averages to the closed form when p(z) is N(0, I)."""
    vae = VAE(VAE.Config(latent_dim=3, hidden=(16,), prior="mixture", prior_components=1))
    with torch.no_grad():
        vae.prior.means.zero_()
        vae.prior.logvars.zero_()
    x = torch.bernoulli(torch.full((4, 1, 28, 28), 0.3))
    with torch.no_grad():
        mu, logvar = vae.posterior(x)
        draws = torch.stack([vae.elbo_terms(x)[1] for _ in range(20_000)])
    mc, se = draws.mean(0), draws.std(0) / len(draws) ** 0.5
    assert (abs(mc - gaussian_kl(mu, logvar)) < 4 * se + 1e-3).all(), (mc, gaussian_kl(mu, logvar))


def test_iwae_with_a_mixture_prior_approaches_log_p_by_numerical_integration():
    vae = _mixture_vae(latent_dim=1, components=3)
    with torch.no_grad():
        vae.decoder[-2].weight.mul_(20)
    x = torch.bernoulli(vae.decode(torch.tensor([[0.7], [-1.2]])))
    grid = torch.linspace(-15, 15, 6001)[:, None]
    with torch.no_grad():
        log_joint = torch.stack([vae.log_likelihood(xi, grid) for xi in x]) + vae.prior.log_prob(grid)
    exact = torch.logsumexp(log_joint, 1) + math.log(grid[1, 0] - grid[0, 0])
    torch.testing.assert_close(vae.log_prob(x, k=20_000, chunk=2000), exact, atol=0.05, rtol=0)


def test_sampling_draws_codes_from_the_learned_prior():
    vae = _mixture_vae(latent_dim=2, components=2)
    with torch.no_grad():  # all the weight on one narrow component far from the origin
        vae.prior.means.copy_(torch.tensor([[8.0, -8.0], [0.0, 0.0]]))
        vae.prior.logvars.fill_(math.log(0.01))
        vae.prior.logits.copy_(torch.tensor([20.0, -20.0]))
    z = vae.sample_latent(500, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(z.mean(0), torch.tensor([8.0, -8.0]), atol=0.05)
    assert torch.allclose(z.std(0), torch.full((2,), 0.1), atol=0.02)
    samples = vae.sample(6, generator=torch.Generator().manual_seed(3))
    codes = vae.sample_latent(6, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(samples, vae.decode(codes))


def test_the_mixture_prior_is_trained_by_the_loss():
    vae = _mixture_vae()
    vae.loss(torch.bernoulli(torch.full((8, 1, 28, 28), 0.3))).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in vae.prior.parameters())


@pytest.mark.parametrize(("field", "value", "message"), [
    ("prior", "vamp", r"prior='vamp' is not implemented; expected one of 'standard', 'mixture'"),
    ("prior_components", 0, r"prior_components=0; expected a positive int"),
    ("prior_components", 2.5, r"prior_components=2.5; expected a positive int"),
    ("dropout", 1.0, r"dropout=1.0; expected a probability in \[0, 1\)"),
    ("dropout", -0.1, r"dropout=-0.1; expected a probability in \[0, 1\)"),
    ("train_samples", 0, r"train_samples=0; expected a positive int"),
])
def test_config_refuses_priors_and_dropout_it_does_not_implement(field, value, message):
    with pytest.raises(ValueError, match=message):
        VAE.Config(**{field: value})
    with pytest.raises(ValueError, match=r"dropout=0.2; expected 0 with arch='conv'"):
        VAE.Config(arch="conv", dropout=0.2)


def test_dropout_is_active_in_training_only():
    vae = VAE(VAE.Config(latent_dim=3, hidden=(32,), dropout=0.5))
    assert sum(isinstance(m, torch.nn.Dropout) for m in vae.modules()) >= 1
    x = torch.bernoulli(torch.full((4, 1, 28, 28), 0.3))
    vae.eval()
    torch.testing.assert_close(vae.encode(x), vae.encode(x))
    vae.train()
    assert not torch.equal(vae.encode(x), vae.encode(x))


def test_training_on_the_iwae_bound():
    """train_samples = k > 1: loss(x) is minus the IWAE bound with k samples, the same estimator as log_prob
    (seeded alike, equal); it is above the ELBO on average, carries gradients to encoder, decoder and prior, and
    refuses a beta it would ignore. train_samples = 1 keeps the negative ELBO."""
    torch.manual_seed(0)
    x = torch.bernoulli(torch.full((16, 1, 28, 28), 0.2))
    vae = _mixture_vae(latent_dim=4)
    iwae = VAE(dataclasses.replace(vae.config, train_samples=8))
    iwae.load_state_dict(vae.state_dict())
    torch.manual_seed(1)
    loss = iwae.loss(x)
    torch.manual_seed(1)
    torch.testing.assert_close(loss, -iwae.log_prob(x, k=8).mean())
    loss.backward()
    for part in (iwae.encoder, iwae.decoder, iwae.prior):
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())
    with torch.no_grad():
        elbo = torch.stack([vae.elbo(x).mean() for _ in range(50)])
        bound = torch.stack([-iwae.loss(x) for _ in range(50)])
    assert bound.mean() > elbo.mean() + 4 * (elbo.var() / 50 + bound.var() / 50).sqrt()
    torch.manual_seed(2)
    plain = vae.loss(x)
    torch.manual_seed(2)
    rec, kl = vae.elbo_terms(x)
    torch.testing.assert_close(plain, -(rec - kl).mean())
    with pytest.raises(ValueError, match=r"train_samples=5; expected 1 when beta != 1"):
        VAE.Config(train_samples=5, beta=2.0)
