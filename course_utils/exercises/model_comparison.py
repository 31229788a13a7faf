"""Exercises 6.1-6.4 of notebook 06 (the taxonomy, measured): units, the price of sampling one
pixel at a time, the FID of two diagonal Gaussians, and the lab (IWAE, in model_comparison_lab)."""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from .expect import call, number, require, same_to_figures, say
from .model_comparison_lab import iwae_on_test_set  # registers lab 6.4
from .registry import NotAnswered, Wrong, exercise

__all__ = ["iwae_on_test_set", "show_slowdowns"]

NOTEBOOK = "06_model_comparison"
DIMS = 28 * 28


# ------------------------------------------------------------------ 6.1 units

@functools.cache
def _fashion_made_nll() -> float:
    """The Fashion-MNIST MADE's test NLL in nats per image, as notebook 06 measures it."""
    from ..checkpoints import load_pretrained
    from ..data import binarized_fashion_mnist_test
    from ..metrics import evaluate_nll

    x, _ = binarized_fashion_mnist_test()
    return evaluate_nll(load_pretrained("made_fashion"), x)


def reference_6_1() -> float:
    nll = _fashion_made_nll()  # f_nll["MADE"] in the notebook
    return nll / (28 * 28 * math.log(2))


@exercise("6.1", "units: nats per image to bits per dimension", notebook=NOTEBOOK,
          minutes=3, reference=reference_6_1, value=True,
          hint="bits/dim is per pixel and in bits; a nat is 1/ln 2 bits.")
def check_6_1(answer) -> str:
    got, nll = number(answer), _fashion_made_nll()
    want = nll / (DIMS * math.log(2))
    require(got > 0, f"you gave {got:g}: an NLL (and its bits/dim) is positive here.")
    wrong = {nll / DIMS: "is in nats per dimension: convert nats to bits too (divide "
                         "by ln 2)",
             nll / math.log(2): "is in bits per image, not per dimension: divide by "
                                "the number of pixels too",
             nll: "is still in nats per image",
             nll * math.log(2) / DIMS: "multiplies by ln 2: one bit is ln 2 nats, so "
                                       "nats become bits by dividing by ln 2",
             nll / (DIMS * math.log10(2)): "uses log10(2): the conversion factor "
                                           "from nats is the natural log ln 2",
             nll / (28 * math.log(2)): "divides by 28: an image has 28 x 28 "
                                       "dimensions"}
    for value, what in wrong.items():
        if same_to_figures(got, value) and not same_to_figures(got, want):
            raise Wrong(f"{got:.4g} {what}.")
    require(same_to_figures(got, want), f"{got:.4g} is not the MADE's NLL in bits per "
            "dimension (3 significant figures are enough).")
    return (f"{want:.3f} bits per pixel: Fashion-MNIST costs more bits than MNIST's "
            "digits, and bits/dim lets you compare images of different sizes.")


# ------------------------------------------------------------------ 6.2 the price of sampling

def reference_6_2(seconds: dict, model: str, baseline: str) -> float:
    return seconds[model] / seconds[baseline]


_NAMES = ["PixelRNN", "DCGAN", "VAE", "NADE", "MADE"]


@exercise("6.2", "the price of a pixel at a time", notebook=NOTEBOOK, minutes=3,
          reference=reference_6_2,
          hint="'how many times longer' is a quotient of two durations.")
def check_6_2(fn) -> str:
    gen = np.random.default_rng(62)
    cases = [({"PixelRNN": 2.5, "DCGAN": 0.01}, "PixelRNN", "DCGAN"),
             ({"slow model": 3.0, "fast model": 0.5}, "slow model", "fast model")]
    for _ in range(3):
        times = dict(zip(_NAMES, gen.uniform(0.001, 5.0, len(_NAMES)).round(4)))
        a, b = gen.choice(_NAMES, 2, replace=False)
        cases.append((times, str(a), str(b)))
    for times, a, b in cases:
        case = f"seconds={times}, model={a!r}, baseline={b!r}"
        try:
            got = fn(dict(times), a, b)
        except KeyError as err:
            raise Wrong(f"on {case} your function looks up {err} which is not asked "
                        "for: use the arguments model and baseline.") from None
        except NotImplementedError:
            raise NotAnswered() from None
        except Exception as err:
            raise Wrong(f"your function raised {type(err).__name__} on {case}: {err}") from None
        got = number(got, f"your result on {case}")
        ta, tb = times[a], times[b]
        for value, what in [(tb / ta, "divides the baseline's time by the model's: "
                             "the ratio is upside down"),
                            (ta - tb, "is a difference of seconds, not a ratio"),
                            (ta / tb - 1, "is how much longer relative to the baseline "
                             "(ratio - 1), not how many times as long")]:
            if math.isclose(got, value, rel_tol=1e-6) and not math.isclose(
                    got, ta / tb, rel_tol=1e-6):
                raise Wrong(f"on {case} you gave {got:.6g}: it {what}.")
        require(math.isclose(got, ta / tb, rel_tol=1e-6),
                f"on {case} you gave {got:.6g}: not how many times longer the model "
                "takes than the baseline.")
    return "a ratio of times: it does not depend on the machine as much as the seconds do."


def show_slowdowns(fn, seconds: dict, baseline: str = "DCGAN") -> None:
    """Use the student's times_slower: print how many times slower each model samples."""
    try:
        ratios = {m: float(call(fn, seconds, m, baseline)) for m in seconds
                  if m != baseline}
    except NotAnswered:
        say("⏳ times_slower is not written yet: nothing to show.")
        return
    except (Wrong, TypeError, ValueError) as err:
        say(f"❌ {err} (see the check above)")
        return
    for m, r in sorted(ratios.items(), key=lambda kv: -kv[1]):
        print(f"{m:>22}: {r:10.1f} x the {baseline}'s time")


# ------------------------------------------------------------------ 6.3 FID of diagonal Gaussians

def reference_6_3(mu1, var1, mu2, var2):
    """Fréchet distance of N(mu1, diag var1) and N(mu2, diag var2); inputs (..., d) -> (...)."""
    mean_term = ((mu1 - mu2) ** 2).sum(-1)
    # diagonal: tr(C1 + C2 - 2 (C1 C2)^(1/2)) = sum_j (v1 + v2 - 2 sqrt(v1 v2))
    return mean_term + ((var1.sqrt() - var2.sqrt()) ** 2).sum(-1)


def _full_fid(mu1, var1, mu2, var2) -> float:
    from ..metrics import frechet_distance

    return frechet_distance(mu1.double().numpy(), np.diag(var1.double().numpy()),
                            mu2.double().numpy(), np.diag(var2.double().numpy()))


def _fid_variants(m1, v1, m2, v2) -> dict:
    d2, root = ((m1 - m2) ** 2).sum(-1), (v1 * v2).sqrt()
    return {
        "treats the variances as standard deviations (the covariance holds sigma^2)":
            d2 + ((v1 - v2) ** 2).sum(-1),
        "misses the 2 in the trace term -2 tr((C1 C2)^(1/2))":
            d2 + (v1 + v2 - root).sum(-1),
        "forgets the square root of the product C1 C2": d2 + (v1 + v2 - 2 * v1 * v2).sum(-1),
        "uses the distance of the means, not its square":
            d2.sqrt() + (v1 + v2 - 2 * root).sum(-1),
        "averages over the dimensions instead of summing":
            ((m1 - m2) ** 2).mean(-1) + (v1 + v2 - 2 * root).mean(-1),
        "leaves out the covariance term": d2}


def _fid_cases():
    gen = torch.Generator().manual_seed(63)
    cases = [(torch.zeros(2), torch.ones(2), torch.ones(2), torch.ones(2))]
    for d in (1, 3, 8, 50):
        cases.append((torch.randn(d, generator=gen), torch.rand(d, generator=gen) * 4 + 0.1,
                      torch.randn(d, generator=gen), torch.rand(d, generator=gen) * 4 + 0.1))
    return cases


@exercise("6.3", "FID of two diagonal Gaussians", notebook=NOTEBOOK, minutes=12,
          points=2, reference=reference_6_3,
          hint="write C1, C2 as diagonal matrices: their product, its square root and "
               "the traces are all entry by entry.")
def check_6_3(fn) -> str:
    names = set(getattr(getattr(fn, "__code__", None), "co_names", ()))
    if names & {"frechet_distance", "course_fid", "sqrtm"}:
        raise Wrong("your function calls the general formula (frechet_distance/"
                    "sqrtm): derive the diagonal case and write it with tensor ops.")
    for i, (m1, v1, m2, v2) in enumerate(_fid_cases()):
        case = f"case {i} (d={len(m1)})"
        got = number(call(fn, m1, v1, m2, v2, case=case), f"your result on {case}")
        want = _full_fid(m1, v1, m2, v2)
        if not math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-5):
            for what, value in _fid_variants(m1, v1, m2, v2).items():
                if math.isclose(got, float(value), rel_tol=1e-4, abs_tol=1e-5):
                    raise Wrong(f"on {case} you gave {got:.5g}: your formula {what}.")
            back = number(call(fn, m2, v2, m1, v1, case=case), "your result")
            require(math.isclose(got, back, rel_tol=1e-4, abs_tol=1e-5),
                    f"on {case} swapping the two Gaussians changes your result "
                    f"({got:.5g} vs {back:.5g}): a distance is symmetric.")
            same = number(call(fn, m1, v1, m1.clone(), v1.clone(), case=case), "yours")
            require(abs(same) < 1e-5, f"two identical Gaussians give {same:.5g}: their "
                    "distance must be 0.")
            raise Wrong(f"on {case} you gave {got:.5g}: not the Fréchet distance of the "
                        "two diagonal Gaussians.")
    m1, v1, m2, v2 = (torch.stack([c[j] for c in _fid_cases()[2:3] * 4]) for j in range(4))
    v1 = v1 * torch.arange(1.0, 5.0)[:, None]
    out = call(fn, m1, v1, m2, v2, case="a batch (4, 3)")
    require(torch.is_tensor(out) and tuple(out.shape) == (4,), "on a batch of shape "
            "(4, 3) your result should have shape (4,): reduce over the last dim only.")
    want = torch.tensor([_full_fid(*(t[i] for t in (m1, v1, m2, v2))) for i in range(4)])
    require(torch.allclose(out.double(), want.double(), rtol=1e-4),
            "on a batch of shape (4, 3) your results differ from one-by-one results.")
    zero = call(fn, m1[0], torch.zeros(3), m2[0], v2[0], case="a zero variance")
    require(bool(torch.isfinite(torch.as_tensor(zero))), "a zero variance gives NaN/inf.")
    return ("no d x d matrix needed: for diagonal covariances the trace term is "
            "sum_j (sigma_1j - sigma_2j)^2.")
