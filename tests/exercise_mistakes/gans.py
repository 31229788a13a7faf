"""Wrong answers of notebooks 05 and 05b's exercises (GAN losses, D*, the training-step lab, mode coverage)."""

import torch
from torch.nn import functional as F

from course_utils.metrics import mode_coverage
from course_utils.models.gans import discriminator_loss, generator_loss, optimal_discriminator

from . import Mistake


def _naive_g(t):
    return -torch.log(torch.sigmoid(t)).mean()


def _clamped_g(t):
    return -torch.log(torch.sigmoid(t).clamp(min=1e-7)).mean()


def _normal(x, m):
    return -((x - m) ** 2) / 2


def _naive_d(r, f):
    return -(torch.log(torch.sigmoid(r)) + torch.log(1 - torch.sigmoid(f))).mean()


def _clamped_d(r, f):
    p, q = torch.sigmoid(r).clamp(1e-7, 1 - 1e-7), torch.sigmoid(f).clamp(1e-7, 1 - 1e-7)
    return -(torch.log(p) + torch.log(1 - q)).mean()


def _bce_both(r, f):  # one BCE over the concatenated batch: mean over 2M
    logits = torch.cat([r, f])
    return F.binary_cross_entropy_with_logits(logits, torch.cat([torch.ones_like(r), torch.zeros_like(f)]))


def _step(d="right", g="ns", red="mean", detach=True, zero="each", g_first=False, d_twice=False, ret="floats",
          fresh=False):
    """A gan_step with one typical mistake."""
    mean = torch.sum if red == "sum" else torch.mean

    def gan_step(G, D, opt_g, opt_d, real, z):
        def d_part(fake):
            lr_, lf = D(real), D(fake.detach() if detach else fake)
            loss = mean(F.softplus(-lr_)) + mean(F.softplus(lf)) if d == "right" else \
                mean(F.softplus(lr_)) + mean(F.softplus(-lf))
            if zero == "each":
                opt_d.zero_grad()
            loss.backward()
            opt_d.step()
            return loss

        def g_part(fake):
            lg = D(fake)
            loss = {"ns": mean(F.softplus(-lg)), "sat": torch.log(1 - torch.sigmoid(lg)).mean(),
                    "neg": -mean(F.softplus(-lg))}[g]
            if zero == "each":
                opt_g.zero_grad()
            loss.backward()
            opt_g.step()
            if d_twice:
                opt_d.step()
            return loss

        if zero == "start":
            opt_d.zero_grad(), opt_g.zero_grad()
        fake = G(z)
        if g_first:
            g_loss = g_part(fake)
            d_loss = d_part(G(z))
        else:
            d_loss = d_part(fake)
            g_loss = g_part(G(z) if fresh else fake)
        if ret == "tensors":
            return d_loss, g_loss
        if ret == "swapped":
            return g_loss.item(), d_loss.item()
        if ret == "none":
            return None
        return d_loss.item(), g_loss.item()
    return gan_step


def _count(kind):
    def count_modes(samples, modes, std):
        dist = torch.cdist(samples, modes)
        best, nearest = dist.min(dim=1)
        if kind == "samples":
            return int((best <= 3 * std).sum())
        if kind == "any":
            return int((dist <= 3 * std).any(dim=0).sum())
        if kind == "sigma":
            return len(nearest[best <= std].unique())
        return len(nearest.unique())
    return count_modes


def _share(kind):
    def high_quality_share(samples, modes, std):
        best = torch.cdist(samples, modes).min(dim=1).values
        if kind == "count":
            return int((best <= 3 * std).sum())
        if kind == "sigma":
            return (best <= std).float().mean().item()
        return (best > 3 * std).float().mean().item()
    return high_quality_share


def _mbstd(kind):
    def with_minibatch_std(h):
        spread = {"unbiased": lambda: h.std(dim=0).mean(), "rows": lambda: h.std(dim=1, unbiased=False).mean(),
                  "all": lambda: h.std(unbiased=False), "var": lambda: h.var(dim=0, unbiased=False).mean(),
                  "detach": lambda: h.std(dim=0, unbiased=False).mean().detach(),
                  "first": lambda: h.std(dim=0, unbiased=False).mean()}[kind]()
        if kind == "first":
            return torch.cat([spread.expand(len(h), 1), h], dim=1)
        return torch.cat([h, spread.expand(len(h), 1)], dim=1)
    return with_minibatch_std


def _per_feature(h):
    return torch.cat([h, h.std(dim=0, unbiased=False).expand(len(h), -1)], dim=1)


MISTAKES = {
    "5.1": [Mistake("naive log(sigmoid)", lambda: _naive_g, "underflows"),
            Mistake("clamped log(sigmoid)", lambda: _clamped_g, "clamping"),
            Mistake("wrong sign", lambda: lambda t: -F.softplus(-t).mean(), "sign"),
            Mistake("the saturating loss", lambda: lambda t: -F.softplus(t).mean(), "saturating"),
            Mistake("sum over the batch", lambda: lambda t: F.softplus(-t).sum(), "summed"),
            Mistake("the package's generator_loss",
                    lambda: lambda t: generator_loss(t, "non_saturating"), "generator_loss"),
            Mistake("no gradient (numpy)",
                    lambda: lambda t: torch.tensor(F.softplus(-t.detach()).mean().item()), "no gradient")],
    "5.2": [Mistake("swapped roles", lambda: lambda x, mu: torch.sigmoid(_normal(x, mu) - _normal(x, 0)), "swapped"),
            Mistake("mu of the wrong sign", lambda: lambda x, mu: torch.sigmoid(_normal(x, 0) - _normal(x, -mu)),
                    "-mu"),
            Mistake("no 1/2 in the exponent", lambda: lambda x, mu: torch.sigmoid((x - mu) ** 2 - x ** 2), "1/2"),
            Mistake("the density ratio", lambda: lambda x, mu: torch.exp(_normal(x, 0) - _normal(x, mu)), "(0, 1)"),
            Mistake("the package's optimal_discriminator",
                    lambda: lambda x, mu: optimal_discriminator(_normal(x, 0), _normal(x, mu)), "optimal_discriminator"),
            Mistake("constant 1/2", lambda: lambda x, mu: torch.full_like(x, 0.5), "does not change with x"),
            Mistake("logit without mu^2 / 2", lambda: lambda x, mu: torch.sigmoid(-mu * x), "halfway")],
    "5.3": [Mistake("naive logs", lambda: _naive_d, "underflow"),
            Mistake("clamped probabilities", lambda: _clamped_d, "clamping"),
            Mistake("wrong sign", lambda: lambda r, f: -(F.softplus(-r).mean() + F.softplus(f).mean()), "sign"),
            Mistake("labels swapped", lambda: lambda r, f: F.softplus(r).mean() + F.softplus(-f).mean(), "swapped"),
            Mistake("sum instead of mean", lambda: lambda r, f: F.softplus(-r).sum() + F.softplus(f).sum(), "summed"),
            Mistake("one BCE over both batches", lambda: _bce_both, "both batches together"),
            Mistake("fake term -log D", lambda: lambda r, f: F.softplus(-r).mean() + F.softplus(-f).mean(),
                    "generator's target"),
            Mistake("the package's discriminator_loss", lambda: discriminator_loss, "discriminator_loss")],
    "5.4": [Mistake("the saturating G loss", lambda: _step(g="sat"), "saturating"),
            Mistake("G loss of the wrong sign", lambda: _step(g="neg"), "wrong way"),
            Mistake("D's labels swapped", lambda: _step(d="swapped"), "labels swapped"),
            Mistake("sum instead of mean", lambda: _step(red="sum"), "summed"),
            Mistake("fake not detached", lambda: _step(detach=False), "not detached"),
            Mistake("fake not detached, G(z) again", lambda: _step(detach=False, fresh=True), "detach the fake"),
            Mistake("not detached, zeroed at the start",
                    lambda: _step(detach=False, fresh=True, zero="start"), "detach the fake"),
            Mistake("no zero_grad", lambda: _step(zero="never"), "left over"),
            Mistake("G's step first", lambda: _step(g_first=True), "before D"),
            Mistake("D stepped again after G's backward", lambda: _step(d_twice=True), "only in D's step"),
            Mistake("tensors returned", lambda: _step(ret="tensors"), "floats"),
            Mistake("losses swapped", lambda: _step(ret="swapped"), "D's first"),
            Mistake("nothing returned", lambda: _step(ret="none"), "returns None")],
    "5.5": [Mistake("counted samples", lambda: _count("samples"), "counted samples"),
            Mistake("any mode within 3 std", lambda: _count("any"), "nearest mode"),
            Mistake("1 std", lambda: _count("sigma"), "3 std"),
            Mistake("no distance test", lambda: _count("none"), "within 3 std"),
            Mistake("the package's mode_coverage",
                    lambda: lambda s, m, std: mode_coverage(s, m, std).modes_captured, "mode_coverage")],
    "5.6": [Mistake("a count", lambda: _share("count"), "count"),
            Mistake("1 std", lambda: _share("sigma"), "3 std"),
            Mistake("low-quality share", lambda: _share("low"), "not high quality"),
            Mistake("the package's mode_coverage",
                    lambda: lambda s, m, std: mode_coverage(s, m, std).high_quality_fraction, "mode_coverage")],
    "5.7": [Mistake("unbiased std", lambda: _mbstd("unbiased"), "N - 1"),
            Mistake("spread over the features", lambda: _mbstd("rows"), "dim 0"),
            Mistake("spread of all entries", lambda: _mbstd("all"), "all entries"),
            Mistake("a variance", lambda: _mbstd("var"), "square root"),
            Mistake("spread column first", lambda: _mbstd("first"), "first column"),
            Mistake("detached spread", lambda: _mbstd("detach"), "gradient"),
            Mistake("one column per feature", lambda: _per_feature, "average them")],
}


def _bce_step(G, D, opt_g, opt_d, real, z):
    """Another right answer: BCE with logits, the fake drawn under no_grad for D, D frozen in G's step."""
    bce = F.binary_cross_entropy_with_logits
    with torch.no_grad():
        fake = G(z)
    lr_, lf = D(real), D(fake)
    d_loss = bce(lr_, torch.ones_like(lr_)) + bce(lf, torch.zeros_like(lf))
    opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    opt_d.step()
    for p in D.parameters():
        p.requires_grad_(False)
    lg = D(G(z))
    g_loss = bce(lg, torch.ones_like(lg))
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    for p in D.parameters():
        p.requires_grad_(True)
    return d_loss.item(), g_loss.item()


ALSO_RIGHT = {
    "5.1": [lambda: lambda t: -F.logsigmoid(t).mean()],
    "5.2": [lambda: lambda x, mu: torch.sigmoid(mu ** 2 / 2 - mu * x),
            lambda: lambda x, mu: 1 / (1 + torch.exp(-(x ** 2 - (x - mu) ** 2) / -2))],
    "5.3": [lambda: lambda r, f: -(F.logsigmoid(r) + F.logsigmoid(-f)).mean(),
            lambda: lambda r, f: F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
            + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))],
    "5.4": [lambda: _bce_step],
    "5.5": [lambda: lambda s, m, std: int(torch.cdist(s, m).argmin(1)[torch.cdist(s, m).min(1).values
                                                                       <= 3 * std].unique().numel())],
    "5.7": [lambda: lambda h: torch.cat([h, ((h - h.mean(0)) ** 2).mean(0).sqrt().mean().repeat(len(h), 1)], 1)],
}
