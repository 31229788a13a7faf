"""The gated PixelCNN (course_utils/models/gated_pixelcnn.py): causality, no blind spot, the fast sampler."""

import itertools

import pytest
import torch

from course_utils.models import GatedPixelCNN
from course_utils.models.autoregressive import logit_jacobian, sample_by_full_passes
from course_utils.models.pixel_models import PixelCNN

CONFIGS = {  # small images; odd kernels of both sizes, one and several layers
    "1 layer": dict(shape=(1, 5, 6), channels=4, layers=1),
    "3 layers": dict(shape=(1, 7, 6), channels=6, layers=3),
    "kernel 5, first 3": dict(shape=(1, 6, 9), channels=4, layers=2, kernel=5, first_kernel=3),
    "dilations 1, 2, 4": dict(shape=(1, 9, 10), channels=4, layers=5, dilations=(1, 2, 4)),  # cycled: 1, 2, 4, 1
    "kernel 5, dilations 1, 2": dict(shape=(1, 8, 9), channels=4, layers=3, kernel=5, first_kernel=3,
                                     dilations=(1, 2)),
}


def build(name, dtype=torch.float32):
    torch.manual_seed(0)
    model = GatedPixelCNN(GatedPixelCNN.Config(**CONFIGS[name])).to(dtype)
    with torch.no_grad():  # random weights: every path counts, no accidental zero gradient
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    return model.eval()


def theoretical_field(row, col, reach, size):
    """Every pixel before (row, col) in raster order within reach: rows row-1-reach .. row-1 and columns
    col-reach .. col+reach, plus the current row's columns col-reach .. col-1. (H, W) bool."""
    H, W = size
    r = torch.arange(H)[:, None].expand(H, W)
    c = torch.arange(W)[None, :].expand(H, W)
    above = (r < row) & (r >= row - 1 - reach) & ((c - col).abs() <= reach)
    left = (r == row) & (c < col) & (c >= col - reach)
    return above | left


@pytest.mark.parametrize("name", list(CONFIGS))
def test_autoregressive_property_through_the_jacobian(name):
    """d logit_i / d x_j is zero unless j comes before i: the Jacobian in raster order is strictly lower-triangular.
    Over a few images (a ReLU of the head can hide a path at one image) its non-zeros are the receptive fields."""
    model = build(name, torch.float64)
    H, W = model.event_shape[1:]
    seen = torch.zeros(H * W, H * W, dtype=torch.bool)
    for seed in range(4):
        torch.manual_seed(seed)
        image = torch.bernoulli(torch.full(model.event_shape, 0.5, dtype=torch.float64))
        jac = logit_jacobian(model, image)  # (D, D), rows: logits, columns: pixels, raster order
        assert jac.shape == (H * W, H * W)
        assert (jac.triu() == 0).all(), "a logit depends on its own pixel or a later one"
        seen |= jac != 0
    for row, col in itertools.product(range(H), range(W)):
        field = seen[row * W + col].view(H, W)
        assert torch.equal(field, theoretical_field(row, col, model.reach, (H, W))), (row, col)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_receptive_field_is_every_earlier_pixel_within_reach(name):
    model = build(name)
    H, W = model.event_shape[1:]
    for row, col in [(0, 0), (0, W - 1), (H // 2, W // 2), (H - 1, 0), (H - 1, W - 1)]:
        field = model.receptive_field(row, col)
        assert torch.equal(field, theoretical_field(row, col, model.reach, (H, W))), (row, col)


def test_no_blind_spot_where_the_plain_pixelcnn_has_one():
    """Same depth (a 7x7 first layer + 5 layers of 3x3): the plain stack misses pixels up and to the right."""
    gated = GatedPixelCNN(GatedPixelCNN.Config(channels=2, layers=6))
    plain = PixelCNN(PixelCNN.Config(channels=2, layers=5))
    row, col = 14, 14
    earlier = torch.arange(784).view(28, 28) < row * 28 + col
    field, plain_field = gated.receptive_field(row, col), plain.receptive_field(row, col)
    assert not (field & ~earlier).any(), "the gated field holds its own pixel or a later one"
    assert torch.equal(field, theoretical_field(row, col, gated.reach, (28, 28)))
    assert (plain_field & ~field).sum() == 0, "the gated stack sees everything the plain one sees"
    assert field[row - 1, col + 4] and not plain_field[row - 1, col + 4], "up-right: seen by gated, not by plain"
    assert (field & ~plain_field)[:row, col + 1:].sum() >= 10


def test_dilations_reach_further_at_the_same_depth_and_cost():
    plain = GatedPixelCNN(GatedPixelCNN.Config(channels=2, layers=8))
    dilated = GatedPixelCNN(GatedPixelCNN.Config(channels=2, layers=8, dilations=(1, 2, 4, 8)))
    assert (plain.reach, dilated.reach) == (10, 25)  # 3 + 7 blocks x 1, 3 + (1 + 2 + 4 + 8 + 1 + 2 + 4)
    assert sum(p.numel() for p in plain.parameters()) == sum(p.numel() for p in dilated.parameters())
    field = dilated.receptive_field(27, 27)  # the last pixel: rows 1 .. 26 and columns 2 .. 27 above, no holes
    assert torch.equal(field, theoretical_field(27, 27, 25, (28, 28)))
    assert field.sum() == 26 * 26 + 25 and plain.receptive_field(27, 27).sum() < 0.4 * field.sum()


def test_the_default_config_sees_everything_before_the_centre_pixel():
    model = GatedPixelCNN()
    assert model.reach == 14
    earlier = torch.arange(784).view(28, 28) < 14 * 28 + 14
    assert torch.equal(model.receptive_field(14, 14), earlier)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_fast_sampler_draws_the_reference_samplers_images(name):
    torch.manual_seed(1)
    model = GatedPixelCNN(GatedPixelCNN.Config(**CONFIGS[name]))  # default init: conditionals near 1/2
    fast = model.sample(12, generator=torch.Generator().manual_seed(3))
    reference = sample_by_full_passes(model, 12, generator=torch.Generator().manual_seed(3))
    assert torch.equal(fast, reference)
    assert 0.05 < fast.mean() < 0.95, "a real mix of 0s and 1s was compared"


def test_probabilities_of_all_images_sum_to_one_and_log_prob_is_minus_loss():
    model = GatedPixelCNN(GatedPixelCNN.Config(shape=(1, 2, 3), channels=4, layers=2))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.5)
    images = torch.tensor(list(itertools.product([0.0, 1.0], repeat=6))).view(-1, 1, 2, 3)
    log_p = model.log_prob(images)
    assert log_p.shape == (64,) and (log_p < 0).all()
    assert log_p.exp().sum().item() == pytest.approx(1.0, abs=1e-5)
    assert model.logits(images).shape == (64, 1, 2, 3)
    torch.testing.assert_close(model.loss(images), -log_p.mean())
    assert model.sample(5).shape == (5, 1, 2, 3)


def test_checkpoints_store_parameters_only():
    model = GatedPixelCNN(GatedPixelCNN.Config(channels=4, layers=2))
    assert set(model.state_dict()) == {name for name, _ in model.named_parameters()}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("channels", 0, r"channels=0; expected a positive int"),
    ("layers", -1, r"layers=-1; expected a positive int"),
    ("kernel", 4, r"kernel=4; expected an odd int >= 3"),
    ("kernel", 1, r"kernel=1; expected an odd int >= 3"),
    ("first_kernel", 2.0, r"first_kernel=2.0; expected an odd int >= 3"),
    ("shape", (1, 28), r"shape=\(1, 28\); expected \(1, H, W\)"),
    ("dilations", (0,), r"dilations=\(0,\); expected a positive int"),
    ("dilations", (1, 8), r"dilations=\(1, 8\); expected each block's dilation at most .* \(8 > 4 leaves holes"),
])
def test_config_refuses_what_it_does_not_implement(field, value, message):
    with pytest.raises(ValueError, match=message):
        GatedPixelCNN.Config(**{field: value})


def test_receptive_field_refuses_a_pixel_outside_the_image():
    with pytest.raises(ValueError, match=r"pixel \(28, 0\) is outside the 28x28 image"):
        GatedPixelCNN(GatedPixelCNN.Config(channels=2, layers=1)).receptive_field(28, 0)
