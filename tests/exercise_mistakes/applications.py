"""Wrong answers of notebook 07's exercises (PSNR, a label-conditioned input, a bouncing digit, pix2pix's loss)."""

import torch
from torch.nn import functional as F

from course_utils.models.gans import generator_loss
from course_utils.paired_images import psnr

from . import Mistake


def _mse(p, t):
    return (p - t).pow(2).flatten(1).mean(1)


def _bounce(mode):
    def step(p, v, high):
        new = p + v
        if mode == "clamp":
            return new.clamp(0, high), v
        if mode == "clamp_and_turn":
            hit = (new < 0) | (new > high)
            return new.clamp(0, high), torch.where(hit, -v, v)
        if mode == "turn_both":
            hit = ((new < 0) | (new > high)).any(1, keepdim=True)
            new = torch.where(new < 0, -new, torch.where(new > high, 2 * high - new, new))
            return new, torch.where(hit, -v, v)
        if mode == "no_turn":
            return torch.where(new < 0, -new, torch.where(new > high, 2 * high - new, new)), v
        if mode == "wrap":
            return new % high, v
        if mode == "halved":  # speed lost at the wall
            hit = (new < 0) | (new > high)
            new = torch.where(new < 0, -new, torch.where(new > high, 2 * high - new, new))
            return new, torch.where(hit, -v / 2, v)
        raise AssertionError(mode)
    return step


def _g_loss(kind):
    def loss(logits, fake, target, w):
        adv = F.softplus(-logits).mean()
        l1 = (fake - target).abs().mean()
        return {"no_l1": adv, "l2": adv + w * (fake - target).pow(2).mean(),
                "saturating": -F.softplus(logits).mean() + w * l1,
                "swapped": F.softplus(logits).mean() + w * l1,
                "unweighted": adv + l1, "weight_on_adv": w * adv + l1,
                "summed": adv + w * (fake - target).abs().sum(),
                "detached": (adv + w * l1).detach()}[kind]
    return loss


def _with_package_loss(logits, fake, target, w):
    return generator_loss(logits.flatten()) + w * (fake - target).abs().mean()


MISTAKES = {
    "7.1": [Mistake("one number for the batch", lambda: lambda p, t: 10 * torch.log10(1 / (p - t).pow(2).mean()),
                    "per image"),
            Mistake("20 log10 of the MSE", lambda: lambda p, t: 20 * torch.log10(1 / _mse(p, t)), "factor is 10"),
            Mistake("natural log", lambda: lambda p, t: 10 * torch.log(1 / _mse(p, t)), "natural log"),
            Mistake("peak 255", lambda: lambda p, t: 10 * torch.log10(255 ** 2 / _mse(p, t)), "255"),
            Mistake("the sign", lambda: lambda p, t: 10 * torch.log10(_mse(p, t)), "sign"),
            Mistake("RMSE inside", lambda: lambda p, t: 10 * torch.log10(1 / _mse(p, t).sqrt()), "root"),
            Mistake("absolute error", lambda: lambda p, t: 10 * torch.log10(1 / (p - t).abs().flatten(1).mean(1)),
                    "absolute error"),
            Mistake("numpy floats", lambda: lambda p, t: [float(v) for v in 10 * torch.log10(1 / _mse(p, t))],
                    "torch tensor")],
    "7.2": [Mistake("label as one number", lambda: lambda z, y: torch.cat([z, y.float()[:, None]], 1),
                    "one number"),
            Mistake("label first", lambda: lambda z, y: torch.cat([F.one_hot(y, 10).float(), z], 1), "comes first"),
            Mistake("one-hot of 9 classes", lambda: lambda z, y: torch.cat([z, F.one_hot(y.clamp(max=8), 9).float()],
                                                                          1), "74"),
            Mistake("noise dropped", lambda: lambda z, y: F.one_hot(y, 10).float(), "74"),
            Mistake("label scaled", lambda: lambda z, y: torch.cat([z, 2 * F.one_hot(y, 10).float()], 1),
                    "with a 1"),
            Mistake("integer one-hot", lambda: lambda z, y: torch.cat([z.long(), F.one_hot(y, 10)], 1),
                    "floating-point")],
    "7.3": [Mistake("a clamp", lambda: _bounce("clamp"), "did not turn"),
            Mistake("a clamp that turns", lambda: _bounce("clamp_and_turn"), "clamp"),
            Mistake("both components turn", lambda: _bounce("turn_both"), "only the component"),
            Mistake("mirrored without turning", lambda: _bounce("no_turn"), "did not turn"),
            Mistake("wrapping around", lambda: _bounce("wrap"), "did not turn"),
            Mistake("speed halved", lambda: _bounce("halved"), "speed"),
            Mistake("only the position", lambda: lambda p, v, h: p + v, "return (position, velocity)")],
    "7.4": [Mistake("no L1 term", lambda: _g_loss("no_l1"), "L1 term is missing"),
            Mistake("a squared error", lambda: _g_loss("l2"), "squared error"),
            Mistake("the saturating loss", lambda: _g_loss("saturating"), "saturating"),
            Mistake("labels swapped", lambda: _g_loss("swapped"), "swapped"),
            Mistake("L1 not weighted", lambda: _g_loss("unweighted"), "not weighted"),
            Mistake("the weight on the wrong term", lambda: _g_loss("weight_on_adv"), "wrong term"),
            Mistake("L1 summed", lambda: _g_loss("summed"), "summed"),
            Mistake("the package's generator_loss", lambda: _with_package_loss, "course's"),
            Mistake("detached", lambda: _g_loss("detached"), "no gradient")],
}

MISTAKES["7.1"].append(Mistake("the course's psnr", lambda: psnr, "course's"))
