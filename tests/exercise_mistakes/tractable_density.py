"""Wrong answers of notebook 02's exercises (MADE masks, a likelihood by hand, coupling log-det, sampling lab)."""

import math

import torch

from . import Mistake


def _hid(a, b):
    return (b[:, None] >= a[None, :]).float()


def _out(b, a):
    return (a[:, None] > b[None, :]).float()


def _masks(hidden=_hid, output=_out):
    return lambda: (hidden, output)


def _sampler(step):
    """A sampling loop whose one line `step(model, x, flat, i, p, generator)` is wrong."""
    def sample(model, n, generator=None):
        x = torch.zeros(n, *model.event_shape)
        flat = x.view(n, -1)
        for k, i in enumerate(model.order.tolist()):
            step(model, x, flat, k, i, generator)
        return x
    return lambda: sample


def _right_step(model, x, flat, k, i, g):
    flat[:, i] = torch.bernoulli(torch.sigmoid(model.logits(x).view(len(x), -1)[:, i]), generator=g)


def _raster(model, n, generator=None):
    x = torch.zeros(n, 1, 28, 28)
    for i in range(784):
        p = torch.sigmoid(model.logits(x).view(n, -1)[:, i])
        x.view(n, -1)[:, i] = torch.bernoulli(p, generator=generator)
    return x


def _logits_once(model, n, generator=None):
    x = torch.zeros(n, *model.event_shape)
    p = torch.sigmoid(model.logits(x)).view(n, -1)
    for i in model.order.tolist():
        x.view(n, -1)[:, i] = torch.bernoulli(p[:, i], generator=generator)
    return x


MISTAKES = {
    "2.1": [Mistake("> in the hidden mask", _masks(hidden=lambda a, b: (b[:, None] > a[None, :]).float()),
                    "same degree"),
            Mistake(">= in the output mask", _masks(output=lambda b, a: (a[:, None] >= b[None, :]).float()),
                    "its own input"),
            Mistake("rules swapped", _masks(lambda a, b: (b[:, None] > a[None, :]).float(),
                                            lambda b, a: (a[:, None] >= b[None, :]).float()), "swapped"),
            Mistake("transposed hidden mask", _masks(hidden=lambda a, b: (b[None, :] >= a[:, None]).float()),
                    "transposed"),
            Mistake("bool masks", _masks(lambda a, b: b[:, None] >= a[None, :], lambda b, a: a[:, None] > b[None, :]),
                    "bool"),
            Mistake("positions instead of degrees",
                    _masks(output=lambda b, a: torch.ones(len(a), len(b)).tril(-1)), "depends on"),
            Mistake("one function only", lambda: _hid, "as a pair")],
    "2.2": [Mistake("the probability", lambda: 0.8 * 0.2 * 0.9, "probability"),
            Mistake("log p (sign)", lambda: math.log(0.8 * 0.2 * 0.9), "positive"),
            Mistake("bits", lambda: -math.log2(0.8 * 0.2 * 0.9), "bits"),
            Mistake("p(x2=1) for x2 = 0", lambda: -math.log(0.8 * 0.8 * 0.9), "x_2 = 0"),
            Mistake("x2 = 1 in x3's factor", lambda: -math.log(0.8 * 0.2 * 0.3), "observed x_2 = 0"),
            Mistake("rounded to one figure", lambda: 2.0, "not -log p")],
    "2.3": [Mistake("wrong half (mask)", lambda: lambda s, mask: (mask * s).sum(1), "kept coordinates"),
            Mistake("every coordinate", lambda: lambda s, mask: s.sum(1), "every coordinate"),
            Mistake("mean instead of sum", lambda: lambda s, mask: ((1 - mask) * s).mean(1), "mean"),
            Mistake("sign", lambda: lambda s, mask: -((1 - mask) * s).sum(1), "sign"),
            Mistake("sum over the batch", lambda: lambda s, mask: ((1 - mask) * s).sum(0), "shape"),
            Mistake("exp(s)", lambda: lambda s, mask: ((1 - mask) * s.exp()).sum(1), "exp(s)")],
    "2.4": [Mistake("threshold at 0.5", _sampler(lambda m, x, f, k, i, g: f.__setitem__(
                (slice(None), i), (m.logits(x).view(len(x), -1)[:, i] > 0).float())), "threshold"),
            Mistake("raster order", lambda: _raster, "raster order"),
            Mistake("logits computed once", lambda: _logits_once, "times for 784 pixels"),
            Mistake("1 - p", _sampler(lambda m, x, f, k, i, g: f.__setitem__((slice(None), i), torch.bernoulli(
                torch.sigmoid(-m.logits(x).view(len(x), -1)[:, i]), generator=g))), "+50 gave only 0s"),
            Mistake("generator ignored", _sampler(lambda m, x, f, k, i, g: f.__setitem__(
                (slice(None), i), torch.bernoulli(torch.sigmoid(m.logits(x).view(len(x), -1)[:, i])))),
                "seeded alike"),
            Mistake("logit of step k, not pixel i", _sampler(lambda m, x, f, k, i, g: f.__setitem__(
                (slice(None), i), torch.bernoulli(torch.sigmoid(m.logits(x).view(len(x), -1)[:, k]),
                                                  generator=g))), "not constant"),
            Mistake("the model's own sampler", lambda: lambda model, n, generator=None: model.sample(n), "the loop"),
            Mistake("flat images", lambda: lambda model, n, generator=None: _raster(model, n, generator).view(n, -1),
                    "shape")],
}

ALSO_RIGHT = {"2.1": [_masks(lambda a, b: torch.stack([(bk >= a).float() for bk in b]))],
              "2.2": [lambda: 1.94, lambda: -math.log(0.144)],
              "2.4": [_sampler(lambda m, x, f, k, i, g: f.__setitem__((slice(None), i), (torch.rand(
                  len(x), generator=g) < torch.sigmoid(m.logits(x).view(len(x), -1)[:, i])).float()))]}
