"""Exercise 2.4 of notebook 02, the lab: the sampling loop of an autoregressive model, then digits drawn with it.

The check runs the student's `sample(model, n, generator=None)` on small fake models whose conditionals are
known: a pixel that copies the one before it (in a random order), logits of +-50, a coin with p = 0.3.
"""

from __future__ import annotations

import math

import torch

from ..checks import is_unanswered
from .expect import call, require, say, tensor
from .registry import Wrong, exercise

NOTEBOOK = "02_tractable_density"
SHAPE = (1, 28, 28)
D = 784


def reference_2_4(model, n, generator=None):
    with torch.no_grad():
        x = torch.zeros(n, *model.event_shape)  # pixels not drawn yet are 0
        flat = x.view(n, -1)  # a view: writing flat writes x
        for i in model.order.tolist():
            p = torch.sigmoid(model.logits(x).view(n, -1)[:, i])  # p(x_i = 1 | pixels drawn so far)
            flat[:, i] = torch.bernoulli(p, generator=generator)
    return x


class _Fake:
    """A stand-in for an autoregressive model: logits(x) from a known rule, in a given pixel order."""

    event_shape, num_pixels = SHAPE, D

    def __init__(self, rule, order_seed=None):
        self.rule = rule
        self.order = torch.arange(D) if order_seed is None else torch.randperm(
            D, generator=torch.Generator().manual_seed(order_seed))
        self.calls, self.seen = 0, []

    def logits(self, x):
        if not torch.is_tensor(x) or tuple(x.shape[1:]) != SHAPE:
            got = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
            raise ValueError(f"model.logits takes images of shape (n, 1, 28, 28), got {got}")
        self.calls += 1
        self.seen.append(x.detach().flatten(1)[0].clone() > 0.5)
        ordered = x.detach().flatten(1)[:, self.order].float()
        out = torch.empty_like(ordered)
        out[:, self.order] = self.rule(ordered)
        return out.view(x.shape)

    def sample(self, *args, **kwargs):
        raise RuntimeError("the exercise is the loop itself: use model.logits and model.order, not model.sample")


def _constant(value):
    return lambda xo: torch.full_like(xo, value)


def _copy_previous(xo):  # the first pixel is a fair coin; every later one copies the pixel before it
    out = torch.zeros_like(xo)
    out[:, 1:] = 100 * xo[:, :-1] - 50
    return out


def _run(fn, model, n, seed, case):
    got = call(fn, model, n, generator=torch.Generator().manual_seed(seed), case=case)
    if torch.is_tensor(got) and tuple(got.shape) in ((n, D), (n, 28, 28)):
        raise Wrong(f"your samples have shape {tuple(got.shape)}: return images of shape (n, 1, 28, 28).")
    if torch.is_tensor(got) and not got.is_floating_point():
        raise Wrong(f"your samples have dtype {got.dtype}: return a floating-point tensor of 0s and 1s.")
    got = tensor(got, f"your samples on {case}", (n, *SHAPE))
    require(bool(((got == 0) | (got == 1)).all()), f"your samples on {case} hold values other than 0 and 1.")
    return got


def _why_not_in_order(fn):
    """Diagnose a loop that breaks the chain: on an all-on model, the order in which pixels got set."""
    model = _Fake(_constant(50.0), order_seed=7)
    call(fn, model, 2, generator=torch.Generator().manual_seed(0), case="a model whose pixels are all on")
    if model.calls < D:
        return (f"your loop called model.logits {model.calls} times for {D} pixels: pixel i's conditional depends "
                "on the pixels drawn before it, so compute the logits again before each draw")
    if all(not s.any() for s in model.seen):
        return "every image you passed to model.logits was blank: write each drawn pixel into the image you pass"
    drawn = [int((b & ~a).nonzero()[0]) for a, b in zip(model.seen, model.seen[1:]) if (b & ~a).any()]
    if drawn[:50] == list(range(50)):
        return "your loop draws the pixels in raster order; the model's order is model.order (here a permutation)"
    return ("pixel model.order[k] must be drawn after model.order[0..k-1], from the logits of the current image "
            "at that pixel")


@exercise("2.4", "lab: the sampling loop, then draw digits", notebook=NOTEBOOK, minutes=20, points=3, lab=True,
          reference=reference_2_4,
          hint="start from an image of zeros; for each pixel index i in model.order: the logits of the current "
               "image, the probability of pixel i, one Bernoulli draw using the generator, written into the image.")
def check_2_4(fn) -> str:
    ones = _run(fn, _Fake(_constant(50.0)), 3, 0, "a model whose logits are all +50")
    if (ones == 0).all():
        raise Wrong("a model whose logits are all +50 gave only 0s: p(x_i = 1) = sigmoid(logit), and a "
                    "logit of +50 means the pixel is (almost surely) 1.")
    require(bool((ones == 1).all()), "a model whose logits are all +50 gave some 0s.")
    zeros = _run(fn, _Fake(_constant(-50.0)), 3, 0, "a model whose logits are all -50")
    require(bool((zeros == 0).all()), "a model whose logits are all -50 gave some 1s.")
    for order_seed in (None, 1, 2):
        model = _Fake(_copy_previous, order_seed)
        got = _run(fn, model, 32, order_seed or 0, "a model where each pixel copies the one before it")
        flat = got.flatten(1)
        if not ((flat == flat[:, :1]).all(1)).all():
            where = "raster order" if order_seed is None else "a random order"
            raise Wrong(f"in {where}, a model where each pixel copies the pixel before it in model.order gave "
                        f"images that are not constant: {_why_not_in_order(fn)}.")
        require(0 < flat[:, 0].sum() < 32, "a model whose first pixel is a fair coin (and the rest copy it) gave "
                                           "the same image 32 times: draw each pixel at random (Bernoulli, "
                                           "with the generator), do not threshold its probability.")
    coin = _Fake(_constant(math.log(0.3 / 0.7)), order_seed=3)
    freq = _run(fn, coin, 100, 0, "a model whose pixels are all 1 with p = 0.3").mean().item()
    if freq == 0:
        raise Wrong("pixels with p(x_i = 1) = 0.3 never came out 1: draw each pixel at random (Bernoulli), "
                    "do not threshold the probability.")
    require(abs(freq - 0.3) < 0.015, f"pixels with p(x_i = 1) = 0.3 came out 1 in {100 * freq:.1f}% of draws: "
                                     "a logit a gives p(x_i = 1) = sigmoid(a).")
    torch.manual_seed(1)
    a = _run(fn, coin, 4, 5, "a p = 0.3 model with a seeded generator")
    torch.manual_seed(2)
    b = _run(fn, coin, 4, 5, "a p = 0.3 model with a seeded generator")
    require(torch.equal(a, b), "two calls with generators seeded alike gave different images: "
                               "pass generator= to every random draw.")
    c = _run(fn, coin, 4, 6, "a p = 0.3 model with another seed")
    require(not torch.equal(a, c), "two different seeds gave the same images: draw with the generator you are given.")
    return ("follows model.order from the current partial image, draws Bernoulli coins (30.0% ± 1.5 for p = 0.3), "
            "and the same seed gives the same images.")


def draw_with_your_sampler(sample, n: int = 16, checkpoint: str = "made_mnist", seed: int = 0):
    """Draw n digits from a shipped checkpoint with the student's `sample`; show them and print their NLL.

    Returns the images (n, 1, 28, 28), or None (with one printed line) if `sample` is unanswered or fails.
    """
    if is_unanswered(sample) or not callable(sample):
        say("Exercise 2.4 is not answered yet: write `sample` above, then run this cell again.")
        return None
    from ..checkpoints import load_pretrained
    from ..data import binarized_mnist_test
    from ..plotting import image_grid

    model = load_pretrained(checkpoint).eval()
    try:
        with torch.no_grad():
            images = sample(model, n, generator=torch.Generator().manual_seed(seed))
    except NotImplementedError:
        say("Exercise 2.4 is not answered yet: write `sample` above, then run this cell again.")
        return None
    except Exception as err:  # a wrong answer must not stop the notebook: the check says what is wrong
        say(f"your sample raised {type(err).__name__}: {err} (the check above says more).")
        return None
    if not torch.is_tensor(images) or tuple(images.shape) != (n, *SHAPE):
        say("your sample did not return images of shape (n, 1, 28, 28) (the check above says more).")
        return None
    images = images.float()
    with torch.no_grad():
        nll = -model.log_prob(images.clamp(0, 1).round()).mean().item()
        test_nll = -model.log_prob(binarized_mnist_test()[0][:500]).mean().item()
    import matplotlib.pyplot as plt

    image_grid(images, nrow=8, title=f"{n} digits drawn by your loop from {checkpoint}")
    plt.show()
    say(f"-log p of your {n} samples under the model: {nll:.1f} nats on average "
          f"(500 test images: {test_nll:.1f}).")
    return images
