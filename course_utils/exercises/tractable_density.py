"""Exercises 2.1-2.4 of notebook 02 (MADE masks, a likelihood by hand, a coupling log-det, the sampling lab)."""

from __future__ import annotations

import math

import torch

from .expect import call, number, require, same_to_figures, tensor
from .registry import NotAnswered, Wrong, exercise

NOTEBOOK = "02_tractable_density"


# ------------------------------------------------------------------ 2.1 MADE masks

def reference_2_1():
    def hidden_mask(m_in, m_hidden):
        return (m_hidden[:, None] >= m_in[None, :]).float()

    def output_mask(m_hidden, m_out):
        return (m_out[:, None] > m_hidden[None, :]).float()  # strict: output i never sees x_i

    return hidden_mask, output_mask


def _mask(fn, below, above, what):
    got = call(fn, below, above, case=f"degrees {below.tolist()} -> {above.tolist()}")
    if not torch.is_tensor(got):
        raise Wrong(f"{what} should be a torch tensor, got {type(got).__name__}.")
    shape = (len(above), len(below))
    if tuple(got.shape) == shape[::-1] and shape[0] != shape[1]:
        raise Wrong(f"{what} has shape {tuple(got.shape)}: it is transposed (one row per unit of the layer above, "
                    "one column per unit below).")
    require(tuple(got.shape) == shape, f"{what} should have shape {shape}, got {tuple(got.shape)}.")
    if got.dtype == torch.bool:
        raise Wrong(f"{what} has dtype torch.bool: a mask multiplies float weights, return a float tensor.")
    tensor(got, what)
    require(bool(((got == 0) | (got == 1)).all()), f"{what} should hold only 0s and 1s.")
    return got


def _made_case(seed):
    gen = torch.Generator().manual_seed(seed)
    D = int(torch.randint(3, 9, (), generator=gen))
    m0 = torch.randperm(D, generator=gen) + 1  # a random order: input j has degree m0[j]
    m1 = torch.randint(1, D, (int(torch.randint(2, 9, (), generator=gen)),), generator=gen)
    m2 = torch.randint(int(m1.min()), D, (int(torch.randint(2, 9, (), generator=gen)),), generator=gen)
    return m0, m1, m2


@exercise("2.1", "build a MADE mask", notebook=NOTEBOOK, minutes=12, points=2, reference=reference_2_1, value=True,
          hint="a path from input j to output i runs through hidden units whose mask entries are both 1: "
               "compare the degrees along the path with the rules on the MADE slide.")
def check_2_1(answer) -> str:
    if callable(answer) and not isinstance(answer, (tuple, list)):
        call(answer, torch.tensor([1, 2]), torch.tensor([1]))  # an unfinished function -> not answered
        raise Wrong('pass both functions as a pair: check("2.1", (hidden_mask, output_mask)).')
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise Wrong('pass both functions as a pair: check("2.1", (hidden_mask, output_mask)).')
    hidden, output = answer
    ref_hidden, ref_output = reference_2_1()
    for seed in range(6):
        m0, m1, m2 = _made_case(seed)
        masks = [_mask(hidden, m0, m1, "the input→hidden mask"), _mask(hidden, m1, m2, "the hidden→hidden mask"),
                 _mask(output, m2, m0, "the hidden→output mask")]
        paths = masks[2] @ masks[1] @ masks[0]  # paths from input j (column) to output i (row)
        bad = (paths > 0) & (m0[:, None] <= m0[None, :])
        if bad.any():
            i, j = (int(v) for v in bad.nonzero()[0])
            if i == j:
                raise Wrong(f"with the order {m0.tolist()}, output {i} depends on its own input x_{i} "
                            "(it may only see inputs before it in the order).")
            raise Wrong(f"with the order {m0.tolist()}, output {i} depends on input {j}, which comes after it.")
        h_ok = torch.equal(masks[0], ref_hidden(m0, m1)) and torch.equal(masks[1], ref_hidden(m1, m2))
        o_ok = torch.equal(masks[2], ref_output(m2, m0))
        if not h_ok and not o_ok and torch.equal(masks[0], (m1[:, None] > m0[None, :]).float()) \
                and torch.equal(masks[2], (m0[:, None] >= m2[None, :]).float()):
            raise Wrong("the hidden and output rules are swapped: the net stays autoregressive but loses "
                        "connections (a hidden unit of degree 1 sees no input at all).")
        if not h_ok:
            if torch.equal(masks[0], (m1[:, None] > m0[None, :]).float()):
                raise Wrong("your hidden mask cuts the connection between units of the same degree "
                            "(a hidden unit of degree m may see the units below it of degree m).")
            raise Wrong(f"your hidden mask is wrong for degrees {m0.tolist()} -> {m1.tolist()}: "
                        "it keeps or cuts connections the rules do not.")
        require(o_ok, f"your output mask is wrong for degrees {m2.tolist()} -> {m0.tolist()}: "
                      "it cuts connections that keep the net autoregressive.")
    return ("six random MADEs (random orders and degrees): every output depends only on inputs before it, "
            "and no allowed connection is cut.")


# ------------------------------------------------------------------ 2.2 a likelihood by hand

def reference_2_2() -> float:
    return -math.log(0.8 * (1 - (0.3 + 0.5 * 1)) * (0.9 - 0.6 * 0))


@exercise("2.2", "a likelihood by hand", notebook=NOTEBOOK, minutes=4, reference=reference_2_2, value=True,
          hint="p(x) is the product of three conditionals, each at the observed values; "
               "a factor for a pixel equal to 0 is 1 - p(pixel = 1 | ...).")
def check_2_2(answer) -> str:
    got = number(answer)
    want = reference_2_2()
    p = math.exp(-want)
    if 0 < got < 1 and same_to_figures(got, p):
        raise Wrong(f"{got:.3g} is the probability p(x); the question asks for -log p(x).")
    if got < 0:
        raise Wrong(f"you gave {got:.4g}: -log of a probability below 1 is positive (check the sign).")
    if same_to_figures(got, want / math.log(2)):
        raise Wrong(f"{got:.4g} is in bits (log base 2); the question asks for nats (natural log).")
    if same_to_figures(got, want / math.log(10)):
        raise Wrong(f"{got:.4g} uses log base 10; the question asks for nats (natural log).")
    if same_to_figures(got, -math.log(0.8 * 0.8 * 0.9)):
        raise Wrong(f"{got:.4g}: the second factor is p(x_2 = 0 | x_1 = 1), not p(x_2 = 1 | x_1 = 1).")
    if same_to_figures(got, -math.log(0.8 * 0.2 * 0.3)):
        raise Wrong(f"{got:.4g}: in x_3's conditional, use the observed x_2 = 0.")
    require(same_to_figures(got, want), f"{got:.4g} nats is not -log p(1, 0, 1) "
                                        "(3 significant figures are enough).")
    return f"{want:.3f} nats: three factors of the chain rule, one -log."


# ------------------------------------------------------------------ 2.3 the coupling layer's log-det

def reference_2_3(s, mask):
    # the diagonal of dy/dx: 1 where a coordinate is kept, exp(s) where it is transformed
    return ((1 - mask) * s).sum(1)


def _coupling_case(seed):
    gen = torch.Generator().manual_seed(seed)
    N, D = [(1, 3), (4, 2), (3, 5), (5, 6)][seed % 4]
    mask = torch.zeros(D)
    mask[torch.randperm(D, generator=gen)[: max(1, D // 2 - (seed % 2))]] = 1.0
    Ws, Wt = torch.randn(D, D, generator=gen), torch.randn(D, D, generator=gen)
    x = torch.randn(N, D, generator=gen, dtype=torch.float64)

    def coupling(v):  # s and t depend on the kept part only, as in a real coupling layer
        s, t = torch.tanh((v * mask) @ Ws.double().T) * 2, (v * mask) @ Wt.double().T
        return v * mask + (1 - mask) * (v * torch.exp(s) + t), s

    autograd = torch.stack([torch.linalg.slogdet(torch.autograd.functional.jacobian(
        lambda u: coupling(u[None])[0][0], row))[1] for row in x])
    return coupling(x)[1].float(), mask, autograd.float()


@exercise("2.3", "the coupling layer's log-determinant", notebook=NOTEBOOK, minutes=6, reference=reference_2_3,
          hint="the Jacobian is triangular: its log-determinant is the sum of the logs of its diagonal. "
               "What is the diagonal entry of a kept coordinate, and of a transformed one?")
def check_2_3(fn) -> str:
    for seed in range(8):
        s, mask, want = _coupling_case(seed)
        case = f"case {seed + 1} (N={s.shape[0]}, D={s.shape[1]}, mask {mask.int().tolist()})"
        got = tensor(call(fn, s.clone(), mask.clone(), case=case), f"the log-det on {case}", (s.shape[0],))
        if torch.allclose(got, want, atol=1e-4):
            continue
        for other, says in [(-want, "has the wrong sign (a scale e^s > 1 stretches: log-det +s)"),
                            ((mask * s).sum(1), "sums s over the kept coordinates (mask = 1); the transformed "
                                                "ones are those with mask = 0"),
                            (s.sum(1), "sums s over every coordinate: a kept coordinate's diagonal entry is 1"),
                            (want / (1 - mask).sum(), "is a mean: the log-det is a sum over coordinates"),
                            (((1 - mask) * s).mean(1), "is a mean: the log-det is a sum over coordinates"),
                            (((1 - mask) * s.exp()).sum(1), "adds exp(s): the log of e^s is s")]:
            if torch.allclose(got, other.float(), atol=1e-4):
                raise Wrong(f"your log-det on {case} {says}.")
        raise Wrong(f"your log-det on {case} differs from autograd's log|det J| of the coupling map: "
                    f"you gave {got[0].item():.4g} for the first example.")
    return "eight random coupling maps agree with autograd's log|det J|: the triangular Jacobian makes it a sum."


from . import tractable_density_lab  # noqa: E402,F401  (registers 2.4, the lab)
from .tractable_density_lab import draw_with_your_sampler  # noqa: E402,F401

__all__ = ["NOTEBOOK", "NotAnswered", "draw_with_your_sampler"]
