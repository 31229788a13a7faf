"""Exercises of notebooks 05 (5.1-5.3; the lab 5.4 is in gans_lab.py) and 05b (5.5-5.7): GAN losses
computed stably from logits, D* in closed form, mode coverage and the minibatch-std feature."""

from __future__ import annotations

import inspect

import torch
from torch.nn import functional as F

from .expect import call, close, number, require, tensor
from .registry import Wrong, exercise

NOTEBOOK, PROBLEMS = "05_gans", "05b_gan_problems"


def _course(module: str) -> bool:
    return module.split(".")[0] == "course_utils" and not module.startswith(__package__ or "course_utils.exercises")


def own_code_only(fn) -> None:
    """Wrong if `fn` calls into course_utils (the exercise is to write it with torch functions)."""
    own = getattr(fn, "__module__", None) or ""
    if _course(own):
        raise Wrong(f"you passed the course's `{getattr(fn, '__name__', fn)}` (from {own}): write your own "
                    "function with torch functions.")
    code = getattr(fn, "__code__", None)
    if code is None:
        return
    names, codes = set(), [code]
    while codes:  # the function's own code and that of any lambda or inner function in it
        c = codes.pop()
        names.update(c.co_names)
        codes.extend(k for k in c.co_consts if inspect.iscode(k))
    scope = dict(getattr(fn, "__globals__", {}))
    for cell_name, cell in zip(code.co_freevars, getattr(fn, "__closure__", None) or ()):
        try:
            scope[cell_name] = cell.cell_contents
        except ValueError:
            continue
    for name in sorted(names | set(code.co_freevars)):
        obj = scope.get(name)
        where = getattr(obj, "__module__", None) or getattr(obj, "__name__", "")
        if isinstance(where, str) and _course(where):
            raise Wrong(f"your function calls the course's `{name}` (from {where}): write it with torch "
                        "functions only (F.softplus, F.logsigmoid, torch.sigmoid, ...).")


def _scalar(got, what: str) -> torch.Tensor:
    got = tensor(got, what)
    if got.numel() != 1:
        raise Wrong(f"{what} should be one number (a 0-d tensor), got shape {tuple(got.shape)}: "
                    "average over the batch.")
    return got.reshape(())


def _logit_cases():
    gen = torch.Generator().manual_seed(51)
    cases = [(f"random logits ({n},)", 3 * torch.randn(n, generator=gen)) for n in (3, 17, 64)]
    return cases + [("logits [0]", torch.zeros(1))]


# ---------------------------------------------------------------- 5.1 the non-saturating loss
def reference_5_1(fake_logits):
    return F.softplus(-fake_logits).mean()              # -log sigmoid(l) = softplus(-l), stable


@exercise("5.1", "the non-saturating loss", notebook=NOTEBOOK, minutes=4, reference=reference_5_1,
          hint="write -log sigmoid(l) with a torch function that never takes the log of 0.")
def check_5_1(fn) -> str:
    require(callable(fn), f"expected a function, got {type(fn).__name__}.")
    own_code_only(fn)
    for case, logits in _logit_cases() + [("logits [-200, 200, 1]", torch.tensor([-200.0, 200.0, 1.0]))]:
        logits = logits.clone().requires_grad_(True)
        raw = call(fn, logits, case=case)
        if torch.is_tensor(raw) and raw.numel() == 1 and not torch.isfinite(raw).all():
            raise Wrong(f"on {case} your loss is {raw.item()}: log(sigmoid(l)) underflows to log(0) for very "
                        "negative logits; use F.logsigmoid or F.softplus.")
        got = _scalar(raw, f"your loss on {case}")
        want = reference_5_1(logits.detach())
        n = len(logits)
        for value, says in [(-want, "the sign is wrong: G minimises -log D(G(z)), a positive number"),
                            (-F.softplus(logits.detach()).mean(), "that is the saturating loss log(1 - D(G(z))); "
                             "the non-saturating one is -log D(G(z))"),
                            (n * want, "you summed over the batch: take the mean")]:
            if torch.isclose(got.detach(), value, rtol=1e-4, atol=1e-6) and \
                    not torch.isclose(value, want, rtol=1e-4, atol=1e-6):
                raise Wrong(f"on {case} {says}.")
        if abs(got.item() - want.item()) > 1e-3 * abs(want.item()) + 1e-5 and "200" in case:
            raise Wrong(f"on {case} your loss is {got.item():.6g}: clamping or adding an epsilon changes the "
                        "value at extreme logits; use F.logsigmoid or F.softplus.")
        close(got, want, f"your loss on {case}")
        require(got.requires_grad, f"on {case} your loss has no gradient: compute it with torch operations on "
                                   "the logits (no .item(), .detach() or numpy).")
        (grad,) = torch.autograd.grad(got, logits)
        require(bool(torch.isfinite(grad).all()), f"on {case} the gradient of your loss has NaN or inf.")
        if "200" in case and grad[0].abs() < 0.1 / n:
            raise Wrong("at a logit of -200 your loss has no gradient: it saturates where D wins.")
    return "checked on 5 batches, stable at logits of ±200; its gradient at -200 is -1/M, not 0."


# ---------------------------------------------------------------- 5.2 D* for two Gaussians
def reference_5_2(x, mu):
    # log p_data(x) - log p_g(x) = (-(x^2) + (x - mu)^2) / 2 = mu^2 / 2 - mu x
    return torch.sigmoid(((x - mu) ** 2 - x ** 2) / 2)


@exercise("5.2", "D* for two Gaussians", notebook=NOTEBOOK, minutes=10, points=2, reference=reference_5_2,
          hint="D* = sigmoid(log p_data(x) - log p_g(x)); write both log densities of N(m, 1) and subtract "
               "(the normalising constants cancel).")
def check_5_2(fn) -> str:
    require(callable(fn), f"expected a function, got {type(fn).__name__}.")
    own_code_only(fn)
    gen = torch.Generator().manual_seed(52)
    mus = [2.0, -1.0, 0.5, -1.7, 1.3]
    for mu in mus + [0.0]:
        x = torch.cat([torch.tensor([0.0, mu / 2]), 4 * torch.rand(9, generator=gen) - 2])
        case = f"mu = {mu:g}"
        got = tensor(call(fn, x.clone(), mu, case=case), f"D*(x) for {case}", (len(x),))
        require(bool(((got > 0) & (got < 1)).all()),
                f"for {case} your D*(x) leaves (0, 1): a probability p_data / (p_data + p_g) lies strictly "
                "inside it.")
        want = reference_5_2(x, mu)
        if mu == 0:
            require(bool(torch.allclose(got, torch.full_like(got, 0.5), atol=1e-5)),
                    "for mu = 0 the two densities are equal, so D* should be 1/2 everywhere: yours is not.")
            continue
        variants = [(1 - want, "you swapped the roles: that is p_g / (p_data + p_g), D's probability of *fake*"),
                    (reference_5_2(x, -mu), "your p_g is centred at -mu, not mu"),
                    (torch.sigmoid((x - mu) ** 2 - x ** 2), "you dropped the 1/2 of the Gaussian exponent "
                                                            "-(x - m)^2 / 2"),
                    (torch.exp(((x - mu) ** 2 - x ** 2) / 2).clamp(max=0.999), "you gave the density ratio "
                     "p_data / p_g, not p_data / (p_data + p_g)")]
        for value, says in variants:
            if torch.allclose(got, value, rtol=1e-4, atol=1e-6):
                raise Wrong(f"for {case}: {says}.")
        require(float(got.max() - got.min()) > 1e-3, f"for {case} your D* does not change with x: it should be "
                                                     "above 1/2 where p_data is larger, below where p_g is.")
        require(abs(got[1].item() - 0.5) < 1e-4, f"for {case} your D* at x = mu / 2, halfway between the means, "
                                                  f"is {got[1].item():.4g}: both densities are equal there.")
        close(got, want, f"your D*(x) for {case}", rtol=1e-4, atol=1e-6)
    return (f"checked for {len(mus)} values of mu: D* = sigmoid(mu^2 / 2 - mu x), a logistic regression — "
            "the optimal D between two Gaussians of equal variance is linear in its logit.")


# ---------------------------------------------------------------- 5.3 the discriminator's loss
def reference_5_3(real_logits, fake_logits):
    # -log sigmoid(r) = softplus(-r); -log(1 - sigmoid(f)) = softplus(f)
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


@exercise("5.3", "the discriminator's loss", notebook=NOTEBOOK, minutes=5, reference=reference_5_3,
          hint="1 - sigmoid(l) = sigmoid(-l): both terms are a log-sigmoid, and torch has a stable one.")
def check_5_3(fn) -> str:
    require(callable(fn), f"expected a function, got {type(fn).__name__}.")
    own_code_only(fn)
    extreme = ("logits of ±200", torch.tensor([200.0, -200.0, 3.0]), torch.tensor([-200.0, 200.0, -1.0]))
    cases = [(c, a, 2 * torch.randn(len(a), generator=torch.Generator().manual_seed(len(a))) - 1)
             for c, a in _logit_cases()] + [extreme]
    for case, real, fake in cases:
        real, fake = real.clone().requires_grad_(True), fake.clone().requires_grad_(True)
        raw = call(fn, real, fake, case=case)
        if torch.is_tensor(raw) and raw.numel() == 1 and not torch.isfinite(raw).all():
            raise Wrong(f"with {case} your loss is {raw.item()}: log(sigmoid(l)) and log(1 - sigmoid(l)) "
                        "underflow to log(0); use F.logsigmoid (1 - sigmoid(l) = sigmoid(-l)) or F.softplus.")
        got = _scalar(raw, f"your loss with {case}")
        r, f = real.detach(), fake.detach()
        want, n = reference_5_3(r, f), len(r)
        variants = [(-want, "the sign is wrong: D minimises the negative log-likelihood, a positive number"),
                    (reference_5_3(-r, -f), "real and fake are swapped: real samples have label 1 "
                                            "(-log sigmoid(l_real)), fakes label 0"),
                    (n * want, "you summed over the batch: take the mean"),
                    (want / 2, "you averaged over both batches together (2M terms): the formula is a mean over "
                               "M for each of the two terms"),
                    (F.softplus(-r).mean(), "the fake term is missing"),
                    (F.softplus(f).mean(), "the real term is missing"),
                    (F.softplus(-r).mean() + F.softplus(-f).mean(), "the fake term should be -log(1 - D), "
                     "not -log D: that is the generator's target")]
        for value, says in variants:
            if torch.isclose(got.detach(), value, rtol=1e-4, atol=1e-6) and \
                    not torch.isclose(value, want, rtol=1e-4, atol=1e-6):
                raise Wrong(f"with {case}: {says}.")
        if "200" in case and abs(got.item() - want.item()) > 1e-3 * want.item():
            raise Wrong(f"with {case} your loss is {got.item():.6g}: clamping or adding an epsilon changes the "
                        "value at extreme logits; use F.logsigmoid or F.softplus.")
        close(got, want, f"your loss with {case}")
        require(got.requires_grad, f"with {case} your loss has no gradient: compute it with torch operations.")
        grads = torch.autograd.grad(got, [real, fake])
        require(all(bool(torch.isfinite(g).all()) for g in grads),
                f"with {case} the gradient of your loss has NaN or inf.")
    return "checked on 5 pairs of batches, finite and exact at logits of ±200."




# ---------------------------------------------------------------- 05b: 5.5 and 5.6 mode coverage by hand
def reference_5_5(samples, modes, std):
    dist, nearest = torch.cdist(samples, modes).min(dim=1)   # each sample's nearest mode
    return len(nearest[dist <= 3 * std].unique())             # modes hit by a high-quality sample


def reference_5_6(samples, modes, std):
    nearest = torch.cdist(samples, modes).min(dim=1).values
    return (nearest <= 3 * std).float().mean().item()


def _coverage_cases():
    from ..data import ring_of_gaussians

    gen = torch.Generator().manual_seed(55)
    ring = ring_of_gaussians().component_distribution.base_dist.loc
    near = torch.tensor([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0]])
    grid = torch.cartesian_prod(torch.arange(4.0), torch.arange(4.0))
    some = grid[torch.randperm(16, generator=gen)[:9]]
    cases = [("samples on 4 modes of the ring, two on mode 0", ring[[0, 0, 3, 5]] + 0.01, ring, 0.02),
             ("two modes 0.1 apart (std 0.05), samples near the first", torch.tensor([[0.04, 0.0], [0.045, 0.01]]),
              near, 0.05),
             ("samples 2 std from 3 modes, plus strays", torch.cat([ring[:3] * 1.02, torch.zeros(5, 2)]), ring,
              0.02),
             ("samples 0.2 from every ring mode (outside 3 std)", ring * 1.1, ring, 0.02)]
    for k in range(3):
        pts = some[torch.randint(len(some), (200,), generator=gen)] + 0.1 * torch.randn(200, 2, generator=gen)
        strays = 4 * torch.rand(40, 2, generator=gen)
        cases.append((f"random case {k + 1} (a 4 x 4 grid, std 0.1)", torch.cat([pts, strays]), grid, 0.1))
    return cases


def _wrong_coverage(samples, modes, std):
    """What typical wrong readings of the protocol give (for the messages)."""
    dist = torch.cdist(samples, modes)
    best, nearest = dist.min(dim=1)
    return [("you counted samples, not modes: several samples on one mode count once",
             int((best <= 3 * std).sum()), None),
            ("a sample counts only for its nearest mode, not for every mode within 3 std",
             int((dist <= 3 * std).any(dim=0).sum()), None),
            ("the radius is 3 std, not 1 std", len(nearest[best <= std].unique()), (best <= std).float().mean().item()),
            ("only samples within 3 std of their nearest mode count", len(nearest.unique()), 1.0),
            ("you gave the share of samples that are NOT high quality", None,
             1 - (best <= 3 * std).float().mean().item())]


@exercise("5.5", "count covered modes", notebook=PROBLEMS, minutes=6, reference=reference_5_5,
          hint="first each sample's nearest mode and its distance, then keep the near ones, then count "
               "distinct modes.")
def check_5_5(fn) -> str:
    require(callable(fn), f"expected a function, got {type(fn).__name__}.")
    own_code_only(fn)
    for case, samples, modes, std in _coverage_cases():
        got = number(call(fn, samples.clone(), modes.clone(), std, case=case), f"your count for {case}")
        require(got == int(got), f"for {case} you gave {got:g}: a count of modes is a whole number.")
        want = reference_5_5(samples, modes, std)
        if got != want:
            for says, count, _ in _wrong_coverage(samples, modes, std):
                if count is not None and count == got:
                    raise Wrong(f"for {case}: {says}.")
            raise Wrong(f"for {case} you counted {int(got)} modes: not the number of modes with a sample within "
                        "3 std that is nearer to it than to any other mode.")
    return "checked on 7 cases (close modes, strays, repeated samples); mode_coverage does the same with a " \
           "minimum count of 10 % of a fair share."


@exercise("5.6", "the share of high-quality samples", notebook=PROBLEMS, minutes=4, reference=reference_5_6,
          hint="a boolean per sample (near its nearest mode?) averaged as floats.")
def check_5_6(fn) -> str:
    require(callable(fn), f"expected a function, got {type(fn).__name__}.")
    own_code_only(fn)
    for case, samples, modes, std in _coverage_cases():
        got = number(call(fn, samples.clone(), modes.clone(), std, case=case), f"your share for {case}")
        if got > 1 and got == int(got):
            raise Wrong(f"for {case} you gave {got:g}: that is a count; return a fraction between 0 and 1.")
        require(0 <= got <= 1, f"for {case} you gave {got:g}: a share lies between 0 and 1.")
        want = reference_5_6(samples, modes, std)
        if abs(got - want) > 1e-6:
            for says, _, share in _wrong_coverage(samples, modes, std):
                if share is not None and abs(share - got) <= 1e-6:
                    raise Wrong(f"for {case}: {says}.")
            raise Wrong(f"for {case} your share is {got:.4g}: not the fraction of samples within 3 std of their "
                        "nearest mode.")
    return "checked on 7 cases; a collapsed generator can score 100 % here while capturing one mode."


# ---------------------------------------------------------------- 5.7 the minibatch-std feature
def reference_5_7(h):
    spread = h.std(dim=0, unbiased=False).mean()          # one number for the batch
    return torch.cat([h, spread.expand(len(h), 1)], dim=1)  # appended as the last column


@exercise("5.7", "the minibatch standard deviation feature", notebook=PROBLEMS, minutes=6, points=2,
          reference=reference_5_7, hint="first one spread per feature over the batch (dim 0), then their mean, "
                                        "then a column of N copies.")
def check_5_7(fn) -> str:
    require(callable(fn), f"expected a function, got {type(fn).__name__}.")
    gen = torch.Generator().manual_seed(57)
    cases = [("h = randn(8, 5)", torch.randn(8, 5, generator=gen)),
             ("a collapsed batch, ones(4, 3)", torch.ones(4, 3)),
             ("h = 3 randn(64, 128) + 1", 3 * torch.randn(64, 128, generator=gen) + 1),
             ("h = rand(5, 2)", torch.rand(5, 2, generator=gen))]
    for case, h in cases:
        h = h.clone().requires_grad_(True)
        n, f = h.shape
        got = call(fn, h, case=case)
        if torch.is_tensor(got) and tuple(got.shape) == (n, 2 * f):
            raise Wrong(f"for {case} you appended one spread per feature: average them into one column.")
        got = tensor(got, f"your output for {case}", (n, f + 1))
        hd = h.detach()
        if not torch.allclose(got[:, :f], hd):
            if torch.allclose(got[:, 1:], hd):
                raise Wrong(f"for {case} the spread is the first column: append it as the last one.")
            raise Wrong(f"for {case} the first {f} columns of your output are not h itself.")
        col = got[:, f]
        require(bool(torch.allclose(col, col[0].expand(n))), f"for {case} the last column differs between rows: "
                                                             "it is one number for the whole batch.")
        if "collapsed" in case:
            require(abs(col[0].item()) < 1e-6, f"for {case} your spread is {col[0].item():.4g}: a batch of "
                                               "identical rows has no spread.")
            continue
        want = reference_5_7(hd)[:, f]
        for value, says in [(hd.std(dim=0).mean(), "divide by N, not N - 1 (unbiased=False)"),
                            (hd.std(dim=1, unbiased=False).mean(), "that is the spread over the features of each "
                                                                   "row; take it over the batch (dim 0)"),
                            (hd.std(unbiased=False), "that is the spread of all entries together; take one "
                                                     "per feature over the batch, then average"),
                            (hd.var(dim=0, unbiased=False).mean(), "that is a variance: take its square root"),
                            (hd.std(dim=1).mean(), "that is the spread over the features of each row; take "
                                                   "it over the batch (dim 0)")]:
            if torch.isclose(col[0], value, rtol=1e-4) and not torch.isclose(value, want[0], rtol=1e-4):
                raise Wrong(f"for {case}: {says}.")
        close(col, want, f"the spread column for {case}")
        require(got.requires_grad, f"for {case} your output has no gradient: keep the computation in torch.")
        (grad,) = torch.autograd.grad(col.sum(), h)
        require(bool(grad.abs().sum() > 0), f"for {case} no gradient flows from the spread column to h: "
                                            "do not detach it (D learns through it).")
    return "checked on 4 batches, incl. a collapsed one (spread 0) and the gradient through the spread."


from . import gans_lab  # noqa: E402,F401  (the lab 5.4 registers itself)
