"""Wrong answers of notebook 06's exercises (units, sampling cost, diagonal FID, lab: IWAE)."""

import math

import torch
from torch.distributions import Normal

from course_utils.exercises.model_comparison import _fashion_made_nll, reference_6_1

from . import Mistake

LN2 = math.log(2)


def _nll():
    return _fashion_made_nll()


# ---------------------------------------------------------------- 6.4: IWAE variants

def _log_w(model, x, k, *, prior=True, q=True, sample=True, from_prior=False):
    mu, logvar = model.posterior(x)
    std = torch.exp(0.5 * logvar)
    eps = torch.randn(k, *mu.shape)
    if from_prior:
        z = eps
    else:
        z = mu + std * eps if sample else mu.expand(k, *mu.shape)
    log_w = model.log_likelihood(x, z)
    if prior:
        log_w = log_w + Normal(0.0, 1.0).log_prob(z).sum(-1)
    if q and not from_prior:
        log_w = log_w - Normal(mu, std).log_prob(z).sum(-1)
    return log_w


def _naive(model, x, k):  # the very mistake of 4.3: exp() underflows
    return torch.log(torch.exp(_log_w(model, x, k)).mean(0))


def _no_log_k(model, x, k):
    return torch.logsumexp(_log_w(model, x, k), 0)


def _mean_log_w(model, x, k):
    return _log_w(model, x, k).mean(0)


def _no_log_q(model, x, k):
    return torch.logsumexp(_log_w(model, x, k, q=False), 0) - math.log(k)


def _no_prior(model, x, k):
    return torch.logsumexp(_log_w(model, x, k, prior=False), 0) - math.log(k)


def _from_prior(model, x, k):
    return torch.logsumexp(_log_w(model, x, k, from_prior=True), 0) - math.log(k)


def _posterior_mean(model, x, k):
    return torch.logsumexp(_log_w(model, x, k, sample=False), 0) - math.log(k)


def _over_images(model, x, k):
    return torch.logsumexp(_log_w(model, x, k), 1) - math.log(x.shape[0])


def _nll_sign(model, x, k):
    return -(torch.logsumexp(_log_w(model, x, k), 0) - math.log(k))


def _package(model, x, k):
    return model.log_prob(x, k)


def _transposed_no_log_k(model, x, k):  # samples drawn in another order: a statistical diagnosis
    mu, logvar = model.posterior(x)
    q = Normal(mu, torch.exp(0.5 * logvar))
    z = q.rsample((k,))
    log_w = model.log_likelihood(x, z) + Normal(0.0, 1.0).log_prob(z).sum(-1) - q.log_prob(z).sum(-1)
    return torch.logsumexp(log_w, 0)


def _std_from_exp_logvar(model, x, k):  # sigma = exp(logvar): q's log-density does not match z
    mu, logvar = model.posterior(x)
    eps = torch.randn(k, *mu.shape)
    z = mu + logvar.exp() * eps
    log_q = Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(-1)
    log_w = model.log_likelihood(x, z) + Normal(0.0, 1.0).log_prob(z).sum(-1) - log_q
    return torch.logsumexp(log_w, 0) - math.log(k)


def _right_other_order(model, x, k):
    mu, logvar = model.posterior(x)
    q = Normal(mu, torch.exp(0.5 * logvar))
    z = q.rsample((k,))
    log_w = model.log_likelihood(x, z) + Normal(0.0, 1.0).log_prob(z).sum(-1) - q.log_prob(z).sum(-1)
    m = log_w.max(0).values
    return m + torch.log(torch.exp(log_w - m).mean(0))


# ---------------------------------------------------------------- 6.3: diagonal FID variants

def _fid_variance_as_std(m1, v1, m2, v2):
    return ((m1 - m2) ** 2).sum(-1) + ((v1 - v2) ** 2).sum(-1)


def _fid_no_two(m1, v1, m2, v2):
    return ((m1 - m2) ** 2).sum(-1) + (v1 + v2 - (v1 * v2).sqrt()).sum(-1)


def _fid_no_sqrt(m1, v1, m2, v2):
    return ((m1 - m2) ** 2).sum(-1) + (v1 + v2 - 2 * v1 * v2).sum(-1)


def _fid_norm(m1, v1, m2, v2):
    return (m1 - m2).norm(dim=-1) + ((v1.sqrt() - v2.sqrt()) ** 2).sum(-1)


def _fid_mean(m1, v1, m2, v2):
    return ((m1 - m2) ** 2).mean(-1) + ((v1.sqrt() - v2.sqrt()) ** 2).mean(-1)


def _fid_package(m1, v1, m2, v2):
    from course_utils.metrics import frechet_distance

    return frechet_distance(m1.numpy(), torch.diag(v1).numpy(), m2.numpy(), torch.diag(v2).numpy())


def _fid_not_symmetric(m1, v1, m2, v2):
    return ((m1 - m2) ** 2).sum(-1) + (v1 - v2.sqrt()).abs().sum(-1)


def _fid_flatten(m1, v1, m2, v2):  # sums over everything: a batch collapses to one number
    return ((m1 - m2) ** 2).sum() + ((v1.sqrt() - v2.sqrt()) ** 2).sum()


MISTAKES = {
    "6.1": [Mistake("nats per dimension (no ln 2)", lambda: _nll() / 784, "divide by ln 2"),
            Mistake("bits per image (not per dimension)", lambda: _nll() / LN2, "bits per image"),
            Mistake("multiplied by ln 2", lambda: _nll() * LN2 / 784, "multiplies by ln 2"),
            Mistake("log10(2) instead of ln 2", lambda: _nll() / (784 * math.log10(2)), "log10"),
            Mistake("divided by 28", lambda: _nll() / (28 * LN2), "divides by 28"),
            Mistake("nats per image unchanged", lambda: _nll(), "nats per image"),
            Mistake("a sign", lambda: -reference_6_1(), "positive"),
            Mistake("two figures only", lambda: round(reference_6_1(), 1), "not the MADE")],
    "6.2": [Mistake("upside down", lambda: lambda s, a, b: s[b] / s[a], "upside down"),
            Mistake("a difference", lambda: lambda s, a, b: s[a] - s[b], "difference"),
            Mistake("ratio minus one", lambda: lambda s, a, b: (s[a] - s[b]) / s[b], "ratio - 1"),
            Mistake("hard-coded names", lambda: lambda s, a, b: s["PixelRNN"] / s["DCGAN"],
                    "use the arguments"),
            Mistake("a string", lambda: lambda s, a, b: f"{s[a] / s[b]:.1f}x", "should be a number")],
    "6.3": [Mistake("variance as std", lambda: _fid_variance_as_std, "standard deviations"),
            Mistake("missing the 2", lambda: _fid_no_two, "misses the 2"),
            Mistake("no square root of the product", lambda: _fid_no_sqrt, "square root of the product"),
            Mistake("norm, not squared", lambda: _fid_norm, "not its square"),
            Mistake("mean over dims", lambda: _fid_mean, "averages over the dimensions"),
            Mistake("the package's metric", lambda: _fid_package, "general formula"),
            Mistake("not symmetric", lambda: _fid_not_symmetric, "symmetric"),
            Mistake("sums over the batch too", lambda: _fid_flatten, "last dim only")],
    "6.4": [Mistake("naive log-mean-exp (underflow)", lambda: _naive, "underflow"),
            Mistake("sum of the weights (no -log k)", lambda: _no_log_k, "log k"),
            Mistake("sum of weights, other sampling order", lambda: _transposed_no_log_k, "log k"),
            Mistake("mean of the log-weights (ELBO)", lambda: _mean_log_w, "does not rise with k"),
            Mistake("log q missing", lambda: _no_log_q, "every term"),
            Mistake("log p(z) missing", lambda: _no_prior, "every term"),
            Mistake("codes from the prior", lambda: _from_prior, "below the ELBO"),
            Mistake("z = mu, no sampling", lambda: _posterior_mean, "identical for every seed"),
            Mistake("logsumexp over the images", lambda: _over_images, "reduce over the k samples"),
            Mistake("returns the NLL", lambda: _nll_sign, "not the NLL"),
            Mistake("calls the package", lambda: _package, "model.log_prob"),
            Mistake("sigma = exp(logvar)", lambda: _std_from_exp_logvar, "does not rise with k")],
}

ALSO_RIGHT = {"6.1": [lambda: round(reference_6_1(), 3), lambda: round(reference_6_1(), 4)],
              "6.3": [lambda: lambda m1, v1, m2, v2: ((m1 - m2) ** 2).sum(-1) + (v1 + v2 - 2 * (v1 * v2).sqrt()).sum(-1)],
              "6.4": [lambda: _right_other_order]}
