"""Wrong answers of notebook 04's exercises (variational autoencoders)."""

import math

import torch
from torch.distributions import Normal, kl_divergence
from torch.nn import functional as F

from course_utils.models.vae import gaussian_kl

from . import Mistake


def _kl(terms):
    return lambda mu, lv: 0.5 * terms(mu, lv).sum(-1)


def _sample(scale, noise=torch.randn_like):
    return lambda mu, lv: mu + scale(lv) * noise(mu)


def _fixed_eps():
    eps = torch.randn(400, 6)
    return lambda mu, lv: mu + (lv / 2).exp() * eps[: mu.shape[0], : mu.shape[1]] if mu.shape == (400, 6) \
        else mu + (lv / 2).exp() * torch.randn_like(mu)


def _reseeded(mu, lv):
    torch.manual_seed(0)
    return mu + (lv / 2).exp() * torch.randn_like(mu)


def _shift_by(pick):
    def iwae(log_w):
        m = pick(log_w)
        return m + torch.log(torch.exp(log_w - m).mean(0))
    return iwae


def _loss(rec, kl, reduce=lambda v: v.mean()):
    def elbo_loss(x, logits, mu, lv):
        return reduce(rec(x, logits) + kl(mu, lv))
    return elbo_loss


def _bce_sum(x, logits):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def _kl_ok(mu, lv):
    return 0.5 * (mu ** 2 + lv.exp() - lv - 1).sum(1)


MISTAKES = {
    "4.1": [Mistake("forgetting the -1", lambda: _kl(lambda m, v: m ** 2 + v.exp() - v), "-1"),
            Mistake("sigma for sigma^2", lambda: _kl(lambda m, v: m ** 2 + (v / 2).exp() - v - 1),
                    "where the formula has sigma^2"),
            Mistake("exp(logvar/2) and logvar/2 (sigma, log sigma)",
                    lambda: _kl(lambda m, v: m ** 2 + (v / 2).exp() - v / 2 - 1), "sigma and log sigma"),
            Mistake("logvar read as log sigma", lambda: _kl(lambda m, v: m ** 2 + (2 * v).exp() - 2 * v - 1),
                    "log sigma^2"),
            Mistake("mean over latent dims", lambda: lambda m, v: 0.5 * (m ** 2 + v.exp() - v - 1).mean(-1),
                    "averaged over the latent"),
            Mistake("wrong sign", lambda: lambda m, v: -0.5 * (m ** 2 + v.exp() - v - 1).sum(-1), "sign"),
            Mistake("no factor 1/2", lambda: lambda m, v: (m ** 2 + v.exp() - v - 1).sum(-1), "1/2"),
            Mistake("sum over the batch axis", lambda: lambda m, v: 0.5 * (m ** 2 + v.exp() - v - 1).sum(0),
                    "dim 0"),
            Mistake("no sum at all", lambda: lambda m, v: 0.5 * (m ** 2 + v.exp() - v - 1),
                    "one value per latent dimension"),
            Mistake("detached", lambda: lambda m, v: 0.5 * (m ** 2 + v.exp() - v - 1).sum(-1).detach(),
                    "autograd"),
            Mistake("the package's gaussian_kl", lambda: lambda m, v: gaussian_kl(m, v), "gaussian_kl"),
            Mistake("torch.distributions", lambda: lambda m, v: kl_divergence(
                Normal(m, (v / 2).exp()), Normal(0.0, 1.0)).sum(-1), "kl_divergence")],
    "4.2": [Mistake("ends in .detach()", lambda: lambda m, v: (m + (v / 2).exp() * torch.randn_like(m)).detach(),
                    "no gradient reaches mu or logvar"),
            Mistake("Normal(...).sample()", lambda: lambda m, v: Normal(m, (v / 2).exp()).sample(),
                    "no gradient reaches mu or logvar"),
            Mistake("logvar detached", lambda: lambda m, v: m + (v.detach() / 2).exp() * torch.randn_like(m),
                    "no gradient reaches logvar"),
            Mistake("variance for std", lambda: _sample(lambda v: v.exp()), "variance"),
            Mistake("exp(logvar/4)", lambda: _sample(lambda v: (v / 4).exp()), "exp(logvar/4)"),
            Mistake("logvar as sigma", lambda: _sample(lambda v: v), "logvar itself"),
            Mistake("noise not scaled", lambda: _sample(lambda v: torch.ones_like(v)), "scale the noise"),
            Mistake("forgot mu", lambda: lambda m, v: (v / 2).exp() * torch.randn_like(m), "centred at 0"),
            Mistake("uniform noise", lambda: _sample(lambda v: (v / 2).exp(), torch.rand_like), "uniform"),
            Mistake("one noise row for all", lambda: _sample(lambda v: (v / 2).exp(),
                                                             lambda m: torch.randn(1, m.shape[1])), "every row"),
            Mistake("one noise column", lambda: _sample(lambda v: (v / 2).exp(),
                                                        lambda m: torch.randn(m.shape[0], 1)), "every column"),
            Mistake("one number of noise", lambda: _sample(lambda v: (v / 2).exp(), lambda m: torch.randn(())),
                    "same noise"),
            Mistake("re-seeded each call", lambda: _reseeded, "same sample"),
            Mistake("a fixed eps", _fixed_eps, "same sample")],
    "4.3": [Mistake("naive log(exp(log_w).mean(0))", lambda: lambda lw: torch.log(torch.exp(lw).mean(0)),
                    "underflow"),
            Mistake("sum instead of mean (no -log K)", lambda: lambda lw: lw.max(0).values + torch.log(
                torch.exp(lw - lw.max(0).values).sum(0)), "-log K"),
            Mistake("mean of the log-weights (the ELBO)", lambda: lambda lw: lw.mean(0), "averaged the log-weights"),
            Mistake("wrong axis", lambda: lambda lw: lw.max(1).values + torch.log(
                torch.exp(lw - lw.max(1, keepdim=True).values).mean(1)), "dim 0"),
            Mistake("max only", lambda: lambda lw: lw.max(0).values, "largest log-weight"),
            Mistake("max not added back", lambda: lambda lw: torch.log(torch.exp(lw - lw.max(0).values).mean(0)),
                    "add it back"),
            Mistake("shift by one global max", lambda: _shift_by(lambda lw: lw.max()), "its own maximum"),
            Mistake("shift by the mean", lambda: _shift_by(lambda lw: lw.mean(0)), "overflow"),
            Mistake("divide by N", lambda: lambda lw: _shift_by(lambda w: w.max(0).values)(lw)
                    + math.log(lw.shape[0]) - math.log(lw.shape[1]), "instead of k"),
            Mistake("detached result", lambda: lambda lw: _shift_by(lambda w: w.max(0).values)(lw).detach(),
                    "autograd"),
            Mistake("torch.logsumexp", lambda: lambda lw: torch.logsumexp(lw, 0) - math.log(lw.shape[0]),
                    "logsumexp")],
    "4.4": [Mistake("KL sign flipped", lambda: _loss(_bce_sum, lambda m, v: -_kl_ok(m, v)), "wrong sign"),
            Mistake("mean over pixels", lambda: lambda x, lo, m, v: F.binary_cross_entropy_with_logits(lo, x)
                    + _kl_ok(m, v).mean(), "over the pixels"),
            Mistake("KL without the -1", lambda: _loss(_bce_sum, lambda m, v: 0.5 * (m ** 2 + v.exp() - v).sum(1)),
                    "-1"),
            Mistake("sum over the batch", lambda: _loss(_bce_sum, _kl_ok, lambda v: v.sum()), "summed over the batch"),
            Mistake("the ELBO, not its negative", lambda: _loss(_bce_sum, _kl_ok, lambda v: -v.mean()),
                    "its negative"),
            Mistake("no KL", lambda: _loss(_bce_sum, lambda m, v: 0.0), "no KL term"),
            Mistake("KL averaged over latent dims",
                    lambda: _loss(_bce_sum, lambda m, v: 0.5 * (m ** 2 + v.exp() - v - 1).mean(1)),
                    "averaged the KL"),
            Mistake("sigmoid then binary_cross_entropy", lambda: _loss(
                lambda x, lo: F.binary_cross_entropy(torch.sigmoid(lo), x, reduction="none").flatten(1).sum(1),
                _kl_ok), "large logits"),
            Mistake("log-likelihood by hand", lambda: _loss(
                lambda x, lo: -(x * torch.sigmoid(lo).log() + (1 - x) * (1 - torch.sigmoid(lo)).log()
                                ).flatten(1).sum(1), _kl_ok), "large logits"),
            Mistake("one loss per image", lambda: _loss(_bce_sum, _kl_ok, lambda v: v), "one loss per image"),
            Mistake("KL detached", lambda: _loss(_bce_sum, lambda m, v: _kl_ok(m, v).detach()),
                    "no gradient reaches mu")],
}

ALSO_RIGHT = {
    "4.2": [lambda: lambda mu, lv: Normal(mu, (0.5 * lv).exp()).rsample(),
            lambda: lambda mu, lv: mu + torch.sqrt(lv.exp()) * torch.randn(mu.shape)],
    "4.3": [lambda: lambda lw: torch.log(torch.mean(torch.exp(lw - lw.amax(0)), 0)) + lw.amax(0),
            lambda: _shift_by(lambda lw: lw.max(0).values)],
    "4.4": [lambda: lambda x, lo, m, v: F.binary_cross_entropy_with_logits(lo, x, reduction="sum") / len(x)
            + gaussian_kl(m, v).mean()],
}
