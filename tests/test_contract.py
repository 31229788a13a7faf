"""The one model contract (course_utils/models/base.py), checked over every recipe and every model class.

- seeded sampling repeats with the same generator and differs with another; eval mode during sampling;
- exact models: loss == -log_prob.mean(); the VAE: loss == -elbo.mean() at beta = 1;
- latent models: encode -> (N, latent_dim), decode -> (N, 1, 28, 28), reconstruct = decode(encode(x));
- no hidden state in `loss`: two calls on one batch with one seed give one value and change nothing;
- every Config refuses values it does not implement;
- structure that theory fixes: a discriminator learns to tell real from fake (the losses' signs), PixelCNN's
  receptive field and blind spot, MADE's connectivity equal to what its degrees allow.
"""

from __future__ import annotations

import dataclasses
import typing

import pytest
import torch

from course_utils import data
from course_utils.models import MODEL_REGISTRY
from course_utils.models.autoencoders import (
    ConvAutoencoder,
    DenoisingAutoencoder,
    LinearAutoencoder,
    MLPAutoencoder,
)
from course_utils.models.autoregressive import FVSBN, NADE, AutoregressiveImageModel
from course_utils.models.base import CourseModel, DensityModel, GenerativeModel, LatentModel, ModelConfig
from course_utils.models.density import BernoulliImageModel, DiagonalGaussian, FullGaussian, GaussianMixture
from course_utils.models.features import MNISTClassifier
from course_utils.models.flows import CouplingFlow
from course_utils.models.gans import GAN, LOSSES, discriminator_loss
from course_utils.models.gated_pixelcnn import GatedPixelCNN
from course_utils.models.image_to_image import ImageTranslator
from course_utils.models.made import MADE
from course_utils.models.next_frame import L2FramePredictor, StochasticFramePredictor
from course_utils.models.pixel_models import PixelCNN, PixelRNN
from course_utils.models.vae import VAE
from course_utils.zoo import RECIPES

SMALL = (1, 4, 5)

# One small instance of every model class (the recipes cover the shipped sizes).
CLASS_CASES = {
    "BernoulliImageModel": lambda: BernoulliImageModel(BernoulliImageModel.Config(shape=SMALL)),
    "DiagonalGaussian": lambda: DiagonalGaussian(),
    "FullGaussian": lambda: FullGaussian(FullGaussian.Config(dim=3)),
    "GaussianMixture": lambda: GaussianMixture(GaussianMixture.Config(components=3)),
    "CouplingFlow": lambda: CouplingFlow(CouplingFlow.Config(layers=2, hidden=8)),
    "FVSBN": lambda: FVSBN(FVSBN.Config(shape=SMALL, order_seed=2)),
    "NADE": lambda: NADE(NADE.Config(shape=SMALL, hidden=6)),
    "MADE": lambda: MADE(MADE.Config(shape=SMALL, hidden=(12,), num_masks=3, order_agnostic=True, direct=True)),
    "PixelCNN": lambda: PixelCNN(PixelCNN.Config(shape=SMALL, channels=4, layers=2)),
    "PixelRNN": lambda: PixelRNN(PixelRNN.Config(shape=SMALL, hidden=8, features=4)),
    "GatedPixelCNN": lambda: GatedPixelCNN(GatedPixelCNN.Config(shape=SMALL, channels=4, layers=2)),
    "MLPAutoencoder": lambda: MLPAutoencoder(MLPAutoencoder.Config(latent_dim=3, hidden=(16,))),
    "ConvAutoencoder": lambda: ConvAutoencoder(ConvAutoencoder.Config(latent_dim=3, channels=4)),
    "LinearAutoencoder": lambda: LinearAutoencoder(LinearAutoencoder.Config(latent_dim=3)),
    "DenoisingAutoencoder": lambda: DenoisingAutoencoder(DenoisingAutoencoder.Config(latent_dim=3, hidden=(16,))),
    "VAE": lambda: VAE(VAE.Config(latent_dim=3, hidden=(16,))),
    "GAN": lambda: GAN(GAN.Config(hidden=(16, 16))),
    "MNISTClassifier": lambda: MNISTClassifier(MNISTClassifier.Config(channels=(4, 8), features=16)),
    "ImageTranslator": lambda: ImageTranslator(ImageTranslator.Config(upscale=4, adversarial_weight=0.01, width=4,
                                                                      d_width=4)),
    "L2FramePredictor": lambda: L2FramePredictor(L2FramePredictor.Config(size=32, channels=4, hidden=16,
                                                                         max_shift=2)),
    "StochasticFramePredictor": lambda: StochasticFramePredictor(
        StochasticFramePredictor.Config(size=32, channels=4, hidden=16, max_shift=2)),
}

VARIANT_CASES = {  # options that change what sample() or loss() do
    "VAE, mixture prior": lambda: VAE(VAE.Config(latent_dim=3, hidden=(16,), prior="mixture", prior_components=3)),
    "GAN, self-conditioned": lambda: GAN(GAN.Config(data_shape=(1, 28, 28), latent_dim=4, arch="dcgan", width=4,
                                                    num_classes=3, class_weights=(0.5, 0.3, 0.2))),
}



def _randomise(model: torch.nn.Module) -> torch.nn.Module:
    """Untrained models start at zeros in places (FVSBN); random weights make every path count."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    return model


def batch_for(model: torch.nn.Module, n: int = 6) -> tuple[torch.Tensor, ...]:
    """A batch of the inputs `model.loss` expects: (x,) or (x, y)."""
    g = torch.Generator().manual_seed(0)
    if isinstance(model, MNISTClassifier):
        return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)
    if isinstance(model, GAN):
        x = torch.randn(n, *model.data_shape, generator=g)
        x = x.sigmoid() if model.is_image else x
        return (x, torch.arange(n) % model.config.num_classes) if model.config.num_classes else (x,)
    if isinstance(model, ImageTranslator):  # (input, paired target): a 7x7 input for super-resolution
        side = 28 // model.config.upscale
        return torch.rand(n, 1, side, side, generator=g), torch.rand(n, 1, 28, 28, generator=g)
    if isinstance(model, (L2FramePredictor, StochasticFramePredictor)):  # (past frames, the next frame)
        s, k = model.config.size, model.config.context
        return torch.rand(n, k, 1, s, s, generator=g), torch.rand(n, 1, s, s, generator=g)
    if isinstance(model, (AutoregressiveImageModel, BernoulliImageModel)):
        return (torch.bernoulli(torch.full((n, *model.event_shape), 0.4), generator=g),)
    if isinstance(model, VAE):
        x = torch.rand(n, 1, 28, 28, generator=g)
        return ((torch.bernoulli(x, generator=g) if model.config.likelihood == "bernoulli" else x),)
    if isinstance(model, LatentModel):
        return (torch.rand(n, 1, 28, 28, generator=g),)
    return (torch.randn(n, model.config.dim, generator=g),)


def every_model():
    """(id, builder) for every recipe and every model class."""
    cases = [(f"recipe:{name}", recipe.build) for name, recipe in RECIPES.items()]
    return cases + [(f"class:{name}", build) for name, build in {**CLASS_CASES, **VARIANT_CASES}.items()]


CASES = every_model()
IDS = [case_id for case_id, _ in CASES]
BUILDERS = [build for _, build in CASES]


def test_every_model_class_has_a_contract_case():
    assert set(CLASS_CASES) == set(MODEL_REGISTRY), "add the new model class to CLASS_CASES"


@pytest.mark.parametrize("build", BUILDERS, ids=IDS)
def test_a_model_is_registered_with_a_validated_config(build):
    model = build()
    assert isinstance(model, CourseModel) and isinstance(model.config, ModelConfig)
    assert MODEL_REGISTRY[type(model).__name__] is type(model)
    assert dataclasses.is_dataclass(model.config) and type(model.config) is type(model).Config
    assert model.device == torch.device("cpu")


@pytest.mark.parametrize("build", BUILDERS, ids=IDS)
def test_seeded_sampling_repeats_and_differs_with_another_seed(build):
    model = build()  # as initialised: random weights could saturate the logits and make every draw alike
    if not isinstance(model, GenerativeModel):
        assert not hasattr(model, "sample"), "a model with a sampler must be a GenerativeModel"
        return
    model.train()
    draw = lambda seed: model.sample(3, generator=torch.Generator().manual_seed(seed))  # noqa: E731
    a, b, c = draw(0), draw(0), draw(1)
    assert a.shape[0] == 3 and torch.equal(a, b), "the same generator must give the same samples"
    assert not torch.equal(a, c), "another seed must give other samples"
    assert model.training, "sample() must restore the training mode"
    with pytest.raises(ValueError, match="positive int n"):
        model.sample(0)


@pytest.mark.parametrize("build", BUILDERS, ids=IDS)
def test_loss_has_no_hidden_state(build):
    model = _randomise(build()).train()
    if getattr(model.config, "spectral_norm", False):
        # Spectral norm refines its estimate of each layer's largest singular value by one power-iteration step
        # per training-mode forward pass (like batch norm's running statistics, by design); in eval mode it
        # does not, and then two loss calls must agree like any other model's.
        model.eval()
    batch = batch_for(model)
    state = {k: v.clone() for k, v in model.named_buffers() if not k.endswith(("running_mean", "running_var",
                                                                               "num_batches_tracked"))}
    attributes = {k: v for k, v in vars(model).items() if isinstance(v, (int, float, str, bool))}
    if isinstance(model, GAN):
        losses = lambda: (model.d_loss(*batch), model.g_loss(len(batch[0]), *batch[1:]))  # noqa: E731
    elif getattr(model, "adversarial", False):  # a conditional GAN on pairs: G's loss and D's, same batch
        losses = lambda: (model.loss(*batch), model.d_loss(*batch))  # noqa: E731
    else:
        losses = lambda: (model.loss(*batch),)  # noqa: E731
    values = []
    for _ in range(2):
        torch.manual_seed(7)
        values.append(torch.stack([loss.detach() for loss in losses()]))
    torch.testing.assert_close(values[0], values[1], rtol=0, atol=0,
                               msg="two loss calls on one batch with one seed must give one value")
    for k, v in state.items():
        assert torch.equal(dict(model.named_buffers())[k], v), f"loss changed buffer {k}"
    assert {k: v for k, v in vars(model).items() if k in attributes} == attributes, "loss changed an attribute"


@pytest.mark.parametrize("build", BUILDERS, ids=IDS)
def test_the_loss_can_be_minimised(build):
    """Backward through every loss works (no in-place change of a tensor autograd saved) and reaches the weights."""
    model = build().train()  # as initialised: random weights could saturate a GAN's logits (zero gradients)
    batch = batch_for(model)
    losses = [model.d_loss(*batch), model.g_loss(len(batch[0]), *batch[1:])] if isinstance(model, GAN) \
        else [model.loss(*batch)] + ([model.d_loss(*batch)] if getattr(model, "adversarial", False) else [])
    for loss in losses:
        model.zero_grad()
        loss.backward()
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        assert grads and all(torch.isfinite(g).all() for g in grads)
        assert any(g.abs().sum() > 0 for g in grads), "no gradient reaches the weights"


@pytest.mark.parametrize("build", BUILDERS, ids=IDS)
def test_exact_models_train_by_maximum_likelihood(build):
    model = _randomise(build())
    (x,) = batch_for(model)[:1]
    if isinstance(model, DensityModel):
        log_prob = model.log_prob(x, mask_index=model.mask_index) if isinstance(model, MADE) else model.log_prob(x)
        assert log_prob.shape == (len(x),)
        torch.testing.assert_close(model.loss(x), -log_prob.mean())
    elif isinstance(model, VAE) and model.config.beta == 1:  # a bound on log p(x): the ELBO, or IWAE with k > 1
        k = model.config.train_samples
        torch.manual_seed(3)
        loss = model.loss(x)
        torch.manual_seed(3)
        torch.testing.assert_close(loss, -(model.elbo(x) if k == 1 else model.log_prob(x, k=k)).mean())


def test_the_order_agnostic_made_averages_its_mask_sets_and_trains_the_one_in_use():
    made = _randomise(CLASS_CASES["MADE"]())
    (x,) = batch_for(made)
    per_mask = torch.stack([made.log_prob(x, mask_index=k) for k in range(3)])
    torch.testing.assert_close(made.log_prob(x), per_mask.exp().mean(0).log())
    made.use_mask(2)
    torch.testing.assert_close(made.loss(x), -per_mask[2].mean())
    made.next_mask()
    assert made.mask_index == 0
    with pytest.raises(RuntimeError), made.using_mask(1):
        raise RuntimeError("an error inside the block")
    assert made.mask_index == 0, "using_mask must restore the mask set even on error"
    with pytest.raises(ValueError, match="mask set must be an int in 0..2"):
        made.use_mask(3)


@pytest.mark.parametrize("build", BUILDERS, ids=IDS)
def test_latent_models_encode_and_decode_the_same_kinds_of_things(build):
    model = _randomise(build()).eval()
    if not isinstance(model, LatentModel):
        return
    (x,) = batch_for(model)[:1]
    z = model.encode(x)
    assert z.shape == (len(x), model.config.latent_dim), "encode returns one code per example"
    x_hat = model.decode(z)
    assert x_hat.shape == x.shape
    if not isinstance(model, LinearAutoencoder):
        assert x_hat.min() >= 0 and x_hat.max() <= 1, "decode returns mean pixels in [0, 1]"
    torch.testing.assert_close(model.reconstruct(x), x_hat)


def _unimplemented(value, hint):
    """A value of the field's type that no model implements (None: the field accepts any value of its type)."""
    if typing.get_origin(hint) is typing.Literal:
        return "not-a-real-option"
    if isinstance(value, bool) or hint in ("bool",):
        return None
    if isinstance(value, int) or (value is None and "int" in str(hint) and "tuple" not in str(hint)):
        return -1
    if isinstance(value, float):
        return -1.0
    if isinstance(value, tuple) or "tuple" in str(hint):
        return (-1,) * max(1, len(value or ()))
    return None


SEED_FIELDS = {"seed", "order_seed"}  # any int is a seed


@pytest.mark.parametrize("cls", sorted(MODEL_REGISTRY.values(), key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_every_config_refuses_values_it_does_not_implement(cls):
    hints = typing.get_type_hints(cls.Config)
    checked = 0
    for field in dataclasses.fields(cls.Config):
        if field.name in SEED_FIELDS:
            continue
        assert hints[field.name] is not str, f"{cls.__name__}.Config.{field.name}: declare its choices with Literal[...]"
        bad = _unimplemented(cls.Config().__getattribute__(field.name), hints[field.name])
        if bad is None:
            continue
        with pytest.raises(ValueError, match=rf"{field.name}=.*(not implemented|expected)"):
            cls.Config(**{field.name: bad})
        checked += 1
    assert checked >= 1


def test_the_autoencoder_refuses_a_loss_it_does_not_implement():
    with pytest.raises(ValueError, match="loss='l1' is not implemented; expected one of 'l2', 'bce'"):
        MLPAutoencoder.Config(loss="l1")


# ---------------------------------------------------------------- GANs: the losses' signs, by behaviour

@pytest.mark.parametrize("kind", LOSSES)
def test_the_discriminator_loss_falls_as_real_logits_rise_and_fake_logits_fall(kind):
    real, fake = torch.linspace(-2, 2, 5), torch.linspace(-1, 3, 4)
    base = discriminator_loss(real, fake, kind)
    assert discriminator_loss(real + 1, fake, kind) < base
    assert discriminator_loss(real, fake - 1, kind) < base


@pytest.mark.parametrize("kind", LOSSES)
def test_a_discriminator_trained_alone_scores_real_data_above_the_fakes(kind):
    """D's own update (GAN.d_loss) must push real up and fakes down: with real and fake swapped it learns the reverse."""
    torch.manual_seed(0)
    gan = GAN(GAN.Config(hidden=(32, 32), loss=kind))
    real = data.ring_of_gaussians().sample((2048,))
    opt = torch.optim.Adam(gan.discriminator_parameters(), lr=1e-2)
    for _ in range(60):
        loss = gan.d_loss(real[torch.randint(0, len(real), (128,))])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        gap = gan.discriminate(real[:500]).mean() - gan.discriminate(gan.sample(500)).mean()
    assert gap > 1.0, f"D scores real data only {gap:.2f} logits above the fakes after training"


# ---------------------------------------------------------------- PixelCNN: receptive field from theory

def theoretical_receptive_field(layers: int, row: int, col: int, size: tuple[int, int]) -> torch.Tensor:
    """Pixels that can reach the logit of (row, col): offsets of one 7x7 type-A mask plus `layers` 3x3 type-B masks.

    Type A sees rows above (any column within reach) and the left of its own row; type B adds its own
    position; the residual connections and 1x1 head add no new offsets. Minkowski sums of offset sets.
    """
    a = {(dr, dc) for dr in range(-3, 0) for dc in range(-3, 4)} | {(0, dc) for dc in range(-3, 0)}
    b = {(dr, dc) for dr in (-1,) for dc in (-1, 0, 1)} | {(0, -1), (0, 0)}
    reach = a
    for _ in range(layers):
        reach = {(r1 + r2, c1 + c2) for r1, c1 in reach for r2, c2 in b}
    field = torch.zeros(size, dtype=torch.bool)
    for dr, dc in reach:
        if 0 <= row + dr < size[0] and 0 <= col + dc < size[1]:
            field[row + dr, col + dc] = True
    return field


@pytest.mark.parametrize("layers", [0, 1, 3, 6])
@pytest.mark.parametrize("pixel", [(14, 14), (5, 20), (27, 3)])
def test_pixelcnn_receptive_field_and_blind_spot_are_where_theory_puts_them(layers, pixel):
    model = PixelCNN(PixelCNN.Config(channels=2, layers=layers))
    field = model.receptive_field(*pixel)
    want = theoretical_receptive_field(layers, *pixel, (28, 28))
    assert field.any(), "the receptive field is empty"
    assert torch.equal(field, want), "the receptive field differs from the masks' theory"
    r, c = pixel
    earlier = torch.arange(784).view(28, 28) < r * 28 + c
    assert not (field & ~earlier).any(), "a logit sees its own pixel or a later one"
    if r >= 1 and c + 4 < 28:  # row r - 1, four or more columns to the right: before (r, c), never seen
        assert earlier[r - 1, c + 4] and not field[r - 1, c + 4], "the plain PixelCNN's blind spot is missing"


# ---------------------------------------------------------------- MADE: connectivity equals what the degrees allow

def allowed_by_degrees(degrees: list[torch.Tensor], direct: bool) -> torch.Tensor:
    """(D, D) bool: output i can depend on input j, from the paper's rule alone.

    A unit of degree m may receive from units of degree <= m; an output of degree d from hidden units
    of degree < d (and, with a direct path, from inputs of degree < d). So j reaches i iff there is a chain
    d_j <= m_1 <= ... <= m_L < d_i through existing hidden units.
    """
    d_in = degrees[0]
    reach = d_in[None, :] <= degrees[1][:, None]  # (H1, D): hidden unit u reachable from input j
    for below, above in zip(degrees[1:], degrees[2:]):
        links = below[None, :] <= above[:, None]  # (H_next, H)
        reach = (links.float() @ reach.float()) > 0
    out = (degrees[-1][None, :] < d_in[:, None]).float() @ reach.float() > 0  # (D, D)
    if direct:
        out |= d_in[None, :] < d_in[:, None]
    return out


def connectivity(made: MADE) -> torch.Tensor:
    """(D, D) bool: a path of non-zero mask entries leads from input j to output i."""
    paths = made.masks()[0]
    for mask in made.masks()[1:]:
        paths = mask @ paths
    paths = paths > 0
    if made.config.direct:
        paths |= made.direct.mask > 0
    return paths


@pytest.mark.parametrize("config", [
    MADE.Config(shape=(1, 3, 4), hidden=(10,)),
    MADE.Config(shape=(1, 3, 4), hidden=(9, 7), seed=3),
    MADE.Config(shape=(1, 3, 4), hidden=(8,), num_masks=3, order_agnostic=True, direct=True),
], ids=["one-layer", "two-layers", "three-orders-direct"])
def test_made_connectivity_equals_what_the_degrees_allow(config):
    made = MADE(config)
    for k in range(config.num_masks):
        made.use_mask(k)
        want = allowed_by_degrees(made.degrees(), config.direct)
        assert torch.equal(connectivity(made), want), f"mask set {k}: connectivity is not what the degrees allow"
        position = torch.empty_like(made.order)
        position[made.order] = torch.arange(len(made.order))
        assert not (want & (position[None, :] >= position[:, None])).any(), "the degrees themselves allow a leak"


def test_a_wide_made_connects_every_earlier_pixel():
    made = MADE(MADE.Config(shape=(1, 2, 3), hidden=(64,)))
    assert torch.equal(connectivity(made), torch.ones(6, 6).tril(-1).bool())
