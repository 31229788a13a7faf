"""The lab 4.4 of notebook 04: the ELBO loss, then `train_with_your_loss` trains a fresh VAE with it and
the check wants the trained model's test -ELBO (measured with the package's ELBO) below LAB_THRESHOLD."""

from __future__ import annotations

import math
import time

import torch
from torch.nn import functional as F

from .expect import call, close, require, say, tensor, train_or_none
from .registry import Wrong, exercise

NOTEBOOK = "04_variational_autoencoders"


def reference_4_4(x, logits, mu, logvar):
    # -log p(x|z): the Bernoulli log-likelihood of the 784 pixels of each image, stable for any logit
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)  # (N,)
    kl = 0.5 * (mu ** 2 + logvar.exp() - logvar - 1).sum(1)                                 # (N,)
    return (rec + kl).mean()                      # the negative ELBO, averaged over the batch


def _variants(x, logits, mu, lv):
    """Typical wrong losses (float64), each with what it gets wrong."""
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1)
    rec, pixels, n, d = bce.sum(1), bce.shape[1], x.shape[0], mu.shape[1]
    kl = 0.5 * (mu ** 2 + lv.exp() - lv - 1).sum(1)
    out = [("you return the ELBO: the loss to minimise is its negative, reconstruction + KL", -(rec + kl).mean()),
           ("you averaged the reconstruction term over the pixels (binary_cross_entropy_with_logits' default "
            "reduction='mean'): log p(x|z) sums over the 784 pixels of an image", (rec / pixels + kl).mean()),
           ("you averaged over the pixels and over the latent dimensions: both terms are sums",
            (rec / pixels + kl / d).mean()),
           ("the KL enters with the wrong sign: -ELBO = reconstruction + KL", (rec - kl).mean()),
           ("your KL misses the -1 (it must be 0 when q is the prior)", (rec + kl + d / 2).mean()),
           ("your loss has no KL term: -ELBO = reconstruction + KL", rec.mean()),
           ("your KL uses sigma = exp(logvar/2) where it needs sigma^2 = exp(logvar)",
            (rec + 0.5 * (mu ** 2 + (lv / 2).exp() - lv - 1).sum(1)).mean()),
           ("you swapped logits and targets: binary_cross_entropy_with_logits(logits, x) takes the logits first",
            (F.binary_cross_entropy_with_logits(x, logits, reduction="none").flatten(1).sum(1) + kl).mean())]
    if d > 1:
        out.append(("you averaged the KL over the latent dimensions: it sums them", (rec + kl / d).mean()))
    if n > 1:
        out.append(("you summed over the batch: average the per-image loss over the N images",
                    (rec + kl).sum()))
    return out


def _cases(gen):
    for n, d in [(5, 2), (8, 16), (1, 3), (4, 4)]:
        x = torch.bernoulli(torch.full((n, 1, 28, 28), 0.3), generator=gen)
        yield (f"a random batch of N = {n} images with a {d}-D code", x,
               torch.randn(n, 1, 28, 28, generator=gen) * 3, torch.randn(n, d, generator=gen),
               torch.randn(n, d, generator=gen) * 0.8)
    x = torch.bernoulli(torch.full((3, 1, 28, 28), 0.5), generator=gen)
    sign = torch.where(torch.rand(3, 1, 28, 28, generator=gen) < 0.5, x * 2 - 1, 1 - x * 2)
    yield ("confident logits of +-200 (half of them wrong)", x, 200.0 * sign, torch.randn(3, 2, generator=gen),
           torch.randn(3, 2, generator=gen))


def _behaviour(elbo_loss) -> None:
    gen = torch.Generator().manual_seed(44)
    for case, x, logits, mu, lv in _cases(gen):
        n, d = mu.shape
        leaves = [logits.requires_grad_(), mu.requires_grad_(), lv.requires_grad_()]
        got = call(elbo_loss, x.clone(), *leaves, case=case)
        if isinstance(got, float):
            raise Wrong("you return a Python float: the loss must stay a tensor, or nothing can train with it.")
        if torch.is_tensor(got) and got.shape == (n,) and n > 1:
            raise Wrong(f"on {case} you return one loss per image: average them over the batch (a 0-d tensor).")
        if torch.is_tensor(got) and got.shape == x.shape:
            raise Wrong(f"on {case} you return one value per pixel: sum over the pixels of each image, add the "
                        "KL, and average over the batch.")
        extreme = "200" in case
        if extreme and torch.is_tensor(got) and got.numel() == 1 and not torch.isfinite(got).all():
            raise Wrong(f"on {case} your loss is {got.item()}: not stable for large logits (sigmoid then log "
                        "gives log 0); use binary_cross_entropy_with_logits.")
        got = tensor(got, f"your loss on {case}", shape=())
        args = [t.detach().double() for t in (x, logits, mu, lv)]
        want = reference_4_4(*args)
        if not torch.isclose(got.detach().double(), want, rtol=1e-4):
            for says, variant in _variants(*args):
                if torch.isclose(got.detach().double(), variant, rtol=1e-4):
                    raise Wrong(f"on {case}: {says}.")
            if extreme:
                raise Wrong(f"on {case} your loss is {got.item():.6g}: your reconstruction term is not stable "
                            "for large logits (sigmoid, then log, saturates); use binary_cross_entropy_with_logits.")
            raise Wrong(f"on {case} your loss is {got.item():.6g}: not the negative ELBO averaged over the batch.")
        require(got.requires_grad, "your loss is cut off from the autograd graph (.item(), numpy or .detach()).")
        grads = torch.autograd.grad(got, leaves, allow_unused=True)
        for name, g, what in zip(["logits", "mu", "logvar"], grads, ["reconstruction", "KL", "KL"]):
            require(g is not None and bool(g.abs().max() > 0),
                    f"no gradient reaches {name}: the {what} term is cut off from the graph.")
        sig = torch.sigmoid(logits.detach())
        close(grads[0], (sig - x) / n, f"the gradient of your loss with respect to the logits on {case}", atol=1e-6)
        close(grads[1], mu.detach() / n, f"the gradient of your loss with respect to mu on {case}", atol=1e-6)
        close(grads[2], 0.5 * (lv.detach().exp() - 1) / n,
              f"the gradient of your loss with respect to logvar on {case}", atol=1e-6)


# ---------------------------------------------------------------- using it: train a VAE
LAB_STEPS, LAB_BATCH, LAB_LR, LAB_THRESHOLD = 1500, 100, 2e-3, 125.0
LAB_LATENT, LAB_HIDDEN = 16, (256,)
_RUNS: dict[int, tuple] = {}  # id(elbo_loss) -> (elbo_loss, steps done, test -ELBO, what stopped it)


def _test_neg_elbo(model) -> float:
    from ..data import binarized_mnist_test

    x_test, _ = binarized_mnist_test()
    with torch.random.fork_rng(), torch.no_grad():
        torch.manual_seed(0)
        return -sum(model.elbo(x_test).mean().item() for _ in range(2)) / 2


def _train(elbo_loss, steps: int, seconds: float, quiet: bool):
    from ..data import dynamic_binarize, load_mnist
    from ..models.vae import VAE, reparameterize

    x_train, _ = load_mnist("train")
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = VAE(VAE.Config(latent_dim=LAB_LATENT, hidden=LAB_HIDDEN)).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=LAB_LR)
    gen, start, losses, stop = torch.Generator().manual_seed(0), time.monotonic(), [], ""
    for step in range(steps):
        x = dynamic_binarize(x_train[torch.randint(len(x_train), (LAB_BATCH,), generator=gen)], generator=gen)
        mu, logvar = model.posterior(x)
        z = reparameterize(mu, logvar, generator=gen)
        loss = elbo_loss(x, model.decoder(z), mu, logvar)
        if not (torch.is_tensor(loss) and loss.dim() == 0 and loss.requires_grad):
            raise ValueError("elbo_loss must return a 0-d tensor in the autograd graph, got "
                             f"{tuple(loss.shape) if torch.is_tensor(loss) else type(loss).__name__}.")
        if not torch.isfinite(loss):
            stop = f"the loss became {loss.item()} at step {step + 1}"
            break
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if time.monotonic() - start > seconds:
            break
    model.eval()
    neg_elbo = math.inf if stop else _test_neg_elbo(model)
    if not stop and len(losses) < steps:
        stop = f"cut short by the {seconds:g} s cap"
    _RUNS[id(elbo_loss)] = (elbo_loss, len(losses), neg_elbo, stop)
    if not quiet:
        said = f" ({stop})" if stop else ""
        trend = f"your loss {losses[0]:.1f} -> {losses[-1]:.1f}, " if losses else ""
        say(f"{len(losses):,} steps{said}: {trend}test -ELBO {neg_elbo:.1f} nats per image "
              f"(the check wants < {LAB_THRESHOLD:g})")
    return model


def train_with_your_loss(elbo_loss, steps: int = LAB_STEPS, seconds: float = 60):
    """Train a fresh VAE (784 -> 256 -> 16-D code -> 256 -> 784) with your elbo_loss for `steps` Adam steps
    (batches of 100 freshly binarized training images, wall-clock cap `seconds`); print its test -ELBO
    (the package's ELBO) and return it in eval mode, or None if your loss is not ready."""
    from ..runtime import capped_seconds

    return train_or_none("elbo_loss", _train, elbo_loss, steps, capped_seconds(seconds), quiet=False)


@exercise("4.4", "lab: the ELBO loss, then a VAE trained with it", notebook=NOTEBOOK, minutes=20, points=3,
          reference=reference_4_4, lab=True,
          hint="write the two terms per image first, each of shape (N,): -log p(x|z) over all pixels of the "
               "image, and the KL over all latent dimensions; then combine them and reduce over the batch.")
def check_4_4(elbo_loss) -> str:
    require(callable(elbo_loss), f"expected a function, got {type(elbo_loss).__name__}.")
    _behaviour(elbo_loss)
    run = _RUNS.get(id(elbo_loss))
    if run is None or run[0] is not elbo_loss or run[1] < LAB_STEPS:
        call(_train, elbo_loss, LAB_STEPS, 120.0, True, case="the training run")
        run = _RUNS[id(elbo_loss)]
    _, steps, neg_elbo, stop = run
    require(steps >= LAB_STEPS, f"the training run stopped after {steps} steps ({stop}).")
    require(neg_elbo < LAB_THRESHOLD, f"after {LAB_STEPS:,} steps with your loss the test -ELBO is "
                                      f"{neg_elbo:.1f} nats: not below {LAB_THRESHOLD:g}.")
    return (f"your loss matches the negative ELBO, and {LAB_STEPS:,} steps with it reach a test -ELBO of "
            f"{neg_elbo:.1f} nats (the shipped VAE, trained far longer, does better still).")
