"""Exercise 1.2 of notebook 01, the lab: a Gaussian mixture's log-likelihood with logsumexp, then fit it.

The check compares the student's `mixture_log_prob(x, weight_logits, means, log_stds)` with torch.distributions'
MixtureSameFamily on random cases, at a point far from every component and at weight logits of +-200, follows
the gradients to all three parameters, then fits a 10-component mixture to the notebook's two moons with it
and asks for a held-out log-likelihood above LAB_THRESHOLD (measured with the true formula, so a wrong
log-likelihood cannot fake it).
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from unittest import mock

import torch
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

from ..checks import is_unanswered
from .expect import call, close, require, say, tensor, train_or_none
from .registry import Wrong, exercise

NOTEBOOK = "01_maximum_likelihood"
LAB_COMPONENTS, LAB_STEPS, LAB_LR = 10, 300, 0.05
LAB_THRESHOLD = -2.2  # nats per held-out point; the reference reaches about -1.97 (EM: about -1.95)
_RUNS: dict[int, tuple] = {}  # id(fn) -> (fn, steps done, held-out log-likelihood)


def reference_1_2(x, weight_logits, means, log_stds):
    log_weights = torch.log_softmax(weight_logits, dim=0)  # (K,): log pi_k, normalised
    log_normal = Normal(means, log_stds.exp()).log_prob(x[:, None, :])  # (N, K, D)
    return torch.logsumexp(log_weights + log_normal.sum(-1), dim=1)  # (N,)


def _truth(x, weight_logits, means, log_stds):
    components = Independent(Normal(means, log_stds.exp()), 1)
    return MixtureSameFamily(Categorical(logits=weight_logits), components).log_prob(x)


def _components(x, means, std):  # (N, K): log N(x_n | mu_k, diag std_k^2)
    return Normal(means, std).log_prob(x[:, None, :]).sum(-1)


_VARIANTS = [  # typical wrong formulas and what to say when an answer matches one
    (lambda x, w, m, s: torch.logsumexp(w + _components(x, m, s.exp()), 1),
     "you used the weight logits as log-weights without normalising them: the weights pi_k = softmax(logits) "
     "must add up to 1"),
    (lambda x, w, m, s: torch.logsumexp(_components(x, m, s.exp()), 1),
     "you left out the mixture weights pi_k"),
    (lambda x, w, m, s: reference_1_2(x, w, m, 2 * s),
     "you used the variance sigma^2 where the standard deviation sigma goes (log_stds is log sigma)"),
    (lambda x, w, m, s: reference_1_2(x, w, m, s / 2),
     "you read log_stds as log sigma^2: it is log sigma, so sigma = exp(log_stds)"),
    (lambda x, w, m, s: (torch.log_softmax(w, 0) + _components(x, m, s.exp())).max(1).values,
     "you kept the best component only (a max over k): the density adds all components up (logsumexp over k)"),
    (lambda x, w, m, s: (torch.softmax(w, 0) * _components(x, m, s.exp())).sum(1),
     "you averaged the components' log-densities (sum_k pi_k log N_k, a lower bound): the log-likelihood is "
     "the log of the weighted sum of densities"),
    (lambda x, w, m, s: (torch.log_softmax(w, 0) + _components(x, m, s.exp())).mean(1),
     "you took the mean over k of log pi_k + log N_k: combine the components with logsumexp over k"),
    (lambda x, w, m, s: torch.logsumexp(torch.log_softmax(w, 0)[:, None]
                                        + Normal(m, s.exp()).log_prob(x[:, None, :]), 1).sum(-1),
     "you mixed each coordinate separately (logsumexp over k, then a sum over d): add up a component's D "
     "coordinates first, then combine the components"),
]


class NotAllowed(RuntimeError):
    pass


@contextmanager
def _no_shortcut():
    def refuse(*args, **kwargs):
        raise NotAllowed("this exercise is to write the mixture's log-likelihood yourself, not to call "
                        "MixtureSameFamily.")

    with mock.patch.object(MixtureSameFamily, "log_prob", refuse):
        yield


def _case(seed: int, n: int, k: int, d: int):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g) * 2
    weight_logits = torch.randn(k, generator=g) * 1.5 + 0.7  # not normalised
    means = torch.randn(k, d, generator=g) * 2
    log_stds = torch.randn(k, d, generator=g) * 0.4 - 0.2
    return x, weight_logits, means, log_stds


def _run(fn, args, case):
    with _no_shortcut():
        return call(fn, *[a.clone() for a in args], case=case)


def _shape(got, n, k, d, case):
    if torch.is_tensor(got) and got.dim() == 0:
        raise Wrong(f"on {case} you returned one number: return one log-likelihood per point, shape (N,), "
                    "not their sum or mean.")
    if torch.is_tensor(got) and tuple(got.shape) == (n, d):
        raise Wrong(f"on {case} your result has shape (N, D) = {(n, d)}: add up the D coordinates' "
                    "log-densities of a component (a diagonal Gaussian), then combine the components.")
    if torch.is_tensor(got) and tuple(got.shape) == (n, k):
        raise Wrong(f"on {case} your result has shape (N, K) = {(n, k)}, one value per point and component: "
                    "combine the K components into one log-likelihood per point.")
    return tensor(got, f"your result on {case}", (n,))


def _values(fn) -> int:
    cases = [(1, 7, 3, 2), (2, 20, 5, 2), (3, 9, 1, 2), (4, 12, 4, 1), (5, 6, 2, 3)]
    for seed, n, k, d in cases:
        args = _case(seed, n, k, d)
        case = f"random case {seed} (N={n}, K={k}, D={d})"
        got = _shape(_run(fn, args, case), n, k, d, case)
        want = _truth(*args)
        if torch.allclose(got.double(), want.double(), rtol=1e-4, atol=1e-5):
            continue
        for variant, message in _VARIANTS:
            if torch.allclose(got.double(), variant(*args).double(), rtol=1e-4, atol=1e-5):
                raise Wrong(f"on {case} {message}.")
        close(got, want, f"your log-likelihood on {case}")
    return len(cases)


def _stability(fn) -> None:
    far = (torch.tensor([[40.0, -35.0], [0.5, 0.2]]), torch.tensor([0.3, -0.2, 0.1]),
           torch.tensor([[0.0, 0.0], [1.0, 1.0], [-1.0, 0.5]]), torch.full((3, 2), math.log(0.1)))
    case = "a point 400 standard deviations from every component"
    got = _run(fn, far, case)
    if torch.is_tensor(got) and got.shape == (2,) and not torch.isfinite(got[0]):
        raise Wrong(f"{case} got {got[0].item()}: its component densities (about e^-80000) underflow to 0 "
                    "before the log; stay in log space and combine the log-terms with torch.logsumexp.")
    close(_shape(got, 2, 3, 2, case), _truth(*far), f"your log-likelihood of {case}", rtol=1e-5)
    extreme = (torch.tensor([[0.2, -0.1], [1.0, 1.2], [-2.0, 0.0]]), torch.tensor([200.0, -200.0, 0.0]),
               torch.tensor([[0.0, 0.0], [1.0, 1.0], [-1.0, 0.5]]), torch.zeros(3, 2))
    case = "weight logits of +-200"
    got = _run(fn, extreme, case)
    if torch.is_tensor(got) and got.shape == (3,) and not torch.isfinite(got).all():
        raise Wrong(f"{case} gave NaN or inf: exp(200) overflows, so normalise the logits in log space "
                    "(log pi_k = logits_k - logsumexp(logits)).")
    close(_shape(got, 3, 3, 2, case), _truth(*extreme), f"your log-likelihood with {case}")


def _gradients(fn) -> None:
    args = _case(9, 8, 3, 2)
    case = "a case where the parameters require gradients"
    names = ("weight_logits", "means", "log_stds")
    params = [a.clone().requires_grad_() for a in args[1:]]
    with _no_shortcut():
        got = call(fn, args[0].clone(), *params, case=case)
    got = _shape(got, 8, 3, 2, case)
    require(got.requires_grad, "no gradient reaches the parameters through your result: keep every step in "
                               "torch (no .detach(), .item(), numpy or torch.no_grad()).")
    got.sum().backward()
    wanted = [a.clone().requires_grad_() for a in args[1:]]
    _truth(args[0], *wanted).sum().backward()
    for name, p, w in zip(names, params, wanted):
        require(p.grad is not None, f"no gradient reaches {name}: keep it in the computation graph "
                                    "(no .detach() or .data).")
        close(p.grad, w.grad, f"the gradient of your log-likelihood with respect to {name}", rtol=1e-3, atol=1e-4)


def _fit(fn, steps: int, seconds: float, quiet: bool):
    from ..data import two_moons
    from ..models.density import GaussianMixture

    x_train, x_test = two_moons(2000, seed=0), two_moons(2000, seed=1)
    with torch.random.fork_rng():
        model = GaussianMixture(GaussianMixture.Config(dim=2, components=LAB_COMPONENTS)).init_from_data(x_train)
    params = [model.weight_logits, model.means, model.log_stds]
    optimizer = torch.optim.Adam(params, lr=LAB_LR)
    start, lls = time.monotonic(), []
    for _ in range(steps):
        ll = fn(x_train, *params).mean()  # gradient ascent on the mean log-likelihood
        optimizer.zero_grad()
        (-ll).backward()
        optimizer.step()
        lls.append(ll.item())
        if time.monotonic() - start > seconds:
            break
    with torch.no_grad():
        held_out = model.log_prob(x_test).mean().item()  # the true formula, not yours
    _RUNS[id(fn)] = (fn, len(lls), held_out)
    if not quiet:
        cut = "" if len(lls) == steps else f" (cut short by the {seconds:g} s cap)"
        say(f"{len(lls)} Adam steps{cut}: your mean log-likelihood {lls[0]:.3f} -> {lls[-1]:.3f} on the training "
              f"points; held out: {held_out:.3f} nats per point (the check wants > {LAB_THRESHOLD:g})")
    return model.eval()


def fit_with_your_log_prob(mixture_log_prob, steps: int = LAB_STEPS, seconds: float = 20):
    """Fit a 10-component mixture to the notebook's moons_train (two_moons(2000, seed=0)) by gradient ascent on
    your mixture_log_prob: means on 10 data points, sigma = 0.5, equal weights, Adam (lr 0.05), full batches,
    `steps` steps or `seconds` of wall clock. Prints the held-out log-likelihood on moons_test (seed=1) and
    returns the fitted GaussianMixture, or None (with one printed line) if your function is not ready."""
    from ..runtime import capped_seconds

    if is_unanswered(mixture_log_prob) or not callable(mixture_log_prob):
        say("Exercise 1.2 is not answered yet: write mixture_log_prob above, then run this cell again.")
        return None
    return train_or_none("mixture_log_prob", _fit, mixture_log_prob, steps, capped_seconds(seconds), quiet=False)


@exercise("1.2", "lab: a mixture's log-likelihood with logsumexp, then fit it", notebook=NOTEBOOK, minutes=20,
          points=3, lab=True, reference=reference_1_2,
          hint="work with an (N, K) table of log pi_k + log N(x_n | mu_k, sigma_k) (a sum over the D coordinates), "
               "then reduce over k without ever leaving log space.")
def check_1_2(fn) -> str:
    require(callable(fn), f"expected a function, got {type(fn).__name__}.")
    n_cases = _values(fn)
    _stability(fn)
    _gradients(fn)
    run = _RUNS.get(id(fn))
    if run is None or run[0] is not fn or run[1] < LAB_STEPS:
        call(_fit, fn, LAB_STEPS, 60.0, True, case="the fit to two moons")
        run = _RUNS[id(fn)]
    require(run[1] >= LAB_STEPS, f"the fit was cut short after {run[1]} of {LAB_STEPS} steps: is your "
                                 "function slow (a Python loop over points or components)?")
    require(math.isfinite(run[2]) and run[2] > LAB_THRESHOLD,
            f"after {LAB_STEPS} steps the held-out log-likelihood is {run[2]:.3f} nats per point: "
            f"not above {LAB_THRESHOLD:g}.")
    return (f"matches torch.distributions on {n_cases} random cases, stays finite far from every component and "
            f"at logits of +-200, and passes gradients to all three parameters; your fit reaches "
            f"{run[2]:.3f} nats per held-out point (logsumexp comes back in notebook 04's IWAE estimate).")
