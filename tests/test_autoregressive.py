"""Autoregressive models: exact normalisation, the autoregressive property, sampling."""

import itertools

import pytest
import torch

from course_utils.models.autoregressive import FVSBN, NADE, logit_jacobian, sample_by_full_passes
from course_utils.models.made import MADE, made_masks
from course_utils.models.pixel_models import MaskedConv2d, PixelCNN, PixelRNN

SMALL = (1, 2, 3)  # D = 6 binary pixels: all 64 images can be enumerated


def small_models(shape=SMALL):
    return {
        "FVSBN": FVSBN(FVSBN.Config(shape=shape)),
        "FVSBN-random-order": FVSBN(FVSBN.Config(shape=shape, order_seed=3)),
        "NADE": NADE(NADE.Config(shape=shape, hidden=8)),
        "NADE-random-order": NADE(NADE.Config(shape=shape, hidden=8, order_seed=1)),
        "MADE": MADE(MADE.Config(shape=shape, hidden=(16, 16))),
        "MADE-4-masks": MADE(MADE.Config(shape=shape, hidden=(16,), num_masks=4, order_agnostic=True, direct=True)),
        "MADE-direct": MADE(MADE.Config(shape=shape, hidden=(16,), direct=True)),
        "PixelCNN": PixelCNN(PixelCNN.Config(shape=shape, channels=8, layers=2)),
        "PixelRNN": PixelRNN(PixelRNN.Config(shape=shape, hidden=8, features=4)),
    }


def _randomise(model):
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.5)
    return model


def all_binary_images(shape):
    D = shape[1] * shape[2]
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=D))).view(-1, *shape)


@pytest.mark.parametrize("name", list(small_models()))
def test_probabilities_of_all_images_sum_to_one(name):
    model = _randomise(small_models()[name]).eval()
    total = model.log_prob(all_binary_images(SMALL)).exp().sum().item()
    assert total == pytest.approx(1.0, abs=1e-5)


def _logits_in_order(model, x):
    return model.logits(x).flatten(1)[:, model.order]


@pytest.mark.parametrize("name", list(small_models((1, 4, 5))))
def test_autoregressive_property(name):
    """Flipping pixel j (in generation order) changes no logit of a pixel at or before j."""
    model = _randomise(small_models((1, 4, 5))[name]).eval()
    if isinstance(model, MADE):
        model.use_mask(2 if model.config.num_masks > 1 else 0)
    x = torch.bernoulli(torch.full((3, 1, 4, 5), 0.5))
    base = _logits_in_order(model, x)
    for k, pixel in enumerate(model.order.tolist()):
        flipped = x.clone().view(3, -1)
        flipped[:, pixel] = 1 - flipped[:, pixel]
        changed = (_logits_in_order(model, flipped.view_as(x)) - base).abs() > 1e-6
        assert not changed[:, : k + 1].any(), f"{name}: flipping pixel #{k} changed a logit at or before it"
        if k + 1 < changed.shape[1] and name.startswith(("FVSBN", "NADE", "PixelRNN")):  # dense models
            assert changed[:, k + 1 :].any(), f"{name}: pixel #{k} influences no later pixel"


@pytest.mark.parametrize("name", ["FVSBN-random-order", "NADE", "MADE-direct", "PixelCNN", "PixelRNN"])
def test_logit_jacobian_is_strictly_lower_triangular_in_order(name):
    model = _randomise(small_models((1, 4, 5))[name]).eval()
    jac = logit_jacobian(model, torch.bernoulli(torch.full((1, 4, 5), 0.5)))
    assert jac.shape == (20, 20) and (jac.triu() == 0).all()
    assert (jac.tril(-1) != 0).any()


def test_logit_jacobian_of_fvsbn_is_its_masked_weight():
    model = _randomise(FVSBN(FVSBN.Config(shape=(1, 3, 4), order_seed=2)))
    jac = logit_jacobian(model, torch.zeros(1, 3, 4))
    torch.testing.assert_close(jac, (model.weight * model.mask).detach())


@pytest.mark.parametrize("name", list(small_models((1, 4, 5))))
def test_samples_are_binary_images(name):
    model = _randomise(small_models((1, 4, 5))[name])
    x = model.sample(7)
    assert x.shape == (7, 1, 4, 5)
    assert ((x == 0) | (x == 1)).all()


def test_fast_samplers_follow_the_model():
    """The incremental samplers (FVSBN, NADE, one-layer MADE) draw from the distribution log_prob describes."""
    torch.manual_seed(0)
    for model in [_randomise(FVSBN(FVSBN.Config(shape=(1, 1, 3)))), _randomise(NADE(NADE.Config(shape=(1, 1, 3), hidden=4))),
                  _randomise(MADE(MADE.Config(shape=(1, 1, 3), hidden=(6,), direct=True))),
                  _randomise(MADE(MADE.Config(shape=(1, 1, 3), hidden=(6, 6)))),
                  _randomise(MADE(MADE.Config(shape=(1, 1, 3), hidden=(6,), num_masks=3, order_agnostic=True)))]:
        images = all_binary_images((1, 1, 3))
        p = model.log_prob(images).exp()
        x = model.sample(20000).view(20000, -1)
        index = (x * torch.tensor([4.0, 2.0, 1.0])).sum(1).long()
        freq = torch.bincount(index, minlength=8).float() / 20000
        assert torch.allclose(freq, p, atol=0.015), (type(model).__name__, freq, p)


def test_every_fast_sampler_matches_one_full_pass_per_pixel():
    """Same random numbers, same images: each model's sampler equals the reference (one full pass per pixel)."""
    torch.manual_seed(0)  # default init: conditionals near 1/2, so both values of many pixels get drawn
    models = [PixelCNN(PixelCNN.Config(shape=(1, 6, 5), channels=8, layers=2)),
              PixelCNN(PixelCNN.Config(shape=(1, 9, 4), channels=8, layers=5)),
              PixelCNN(PixelCNN.Config(shape=(1, 3, 8), channels=8, layers=0)),
              PixelRNN(PixelRNN.Config(shape=(1, 5, 6), hidden=16, features=4)),
              FVSBN(FVSBN.Config(shape=(1, 4, 5))), NADE(NADE.Config(shape=(1, 4, 5), hidden=12)),
              MADE(MADE.Config(shape=(1, 4, 5), hidden=(16,))),
              MADE(MADE.Config(shape=(1, 4, 5), hidden=(16, 16), order_agnostic=True, seed=2)),
              NADE(NADE.Config(shape=(1, 4, 5), hidden=12, order_seed=1))]  # (several masks: a mixture, tested above)
    for model in models:
        fast = model.sample(16, generator=torch.Generator().manual_seed(3))
        reference = sample_by_full_passes(model, 16, generator=torch.Generator().manual_seed(3))
        assert torch.equal(fast, reference), model.config
        assert 0.05 < fast.mean() < 0.95, model.config  # a real mix of 0s and 1s was compared


def test_masked_conv_masks():
    a, b = MaskedConv2d("A", 1, 1, 3).mask[0, 0], MaskedConv2d("B", 1, 1, 3).mask[0, 0]
    assert a.tolist() == [[1, 1, 1], [1, 0, 0], [0, 0, 0]]
    assert b.tolist() == [[1, 1, 1], [1, 1, 0], [0, 0, 0]]
    with pytest.raises(ValueError, match="mask_type must be 'A' or 'B'"):
        MaskedConv2d("C", 1, 1, 3)


def test_made_masks_connectivity():
    """Output i is connected (through all layers) exactly to the inputs before it in the order."""
    order = torch.tensor([2, 0, 3, 1])
    masks = made_masks(order, (10, 10), seed=0)
    assert [tuple(m.shape) for m in masks] == [(10, 4), (10, 10), (4, 10)]
    paths = masks[2] @ masks[1] @ masks[0]  # (D, D): paths from input j to output i
    position = torch.empty(4, dtype=torch.long)
    position[order] = torch.arange(4)
    before = position[None, :] < position[:, None]
    assert not (paths[~before] > 0).any()


def test_log_prob_rejects_grey_levels_and_wrong_shapes():
    model = FVSBN(FVSBN.Config(shape=SMALL))
    with pytest.raises(ValueError, match=r"values in \{0, 1\}"):
        model.log_prob(torch.full((2, *SMALL), 0.5))
    with pytest.raises(ValueError, match=r"expects x of shape \(N, 1, 2, 3\)"):
        model.log_prob(torch.zeros(2, 1, 28, 28))
    with pytest.raises(ValueError, match="positive int"):
        model.sample(0)


def test_mnist_sized_models_give_finite_nll():
    x = torch.bernoulli(torch.full((4, 1, 28, 28), 0.2))
    for model in [FVSBN(), NADE(NADE.Config(hidden=16)), MADE(MADE.Config(hidden=(32,))),
                  PixelCNN(PixelCNN.Config(channels=8, layers=1)), PixelRNN(PixelRNN.Config(hidden=16, features=4))]:
        lp = model.log_prob(x)
        assert lp.shape == (4,) and torch.isfinite(lp).all() and (lp < 0).all()


def test_sample_progress_ends_with_the_sample():
    model = _randomise(NADE(NADE.Config(shape=(1, 3, 4), hidden=4)))
    shots = model.sample_progress(2, every=5)
    assert shots.shape == (3, 2, 1, 3, 4)
    assert (shots[0].view(2, -1)[:, 5:] == 0.5).all() and ((shots[-1] == 0) | (shots[-1] == 1)).all()


def test_checkpoints_store_parameters_only():
    """Masks and orders follow from the config, so a state_dict holds only the trained parameters."""
    for model in small_models().values():
        assert set(model.state_dict()) == {name for name, _ in model.named_parameters()}
