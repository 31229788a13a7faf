"""Wrong answers of notebook 00's warm-up exercises."""

import math

from course_utils.data import binarized_mnist_test

from . import Mistake


def _ink():
    x, _ = binarized_mnist_test()
    return x


MISTAKES = {
    "0.1": [Mistake("the whole shipped file", lambda: 10_000, "whole MNIST file"),
            Mistake("the training split", lambda: 8_000, "training split"),
            Mistake("pixels instead of images", lambda: 2_000 * 784, "pixels"),
            Mistake("not a whole number", lambda: 1999.5, "whole number"),
            Mistake("a string", lambda: "2000", "should be a number")],
    "0.2": [Mistake("background share", lambda: 1 - _ink().mean().item(), "background"),
            Mistake("one image only", lambda: _ink()[0].mean().item(), "first image"),
            Mistake("a count instead of a fraction", lambda: _ink().sum().item(), "between 0 and 1"),
            Mistake("rounded to one figure", lambda: round(_ink().mean().item(), 1), "not the fraction")],
    "0.3": [Mistake("bits instead of nats", lambda: 784, "in bits"),
            Mistake("divided by ln 2", lambda: 784 / math.log(2), "divided by ln 2"),
            Mistake("one pixel", lambda: math.log(2), "one pixel"),
            Mistake("the log-likelihood (sign)", lambda: -784 * math.log(2), "positive")],
}

ALSO_RIGHT = {"0.3": [lambda: 543.4, lambda: 543]}
