"""The lab 5.4 of notebook 05: one GAN training step with the non-saturating loss, then
`train_ring_with_your_step` trains the notebook's ring GAN with it and counts the modes it captures."""

from __future__ import annotations

import copy
import math
import time

import torch
from torch import nn
from torch.nn import functional as F

from .expect import call, number, require, say, train_or_none
from .gans import NOTEBOOK
from .registry import Wrong, exercise


def reference_5_4(G, D, opt_g, opt_d, real, z):
    # D's step: real -> label 1, fake -> label 0; the fake is detached,
    # so D's loss sends no gradient into G
    fake = G(z)
    d_loss = F.softplus(-D(real)).mean() + F.softplus(D(fake.detach())).mean()
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    # G's step through the updated D, non-saturating: -log D(G(z))
    g_loss = F.softplus(-D(fake)).mean()
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()


def _variant(G, D, opt_g, opt_d, real, z, d="right", g="ns", red=torch.mean, detach=True, zero="each"):
    """The reference step with one typical mistake (for the messages)."""
    if zero == "start":
        opt_d.zero_grad(), opt_g.zero_grad()
    fake = G(z)
    lr_, lf = D(real), D(fake.detach() if detach else fake)
    d_loss = {"right": red(F.softplus(-lr_)) + red(F.softplus(lf)),
              "swapped": red(F.softplus(lr_)) + red(F.softplus(-lf)),
              "negated": -red(F.softplus(-lr_)) - red(F.softplus(lf))}[d]
    if zero == "each":
        opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    lg = D(fake if detach else G(z))
    g_loss = {"ns": red(F.softplus(-lg)), "saturating": -red(F.softplus(lg)), "negated": -red(F.softplus(-lg)),
              "d_loss": red(F.softplus(lg))}[g]
    if zero == "each":
        opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()


VARIANTS = [
    ({"g": "saturating"}, "G's step used the saturating loss log(1 - D(G(z))): where D wins (very negative "
                          "logits) its gradient vanishes and G barely moves; use -log D(G(z))"),
    ({"g": "negated"}, "G's step went the wrong way: G minimises -log D(G(z)), it wants D to say real"),
    ({"g": "d_loss"}, "G's step minimised -log(1 - D(G(z))), D's target for fakes: G wants D to say real"),
    ({"d": "swapped"}, "D's step has the labels swapped: real samples are label 1 (-log D(x)), fakes label 0"),
    ({"d": "negated"}, "D's step climbs its loss: D minimises -log D(x) - log(1 - D(G(z)))"),
    ({"red": torch.sum}, "you summed over the batch: average both losses over it"),
    ({"detach": False, "zero": "start"}, "G's step also applied the gradients of D's loss: detach the fake in "
                                         "D's step so that D's loss leaves G alone"),
    ({"zero": "never"}, "gradients left over from before your call were added to this step's: zero them "
                        "before each backward"),
]


def _tiny(seed: int, confident: bool):
    torch.manual_seed(seed)
    G = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    D = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1), nn.Flatten(0))
    if confident:  # D already wins: logits of about -8 on G's samples
        with torch.no_grad():
            D[2].bias.fill_(-8.0)
    return G, D


def _run(step, G, D, real, z, lr, stale, record=False):
    """Run `step` on G, D with SGD(lr) and stale gradients; return the moves, the result and what happened."""
    events, flows = [], []
    opt_g, opt_d = torch.optim.SGD(G.parameters(), lr=lr), torch.optim.SGD(D.parameters(), lr=lr)
    for name, opt in [("G", opt_g), ("D", opt_d)]:
        opt.step = (lambda f, n: lambda *a, **k: (events.append(n), f(*a, **k))[1])(opt.step, name)
    for p in [*G.parameters(), *D.parameters()]:
        p.grad = torch.full_like(p, stale)
    before = [p.detach().clone() for p in [*G.parameters(), *D.parameters()]]
    hook = next(G.parameters()).register_hook(lambda g: flows.append(1)) if record else None
    try:
        out = step(G, D, opt_g, opt_d, real.clone(), z.clone())
    finally:
        if hook is not None:
            hook.remove()
    moves = [p.detach() - b for p, b in zip([*G.parameters(), *D.parameters()], before)]
    k = len(list(G.parameters()))
    flat = lambda ms: torch.cat([m.flatten() for m in ms]).double()  # noqa: E731
    return flat(moves[:k]), flat(moves[k:]), out, events, len(flows)


def _call_step(gan_step, case):
    def run(*args):
        try:
            return call(gan_step, *args, case=case)
        except Wrong as err:
            if "a second time" in str(err):
                raise Wrong(f"on {case}: a backward went through G's graph twice: D's loss back-propagated into G "
                            "(the fake was not detached in D's step), so G's step found that graph freed. "
                            "Detach the fake in D's step (fake.detach()).") from None
            raise
    return run


def _near(a, b, tol=1e-3) -> bool:
    return float((a - b).norm()) <= tol * float(b.norm()) + 1e-9


def _losses(out, case):
    if out is None:
        raise Wrong(f"on {case}: your gan_step returns None: return (D's loss, G's loss) as two floats.")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Wrong(f"on {case}: your gan_step returns {type(out).__name__}: return (D's loss, G's loss), "
                    "two floats.")
    if any(torch.is_tensor(v) and v.requires_grad for v in out):
        raise Wrong("you return tensors that still hold the graph: return the losses as floats (.item()).")
    return [number(v, "a loss you returned") for v in out]


def _step_behaviour(gan_step) -> None:
    lr, stale = 0.1, 3.0
    gen = torch.Generator().manual_seed(54)
    for seed, confident, n in [(0, True, 16), (1, False, 8), (2, False, 32)]:
        case = f"tiny networks, batch of {n}" + (", D confident (fake logits about -8)" if confident else "")
        real, z = torch.randn(n, 2, generator=gen) + 1, torch.randn(n, 2, generator=gen)
        G, D = _tiny(seed, confident)
        ref = [copy.deepcopy(G), copy.deepcopy(D)]
        want_g, want_d, want, _, _ = _run(reference_5_4, *ref, real, z, lr, stale)
        got_g, got_d, out, events, flows = _run(
            _call_step(gan_step, case), G, D, real, z, lr, stale, record=True)
        require("D" in events, f"on {case}: D's optimizer never stepped: call opt_d.step() after D's backward.")
        require("G" in events, f"on {case}: G's optimizer never stepped: call opt_g.step() after G's backward.")
        require(events.count("D") == 1, f"on {case}: D's optimizer stepped {events.count('D')} times: D's "
                                        "parameters may change only in D's step.")
        require(events.count("G") == 1, f"on {case}: G's optimizer stepped {events.count('G')} times: once.")
        require(events == ["D", "G"], f"on {case}: G stepped before D: do D's step first, then G's step "
                                      "through the updated D.")
        require(flows <= 1, f"on {case}: D's loss sent gradients into G: detach the fake in D's step "
                            "(fake.detach()) so that D's step leaves G alone.")
        if not (_near(got_d, want_d) and _near(got_g, want_g)):
            for changes, says in VARIANTS:
                copies = [copy.deepcopy(m) for m in _tiny(seed, confident)]
                var_g, var_d, _, _, _ = _run(lambda *a, c=changes: _variant(*a, **c), *copies, real, z, lr, stale)
                if _near(got_d, var_d, 0.02) and _near(got_g, var_g, 0.02):
                    raise Wrong(f"on {case}: {says}.")
            if not _near(got_d, want_d):
                raise Wrong(f"on {case}: D's parameters did not change like one SGD step on "
                            "-mean log D(x) - mean log(1 - D(G(z))).")
            raise Wrong(f"on {case}: G's parameters did not change like one SGD step on -mean log D(G(z)) "
                        "through the updated D.")
        d_val, g_val = _losses(out, case)
        if abs(d_val - want[1]) < 1e-4 * abs(want[1]) and abs(g_val - want[0]) < 1e-4 * abs(want[0]):
            raise Wrong(f"on {case}: you returned (G's loss, D's loss): return D's first.")
        require(abs(d_val - want[0]) <= 1e-4 * abs(want[0]) + 1e-6,
                f"on {case}: the D loss you returned, {d_val:.6g}, is not the one of D's step (before it).")
        require(abs(g_val - want[1]) <= 1e-4 * abs(want[1]) + 1e-6,
                f"on {case}: the G loss you returned, {g_val:.6g}, is not the one of G's step (after D's step, "
                "before G's).")


# ---------------------------------------------------------------- the use: the ring GAN, with your step
LAB_STEPS, LAB_BATCH, LAB_MODES = 2000, 256, 7
_RUNS: dict[int, tuple] = {}  # id(gan_step) -> (gan_step, steps done, ModeCoverage)


class _Logits(nn.Module):
    """The ring GAN's D as the lab sees it: x (N, 2) -> logits (N,)."""

    def __init__(self, gan):
        super().__init__()
        self.body, self.head = gan.discriminator, gan.head

    def forward(self, x):
        return self.head(self.body(x)).squeeze(1)


def _train(gan_step, steps: int, seconds: float, quiet: bool):
    with torch.random.fork_rng(devices=[]):  # seeded, without changing the notebook's random stream
        return _seeded_run(gan_step, steps, seconds, quiet)


def _seeded_run(gan_step, steps: int, seconds: float, quiet: bool):
    from ..data import ring_of_gaussians
    from ..evaluation import toy_coverage
    from ..models.gans import GAN

    torch.manual_seed(0)
    data = ring_of_gaussians().sample((100_000,))
    toy = GAN(GAN.Config(latent_dim=2, hidden=(128, 128, 128))).train()  # notebook 05's ring GAN
    G, D = toy.generator, _Logits(toy)
    opts = [torch.optim.Adam(m.parameters(), lr=1e-3, betas=(0.5, 0.999)) for m in (G, D)]
    decay = [torch.optim.lr_scheduler.LambdaLR(o, lambda i: 0.5 * (1 + math.cos(math.pi * min(i, steps) / steps)))
             for o in opts]  # cosine to 0: damps the circling at the end
    gen, start, losses = torch.Generator().manual_seed(0), time.monotonic(), []
    for _ in range(steps):
        real = data[torch.randint(len(data), (LAB_BATCH,), generator=gen)]
        z = torch.randn(LAB_BATCH, 2, generator=gen)
        losses.append([float(v) for v in gan_step(G, D, *opts, real, z)])
        for s in decay:
            s.step()
        if time.monotonic() - start > seconds:
            break
    toy.eval()
    coverage = toy_coverage(toy, "ring8")
    _RUNS[id(gan_step)] = (gan_step, len(losses), coverage)
    if not quiet:
        cut = "" if len(losses) == steps else f" (cut short by the {seconds:g} s cap)"
        say(f"{len(losses)} steps{cut}: {coverage} (the check wants >= {LAB_MODES} of 8 modes)")
    return toy


def train_ring_with_your_step(gan_step, steps: int = LAB_STEPS, seconds: float = 60):
    """Train notebook 05's ring GAN (Adam, lr 1e-3 decaying to 0, batches of 256) for `steps` calls of your
    gan_step (wall-clock cap `seconds`); return the GAN in eval mode, or None if your step is not ready."""
    from ..runtime import capped_seconds

    return train_or_none("gan_step", _train, gan_step, steps, capped_seconds(seconds), quiet=False)


@exercise("5.4", "lab: one GAN training step, then the ring", notebook=NOTEBOOK, minutes=20, points=3,
          reference=reference_5_4, lab=True,
          hint="two steps in a fixed order: D's (zero, loss on real and detached fake, backward, step), "
               "then G's (zero, loss through the updated D, backward, step).")
def check_5_4(gan_step) -> str:
    require(callable(gan_step), f"expected a function, got {type(gan_step).__name__}.")
    _step_behaviour(gan_step)
    run = _RUNS.get(id(gan_step))
    if run is None or run[0] is not gan_step or run[1] < LAB_STEPS:
        call(_train, gan_step, LAB_STEPS, 240.0, True, case="the training run")
        run = _RUNS[id(gan_step)]
    require(run[1] >= LAB_STEPS, f"the training run was cut short after {run[1]} steps: is your step slow?")
    require(run[2].modes_captured >= LAB_MODES,
            f"after {LAB_STEPS} steps your ring GAN captures {run[2].modes_captured} of 8 modes: "
            f"fewer than {LAB_MODES}.")
    return (f"one SGD step matches; {LAB_STEPS} of your steps capture {run[2].modes_captured} of 8 modes "
            f"({run[2].high_quality_fraction:.0%} high-quality samples).")
