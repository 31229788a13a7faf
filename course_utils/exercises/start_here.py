"""Exercises 0.1-0.3 of notebook 00 (warm-up: the data and the unit of a likelihood)."""

from __future__ import annotations

import math

from .expect import number, require, same_to_figures
from .registry import Wrong, exercise

NOTEBOOK = "00_start_here"


def _test_set():
    from ..data import binarized_mnist_test

    return binarized_mnist_test()


def reference_0_1() -> int:
    x_test_bits, _ = _test_set()
    return len(x_test_bits)


@exercise("0.1", "the test split", notebook=NOTEBOOK, minutes=1, reference=reference_0_1, value=True,
          hint="the test split is a tensor in the cell above: ask it for its length.")
def check_0_1(answer) -> str:
    n = reference_0_1()
    got = number(answer)
    require(got == int(got), f"you gave {got:g}: a number of images is a whole number.")
    if got == 10_000:
        raise Wrong("10,000 is the whole MNIST file the course ships, not its test split.")
    if got == 8_000:
        raise Wrong("8,000 is the size of the training split, not the test split.")
    if got == 784 * n:
        raise Wrong("you counted pixels, not images.")
    require(got == n, f"{int(got):,} is not the number of test images.")
    return f"{n:,} images (indices 8,000-9,999 of the shipped file)."


def reference_0_2() -> float:
    x_test_bits, _ = _test_set()
    return x_test_bits.mean().item()


@exercise("0.2", "how much ink?", notebook=NOTEBOOK, minutes=3, reference=reference_0_2, value=True,
          hint="a fraction of pixel values: average over every pixel of every test image.")
def check_0_2(answer) -> str:
    x_test_bits, _ = _test_set()
    got = number(answer)
    require(0 <= got <= 1, f"you gave {got:g}: a fraction lies between 0 and 1.")
    want = x_test_bits.mean().item()
    if same_to_figures(got, 1 - want):
        raise Wrong(f"{got:.3g} is the share of background (0) pixels, not of ink (1).")
    if same_to_figures(got, x_test_bits[0].mean().item()):
        raise Wrong(f"{got:.3g} is the share of ink in the first image only; use the whole test set.")
    require(same_to_figures(got, want), f"{got:.4g} is not the fraction of 1s in the binarized test set "
                                        "(3 significant figures are enough).")
    return f"{want:.3f}: digits are mostly background."


def reference_0_3() -> float:
    return 784 * math.log(2)


@exercise("0.3", "bits of an image", notebook=NOTEBOOK, minutes=3, reference=reference_0_3, value=True,
          hint="the natural logarithm gives nats, and a logarithm turns a power into a product.")
def check_0_3(answer) -> str:
    got = number(answer)
    want = reference_0_3()
    require(got > 0, f"you gave {got:g}: a negative log of a probability below 1 is positive.")
    if same_to_figures(got, 784):
        raise Wrong("784 is the answer in bits (log base 2); the question asks for nats (natural log).")
    if same_to_figures(got, 784 / math.log(2)):
        raise Wrong(f"{got:.4g}: you divided by ln 2 where you should multiply.")
    if same_to_figures(got, math.log(2)):
        raise Wrong(f"{got:.4g} is the NLL of one pixel; the image has 784.")
    require(same_to_figures(got, want), f"{got:.4g} nats is not -ln(2^-784) (3 significant figures are enough).")
    return f"{want:.1f} nats = exactly 1 bit per pixel: the number every model must beat."
