"""Exercise 3.3 (counting parameters) and the lab 3.4 of notebook 03: one training step of an
autoencoder, then `train_with_your_step` trains the notebook's 16-D autoencoder with it."""

from __future__ import annotations

import copy
import time

import torch
from torch import nn

from .expect import call, number, require, say, train_or_none
from .registry import Wrong, exercise

NOTEBOOK = "03_autoencoders"


# ---------------------------------------------------------------- 3.3 counting parameters
def reference_3_3(widths):
    back = list(widths)[::-1]                       # the decoder mirrors the encoder
    encoder = sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))  # weights + biases
    decoder = sum(a * b + b for a, b in zip(back[:-1], back[1:]))
    return encoder + decoder


def _true_count(widths) -> int:
    back = list(widths)[::-1]
    layers = [nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:])]
    layers += [nn.Linear(a, b) for a, b in zip(back[:-1], back[1:])]
    return sum(p.numel() for p in nn.Sequential(*layers).parameters())


def _count_variants(w):
    pairs = list(zip(w[:-1], w[1:]))
    back = list(zip(w[::-1][:-1], w[::-1][1:]))
    enc = sum(a * b + b for a, b in pairs)
    dec = sum(a * b + b for a, b in back)
    return [("you forgot the biases (one per output unit of each layer)", 2 * sum(a * b for a, b in pairs)),
            ("you counted the encoder only: the decoder has its own layers", enc),
            ("you counted the decoder only: the encoder has its own layers", dec),
            ("you counted the encoder twice: the decoder's biases differ (its layers end in other widths)",
             2 * enc),
            ("you forgot the weights (or biases) of one direction", enc + sum(a * b for a, b in back))]


@exercise("3.3", "counting parameters", notebook=NOTEBOOK, minutes=6, reference=reference_3_3,
          hint="write the count of one Linear(a, b) layer first, then list the layers of both halves.")
def check_3_3(count_parameters) -> str:
    cases = [[784, 256, 16], [784, 16], [10, 7, 5, 3], [784, 512, 256, 2], [6, 1]]
    for widths in cases:
        got = number(call(count_parameters, list(widths), case=f"widths {widths}"), f"your count for {widths}")
        require(got == int(got), f"for widths {widths} you gave {got:g}: a count is a whole number.")
        if got == _true_count(widths):
            continue
        for says, variant in _count_variants(widths):
            if got == variant:
                raise Wrong(f"for widths {widths}: {says}.")
        raise Wrong(f"for widths {widths} you counted {int(got):,}: not what sum(p.numel()) gives "
                    "for that autoencoder.")
    return "checked on 5 architectures against sum(p.numel() for p in model.parameters())."


# ---------------------------------------------------------------- 3.4 lab: one training step
def reference_3_4(model, optimizer, x):
    optimizer.zero_grad()                             # no gradients left from the last step
    x_hat = model.reconstruct(x)                      # forward, (N, 1, 28, 28)
    loss = ((x - x_hat) ** 2).flatten(1).sum(1).mean()  # J / N
    loss.backward()
    optimizer.step()
    return loss.item()                                # the loss before the step


def _tiny_models():
    from ..models.autoencoders import ConvAutoencoder, MLPAutoencoder

    return [("an MLP autoencoder, batch of 8", lambda: MLPAutoencoder(MLPAutoencoder.Config(
                latent_dim=4, hidden=(32,))), 8),
            ("a conv autoencoder, batch of 5", lambda: ConvAutoencoder(ConvAutoencoder.Config(
                latent_dim=3, channels=2)), 5)]


def _batch_loss(model, x) -> float:
    with torch.no_grad():
        return ((x - model.reconstruct(x)) ** 2).flatten(1).sum(1).mean().item()


def _step_behaviour(train_step) -> None:
    lr, stale = 0.01, 3.0
    for case, make, n in _tiny_models():
        torch.manual_seed(34)
        model = make().train()
        ref = copy.deepcopy(model)
        x = torch.rand(n, 1, 28, 28)
        before = [p.detach().clone() for p in model.parameters()]
        for p in model.parameters():  # stale gradients, as a previous step would leave them
            p.grad = torch.full_like(p, stale)
        reference_3_4(ref, torch.optim.SGD(ref.parameters(), lr=lr), x.clone())
        loss_before, loss_after = _batch_loss(model, x), _batch_loss(ref, x)
        backward_ran = []
        hook = next(model.parameters()).register_hook(lambda g, ran=backward_ran: ran.append(1))
        try:
            got = call(train_step, model, torch.optim.SGD(model.parameters(), lr=lr), x.clone(), case=case)
        finally:
            hook.remove()
        if got is None:
            raise Wrong("your train_step returns None: return the batch's loss.")
        if torch.is_tensor(got) and got.requires_grad:
            raise Wrong("you return a tensor that still holds the graph: return the loss as a Python float.")
        value = number(got, "the loss you returned")
        require(model.training, "your train_step leaves the model in eval mode: training steps run in train mode.")
        moved = torch.cat([(p.detach() - b).flatten() for p, b in zip(model.parameters(), before)]).double()
        want = torch.cat([(p.detach() - b).flatten() for p, b in zip(ref.parameters(), before)]).double()
        grads = [p.grad for p in model.parameters()]
        if moved.abs().max() == 0:
            if not backward_ran:
                raise Wrong(f"on {case} the parameters did not move and no gradient was computed: "
                            "call backward on the loss.")
            if all(g is None or g.abs().max() == 0 for g in grads):
                raise Wrong(f"on {case} the parameters did not move: the gradients were zeroed after "
                            "backward, before the step.")
            raise Wrong(f"on {case} the parameters did not move: the optimizer's step must come after "
                        "backward.")
        def close(a, moved=moved, tol=1e-3):  # float32 parameters round small steps: tol 5 % for those
            return float((moved - a).norm()) <= tol * float(a.norm()) + 1e-9

        if not close(want):
            if close(want - lr * stale):
                raise Wrong(f"on {case} gradients left over from before your call were added to this step's: "
                            "zero them before backward.")
            if close(-lr * stale * torch.ones_like(want)):
                raise Wrong(f"on {case} the step applied gradients left over from before your call: no backward "
                            "on this batch's loss.")
            for factor, says in [(n, "you summed over the batch: average J over the batch (J / N)"),
                                 (1 / 784, "you averaged over pixels too (a per-pixel mean): J / N sums "
                                           "over the pixels of each image"),
                                 (-1, "the parameters moved uphill: minimise the loss, do not maximise it")]:
                if close(factor * want, tol=0.05):
                    raise Wrong(f"on {case} {says}.")
            raise Wrong(f"on {case} the parameters did not change like one SGD step on "
                        "J / N = mean over the batch of ||x_n - x_hat_n||^2.")
        if abs(value - loss_after) <= 1e-4 * loss_after and abs(value - loss_before) > 1e-3 * loss_before:
            raise Wrong(f"on {case} you returned the loss after the step: return the one you did backward on.")
        require(abs(value - loss_before) <= 1e-4 * loss_before,
                f"on {case} you returned {value:.6g}: not the batch's loss J / N before the step.")


LAB_STEPS, LAB_BATCH, LAB_THRESHOLD = 300, 128, 25.0
_RUNS: dict[int, tuple] = {}  # id(train_step) -> (train_step, steps done, test error)


def _train(train_step, steps: int, seconds: float, quiet: bool):
    from ..data import load_mnist
    from ..models.autoencoders import MLPAutoencoder, reconstruction_error

    x_train, _ = load_mnist("train")
    x_test, _ = load_mnist("test")
    torch.manual_seed(0)
    model = MLPAutoencoder(MLPAutoencoder.Config(latent_dim=16, hidden=(256,))).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    gen, start, losses = torch.Generator().manual_seed(0), time.monotonic(), []
    for _ in range(steps):
        x = x_train[torch.randint(len(x_train), (LAB_BATCH,), generator=gen)]
        losses.append(float(train_step(model, optimizer, x)))
        model.train()
        if time.monotonic() - start > seconds:
            break
    model.eval()
    with torch.no_grad():
        error = reconstruction_error(x_test, model.reconstruct(x_test)).mean().item()
    _RUNS[id(train_step)] = (train_step, len(losses), error)
    if not quiet:
        cut = "" if len(losses) == steps else f" (cut short by the {seconds:g} s cap)"
        say(f"{len(losses)} steps{cut}: training loss {losses[0]:.1f} -> {losses[-1]:.1f}, "
              f"test error {error:.2f} per image (the check wants < {LAB_THRESHOLD:g})")
    return model


def train_with_your_step(train_step, steps: int = LAB_STEPS, seconds: float = 20):
    """Train the notebook's 16-D MLP autoencoder (Adam, lr 2e-3, batches of 128) for `steps` calls of
    your train_step (wall-clock cap `seconds`); return it in eval mode, or None if your step is not ready."""
    from ..runtime import capped_seconds

    return train_or_none("train_step", _train, train_step, steps, capped_seconds(seconds), quiet=False)


@exercise("3.4", "lab: one training step of an autoencoder", notebook=NOTEBOOK, minutes=20, points=3,
          reference=reference_3_4, lab=True,
          hint="a step has five parts in a fixed order: zero the gradients, forward, loss, backward, step.")
def check_3_4(train_step) -> str:
    require(callable(train_step), f"expected a function, got {type(train_step).__name__}.")
    _step_behaviour(train_step)
    run = _RUNS.get(id(train_step))
    if run is None or run[0] is not train_step or run[1] < LAB_STEPS:
        call(_train, train_step, LAB_STEPS, 120.0, True, case="the training run")
        run = _RUNS[id(train_step)]
    require(run[1] >= LAB_STEPS, f"the training run was cut short after {run[1]} steps: is your step slow?")
    require(run[2] < LAB_THRESHOLD, f"after {LAB_STEPS} steps the test error is {run[2]:.2f}: "
                                    f"not below {LAB_THRESHOLD:g}.")
    return (f"one SGD step matches; {LAB_STEPS} of your steps reach a test error of {run[2]:.2f} "
            "(fit's 8 epochs = 504 steps do a little better).")
