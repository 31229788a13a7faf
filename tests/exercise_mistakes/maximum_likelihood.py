"""Wrong answers of notebook 01's exercises (maximum likelihood)."""

import math

import torch
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

from . import Mistake


def _components(x, means, log_stds):  # (N, K)
    return Normal(means, log_stds.exp()).log_prob(x[:, None, :]).sum(-1)


def _naive_mixture(x, w, m, s):  # sums densities: underflows far from every component
    return torch.log((torch.softmax(w, 0) * _components(x, m, s).exp()).sum(1))


def _unnormalised(x, w, m, s):
    return torch.logsumexp(w + _components(x, m, s), 1)


def _variance_as_scale(x, w, m, s):
    log_normal = Normal(m, (2 * s).exp()).log_prob(x[:, None, :]).sum(-1)
    return torch.logsumexp(torch.log_softmax(w, 0) + log_normal, 1)


def _detached(x, w, m, s):
    return torch.logsumexp(torch.log_softmax(w, 0) + _components(x, m.detach(), s), 1)


def _no_coordinate_sum(x, w, m, s):  # (N, D)
    log_normal = Normal(m, s.exp()).log_prob(x[:, None, :])
    return torch.logsumexp(torch.log_softmax(w, 0)[:, None] + log_normal, 1)


def _exp_normalised(x, w, m, s):  # softmax by hand: exp(200) overflows
    log_weights = torch.log(w.exp() / w.exp().sum())
    return torch.logsumexp(log_weights + _components(x, m, s), 1)


def _hard_max(x, w, m, s):
    return (torch.log_softmax(w, 0) + _components(x, m, s)).max(1).values


def _jensen(x, w, m, s):
    return (torch.softmax(w, 0) * _components(x, m, s)).sum(1)


def _shortcut(x, w, m, s):
    comps = Independent(Normal(m, s.exp()), 1)
    return MixtureSameFamily(Categorical(logits=w), comps).log_prob(x)


def _by_hand(x, w, m, s):  # the log-density written out, softmax then log
    z = (x[:, None, :] - m) / s.exp()
    log_normal = (-0.5 * z ** 2 - s - 0.5 * math.log(2 * math.pi)).sum(-1)
    return torch.logsumexp(torch.softmax(w, 0).log() + log_normal, dim=1)


def _smoothed(denominator=2, on_test=False, sign=1.0, scale=1.0, clamp=False):
    def nll(x_train, x_test, alpha):
        fit_on = x_test if on_test else x_train
        if clamp:
            mu = fit_on.mean(0).clamp(1e-3, 1 - 1e-3)
        else:
            mu = (fit_on.sum(0) + alpha) / (len(fit_on) + denominator * alpha)
        log_p = torch.xlogy(x_test, mu) + torch.xlogy(1 - x_test, 1 - mu)
        return -sign * log_p.flatten(1).sum(1) / scale
    return nll


def _naive_log(x_train, x_test, alpha):  # x log mu with mu = 0 and x = 0 gives NaN
    mu = (x_train.sum(0) + alpha) / (len(x_train) + 2 * alpha)
    return -(x_test * mu.log() + (1 - x_test) * (1 - mu).log()).flatten(1).sum(1)


def _bernoulli_clamps(x_train, x_test, alpha):  # torch's Bernoulli clamps probs: no +inf at alpha = 0
    from torch.distributions import Bernoulli

    mu = (x_train.sum(0) + alpha) / (len(x_train) + 2 * alpha)
    return -Bernoulli(probs=mu).log_prob(x_test).flatten(1).sum(1)


def _where_version(x_train, x_test, alpha):
    mu = (x_train.sum(0) + alpha) / (len(x_train) + 2 * alpha)
    on = torch.where(x_test > 0, torch.log(mu), 0.0)
    off = torch.where(x_test < 1, torch.log1p(-mu), 0.0)
    return -(on + off).sum((1, 2, 3))


MISTAKES = {
    "1.1": [Mistake("N - 1 (unbiased std)", lambda: lambda x: torch.stack([x.mean(), x.std()]), "N - 1"),
            Mistake("variance for std", lambda: lambda x: torch.stack([x.mean(), x.var(correction=0)]),
                    "variance"),
            Mistake("unbiased variance", lambda: lambda x: torch.stack([x.mean(), x.var()]), "variance"),
            Mistake("no mean subtracted", lambda: lambda x: torch.stack([x.mean(), (x ** 2).mean().sqrt()]),
                    "subtract the mean"),
            Mistake("a tuple", lambda: lambda x: (x.mean(), x.std(correction=0)), "not a tuple"),
            Mistake("order swapped", lambda: lambda x: torch.stack([x.std(correction=0), x.mean()]), "order"),
            Mistake("median", lambda: lambda x: torch.stack([x.median(), x.std(correction=0)]), "median")],
    "1.2": [Mistake("naive log(sum(exp))", lambda: _naive_mixture, "underflow"),
            Mistake("weight logits not normalised", lambda: _unnormalised, "normalis"),
            Mistake("variance as the scale", lambda: _variance_as_scale, "variance"),
            Mistake(".detach() on the means", lambda: _detached, "no gradient reaches means"),
            Mistake("no sum over coordinates", lambda: _no_coordinate_sum, "coordinates"),
            Mistake("softmax by exp/sum", lambda: _exp_normalised, "overflow"),
            Mistake("max instead of logsumexp", lambda: _hard_max, "max over k"),
            Mistake("mean of log-densities (Jensen)", lambda: _jensen, "lower bound"),
            Mistake("calls MixtureSameFamily", lambda: _shortcut, "MixtureSameFamily")],
    "1.3": [Mistake("nats per dimension", lambda: 86.0 / 784, "nats per dimension"),
            Mistake("times ln 2", lambda: 86.0 * math.log(2) / 784, "multiplied by ln 2"),
            Mistake("bits per image", lambda: 86.0 / math.log(2), "bits per image"),
            Mistake("log2 of the NLL", lambda: math.log2(86.0) / 784, "log2 of the NLL"),
            Mistake("log10", lambda: 86.0 / (784 * math.log10(2)), "log10"),
            Mistake("sign", lambda: -86.0 / (784 * math.log(2)), "positive")],
    "1.4": [Mistake("log-likelihood (sign)", lambda: _smoothed(sign=-1.0), "negative log-likelihood"),
            Mistake("per pixel mean", lambda: _smoothed(scale=784.0), "per pixel"),
            Mistake("bits", lambda: _smoothed(scale=math.log(2)), "bits"),
            Mistake("fitted on the test set", lambda: _smoothed(on_test=True), "x_test"),
            Mistake("denominator N + alpha", lambda: _smoothed(denominator=1), "denominator"),
            Mistake("alpha ignored (clamped mean)", lambda: _smoothed(clamp=True), "alpha"),
            Mistake("0 log 0 gives NaN", lambda: _naive_log, "0 log 0"),
            Mistake("Bernoulli clamps (no +inf)", lambda: _bernoulli_clamps, "+inf"),
            Mistake("mean over test images", lambda: lambda a, b, alpha: _smoothed()(a, b, alpha).mean(),
                    "one NLL per test image")],
}

ALSO_RIGHT = {
    "1.1": [lambda: lambda x: torch.stack([x.mean(), x.std(correction=0)]),
            lambda: lambda x: torch.stack([x.mean(), ((x ** 2).mean() - x.mean() ** 2).sqrt()])],
    "1.2": [lambda: _by_hand],
    "1.3": [lambda: 0.158, lambda: 0.1583, lambda: 86.0 / 784 / math.log(2)],
    "1.4": [lambda: _where_version],
}
