"""Lab 6.4 of notebook 06: the IWAE estimate of log p(x), applied to the shipped VAE.

The student writes `iwae_log_likelihood(model, x, k)` from the VAE's posterior q(z|x), the prior
N(0, I) and the decoder's log p(x|z); the check compares it with the package's estimate by behaviour
(shape, randomness, no underflow, >= the ELBO, rising with k, within Monte-Carlo noise of a tight
estimate); `iwae_on_test_set` then uses it on the test set and compares with the benchmark's number.
"""

from __future__ import annotations

import copy
import functools
import math
import time

import torch
from torch.distributions import Normal

from .expect import call, require, say
from .registry import NotAnswered, Wrong, exercise

NOTEBOOK = "06_model_comparison"
_N, _K = 32, 200  # the statistical comparison: images, importance samples
_TOL = 1.5  # nats: the mean over 32 images at k=200 varies by about 0.2 (std) between seeds


def reference_6_4(model, x, k):
    """IWAE estimate of log p(x) with k samples z_j ~ q(z|x), (N,) nats."""
    mu, logvar = model.posterior(x)  # (N, d) each
    std = torch.exp(0.5 * logvar)
    eps = torch.randn(k, *mu.shape, device=mu.device)  # (k, N, d)
    z = mu + std * eps  # k samples of q(z|x) per image
    log_pz = Normal(0.0, 1.0).log_prob(z).sum(-1)  # (k, N)
    log_qz = Normal(mu, std).log_prob(z).sum(-1)  # (k, N)
    log_w = model.log_likelihood(x, z) + log_pz - log_qz  # (k, N)
    return torch.logsumexp(log_w, dim=0) - math.log(k)  # log-mean-exp over k


class _UsedLogProb(Exception):
    pass


def _forbid_log_prob(*args, **kwargs):
    raise _UsedLogProb()


@functools.cache
def _setting():
    """The shipped VAE (with its own log_prob disabled), a stressed copy and 32 test images."""
    from ..checkpoints import load_pretrained
    from ..data import binarized_mnist_test

    vae = load_pretrained("vae_mnist").eval()
    stressed = copy.deepcopy(vae)
    with torch.no_grad():  # huge logits: log-weights around -1000s, exp() underflows
        stressed.decoder[-2].weight.mul_(40)
        stressed.decoder[-2].bias.mul_(40)
    for m in (vae, stressed):
        m.log_prob = _forbid_log_prob
    return vae, stressed, binarized_mnist_test()[0][:_N]


@functools.cache
def _targets():
    """Tight averages over the 32 images: the reference at k=200 (8 seeds) and the ELBO."""
    vae, _, x = _setting()
    with torch.no_grad(), torch.random.fork_rng():
        torch.manual_seed(1234)
        ref = sum(reference_6_4(vae, x, _K).mean().item() for _ in range(8)) / 8
        elbo = sum(vae.elbo(x).mean().item() for _ in range(50)) / 50
    return ref, elbo


def _run(fn, model, x, k, seed, case):
    with torch.no_grad(), torch.random.fork_rng():
        torch.manual_seed(seed)
        try:
            out = call(fn, model, x, k, case=case)
        except Wrong as err:
            if isinstance(err.__context__, _UsedLogProb):
                raise Wrong("your function calls model.log_prob, the package's own "
                            "estimate: build it from model.posterior, "
                            "model.log_likelihood and the prior.") from None
            raise
    return _as_estimates(out, len(x), k, case)


def _as_estimates(out, n, k, case):
    require(torch.is_tensor(out), f"on {case} your function returned "
            f"{type(out).__name__}: return a tensor with one value per image.")
    if tuple(out.shape) == (k,) and k != n:
        raise Wrong(f"on {case} your result has shape ({k},), one value per "
                    "sample: reduce over the k samples (dim 0), not over the images.")
    if out.dim() == 2 and tuple(out.shape) in {(k, n), (n, k)}:
        raise Wrong(f"on {case} your result has shape {tuple(out.shape)}: reduce the "
                    "k log-weights of each image to one estimate (log-mean-exp over k).")
    require(tuple(out.shape) == (n,), f"on {case} your result has shape "
            f"{tuple(out.shape)}; it should be ({n},), one estimate per image.")
    require(out.is_floating_point(), f"on {case} your result has dtype {out.dtype}.")
    if torch.isneginf(out).any():
        raise Wrong(f"on {case} your estimate is -inf for some images: exp(log w) "
                    "underflows to 0 when log w is around -100 (or -1000); stay in "
                    "log space with torch.logsumexp.")
    require(bool(torch.isfinite(out).all()), f"on {case} your estimate contains NaN or inf.")
    return out.detach().double()


@exercise("6.4", "the IWAE estimate, applied to the shipped VAE", notebook=NOTEBOOK,
          minutes=20, points=3, lab=True, reference=reference_6_4,
          hint="log w = log p(x|z) + log p(z) - log q(z|x) for each of the k samples "
               "z ~ q(z|x); the estimate is log of the mean of the weights, in log space.")
def check_6_4(fn) -> str:
    vae, stressed, x = _setting()
    _run(fn, vae, x[:1], 1, 0, "one image, k=1")
    small = _run(fn, vae, x[:3], 5, 0, "3 images, k=5")
    if (small > 0).any():
        raise Wrong("your estimate is positive: log p(x) of a binary image is below 0 "
                    "(return the log-likelihood, not the NLL).")
    a, b = (_run(fn, vae, x[:4], 1, s, f"seed {s}") for s in (1, 2))
    require(not torch.equal(a, b), "your estimate is identical for every seed: draw "
            "the k codes z = mu + sigma * eps from q(z|x), with fresh noise eps.")
    _run(fn, stressed, x[:4], 50, 0, "a decoder with log-weights around -1000s")
    ref, elbo = _targets()
    means = {k: _run(fn, vae, x, k, 7, f"{_N} images, k={k}").mean().item()
             for k in (1, 10, _K)}
    top = means[_K]
    if abs(top - ref - math.log(_K)) < _TOL / 2:
        raise Wrong(f"your estimate is about log k above a tight one (k={_K}: you "
                    f"gave {top:.2f} on average): you summed the weights; average them "
                    "(subtract log k).")
    if top - means[1] < 2:
        raise Wrong("your estimate does not rise with k (k=1, 10, 200 give about the "
                    "same average): average the weights inside the log (log-mean-exp; "
                    "the mean of the log-weights is only the ELBO), with z drawn from "
                    "the q(z|x) whose log-density you subtract (sigma = exp(logvar/2)).")
    if top < elbo + 2:
        raise Wrong(f"your estimate (k={_K}, you gave {top:.2f} on average) is below "
                    "the ELBO: sample z from q(z|x) and keep every term of "
                    "log w = log p(x|z) + log p(z) - log q(z|x).")
    require(means[1] < means[10] + 1 < means[_K] + 2, "your estimate does not rise "
            "with k on average (k=1, 10, 200).")
    require(abs(top - ref) < _TOL, f"your estimate (k={_K}, you gave {top:.2f} on "
            f"average over {_N} images) differs from a tight IWAE estimate by more "
            "than Monte-Carlo noise: check every term of log w.")
    return ("a lower bound on log p(x) in expectation, above the ELBO and rising with "
            "k; logsumexp keeps it finite where exp(log w) underflows.")


def iwae_on_test_set(fn, model, x, k=100, checkpoint="vae_mnist", seconds=60,
                     batch=100):
    """Use the student's estimate on the test set: print the NLL in nats and bits/dim
    beside the benchmark's number; return the mean NLL (nats) or None if unanswered."""
    from ..checkpoints import read_sidecar
    from ..metrics import bits_per_dim

    total, done, start = 0.0, 0, time.perf_counter()
    with torch.no_grad(), torch.random.fork_rng():
        torch.manual_seed(0)
        for i in range(0, len(x), batch):
            xb = x[i:i + batch].to(next(model.parameters()).device)
            try:
                est = _as_estimates(call(fn, model, xb, k, case="the test set"),
                                    len(xb), k, f"images {i}-{i + len(xb) - 1}")
            except NotAnswered:
                say("⏳ iwae_log_likelihood is not written yet: nothing to measure.")
                return None
            except Wrong as err:
                say(f"❌ {err} (see the check below)")
                return None
            total, done = total - est.sum().item(), done + len(xb)
            if time.perf_counter() - start > seconds:
                break
    nll = total / done
    bench = read_sidecar(checkpoint)["metrics"]["test_nll_iwae1000_nats"]
    say(f"your IWAE k={k} on {done:,} test images: NLL <= {nll:.2f} nats "
          f"= {bits_per_dim(nll):.4f} bits/dim | benchmark (IWAE k=1000, "
          f"{len(x):,} images): {bench:.2f} nats = {bits_per_dim(bench):.4f} bits/dim")
    return nll
