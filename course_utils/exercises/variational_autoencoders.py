"""Exercises 4.1-4.3 of notebook 04 (variational autoencoders): the KL term in closed form, a
reparameterised sample, the IWAE estimate written stably by hand; the lab 4.4 (the ELBO loss, then a
VAE trained with it) is in variational_autoencoders_lab.py."""

from __future__ import annotations

import math

import torch
from torch.distributions import Normal, kl_divergence

from .expect import call, close, require, tensor
from .registry import Wrong, exercise

NOTEBOOK = "04_variational_autoencoders"


def calls(fn, names) -> list[str]:
    """Which of `names` the code of `fn` (and of the functions defined inside it) refers to."""
    code, found = getattr(fn, "__code__", None), set()
    todo = [code] if code is not None else []
    while todo:
        c = todo.pop()
        found |= set(names) & set(c.co_names)
        todo += [k for k in c.co_consts if hasattr(k, "co_names")]
    return sorted(found)


def _grad(out, inputs):
    grads = torch.autograd.grad(out.sum(), inputs, allow_unused=True)
    return [torch.zeros_like(i) if g is None else g for i, g in zip(inputs, grads)]


# ---------------------------------------------------------------- 4.1 the KL term
def reference_4_1(mu, logvar):
    return 0.5 * (mu ** 2 + logvar.exp() - logvar - 1).sum(-1)  # sum over the latent dims: (N,)


def _kl_variants(mu, lv):
    """Typical wrong KLs (float64), each with what it gets wrong."""
    def kl(terms):
        return 0.5 * terms.sum(-1)

    d = mu.shape[-1]
    out = [("you forgot the -1 inside the sum: the KL must be 0 when q is the prior (mu = 0, logvar = 0)",
            kl(mu ** 2 + lv.exp() - lv)),
           ("you used sigma = exp(logvar/2) where the formula has sigma^2 = exp(logvar)",
            kl(mu ** 2 + (lv / 2).exp() - lv - 1)),
           ("your log term is log sigma = logvar/2: the formula has log sigma^2 = logvar",
            kl(mu ** 2 + lv.exp() - lv / 2 - 1)),
           ("you used sigma and log sigma where the formula has sigma^2 and log sigma^2 (logvar is the log "
            "of the variance)", kl(mu ** 2 + (lv / 2).exp() - lv / 2 - 1)),
           ("you treated logvar as log sigma: it is log sigma^2, so sigma^2 = exp(logvar)",
            kl(mu ** 2 + (2 * lv).exp() - 2 * lv - 1)),
           ("you have the wrong sign: a KL divergence is >= 0 (it is 1/2 sum(...), not minus that)",
            -kl(mu ** 2 + lv.exp() - lv - 1)),
           ("the log sigma^2 term has the wrong sign", kl(mu ** 2 + lv.exp() + lv - 1)),
           ("you forgot the factor 1/2", 2 * kl(mu ** 2 + lv.exp() - lv - 1)),
           ("mu enters the KL squared (mu^2), not as mu", kl(mu + lv.exp() - lv - 1))]
    if d > 1:
        out.append(("you averaged over the latent dimensions: the KL of a diagonal Gaussian sums them",
                    kl(mu ** 2 + lv.exp() - lv - 1) / d))
    if mu.shape[0] == d:
        out.append(("you summed over dim 0 (the rows, one per image): sum over the latent dimensions, "
                    "the last axis", 0.5 * (mu ** 2 + lv.exp() - lv - 1).sum(0)))
    return out


def _kl_cases(gen):
    yield "mu = 0, logvar = 0 (q is the prior), shape (3, 4)", torch.zeros(3, 4), torch.zeros(3, 4)
    for n, d in [(5, 2), (4, 4), (1, 1), (6, 32), (3, 1)]:
        yield (f"random mu, logvar of shape ({n}, {d})", torch.randn(n, d, generator=gen) * 1.5,
               torch.randn(n, d, generator=gen) * 1.5)
    yield "mu = 0, large and small variances (logvar from -8 to 4)", torch.zeros(2, 5), \
        torch.linspace(-8, 4, 10).view(2, 5)


@exercise("4.1", "the KL term in closed form", notebook=NOTEBOOK, minutes=5, reference=reference_4_1,
          hint="compare your terms one by one with the slide's formula: which are squared, and what is "
               "logvar the log of?")
def check_4_1(kl_to_standard_normal) -> str:
    used = calls(kl_to_standard_normal, ["gaussian_kl", "kl_divergence"])
    if used:
        raise Wrong(f"your function calls {used[0]}: write the closed form yourself, with tensor operations.")
    gen = torch.Generator().manual_seed(41)
    answered = []
    for case, mu, lv in _kl_cases(gen):
        mu, lv = mu.requires_grad_(), lv.requires_grad_()
        got = call(kl_to_standard_normal, mu, lv, case=case)
        n, d = mu.shape
        if torch.is_tensor(got) and got.shape != (n,):
            if got.shape == (n, d) and d > 1:
                raise Wrong(f"on {case} you return one value per latent dimension {tuple(got.shape)}: "
                            "sum them, one KL per row (N,).")
            if got.dim() == 0 and n > 1:
                raise Wrong(f"on {case} you return a single number: one KL per row, shape (N,).")
            if got.shape == (d,):
                raise Wrong(f"on {case} your result has shape ({d},): you summed over dim 0 (the rows, one "
                            "per image); sum over the latent dimensions, the last axis.")
        got = tensor(got, f"your KL on {case}", shape=(n,))
        m64, l64 = mu.detach().double(), lv.detach().double()
        want = kl_divergence(Normal(m64, (l64 / 2).exp()), Normal(0.0, 1.0)).sum(-1)
        if not torch.allclose(got.detach().double(), want, rtol=1e-4, atol=1e-5):
            for says, variant in _kl_variants(m64, l64):
                if torch.allclose(got.detach().double(), variant, rtol=1e-4, atol=1e-5):
                    raise Wrong(f"on {case}: {says}.")
            require(bool((got >= -1e-6).all()), f"on {case} your KL is negative: a KL divergence is never "
                                               "negative.")
            close(got, want, f"your KL on {case}")
        answered.append((case, mu, lv, got))
    for case, mu, lv, got in answered:  # the values are right: now the gradients
        require(got.requires_grad, "your KL is cut off from the autograd graph: keep it a torch "
                                   "computation (no numpy, .item() or .detach()), the VAE trains through it.")
        g_mu, g_lv = _grad(got, [mu, lv])
        close(g_mu, mu.detach(), f"the gradient of your KL with respect to mu on {case}", rtol=1e-3, atol=1e-5)
        close(g_lv, 0.5 * (lv.detach().exp() - 1), f"the gradient of your KL with respect to logvar on {case}",
              rtol=1e-3, atol=1e-5)
    return ("matches torch.distributions.kl_divergence on 7 cases, is 0 where q = p, and its gradients "
            "are right: no sampling needed for this half of the ELBO.")


# ---------------------------------------------------------------- 4.2 a reparameterised sample
def reference_4_2(mu, logvar):
    eps = torch.randn_like(mu)                  # fresh N(0, 1) noise for every element
    return mu + torch.exp(0.5 * logvar) * eps   # sigma = exp(logvar / 2)


def _spread_check(sample_z) -> None:
    """Many draws of one (mu, logvar) row per column: mean and spread must be those of N(mu, e^logvar)."""
    m = 20_000
    mu_row = torch.tensor([0.0, 1.5, -2.0, 0.3, 4.0])
    lv_row = torch.tensor([0.0, math.log(0.25), 1.2, -3.0, math.log(9.0)])
    mu, lv = mu_row.expand(m, 5).clone(), lv_row.expand(m, 5).clone()
    case = "20,000 rows of the same 5 (mu, logvar) pairs"
    z = tensor(call(sample_z, mu, lv, case=case), f"your samples on {case}", shape=(m, 5)).detach()
    sd, want = z.std(0), (lv_row / 2).exp()
    mean = z.mean(0)
    if (sd < 1e-6).all():
        raise Wrong("your samples do not vary: add noise, sigma * eps with eps ~ N(0, 1).")
    if torch.allclose(mean, torch.zeros(5), atol=0.1) and not torch.allclose(mu_row, torch.zeros(5)):
        raise Wrong("your samples are centred at 0, not at mu: z = mu + ...")
    for says, spread in [("the spread of your samples is exp(logvar), the variance: the standard deviation "
                          "sigma is its square root", lv_row.exp()),
                         ("the spread of your samples is logvar itself: logvar is the log of the variance",
                          lv_row.abs()),
                         ("the spread of your samples is 1 whatever logvar is: scale the noise by sigma",
                          torch.ones(5)),
                         ("the spread of your samples is exp(logvar/4): sigma = exp(logvar/2) = "
                          "sqrt(exp(logvar))", (lv_row / 4).exp())]:
        if torch.allclose(sd, spread, rtol=0.03) and not torch.allclose(spread, want, rtol=0.05):
            raise Wrong(f"{says}.")
    e = (z - mu_row) / want
    if (e >= 0).all() or ((e.abs() > 2).float().mean() < 0.01):
        raise Wrong("your noise is not standard normal (torch.rand is uniform on [0, 1)): use "
                    "torch.randn or torch.randn_like.")
    require(bool(((mean - mu_row).abs() < 5 * want / math.sqrt(m)).all()),
            "the mean of your samples is not mu.")
    require(bool(((sd / want - 1).abs() < 0.03).all()), "the standard deviation of your samples is not "
                                                       "sigma = exp(logvar / 2).")
    within = ((e.abs() < 1).float().mean(0) - 0.6827).abs()
    require(bool((within < 0.02).all()), "your samples are not normally distributed (about 68 % should lie "
                                         "within one sigma of mu).")


def _fresh_check(sample_z) -> None:
    case = "mu = 0, logvar = log 4 of shape (400, 6)"
    lv = torch.full((400, 6), math.log(4.0))
    z = tensor(call(sample_z, torch.zeros(400, 6), lv.clone(), case=case),
               f"your sample on {case}", shape=(400, 6)).detach()
    if (z == z.flatten()[0]).all():
        raise Wrong("every element of your sample has the same noise: draw one eps per element, with the "
                    "shape of mu (torch.randn_like(mu)).")
    if (z == z[:1]).all():
        raise Wrong("every row of your sample is the same: the noise must be fresh for every image, draw eps "
                    "with the shape of mu, (N, d).")
    if (z == z[:, :1]).all():
        raise Wrong("every column of your sample is the same: the noise must be fresh for every latent "
                    "dimension, draw eps with the shape of mu, (N, d).")
    again = call(sample_z, torch.zeros(400, 6), lv.clone(), case=case)
    require(not (torch.is_tensor(again) and torch.equal(again.detach(), z)),
            "two calls gave the same sample: do not re-seed or reuse a fixed eps, draw new noise every call.")
    corr = torch.corrcoef(z.T) - torch.eye(6)
    require(bool(corr.abs().max() < 0.25), "the columns of your sample are correlated: each element needs "
                                           "its own independent noise.")


@exercise("4.2", "a reparameterised sample", notebook=NOTEBOOK, minutes=6, reference=reference_4_2,
          hint="z must be a differentiable function of mu and logvar, with the randomness in a separate "
               "standard-normal eps; and logvar is the log of the variance, not of the standard deviation.")
def check_4_2(sample_z) -> str:
    with torch.random.fork_rng():  # the check's draws leave the notebook's random state alone
        torch.manual_seed(42)
        return _check_4_2(sample_z)


def _check_4_2(sample_z) -> str:
    gen = torch.Generator().manual_seed(42)
    for n, d in [(3, 2), (5, 4), (1, 7)]:
        case = f"mu, logvar of shape ({n}, {d})"
        mu = torch.randn(n, d, generator=gen).requires_grad_()
        lv = torch.randn(n, d, generator=gen).requires_grad_()
        z = tensor(call(sample_z, mu, lv, case=case), f"your sample on {case}", shape=(n, d))
    _fresh_check(sample_z)
    _spread_check(sample_z)
    for n, d in [(4, 3), (2, 8)]:
        case = f"mu, logvar of shape ({n}, {d}) that require gradients"
        mu = torch.randn(n, d, generator=gen).requires_grad_()
        lv = torch.randn(n, d, generator=gen).requires_grad_()
        z = tensor(call(sample_z, mu, lv, case=case), f"your sample on {case}", shape=(n, d))
        require(z.requires_grad, "no gradient reaches mu or logvar: your sample is cut off from the autograd "
                                 "graph (.detach(), .sample(), torch.no_grad() or numpy).")
        g_mu, g_lv = _grad(z, [mu, lv])
        require(bool(g_mu.abs().max() > 0), "no gradient reaches mu: it must enter z through torch operations.")
        require(bool(g_lv.abs().max() > 0), "no gradient reaches logvar: sigma must be computed from logvar "
                                            "inside the graph (no .detach() or .item()).")
        close(g_mu, torch.ones_like(mu), "dz/dmu", rtol=1e-4)
        close(g_lv, 0.5 * (z.detach() - mu.detach()), "dz/dlogvar", rtol=1e-3, atol=1e-5)
    return ("the right mean and spread, fresh noise per element, and gradients dz/dmu = 1, "
            "dz/dlogvar = (z - mu) / 2: the encoder can learn through the sample.")


# ---------------------------------------------------------------- 4.3 the IWAE estimate, stably
def reference_4_3(log_w):
    m = log_w.max(0).values.detach()               # (N,): the largest log-weight of each column
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    shifted = torch.exp(log_w - m)                 # in (0, 1]: no overflow, the largest term is 1
    return m + torch.log(shifted.mean(0))          # log (1/K) sum_j w_j


LIBRARY = ["logsumexp", "logaddexp", "logcumsumexp", "log_softmax"]


def _iwae_cases(gen):
    def lw(k, n, scale=1.0, offset=0.0):
        return torch.randn(k, n, generator=gen) * scale + offset

    yield "K = 10, N = 4", lw(10, 4, 2.0)
    yield "K = 1, N = 5 (one sample: the ELBO)", lw(1, 5, 3.0)
    yield "K = 7, N = 7", lw(7, 7, 2.0)
    yield "K = 1000, N = 3", lw(1000, 3, 4.0, -5.0)
    yield "log-weights around -1000 (K = 50, N = 2)", lw(50, 2, 3.0, -1000.0)
    yield "log-weights around +1000 (K = 50, N = 2)", lw(50, 2, 3.0, 1000.0)
    x = lw(20, 3, 2.0)
    x[:, 0] -= 1000.0
    x[:, 2] += 1000.0
    yield "columns at very different scales (around -1000, 0 and +1000)", x
    x = lw(4, 2, 1.0)
    x[:, 0] += torch.tensor([0.0, -1000.0, -3.0, -500.0])
    x[:, 1] += torch.tensor([1000.0, 0.0, 999.0, 600.0])
    yield "log-weights spread over 1000 nats within a column (K = 4, N = 2)", x
    x = lw(6, 3, 2.0)
    x[2, 1] = -math.inf
    yield "a weight of zero (log w = -inf) among others", x


def _iwae_variants(x):
    k, n = x.shape
    lme = torch.logsumexp(x, 0)
    out = [("you forgot the 1/K of the mean (the -log K): you return the log of the sum", lme),
           ("you averaged the log-weights (that is the ELBO estimate): IWAE takes the log of the mean "
            "of the weights", x.mean(0)),
           ("you kept only the largest log-weight: the other weights count too", x.max(0).values),
           ("you subtracted the max but did not add it back", lme - math.log(k) - x.max(0).values)]
    if n != k:
        out.append(("you divided by N (the number of images) instead of K (the number of samples)",
                    lme - math.log(n)))
    if k == n:
        out.append(("you reduced over dim 1 (the images): average over the K samples, dim 0",
                    torch.logsumexp(x, 1) - math.log(n)))
    return out


@exercise("4.3", "the IWAE estimate, without underflow", notebook=NOTEBOOK, minutes=10, points=2,
          reference=reference_4_3,
          hint="exp(-1000) is 0 in floating point; but the ratio of two such weights is not. Factor the "
               "largest weight of each column out of the sum before taking exp.")
def check_4_3(iwae_from_log_weights) -> str:
    used = calls(iwae_from_log_weights, LIBRARY)
    if used:
        raise Wrong(f"your function calls {used[0]}: this exercise asks you to write the stable log-mean-exp "
                    "yourself, with exp, log, sum or mean, and max.")
    gen = torch.Generator().manual_seed(43)
    passed = []
    for case, x in _iwae_cases(gen):
        k, n = x.shape
        x = x.requires_grad_()
        got = call(iwae_from_log_weights, x, case=case)
        if torch.is_tensor(got) and got.shape != (n,):
            if got.shape == (k,) and k != n:
                raise Wrong(f"on {case} your result has shape ({k},): reduce over dim 0 (the K samples), "
                            "keep one estimate per image.")
            if got.dim() == 0:
                raise Wrong(f"on {case} you return one number: one estimate per image, shape (N,).")
        require(torch.is_tensor(got), f"your estimate should be a torch tensor, got {type(got).__name__}.")
        require(got.shape == (n,), f"on {case} your result has shape {tuple(got.shape)}, want (N,) = ({n},).")
        if not torch.isfinite(got).all():
            if any("around" in p for p in passed) and "scales" in case:
                raise Wrong(f"on {case} your estimate is not finite: shift each column (image) by its own "
                            "maximum, not by one number for the whole tensor.")
            raise Wrong(f"on {case} your estimate contains {got[~torch.isfinite(got)][0].item()}: exp of "
                        "log-weights around -1000 underflows to 0 (and around +1000 overflows to inf) in "
                        "floating point; keep the exponentials in a safe range.")
        want = torch.logsumexp(x.detach().double(), 0) - math.log(k)
        if not torch.allclose(got.detach().double(), want, rtol=1e-5, atol=1e-4):
            for says, variant in _iwae_variants(x.detach().double()):
                if torch.allclose(got.detach().double(), variant, rtol=1e-5, atol=1e-4):
                    raise Wrong(f"on {case}: {says}.")
            close(got, want, f"your estimate on {case}", rtol=1e-5, atol=1e-4)
        require(got.requires_grad, "your estimate is cut off from the autograd graph (.item(), numpy or "
                                   ".detach() of the whole result): keep it differentiable.")
        (g,) = _grad(got, [x])
        close(g, torch.softmax(x.detach(), 0), f"the gradient of your estimate on {case}", rtol=1e-3, atol=1e-5)
        passed.append(case)
    return ("stable from -1000 to +1000, exact at K = 1; its gradient is the self-normalised importance "
            "weights w_j / sum w. torch.logsumexp does the same shift: use it from now on.")


from .variational_autoencoders_lab import train_with_your_loss  # noqa: E402,F401  (registers 4.4)
