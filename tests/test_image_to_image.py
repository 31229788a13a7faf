"""Notebook 07's paired models: ImageTranslator (pix2pix and x4 super-resolution), the paired MNIST data,
PSNR and sharpness, `fit_translation`, and the claims the shipped checkpoints must keep."""

from __future__ import annotations

import math

import pytest
import torch

from course_utils import paired_images as P
from course_utils.models.image_to_image import ImageTranslator
from course_utils.train import TrainingDiverged
from course_utils.train_translation import fit_translation

SHIPPED = ("pix2pix_mnist", "pix2pix_mnist_l1", "sr_mnist_l2", "sr_mnist_gan")


def small(**kwargs) -> ImageTranslator:
    torch.manual_seed(0)
    return ImageTranslator(ImageTranslator.Config(width=4, d_width=4, **kwargs))


def images(n: int, size: int = 28, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 1, size, size, generator=torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------- the model

@pytest.mark.parametrize("upscale", [1, 4])
def test_translate_maps_inputs_to_28x28_images_in_the_unit_interval(upscale):
    model = small(upscale=upscale, adversarial_weight=0.01)
    out = model.translate(images(3, 28 // upscale))
    assert out.shape == (3, 1, 28, 28) and out.min() >= 0 and out.max() <= 1
    assert not out.requires_grad, "translate() is for inference: no gradients"
    assert model(images(3, 28 // upscale)).requires_grad, "forward() keeps the gradients for training"


def test_the_output_depends_on_the_input():
    model = small()
    a, b = images(2, seed=1), images(2, seed=2)
    assert not torch.allclose(model.translate(a), model.translate(b))
    torch.testing.assert_close(model.translate(a[:1]), model.translate(a)[:1])  # each image on its own


@pytest.mark.parametrize("field, value, message", [
    ("upscale", 2, "upscale=2 is not implemented"),
    ("pixel_loss", "l3", "pixel_loss='l3' is not implemented"),
    ("adversarial_weight", -0.1, "adversarial_weight=-0.1; expected a finite weight >= 0"),
    ("adversarial_weight", math.nan, "adversarial_weight=nan"),
    ("width", 0, "width=0; expected a positive int"),
    ("d_width", 2.5, "d_width=2.5; expected a positive int"),
])
def test_the_config_refuses_what_it_does_not_implement(field, value, message):
    with pytest.raises(ValueError, match=message):
        ImageTranslator.Config(**{field: value})


def test_a_regression_model_has_no_discriminator():
    model = small(pixel_loss="l2")
    assert model.discriminator is None and model.discriminator_parameters() == []
    with pytest.raises(ValueError, match="needs a discriminator.*adversarial_weight=0"):
        model.d_loss(images(2), images(2))


@pytest.mark.parametrize("bad, message", [
    (images(2, 7), r"takes 28x28 inputs, got \(2, 1, 7, 7\); 7x7 inputs need a super-resolution model"),
    (images(2)[0], r"expects x of shape \(N, 1, 28, 28\), got \(1, 28, 28\). Add a batch dimension"),
    (images(2, 14), r"expects x of shape \(N, 1, 28, 28\)"),
    (images(2) * 255, r"expects x in \[0, 1\], got values in"),
    (images(2).masked_fill(torch.eye(28, dtype=torch.bool), math.nan), "NaN or inf"),
])
def test_bad_inputs_get_clear_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        small().translate(bad)


def test_a_super_resolution_model_refuses_a_28x28_input_and_bad_targets():
    model = small(upscale=4, adversarial_weight=0.01)
    with pytest.raises(ValueError, match="takes 7x7 inputs.*need a 28x28 translation model"):
        model.translate(images(2))
    with pytest.raises(ValueError, match="one target per input"):
        model.loss(images(2, 7), images(3))
    with pytest.raises(ValueError, match=r"expects y of shape \(N, 1, 28, 28\)"):
        model.d_loss(images(2, 7), images(2, 7))
    with pytest.raises(TypeError, match="torch.Tensor"):
        model.translate([[0.5]])


@pytest.mark.parametrize("kwargs", [dict(), dict(pixel_loss="l2", upscale=4), dict(adversarial_weight=0.5)])
def test_the_losses_have_no_hidden_state_and_add_up(kwargs):
    model = small(**kwargs).train()
    x, y = images(4, 28 // model.config.upscale, seed=3), images(4, seed=4)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    losses = lambda: torch.stack([model.loss(x, y)]  # noqa: E731
                                 + ([model.d_loss(x, y)] if model.adversarial else []))
    first, second = losses(), losses()
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items()), "a loss changed the weights"
    error = model(x) - y
    pixel = error.abs().mean() if model.config.pixel_loss == "l1" else error.pow(2).mean()
    terms = model.loss_terms(x, y)
    torch.testing.assert_close(terms["pixel"], pixel)
    want = pixel + model.config.adversarial_weight * terms["adversarial"]
    torch.testing.assert_close(model.loss(x, y), want)


def test_the_discriminator_loss_trains_only_the_discriminator():
    model = small(adversarial_weight=0.01)
    model.d_loss(images(4), images(4, seed=5)).backward()
    assert all(p.grad is None for p in model.generator_parameters()), "D's loss must not reach G"
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.discriminator_parameters())
    assert model.discriminate(images(2), images(2)).shape == (2, 49), "one verdict per patch of a 7x7 grid"


# ---------------------------------------------------------------- paired data and numbers

def test_psnr_matches_a_hand_computation():
    target = torch.zeros(2, 1, 28, 28)
    prediction = target.clone()
    prediction[0, 0, 0, :4] = 0.5  # MSE = 4 * 0.25 / 784
    prediction[1] = 0.1  # MSE = 0.01 -> 20 dB
    want = torch.tensor([10 * math.log10(784 / 1.0), 20.0])
    torch.testing.assert_close(P.psnr(prediction, target), want)
    assert P.psnr(target, target).isinf().all()
    with pytest.raises(ValueError, match="compares images one to one"):
        P.psnr(prediction[:1], target)


def test_sharpness_numbers_rank_a_blur_below_the_digits():
    digits = P.paired_mnist("lowres", "test")[1][:200]
    blurred = torch.nn.functional.avg_pool2d(digits, 3, stride=1, padding=1)
    assert P.mid_grey_share(blurred) > P.mid_grey_share(digits)
    assert P.edge_strength(blurred) < P.edge_strength(digits)
    assert P.mid_grey_share((digits > 0.5).float()) == 0


def test_the_paired_builders_are_deterministic_and_do_what_they_say():
    digits = P.paired_mnist("lowres", "test")[1][:100]
    skeletons = P.skeleton(digits)
    assert torch.equal(skeletons, P.skeleton(digits.clone())), "the same digits give the same inputs"
    assert set(skeletons.unique().tolist()) <= {0.0, 1.0}
    assert not (skeletons.bool() & (digits <= 0.5)).any(), "a skeleton lies inside the binarized strokes"
    assert 0 < skeletons.sum() < (digits > 0.5).sum() / 2, "the skeleton loses the strokes' width"
    bar = torch.zeros(1, 1, 28, 28)
    bar[0, 0, 10:15, 4:24] = 1  # a bar 5 pixels high: its skeleton is the middle row
    bar_skeleton = P.skeleton(bar)[0, 0]
    assert bar_skeleton[12, 6:22].all(), "a bar's skeleton runs along its middle row"
    assert not (bar_skeleton.bool() & (bar[0, 0] == 0)).any() and bar_skeleton.sum() < bar.sum() / 2
    sketches = P.sketch(digits)
    assert torch.equal(sketches, P.sketch(digits.clone())) and set(sketches.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(sketches[:, :, ::2, ::2], sketches[:, :, 1::2, 1::2]), "drawn in 2x2-pixel cells"
    low = P.downsample(digits)
    assert low.shape == (100, 1, 7, 7)
    torch.testing.assert_close(low[3, 0, 2, 5], digits[3, 0, 8:12, 20:24].mean())
    x1, y1, l1 = P.paired_mnist("lowres", "test")
    x1.zero_()  # a fresh copy: the cache is untouched
    x2, y2, l2 = P.paired_mnist("lowres", "test")
    assert x2.sum() > 0 and len(x2) == len(y2) == len(l2) == 2000
    with pytest.raises(ValueError, match="unknown paired task 'edges'"):
        P.paired_mnist("edges")
    with pytest.raises(ValueError, match=r"expects images in \[0, 1\]"):
        P.skeleton(digits * 255)


def test_bicubic_upscaling_is_clamped_and_checks_its_input():
    low = P.paired_mnist("lowres", "test")[0][:10]
    up = P.bicubic_upscale(low)
    assert up.shape == (10, 1, 28, 28) and up.min() >= 0 and up.max() <= 1
    with pytest.raises(ValueError, match=r"expects x of shape \(N, 1, 7, 7\)"):
        P.bicubic_upscale(torch.zeros(2, 1, 28, 28))


# ---------------------------------------------------------------- training

def test_a_short_training_run_lowers_the_loss():
    x, y, _ = P.paired_mnist("lowres", "test")
    x, y = x[:256], y[:256]
    torch.manual_seed(0)  # the same initial weights whichever tests ran before in this process
    model = small(upscale=4, pixel_loss="l2", adversarial_weight=0.01)
    with torch.no_grad():
        before = model.loss_terms(x, y)["pixel"].item()
    hist = fit_translation(model, x, y, steps=80, batch_size=32, lr=3e-3, device="cpu", progress=False)
    with torch.no_grad():
        after = model.loss_terms(x, y)["pixel"].item()
    assert after < 0.8 * before, f"the pixel loss fell only from {before:.4f} to {after:.4f}"
    assert hist.steps == 80 and len(hist.d_loss) == len(hist.loss) == 80 and hist.stopped_by == "steps"
    assert hist.epochs == 10 and not model.training


def test_fit_translation_budgets_and_guards(monkeypatch):
    x, y = images(64), images(64, seed=1)
    with pytest.raises(ValueError, match="needs a budget"):
        fit_translation(small(), x, y)
    with pytest.raises(ValueError, match="one target per input"):
        fit_translation(small(), x, y[:10], steps=1)
    monkeypatch.setenv("COURSE_MAX_TRAIN_SECONDS", "0.01")
    hist = fit_translation(small(), x, y, steps=10_000, seconds=60, batch_size=8, device="cpu",
                           progress=False)
    assert hist.cut_short and hist.steps < 10_000
    monkeypatch.delenv("COURSE_MAX_TRAIN_SECONDS")
    model = small()
    nan_terms = {"pixel": torch.tensor(math.nan, requires_grad=True), "adversarial": torch.tensor(0.0)}
    monkeypatch.setattr(model, "loss_terms", lambda a, b: nan_terms)
    with pytest.raises(TrainingDiverged, match="generator loss became nan at step 1"):
        fit_translation(model, x, y, steps=3, batch_size=8, device="cpu", progress=False)


# ---------------------------------------------------------------- the shipped checkpoints' claims

@pytest.fixture(scope="module")
def shipped_metrics() -> dict:
    """The sidecars' metrics (tests/test_checkpoints.py re-evaluates each headline; notebook 07 re-measures all of
    them and asserts the same claims), and bicubic's, measured now."""
    from course_utils.checkpoints import available_checkpoints, read_sidecar

    missing = [n for n in SHIPPED if n not in available_checkpoints()]
    if missing:
        pytest.skip(f"checkpoints {missing} are not shipped: "
                    f"`python -m course_utils train {' '.join(missing)}`")
    out = {name: read_sidecar(name)["metrics"] for name in SHIPPED}
    out["bicubic"] = P.bicubic_metrics()
    return out


@pytest.mark.slow
def test_pix2pix_is_closer_to_real_digits_than_its_l1_baseline(shipped_metrics):
    gan, l1 = shipped_metrics["pix2pix_mnist"], shipped_metrics["pix2pix_mnist_l1"]
    assert gan["course_fid"] < l1["course_fid"] - 1, (gan, l1)
    assert gan["edge_strength"] > l1["edge_strength"], "the adversarial model's edges must be sharper"
    assert gan["classifier_accuracy"] > 0.9 and l1["classifier_accuracy"] > 0.9


@pytest.mark.slow
def test_super_resolution_trades_distortion_for_perception(shipped_metrics):
    bicubic, l2, gan = (shipped_metrics[k] for k in ("bicubic", "sr_mnist_l2", "sr_mnist_gan"))
    assert l2["psnr"] > bicubic["psnr"] + 1, "the L2 CNN must beat bicubic's distortion"
    assert gan["course_fid"] < l2["course_fid"], "the GAN must look more like real digits than the L2 CNN"
    assert gan["edge_strength"] > l2["edge_strength"], "the GAN must be sharper than the L2 CNN"
