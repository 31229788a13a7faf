"""Property tests (hypothesis): the laws every model and metric must keep, on sizes, orders and inputs drawn at random.

hypothesis draws the examples from a fixed seed (`derandomize=True`), so a CI run never fails by chance; a law
broken for some input still shows up, shrunk to the smallest example that breaks it.
"""

import itertools
import math

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_utils.metrics import (
    MNIST_DIMS,
    bits_per_dim,
    frechet_distance,
    gaussian_statistics,
    nats_from_bits_per_dim,
)
from course_utils.models.autoregressive import FVSBN, NADE
from course_utils.models.density import BernoulliImageModel
from course_utils.models.flows import CouplingFlow
from course_utils.models.made import MADE
from course_utils.models.pixel_models import PixelCNN, PixelRNN

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

shapes = st.tuples(st.integers(1, 3), st.integers(1, 4)).filter(lambda hw: 2 <= hw[0] * hw[1] <= 8)
orders = st.one_of(st.none(), st.integers(0, 10_000))


@st.composite
def binary_models(draw):
    """A randomly initialised exact-likelihood model of a small binary image (at most 8 pixels)."""
    h, w = draw(shapes)
    shape = (1, h, w)
    kind = draw(st.sampled_from(["Bernoulli", "FVSBN", "NADE", "MADE", "PixelCNN", "PixelRNN"]))
    torch.manual_seed(draw(st.integers(0, 2**16)))
    if kind == "Bernoulli":
        model = BernoulliImageModel(BernoulliImageModel.Config(shape=shape))
    elif kind == "FVSBN":
        model = FVSBN(FVSBN.Config(shape=shape, order_seed=draw(orders)))
    elif kind == "NADE":
        model = NADE(NADE.Config(shape=shape, hidden=draw(st.integers(1, 12)), order_seed=draw(orders)))
    elif kind == "MADE":
        hidden = tuple(draw(st.lists(st.integers(2, 16), min_size=1, max_size=3)))
        model = MADE(MADE.Config(shape=shape, hidden=hidden, order_agnostic=draw(st.booleans()),
                                 num_masks=draw(st.integers(1, 3)), seed=draw(st.integers(0, 99)),
                                 direct=draw(st.booleans())))
    elif kind == "PixelCNN":
        model = PixelCNN(PixelCNN.Config(shape=shape, channels=draw(st.integers(2, 8)), layers=draw(st.integers(0, 3))))
    else:
        model = PixelRNN(PixelRNN.Config(shape=shape, hidden=draw(st.integers(2, 12)), features=draw(st.integers(1, 6))))
    with torch.no_grad():  # move away from the initialisation so the conditionals are far from 1/2
        for p in model.parameters():
            p.add_(torch.randn_like(p) * draw(st.sampled_from([0.1, 0.5, 1.0])))
    return model.eval()


def all_binary_images(shape):
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=math.prod(shape)))).view(-1, *shape)


@SETTINGS
@given(binary_models())
def test_exact_likelihoods_sum_to_one_over_every_binary_image(model):
    images = all_binary_images(model.event_shape)
    with torch.no_grad():
        total = model.log_prob(images).double().exp().sum().item()
    assert abs(total - 1) < 1e-4, (model.config, total)


@SETTINGS
@given(binary_models(), st.integers(0, 2**16))
def test_each_conditional_sees_only_the_pixels_before_it(model, seed):
    """d logit_i / d x_j = 0 unless x_j comes before x_i in the model's order (the autoregressive property)."""
    if isinstance(model, BernoulliImageModel):
        return  # no conditionals: covered by the normalisation test
    shape = model.event_shape
    D = math.prod(shape)
    x = torch.rand(D, generator=torch.Generator().manual_seed(seed))
    jac = torch.autograd.functional.jacobian(lambda v: model.logits(v.view(1, *shape)).flatten(), x)
    rank = torch.empty(D, dtype=torch.long)
    rank[model.order] = torch.arange(D)  # rank[i]: when pixel i is drawn
    allowed = rank[None, :] < rank[:, None]  # [i, j]: j is drawn before i
    assert (jac[~allowed] == 0).all(), (model.config, jac)


@SETTINGS
@given(st.integers(2, 5), st.integers(2, 6), st.integers(4, 32), st.integers(0, 2**16), st.floats(0.1, 3.0))
def test_flow_inverts_and_its_log_det_is_the_jacobians(dim, layers, hidden, seed, scale):
    torch.manual_seed(seed)
    flow = CouplingFlow(CouplingFlow.Config(dim=dim, layers=layers, hidden=hidden)).double()
    x = torch.randn(5, dim, dtype=torch.float64) * scale
    z, log_det = flow(x)
    torch.testing.assert_close(flow.inverse(z), x, atol=1e-8, rtol=1e-8)
    for i in range(len(x)):
        jac = torch.autograd.functional.jacobian(lambda v: flow(v[None])[0][0], x[i])
        torch.testing.assert_close(log_det[i], torch.linalg.slogdet(jac).logabsdet, atol=1e-8, rtol=1e-8)


@SETTINGS
@given(st.integers(1, 6), st.integers(0, 2**16), st.floats(0.0, 5.0))
def test_frechet_distance_is_symmetric_and_zero_on_identical_sets(d, seed, shift):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(40, d))
    b = rng.normal(size=(30, d)) * rng.uniform(0.5, 2.0) + shift
    stats_a, stats_b = gaussian_statistics(a), gaussian_statistics(b)
    ab, ba = frechet_distance(*stats_a, *stats_b), frechet_distance(*stats_b, *stats_a)
    assert ab >= 0 and math.isclose(ab, ba, rel_tol=1e-6, abs_tol=1e-8)
    assert abs(frechet_distance(*stats_a, *stats_a)) < 1e-8
    assert ab >= float(np.sum((stats_a[0] - stats_b[0]) ** 2)) - 1e-8  # at least the means' squared distance


@SETTINGS
@given(st.floats(0, 1e6, allow_nan=False), st.one_of(st.just(MNIST_DIMS), st.integers(1, 10_000)))
def test_bits_per_dim_round_trips(nats, dims):
    bpd = bits_per_dim(nats, dims)
    assert math.isclose(nats_from_bits_per_dim(bpd, dims), nats, rel_tol=1e-12, abs_tol=1e-12)
    assert math.isclose(bpd * dims * math.log(2), nats, rel_tol=1e-12, abs_tol=1e-12)
