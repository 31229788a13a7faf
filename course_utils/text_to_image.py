"""Text to image in miniature (notebook 07): a word such as "seven" -> images of that digit.

The lecture's first application generates images from a sentence. The course's version keeps the idea and
shrinks the language: a tiny text front-end reads one digit word (or numeral) from the text and turns it into
the class label y, and the shipped class-conditional DCGAN (`cgan_mnist`) draws G(z, y) for fresh noise z.
Real text-to-image models replace the front-end by a text encoder (an embedding of the whole sentence) and
condition G and D on that vector in the same way.
"""

from __future__ import annotations

import re

import torch
from torch import nn

__all__ = ["DIGIT_WORDS", "label_of", "images_from_text", "accuracy_per_word"]

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def label_of(text: str) -> int:
    """The digit a text names: "seven", "a Seven", "7" or "the digit 7" -> 7.

    Exactly one digit word or numeral must appear; anything else is a ValueError that lists the words known.
    """
    if not isinstance(text, str):
        raise TypeError(f"label_of expects a string such as 'seven', got {type(text).__name__}.")
    tokens = re.findall(r"[a-z]+|\d+", text.lower())
    found = [DIGIT_WORDS.index(t) if t in DIGIT_WORDS else int(t) for t in tokens
             if t in DIGIT_WORDS or (t.isdigit() and len(t) == 1)]
    if len(set(found)) != 1:
        what = "no digit" if not found else f"{len(set(found))} different digits"
        raise ValueError(f"{text!r} names {what}; the course's text front-end knows one digit per text: "
                         f"{', '.join(DIGIT_WORDS)} (or 0-9).")
    return found[0]


def images_from_text(model: nn.Module, text: str, n: int = 8, *,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """n images (n, 1, 28, 28) in [0, 1] of the digit `text` names, from a class-conditional GAN."""
    classes = getattr(getattr(model, "config", None), "num_classes", 0)
    if not classes:
        raise ValueError("images_from_text needs a class-conditional model (num_classes > 0), such as "
                         "load_pretrained('cgan_mnist').")
    label = label_of(text)
    return model.sample(n, generator=generator, labels=torch.full((n,), label, dtype=torch.long))


@torch.no_grad()
def accuracy_per_word(model: nn.Module, n: int = 200, seed: int = 0) -> dict[str, float]:
    """For each digit word: the share of n seeded images the course classifier reads as that digit."""
    from .models.features import load_feature_network

    classifier = load_feature_network("mnist")
    out = {}
    for label, word in enumerate(DIGIT_WORDS):
        gen = torch.Generator(device=model.device).manual_seed(seed + label)
        images = images_from_text(model, word, n, generator=gen)
        out[word] = round((classifier.predict(images) == label).double().mean().item(), 4)
    return out
