"""GANs: the losses on hand-computed values, the optimal discriminator, shapes, remedies, the loop and bad input."""

import math

import pytest
import torch
from torch import nn

from course_utils.data import ring_of_gaussians
from course_utils.models.gans import (
    GAN,
    discriminator_loss,
    generator_loss,
    gradient_penalty,
    optimal_discriminator,
)
from course_utils.train import TrainingDiverged, fit, fit_gan

LOG2 = math.log(2)


def test_losses_on_hand_computed_values():
    zero = torch.zeros(1)
    # D = 1/2 on everything: -log(1/2) - log(1 - 1/2) = 2 log 2
    assert discriminator_loss(zero, zero).item() == pytest.approx(2 * LOG2)
    # D(real) = 3/4 (logit log 3), D(fake) = 1/4: -log 3/4 - log 3/4
    real, fake = torch.tensor([math.log(3)]), torch.tensor([-math.log(3)])
    assert discriminator_loss(real, fake).item() == pytest.approx(-2 * math.log(0.75))
    assert generator_loss(fake, "saturating").item() == pytest.approx(math.log(0.75))  # log(1 - D(G(z)))
    assert generator_loss(fake, "non_saturating").item() == pytest.approx(-math.log(0.25))  # -log D(G(z))
    assert discriminator_loss(torch.tensor([2.0, 4.0]), torch.tensor([1.0]), "wasserstein_gp").item() == -2.0
    assert generator_loss(torch.tensor([1.0, 3.0]), "wasserstein_gp").item() == -2.0


def test_saturating_loss_vanishes_when_d_is_confident_non_saturating_does_not():
    logit = torch.tensor([-10.0], requires_grad=True)  # D(G(z)) ~ 4.5e-5: D wins
    (g_sat,) = torch.autograd.grad(generator_loss(logit, "saturating"), logit)
    (g_ns,) = torch.autograd.grad(generator_loss(logit, "non_saturating"), logit)
    assert abs(g_sat.item()) == pytest.approx(torch.sigmoid(torch.tensor(-10.0)).item(), rel=1e-4)
    assert abs(g_sat.item()) < 1e-4
    assert abs(g_ns.item()) == pytest.approx(1.0, abs=1e-4)


def test_optimal_discriminator_formula():
    p, q = torch.tensor([0.2, 0.5, 0.9]), torch.tensor([0.6, 0.5, 0.1])
    torch.testing.assert_close(optimal_discriminator(p.log(), q.log()), p / (p + q))


def test_trained_discriminator_approaches_d_star_on_a_1d_toy():
    torch.manual_seed(0)
    data, model = torch.distributions.Normal(0.0, 1.0), torch.distributions.Normal(1.5, 0.7)
    d = nn.Sequential(nn.Linear(1, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))
    opt = torch.optim.Adam(d.parameters(), lr=3e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=1000)
    for _ in range(1000):
        real, fake = data.sample((1024, 1)), model.sample((1024, 1))
        loss = discriminator_loss(d(real).squeeze(1), d(fake).squeeze(1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
    x = torch.linspace(-1.0, 2.5, 50).unsqueeze(1)
    d_star = optimal_discriminator(data.log_prob(x), model.log_prob(x)).squeeze(1)
    learned = torch.sigmoid(d(x)).squeeze(1).detach()
    assert (learned - d_star).abs().max() < 0.02  # seeds 0-3: 0.004-0.007


def test_gradient_penalty_of_linear_critics():
    real, fake = torch.randn(64, 3), torch.randn(64, 3)
    unit = lambda x: x @ torch.tensor([0.6, 0.8, 0.0])  # ||grad|| = 1
    double = lambda x: x @ torch.tensor([1.2, 1.6, 0.0])  # ||grad|| = 2
    assert gradient_penalty(unit, real, fake).item() == pytest.approx(0.0, abs=1e-10)
    assert gradient_penalty(double, real, fake).item() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("config,shape", [
    (GAN.Config(), (2,)),
    (GAN.Config(data_shape=(1, 28, 28), latent_dim=8, hidden=(32,)), (1, 28, 28)),
    (GAN.Config(data_shape=(1, 28, 28), latent_dim=8, arch="dcgan", width=4), (1, 28, 28)),
    (GAN.Config(data_shape=(1, 28, 28), latent_dim=8, arch="dcgan", width=4, num_classes=10), (1, 28, 28)),
    (GAN.Config(pack=4, minibatch_std=True, spectral_norm=True, loss="wasserstein_gp"), (2,)),
])
def test_shapes_ranges_and_losses(config, shape):
    gan = GAN(config)
    x = gan.sample(8)
    assert x.shape == (8, *shape)
    if len(shape) == 3:
        assert 0 <= x.min() and x.max() <= 1
    labels = torch.arange(8) % 10 if config.num_classes else None
    assert gan.discriminate(x, labels).shape == (8 // config.pack,)
    for loss in (gan.d_loss(x, labels), gan.g_loss(8, labels)):
        assert loss.dim() == 0 and torch.isfinite(loss)


def test_discriminator_and_generator_parameters_are_disjoint_and_complete():
    gan = GAN(GAN.Config(data_shape=(1, 28, 28), arch="dcgan", width=4, num_classes=3))
    d = {id(p) for p in gan.discriminator_parameters()}
    g = {id(p) for p in gan.generator.parameters()}
    assert not d & g and d | g == {id(p) for p in gan.parameters()}


def test_minibatch_std_makes_the_logit_depend_on_the_batch():
    gan = GAN(GAN.Config(minibatch_std=True))
    x = torch.randn(16, 2)
    same = x[:1].expand(16, 2)
    assert not torch.allclose(gan.discriminate(x)[0], gan.discriminate(same)[0])
    plain = GAN(GAN.Config())
    torch.testing.assert_close(plain.discriminate(x)[:1], plain.discriminate(x[:1]))


def test_sampling_is_repeatable_with_a_generator():
    gan = GAN()
    a = gan.sample(5, generator=torch.Generator().manual_seed(3))
    b = gan.sample(5, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, b)


@pytest.mark.parametrize("make,match", [
    (lambda: GAN(GAN.Config(arch="dcgan")), "data_shape=\\(2,\\); expected \\(1, 28, 28\\) for the DCGAN"),
    (lambda: GAN(GAN.Config(loss="hinge")), "loss='hinge' is not implemented; expected one of 'saturating'"),
    (lambda: GAN(GAN.Config(arch="resnet")), "arch='resnet' is not implemented; expected one of 'mlp', 'dcgan'"),
    (lambda: GAN(GAN.Config(pack=2, num_classes=10)), "pack > 1 with num_classes > 0 is not supported"),
    (lambda: GAN().sample(0), "positive int n"),
    (lambda: GAN().discriminate(torch.randn(4, 3)), "expects x of shape \\(N, 2\\), got \\(4, 3\\)"),
    (lambda: GAN(GAN.Config(pack=4)).discriminate(torch.randn(6, 2)), "divisible by 4, got 6"),
    (lambda: GAN().sample(4, labels=torch.zeros(4, dtype=torch.long)), "unconditional"),
    (lambda: GAN(GAN.Config(num_classes=3)).g_loss(4), "conditional on 3 classes"),
    (lambda: GAN(GAN.Config(num_classes=3)).sample(2, labels=torch.tensor([0, 3])), "0..2, got 0..3"),
    (lambda: GAN(GAN.Config(num_classes=3)).sample(2, labels=torch.tensor([0.0, 1.0])), "int64 tensor of shape \\(2,\\)"),
    (lambda: GAN(GAN.Config(data_shape=(1, 28, 28))).discriminate(torch.full((2, 1, 28, 28), 255.0)), "images in \\[0, 1\\]"),
    (lambda: GAN().generate(torch.full((2, 2), float("nan"))), "NaN"),
])
def test_bad_input_gets_a_clear_error(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def _ring(n=2048):
    torch.manual_seed(0)
    return ring_of_gaussians().sample((n,))


def test_fit_gan_records_both_losses_and_respects_the_budget():
    gan = GAN(GAN.Config(hidden=(16, 16)))
    calls = []
    hist = fit_gan(gan, _ring(), steps=30, batch_size=64, lr=1e-3, decay=True, progress=False, device="cpu",
                   callbacks=[lambda g, h: calls.append(h.steps)], callback_every=10)
    assert hist.steps == 30 and len(hist.d_loss) == len(hist.g_loss) == 30 and hist.stopped_by == "steps"
    assert calls == [10, 20, 30] and not gan.training
    hist = fit_gan(gan, _ring(), epochs=1, d_steps=2, batch_size=64, progress=False, device="cpu")
    assert hist.stopped_by == "epochs" and hist.steps == 2048 // 64 // 2


def test_fit_gan_computes_d_weight_gradients_in_d_steps_only_and_restores_requires_grad():
    """G's step needs D only as a path for the gradient: D's weights get none there (a saving, not a change)."""
    gan = GAN(GAN.Config(hidden=(16, 16)))
    d_weight = gan.discriminator_parameters()[0]
    gan.head.bias.requires_grad_(False)  # frozen by the user: must stay frozen
    grads, g_weight = [], next(gan.generator.parameters())
    d_weight.register_hook(lambda grad: grads.append("D"))
    g_weight.register_hook(lambda grad: grads.append("G"))
    before = g_weight.detach().clone()
    fit_gan(gan, _ring(256), steps=3, d_steps=2, batch_size=32, progress=False, device="cpu")
    assert grads == ["D", "D", "G"] * 3, "D's weights got a gradient in G's step (or G none)"
    assert d_weight.requires_grad and not gan.head.bias.requires_grad
    assert not torch.equal(before, g_weight), "G still learns through D"


def test_fit_gan_trains_a_conditional_gan():
    gan = GAN(GAN.Config(num_classes=2, hidden=(16,)))
    x = _ring(256)
    hist = fit_gan(gan, x, labels=(x[:, 0] > 0).long(), steps=5, batch_size=32, progress=False, device="cpu")
    assert hist.steps == 5


def test_fit_gan_stops_on_nan_with_a_clear_message():
    gan = GAN()
    with torch.no_grad():
        next(gan.generator.parameters())[0, 0] = float("nan")  # G's samples become NaN, so D's loss does
    with pytest.raises(TrainingDiverged, match="discriminator loss became nan.*smaller learning rate"):
        fit_gan(gan, _ring(256), epochs=1, batch_size=256, progress=False, device="cpu")
    x = _ring(256)
    x[7] = float("nan")  # NaN in the data is caught before any training, with its own message
    with pytest.raises(ValueError, match="d_loss got x with NaN or inf values"):
        fit_gan(GAN(), x, epochs=1, batch_size=256, progress=False, device="cpu")


@pytest.mark.parametrize("kwargs,match", [
    (dict(), "needs a budget"),
    (dict(steps=0), "steps must be a positive int"),
    (dict(epochs=1, decay=True), "pass steps=K"),
    (dict(epochs=1, batch_size=30, gan=GAN(GAN.Config(pack=4))), "divisible by the GAN's pack=4"),
    (dict(epochs=1, batch_size=10_000), "fewer than one batch"),
    (dict(epochs=1, labels=torch.zeros(3, dtype=torch.long)), "one per example"),
    (dict(epochs=1, data=[[0.0, 1.0]]), "tensor of real examples"),
])
def test_fit_gan_bad_arguments(kwargs, match):
    gan = kwargs.pop("gan", GAN())
    data = kwargs.pop("data", _ring(256))
    with pytest.raises((ValueError, TypeError), match=match):
        fit_gan(gan, data, progress=False, device="cpu", **kwargs)


def test_fit_points_gans_to_fit_gan():
    with pytest.raises(TypeError, match="train it with fit_gan"):
        fit(GAN(), _ring(64), epochs=1)


def test_a_self_conditioned_gan_draws_its_clusters_as_often_as_class_weights_say():
    gan = GAN(GAN.Config(data_shape=(1, 28, 28), latent_dim=8, arch="dcgan", width=8, num_classes=3,
                         class_weights=(0.7, 0.2, 0.1))).eval()
    seen = []
    original = gan.generate
    gan.generate = lambda z, labels=None: (seen.append(labels), original(z, labels))[1]
    gan.sample(3000, generator=torch.Generator().manual_seed(0))
    share = torch.bincount(seen[0], minlength=3) / 3000
    torch.testing.assert_close(share, torch.tensor([0.7, 0.2, 0.1]), atol=0.03, rtol=0)
    cycling = GAN(GAN.Config(data_shape=(1, 28, 28), latent_dim=8, arch="dcgan", width=8, num_classes=3)).eval()
    seen.clear()
    original = cycling.generate
    cycling.generate = lambda z, labels=None: (seen.append(labels), original(z, labels))[1]
    cycling.sample(6)
    assert seen[0].tolist() == [0, 1, 2, 0, 1, 2]  # without weights: the classes in turn
    for bad in [(0.5, 0.5), (1.0, 0.0, 1.0)]:
        with pytest.raises(ValueError, match="class_weights"):
            GAN.Config(num_classes=3, class_weights=bad)


def test_pixel_clusters_find_separate_groups_and_refuse_bad_input():
    from course_utils.self_conditioning import pixel_clusters

    g = torch.Generator().manual_seed(0)
    left = torch.zeros(30, 1, 8, 8)
    left[:, :, :, :3] = 1
    right = torch.zeros(10, 1, 8, 8)
    right[:, :, :, 5:] = 1
    images = (torch.cat([left, right]) + 0.05 * torch.randn(40, 1, 8, 8, generator=g)).clamp(0, 1)
    ids, weights = pixel_clusters(images, 2)
    assert len(set(ids[:30].tolist())) == 1 and len(set(ids[30:].tolist())) == 1 and ids[0] != ids[30]
    assert sorted(weights) == [0.25, 0.75]
    with pytest.raises(ValueError, match="images"):
        pixel_clusters(torch.rand(10, 64), 2)
    with pytest.raises(ValueError, match="k"):
        pixel_clusters(images, 1)
