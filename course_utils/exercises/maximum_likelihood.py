"""Exercises 1.1-1.4 of notebook 01 (maximum likelihood); the lab, 1.2, is in maximum_likelihood_lab.py."""

from __future__ import annotations

import math

import torch

from ..checks import is_unanswered
from .expect import call, close, number, require, same_to_figures, say, tensor
from .maximum_likelihood_lab import LAB_THRESHOLD, fit_with_your_log_prob, reference_1_2
from .registry import Wrong, exercise

__all__ = ["fit_with_your_log_prob", "compare_smoothing", "LAB_THRESHOLD", "reference_1_1", "reference_1_2",
           "reference_1_3", "reference_1_4"]

NOTEBOOK = "01_maximum_likelihood"


# ---------------------------------------------------------------- 1.1 the Gaussian MLE

def reference_1_1(x):
    mu = x.mean()
    sigma = ((x - mu) ** 2).mean().sqrt()  # divide by N (= x.std(correction=0)), not N - 1
    return torch.stack([mu, sigma])


def _samples():
    g = torch.Generator().manual_seed(11)
    for n, loc, scale in ((5, 3.0, 2.0), (12, -1.5, 0.5), (2, 0.0, 1.0), (400, 10.0, 3.0)):
        yield f"a sample of {n} points", loc + scale * torch.randn(n, generator=g)


def _same(a, b) -> bool:
    return bool(torch.isclose(torch.as_tensor(a).double(), torch.as_tensor(b).double(), rtol=1e-4, atol=1e-6))


def _why_sigma(got, x) -> str:
    mu = x.mean()
    known = [(x.std(), "your sigma divides by N - 1 (the unbiased estimate); maximum likelihood divides by N"),
             (x.var(correction=0), "you returned the variance sigma^2, not the standard deviation sigma"),
             (x.var(), "you returned the unbiased variance (divided by N - 1), not the standard deviation sigma"),
             ((x ** 2).mean().sqrt(), "you did not subtract the mean before squaring"),
             ((x - mu).abs().mean(), "you returned the mean absolute deviation, not the root of the mean square")]
    return next((message for value, message in known if _same(got, value)), "")


@exercise("1.1", "the Gaussian MLE", notebook=NOTEBOOK, minutes=5, reference=reference_1_1,
          hint="set the derivatives of the log-likelihood with respect to mu and sigma to zero: which "
               "count divides the sum of squared deviations?")
def check_1_1(fn) -> str:
    require(callable(fn), f"expected a function, got {type(fn).__name__}.")
    for case, x in _samples():
        got = call(fn, x.clone(), case=case)
        if isinstance(got, (tuple, list)):
            raise Wrong("return one tensor, torch.stack([mu, sigma]), not a tuple or a list.")
        got = tensor(got, f"your result on {case}", (2,))
        mu, sigma = x.mean(), x.std(correction=0)
        if not _same(got[0], mu):
            if _same(got[0], sigma) and _same(got[1], mu):
                raise Wrong(f"on {case} you returned [sigma, mu]: the order is [mu, sigma].")
            if _same(got[0], x.median()):
                raise Wrong(f"on {case} your mu is the median: the MLE of mu is the sample mean.")
            raise Wrong(f"on {case} your mu = {got[0].item():.6g} is not the maximum-likelihood mean.")
        if not _same(got[1], sigma):
            why = _why_sigma(got[1], x)
            raise Wrong(f"on {case} {why}." if why else
                        f"on {case} your sigma = {got[1].item():.6g} is not the maximum-likelihood sigma.")
    return ("mu is the sample mean and sigma divides by N: the MLE of the variance is biased, "
            "by the factor (N - 1) / N.")


# ---------------------------------------------------------------- 1.3 nats -> bits per dimension

def reference_1_3() -> float:
    return 86.0 / (784 * math.log(2))


@exercise("1.3", "from nats to bits per dimension", notebook=NOTEBOOK, minutes=3, reference=reference_1_3,
          value=True, hint="two conversions: from nats to bits (a nat is 1/ln 2 bits) and from one image to "
                           "one of its pixels.")
def check_1_3(answer) -> str:
    got = number(answer)
    want = reference_1_3()
    require(got > 0, f"you gave {got:g}: a negative log-likelihood in bits per dimension is positive here.")
    if same_to_figures(got, 86.0 / 784):
        raise Wrong(f"{got:.4g} is in nats per dimension: convert nats to bits too.")
    if same_to_figures(got, 86.0 * math.log(2) / 784):
        raise Wrong(f"{got:.4g}: you multiplied by ln 2 (or divided by log2(e)) where you should divide by ln 2.")
    if same_to_figures(got, 86.0 / math.log(2)):
        raise Wrong(f"{got:.4g} is in bits per image: divide by the number of dimensions (pixels) too.")
    if same_to_figures(got, math.log2(86.0) / 784) or same_to_figures(got, math.log2(86.0)):
        raise Wrong(f"{got:.4g}: you took log2 of the NLL; it is already a logarithm, only its unit changes.")
    if same_to_figures(got, 86.0 / (784 * math.log10(2))):
        raise Wrong(f"{got:.4g}: you used log10(2); a nat is 1/ln 2 bits (the natural logarithm).")
    require(same_to_figures(got, want), f"{got:.4g} is not 86.0 nats per image in bits per dimension "
                                        "(3 significant figures are enough).")
    return f"{want:.3f} bits/dim: bits_per_dim(86.0) gives the same."


# ---------------------------------------------------------------- 1.4 the smoothed pixel MLE and its test NLL

def reference_1_4(x_train, x_test, alpha):
    n = len(x_train)
    mu = (x_train.sum(0) + alpha) / (n + 2 * alpha)  # (1, 28, 28): alpha pseudo-counts of 1 and of 0
    log_p = torch.xlogy(x_test, mu) + torch.xlogy(1 - x_test, 1 - mu)  # 0 log 0 counts as 0
    return -log_p.flatten(1).sum(1)  # (M,): nats per image


def _pixels(seed: int, n: int, grey: bool = False):
    g = torch.Generator().manual_seed(seed)
    p = torch.rand(1, 28, 28, generator=g) * 0.6
    if grey:
        return (p + 0.4 * torch.rand(n, 1, 28, 28, generator=g)).clamp(0, 1)
    return torch.bernoulli(p.expand(n, 1, 28, 28).contiguous(), generator=g)


def _smoothed(x_train, x_test, alpha, denominator):
    mu = (x_train.sum(0) + alpha) / (len(x_train) + denominator * alpha)
    return -(torch.xlogy(x_test, mu) + torch.xlogy(1 - x_test, 1 - mu)).flatten(1).sum(1)


def _why_nll(got, x_train, x_test, alpha) -> str:
    want = reference_1_4(x_train, x_test, alpha)
    known = [(-want, "you returned log-likelihoods (negative numbers); return the negative log-likelihood"),
             (want / 784, "you averaged over the pixels (per pixel): an image's NLL adds up its 784 pixels' terms"),
             (want / math.log(2), "you gave bits: the question asks for nats (natural log)"),
             (reference_1_4(x_test, x_test, alpha), "you estimated mu from x_test: fit it on x_train only"),
             (_smoothed(x_train, x_test, alpha, 1), "your mu has the wrong denominator: alpha is added to the "
                                                    "count of 1s and of 0s, so N + 2 alpha")]
    return next((m for value, m in known if torch.allclose(got.double(), value.double(), rtol=1e-4)), "")


def _shape_nll(got, m: int, case: str):
    if torch.is_tensor(got) and got.dim() == 0:
        raise Wrong(f"on {case} you returned one number: return one NLL per test image, shape (M,) = ({m},).")
    if torch.is_tensor(got) and got.shape[:1] == (m,) and got.dim() > 1:
        raise Wrong(f"on {case} your result has shape {tuple(got.shape)}, per pixel: add up each image's "
                    "pixel terms to one NLL per test image.")
    require(torch.is_tensor(got), f"on {case} your result should be a torch tensor, got {type(got).__name__}.")
    require(tuple(got.shape) == (m,), f"on {case} your result has shape {tuple(got.shape)}, not ({m},).")
    require(got.is_floating_point(), f"on {case} your result has dtype {got.dtype}: return floats.")
    return got


@exercise("1.4", "the smoothed pixel MLE and its test NLL", notebook=NOTEBOOK, minutes=12, points=2,
          reference=reference_1_4,
          hint="mu has the shape of one image; the test term of pixel i is x log mu + (1 - x) log(1 - mu), "
               "and torch.xlogy(a, b) computes a log b with 0 log 0 = 0.")
def check_1_4(fn) -> str:
    require(callable(fn), f"expected a function, got {type(fn).__name__}.")
    cases = [(1, 40, 6, 1.0, False), (2, 15, 4, 0.5, False), (3, 30, 5, 2.0, True), (4, 200, 9, 0.05, False)]
    for seed, n, m, alpha, grey in cases:
        x_train, x_test = _pixels(seed, n, grey), _pixels(seed + 100, m)
        case = f"random case {seed} ({n} {'grey-level' if grey else 'binary'} training images, alpha = {alpha:g})"
        got = _shape_nll(call(fn, x_train.clone(), x_test.clone(), alpha, case=case), m, case)
        if not torch.isfinite(got).all():
            raise Wrong(f"on {case} you gave inf or NaN: with alpha > 0 every mu_i lies strictly between 0 and 1, "
                        "so every NLL is finite. Does your mu use alpha?")
        want = reference_1_4(x_train, x_test, alpha)
        if not torch.allclose(got.double(), want.double(), rtol=1e-4):
            again = call(fn, x_train.clone(), x_test.clone(), 3 * alpha, case=case)
            if torch.is_tensor(again) and torch.equal(again, got):
                raise Wrong(f"on {case} your result does not change with alpha: smooth mu with it.")
            why = _why_nll(got, x_train, x_test, alpha)
            if why:
                raise Wrong(f"on {case} {why}.")
            close(got, want, f"your NLL on {case}", rtol=1e-4)
    x_train = torch.zeros(4, 1, 28, 28)
    x_train[:, 0, 0, 0], x_train[:2, 0, 5, 5] = 1, 1  # pixel (0, 0) always on, (5, 5) half the time
    x_test = torch.zeros(3, 1, 28, 28)
    x_test[0, 0, 0, 0] = x_test[0, 0, 5, 5] = x_test[1, 0, 0, 0] = 1
    x_test[1, 0, 9, 9] = 1  # ink where no training image has any
    case = "alpha = 0 (the plain MLE) on 4 training images"
    got = _shape_nll(call(fn, x_train.clone(), x_test.clone(), 0.0, case=case), 3, case)
    if torch.isnan(got).any():
        raise Wrong(f"on {case} you gave NaN: a pixel with mu_i = 0 that is off contributes 0 log 0, "
                    "which counts as 0 (the pixel's probability is 1).")
    for i, what in ((1, "ink where no training image has any"), (2, "a pixel off that every training image has on")):
        require(got[i].item() == math.inf, f"on {case} an image with {what} has probability 0, so its NLL is "
                                           f"+inf; you gave {got[i].item():.6g} (do not clamp mu).")
    close(got[:1], reference_1_4(x_train, x_test, 0.0)[:1], f"your NLL on {case}", rtol=1e-4, atol=1e-5)
    return ("mu_i = (count_i + alpha) / (N + 2 alpha): alpha = 0 is the plain MLE, whose test NLL is infinite "
            "as soon as one test image has ink where the training set has none.")


def compare_smoothing(fn, x_train, x_test, alphas=(0.0, 0.01, 0.1, 1.0, 10.0), sizes=(8000, 100)):
    """Print the mean test NLL of your bernoulli_test_nll for each alpha, fitted on the first `sizes` training
    images; return {(size, alpha): mean NLL}, or None (with one printed line) if your function is not ready."""
    if is_unanswered(fn) or not callable(fn):
        say("Exercise 1.4 is not answered yet: write bernoulli_test_nll above, then run this cell again.")
        return None
    table = {}
    try:
        for size in sizes:
            for alpha in alphas:
                nll = fn(x_train[:size], x_test, alpha)
                table[(size, alpha)] = nll.mean().item()
                print(f"{size:5d} training images, alpha = {alpha:<5g}: test NLL {nll.mean().item():7.2f} "
                      f"nats ({int(torch.isinf(nll).sum())} at +inf)")
    except NotImplementedError:
        say("bernoulli_test_nll is not answered yet.")
        return None
    except Exception as err:
        say(f"your bernoulli_test_nll raised {type(err).__name__}: {err}")
        return None
    return table
