"""Exercises of notebook 07 (the lecture's applications): PSNR, conditioning a generator on a label,
a bouncing digit's physics, and the pix2pix generator's loss."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from .expect import call, close, require, tensor
from .gans import own_code_only
from .registry import Wrong, exercise

NOTEBOOK = "07_applications"


def _images(seed: int, n: int, size: int = 28) -> torch.Tensor:
    return torch.rand(n, 1, size, size, generator=torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------- 7.1 PSNR
def reference_7_1(prediction, target):
    mse = (prediction - target).pow(2).flatten(1).mean(1)  # one mean squared error per image
    return 10 * torch.log10(1.0 / mse)                       # peak value 1: images in [0, 1]


@exercise("7.1", "PSNR, the distortion measure", notebook=NOTEBOOK, minutes=5, reference=reference_7_1,
          hint="PSNR compares the peak value squared with the mean squared error, image by image, in decibels.")
def check_7_1(fn) -> str:
    require(callable(fn), f"expected a function, got {type(fn).__name__}.")
    own_code_only(fn)
    target = _images(71, 5)
    noise = 0.02 * torch.arange(1, 6).float().view(5, 1, 1, 1)
    prediction = (target + noise * torch.randn(target.shape, generator=torch.Generator().manual_seed(7))).clamp(0, 1)
    got = tensor(call(fn, prediction, target, case="5 noisy images"), "your PSNR of 5 images")
    if got.numel() == 1:
        raise Wrong("you returned one number for 5 images: PSNR is computed per image (N,), "
                    "from each image's own mean squared error.")
    got = tensor(got, "your PSNR of 5 images", shape=(5,))
    want = reference_7_1(prediction, target)
    mse = (prediction - target).pow(2).flatten(1).mean(1)
    for value, says in [(-want, "the sign is wrong: less error must give a higher PSNR"),
                        (20 * torch.log10(1 / mse), "that is 20 log10(1 / MSE): the MSE is already squared, "
                         "so its factor is 10"),
                        (10 * torch.log(1 / mse), "you used the natural log: decibels use log10"),
                        (10 * torch.log10(255.0 ** 2 / mse), "the peak is 255 in your formula, but these "
                         "images lie in [0, 1]"),
                        (10 * torch.log10(1 / mse.sqrt()), "you took the root of the MSE (the RMSE) inside "
                         "10 log10"),
                        (10 * torch.log10(1 / (prediction - target).abs().flatten(1).mean(1)),
                         "you used the mean absolute error; PSNR uses the squared error")]:
        if torch.allclose(got.double(), value.double(), rtol=1e-4):
            raise Wrong(f"on 5 noisy images {says}.")
    close(got, want, "your PSNR of 5 noisy images", rtol=1e-4)
    require(bool((got[:-1] > got[1:]).all()), "noisier images must get a lower PSNR.")
    return "PSNR per image, in dB."


# ---------------------------------------------------------------- 7.2 conditioning G on a label
def reference_7_2(z, labels):
    return torch.cat([z, F.one_hot(labels, 10).float()], dim=1)  # [z, one-hot(y)]: G(z, y)'s input


@exercise("7.2", "a generator's input for a label", notebook=NOTEBOOK, minutes=6, reference=reference_7_2,
          hint="the shipped cGAN's generator reads the noise first, then the label as a one-hot vector of 10.")
def check_7_2(fn) -> str:
    require(callable(fn), f"expected a function, got {type(fn).__name__}.")
    gen = torch.Generator().manual_seed(72)
    for n in (1, 5, 20):
        z, labels = torch.randn(n, 64, generator=gen), torch.randint(0, 10, (n,), generator=gen)
        got = tensor(call(fn, z, labels, case=f"{n} codes"), f"your input for {n} codes")
        if got.shape == (n, 65):
            raise Wrong("you appended the label as one number: G would read 7 as 'more' than 3. "
                        "Encode the class so that all classes are equally far apart.")
        require(got.shape == (n, 74), f"your input for {n} codes should have shape ({n}, 74): 64 noise "
                                      f"values and 10 for the label; got {tuple(got.shape)}.")
        if torch.equal(got[:, 10:], z) and torch.equal(got[:, :10], F.one_hot(labels, 10).float()):
            raise Wrong("the label comes first in your input; the shipped generator was trained with the "
                        "noise first.")
        close(got[:, :64], z, "the noise part of your input")
        label_part = got[:, 64:]
        one_hot = torch.isin(label_part, torch.tensor([0.0, 1.0])).all() and bool((label_part.sum(1) == 1).all())
        if not one_hot or not torch.equal(label_part.argmax(1), labels):
            raise Wrong(f"for {n} codes the label part of your input does not mark the class with a 1 and the "
                        "other 9 entries with 0.")
    return "G(z, y) reads [z, one_hot(y)]; the discriminator gets y too."


# ---------------------------------------------------------------- 7.3 a bouncing digit
def reference_7_3(position, velocity, high):
    new, v = position + velocity, velocity.clone()
    low_hit, high_hit = new < 0, new > high
    new = torch.where(low_hit, -new, new)                    # mirror at 0
    new = torch.where(high_hit, 2 * high - new, new)         # mirror at high
    v = torch.where(low_hit | high_hit, -v, v)               # the component that hit a wall turns
    return new, v


def _bounce_cases():
    return [
        ("a digit in the middle", torch.tensor([[5.0, 8.0]]), torch.tensor([[1.5, -2.0]])),
        ("a digit hitting the left wall", torch.tensor([[1.0, 10.0]]), torch.tensor([[-3.0, 0.5]])),
        ("a digit hitting the right wall", torch.tensor([[19.0, 4.0]]), torch.tensor([[2.5, 1.0]])),
        ("a digit in a corner", torch.tensor([[0.5, 19.5]]), torch.tensor([[-2.0, 2.0]])),
        ("a batch of 4", torch.tensor([[3.0, 3.0], [18.0, 1.0], [10.0, 10.0], [0.0, 20.0]]),
         torch.tensor([[-4.0, 1.0], [3.0, -2.0], [0.0, 0.0], [1.0, -1.0]])),
    ]


@exercise("7.3", "one step of a bouncing digit", notebook=NOTEBOOK, minutes=8, reference=reference_7_3,
          hint="a wall acts as a mirror: the part of the step beyond the wall comes back, and that velocity "
               "component changes sign.")
def check_7_3(fn) -> str:
    require(callable(fn), f"expected a function, got {type(fn).__name__}.")
    high = 20.0
    for case, p, v in _bounce_cases():
        out = call(fn, p.clone(), v.clone(), high, case=case)
        require(isinstance(out, tuple) and len(out) == 2, f"on {case} return (position, velocity), got "
                                                           f"{type(out).__name__}.")
        got_p = tensor(out[0], f"your position on {case}", shape=tuple(p.shape))
        got_v = tensor(out[1], f"your velocity on {case}", shape=tuple(v.shape))
        want_p, want_v = reference_7_3(p, v, high)
        if ((got_p < 0) | (got_p > high)).any():
            raise Wrong(f"on {case} the digit left the frame [0, {high:g}]: you gave {got_p.tolist()}.")
        speed_kept = torch.allclose(got_v.abs(), v.abs())
        if not speed_kept:
            raise Wrong(f"on {case} the speed changed (velocity {v.tolist()} became {got_v.tolist()}): "
                        "a bounce keeps the speed.")
        if torch.equal(want_v, v) and not torch.equal(got_v, v):
            raise Wrong(f"on {case} nothing hit a wall, but your velocity changed.")
        if not torch.equal(want_v, v) and torch.equal(got_v, v):
            raise Wrong(f"on {case} a wall was hit but your velocity did not turn: the digit would stick "
                        "to the wall.")
        if not torch.equal(got_v, want_v):
            raise Wrong(f"on {case} your velocity is {got_v.tolist()}: only the component that hit a wall "
                        "should turn.")
        if not torch.equal(want_v, v) and torch.allclose(got_p, (p + v).clamp(0, high)):
            raise Wrong(f"on {case} you stopped the digit at the wall (a clamp): the part of the step beyond "
                        "the wall should come back into the frame.")
        close(got_p, want_p, f"your position on {case}")
    return "a mirror at each wall: the generator of the moving digits works this way."


# ---------------------------------------------------------------- 7.4 the pix2pix generator's loss
def reference_7_4(fake_logits, fake, target, l1_weight):
    adversarial = F.softplus(-fake_logits).mean()              # -log D(x, G(x)), non-saturating
    return adversarial + l1_weight * (fake - target).abs().mean()  # + lambda * L1 to the paired target


@exercise("7.4", "the pix2pix generator's loss", notebook=NOTEBOOK, minutes=10, points=2, reference=reference_7_4,
          hint="two terms: the non-saturating GAN loss on D's patch logits, and the weighted mean absolute "
               "error between G's output and the paired target.")
def check_7_4(fn) -> str:
    require(callable(fn), f"expected a function, got {type(fn).__name__}.")
    own_code_only(fn)
    gen = torch.Generator().manual_seed(74)
    for n, weight in ((2, 100.0), (5, 10.0), (3, 0.0)):
        logits = (3 * torch.randn(n, 1, 6, 6, generator=gen)).requires_grad_(True)  # one logit per patch
        fake = torch.rand(n, 1, 28, 28, generator=gen).requires_grad_(True)
        target = torch.rand(n, 1, 28, 28, generator=gen)
        case = f"{n} images, l1_weight={weight:g}"
        got = tensor(call(fn, logits, fake, target, weight, case=case), f"your loss on {case}")
        require(got.numel() == 1, f"your loss on {case} should be one number, got shape {tuple(got.shape)}.")
        require(got.requires_grad, f"your loss on {case} has no gradient: keep it a torch computation.")
        want = reference_7_4(logits, fake, target, weight)
        adv, l1 = F.softplus(-logits).mean(), (fake - target).abs().mean()
        for value, says in [(adv, "the L1 term is missing"),
                            (adv + weight * (fake - target).pow(2).mean(), "that is a squared error; pix2pix "
                             "uses L1, which blurs less"),
                            (-F.softplus(logits).mean() + weight * l1, "the adversarial term is the saturating "
                             "log(1 - D); use the non-saturating -log D"),
                            (F.softplus(logits).mean() + weight * l1, "the adversarial term has D's labels "
                             "swapped: G wants D to say 'real'"),
                            (adv + l1, "the L1 term is not weighted by l1_weight"),
                            (weight * adv + l1, "the weight multiplies the wrong term"),
                            (adv + weight * (fake - target).abs().sum(), "the L1 term is summed; take the mean")]:
            if torch.isclose(got.detach(), value.detach(), rtol=1e-5) and \
                    not torch.isclose(value.detach(), want.detach(), rtol=1e-5):
                raise Wrong(f"on {case} {says}.")
        close(got.reshape(()), want, f"your loss on {case}", rtol=1e-4)
        grad_g, = torch.autograd.grad(got.sum(), fake, retain_graph=True)
        want_g, = torch.autograd.grad(want, fake)
        close(grad_g, want_g, f"the gradient of your loss with respect to G's output on {case}", rtol=1e-3)
    return "L1 keeps G near the target; the patch discriminator makes it sharp."
