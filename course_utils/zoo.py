"""The recipes behind every shipped checkpoint: how to build, train and evaluate each model.

`python -m course_utils train NAME` runs a recipe and saves the checkpoint with its sidecar;
`load_pretrained(NAME)` in a notebook loads it; the benchmark evaluates them all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn

from . import data
from .metrics import bits_per_dim, course_fid, evaluate_nll, mode_coverage
from .models.autoencoders import MLPAutoencoder, reconstruction_error
from .models.autoregressive import FVSBN, MADE, NADE, PixelCNN, PixelRNN
from .models.density import BernoulliImageModel
from .models.features import MNISTClassifier, random_shift
from .models.gans import GAN
from .models.vae import VAE
from .train import fit, fit_gan

__all__ = ["Recipe", "RECIPES", "get_recipe"]


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    build: Callable[[], nn.Module]  # a fresh, untrained model
    train: Callable[[nn.Module], None]  # trains it in place (seeded, CPU-sized budget)
    evaluate: Callable[[nn.Module], dict]  # headline metrics on the course's fixed test split
    headline: str  # the metric a test re-computes and compares with the sidecar
    tolerance: float  # allowed |re-computed - sidecar| for the headline metric
    family: str = ""  # taxonomy leaf: autoregressive, change of variables, VAE, GAN, ...
    half: bool = False  # store weights in float16
    evaluate_headline: Callable[[nn.Module], float] | None = None  # cheaper than evaluate()[headline], same value
    dataset: str = "mnist"  # "mnist" (the course's 8,000/2,000 split) or "fashion" (official 60,000/10,000)

    def headline_value(self, model: nn.Module) -> float:
        """The headline metric of `model`, as the sidecar records it."""
        if self.evaluate_headline is not None:
            return self.evaluate_headline(model)
        return self.evaluate(model)[self.headline]


BINARIZED_TEST = {"mnist": data.binarized_mnist_test, "fashion": data.binarized_fashion_mnist_test}


def _nll_metrics(model: nn.Module, dataset: str = "mnist") -> dict:
    x_test, _ = BINARIZED_TEST[dataset]()
    nll = evaluate_nll(model, x_test)
    return {"test_nll_nats": round(nll, 3), "test_bits_per_dim": round(bits_per_dim(nll), 4)}


def _train_bernoulli(model: BernoulliImageModel) -> None:
    model.fit_closed_form(data.load_mnist("train")[0])


@torch.no_grad()
def _reconstruction_metrics(model: nn.Module) -> dict:
    x_test, _ = data.load_mnist("test")
    err = reconstruction_error(x_test, model.reconstruct(x_test), "l2").mean().item()
    return {"test_l2_error": round(err, 3)}


def _ae_2d() -> MLPAutoencoder:
    return MLPAutoencoder(MLPAutoencoder.Config(latent_dim=2, hidden=(256, 128)))


def _train_ae_2d(model: MLPAutoencoder) -> None:
    fit(model, data.load_mnist("train")[0], epochs=100, batch_size=128, lr=1e-3, device="cpu")


def fit_binarized(model: nn.Module, x: torch.Tensor, epochs: int, lr: float, batch_size: int = 100,
                  weight_decay: float = 0.0):
    """AdamW on grey-level images x (N, 1, 28, 28), freshly binarized each batch, with a cosine learning-rate decay.

    Returns fit's History.
    """
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    return fit(model, x, epochs=epochs, batch_size=batch_size, optimizer=opt,
        transform=data.dynamic_binarize, callbacks=[lambda m, h: schedule.step()], device="cpu")


def fit_binarized_mnist(model: nn.Module, epochs: int, lr: float, batch_size: int = 100, weight_decay: float = 0.0):
    """`fit_binarized` on the course's 8,000 MNIST training images."""
    return fit_binarized(model, data.load_mnist("train")[0], epochs, lr, batch_size, weight_decay)


def _autoregressive(name: str, build: Callable[[], nn.Module], epochs: int, lr: float, what: str,
                    half: bool = False, batch_size: int = 100, weight_decay: float = 0.0) -> Recipe:
    decay = f", weight decay {weight_decay:g}" if weight_decay else ""
    return Recipe(
        name=name,
        description=f"{what} on binarized MNIST ({epochs} epochs, AdamW lr {lr:g}{decay}, cosine decay)",
        build=build,
        train=lambda model: fit_binarized_mnist(model, epochs, lr, batch_size, weight_decay),
        evaluate=_nll_metrics,
        headline="test_nll_nats",
        tolerance=0.05,
        family="explicit tractable density (autoregressive)",
        half=half,
    )


@torch.no_grad()
def _vae_neg_elbo(model: VAE, dataset: str = "mnist") -> float:
    """Test negative ELBO in nats, one seeded z per image (repeatable)."""
    x_test, _ = BINARIZED_TEST[dataset]()
    torch.manual_seed(0)
    return round(-model.elbo(x_test).mean().item(), 3)


def _vae_metrics(model: VAE, dataset: str = "mnist", k: int = 1000) -> dict:
    x_test, _ = BINARIZED_TEST[dataset]()
    torch.manual_seed(0)
    iwae = evaluate_nll(model, x_test, batch_size=100, k=k)
    return {"test_neg_elbo": _vae_neg_elbo(model, dataset), f"test_nll_iwae{k}_nats": round(iwae, 3),
            "test_bits_per_dim": round(bits_per_dim(iwae), 4)}


def _vae(name: str, latent_dim: int, epochs: int, what: str) -> Recipe:
    return Recipe(
        name=name,
        description=f"{what} on binarized MNIST ({epochs} epochs, AdamW lr 0.001, cosine decay)",
        build=lambda: VAE(VAE.Config(latent_dim=latent_dim, hidden=(512,))),
        train=lambda model: fit_binarized_mnist(model, epochs, 1e-3),
        evaluate=_vae_metrics,
        evaluate_headline=_vae_neg_elbo,
        headline="test_neg_elbo",
        tolerance=0.05,
        family="explicit approximate density (variational)",
        half=True,
    )


# ---------------------------------------------------------------- the feature network and the GANs

FID_SAMPLES = 2000  # images per set for the course FID (the size of the test split)


def _train_classifier(model: MNISTClassifier, epochs: int = 20) -> None:
    x, y = data.load_mnist("train")
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    fit(model, x, labels=y, epochs=epochs, batch_size=64, optimizer=opt, transform=random_shift,
        callbacks=[lambda m, h: schedule.step()], device="cpu")


@torch.no_grad()
def _classifier_accuracy(model: MNISTClassifier) -> float:
    x, y = data.load_mnist("test")
    return round((model.predict(x) == y).double().mean().item(), 4)


LOADERS = {"mnist": data.load_mnist, "fashion": data.load_fashion_mnist}


def fid_reference(dataset: str = "mnist") -> torch.Tensor:
    """The real images generated samples are compared with: the first 2,000 test images of `dataset`."""
    return LOADERS[dataset]("test")[0][:FID_SAMPLES]


def real_fid_floor(feature_net: nn.Module | None = None, dataset: str = "mnist") -> float:
    """Course FID between 2,000 test images and the first 2,000 training images: what a perfect model scores."""
    from .models.features import load_feature_network

    net = feature_net or load_feature_network(dataset)
    return course_fid(fid_reference(dataset), LOADERS[dataset]("train")[0][:FID_SAMPLES], net)


def _classifier_metrics(model: MNISTClassifier) -> dict:
    return {"test_accuracy": _classifier_accuracy(model), "fid_test_vs_train": round(real_fid_floor(model), 3)}


def seeded_samples(model: nn.Module, n: int = FID_SAMPLES, seed: int = 0, **kwargs) -> torch.Tensor:
    """n samples drawn with a fixed seed (repeatable metrics), on the CPU."""
    import inspect

    if "generator" in inspect.signature(model.sample).parameters:
        g = torch.Generator(device=next(model.parameters()).device).manual_seed(seed)
        return model.sample(n, generator=g, **kwargs).cpu()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return model.sample(n, **kwargs).cpu()


def fid_of(model: nn.Module, dataset: str = "mnist", n: int = FID_SAMPLES) -> float:
    """Course FID of n (<= 2,000) seeded samples of `model` against the first n test images of `dataset`."""
    from .models.features import load_feature_network

    reference = fid_reference(dataset)[:n]
    return round(course_fid(seeded_samples(model, n), reference, load_feature_network(dataset)), 3)


def _image_gan_metrics(model: GAN) -> dict:
    out = {"course_fid": fid_of(model)}
    if model.config.num_classes:
        labels = torch.arange(FID_SAMPLES) % model.config.num_classes
        from .models.features import load_feature_network

        predicted = load_feature_network().predict(seeded_samples(model, labels=labels))
        out["label_accuracy"] = round((predicted == labels).double().mean().item(), 4)
    return out


def _image_gan(name: str, config: GAN.Config, epochs: int, what: str, lr: float = 2e-4, batch_size: int = 64) -> Recipe:
    def train(model: GAN) -> None:
        x, y = data.load_mnist("train")
        fit_gan(model, x, labels=y if config.num_classes else None, epochs=epochs, batch_size=batch_size, lr=lr,
                device="cpu")

    headline = "label_accuracy" if config.num_classes else "course_fid"
    return Recipe(
        name=name,
        description=f"{what} on MNIST grey levels ({epochs} epochs, Adam lr {lr:g}, betas (0.5, 0.999))",
        build=lambda: GAN(config),
        train=train,
        evaluate=_image_gan_metrics,
        headline=headline,
        tolerance=0.01 if config.num_classes else 0.5,  # FID: 1 vs 2 threads moves it by ~0.1
        family="implicit density (GAN)",
        half=True,
    )


TOYS = {"ring8": (data.ring_of_gaussians, 0.02), "grid25": (data.grid_of_gaussians, 0.05)}


def toy_coverage(model: GAN, toy: str, n: int = 2500, seed: int = 0):
    """Mode coverage of n seeded samples on toy 'ring8' or 'grid25' (the VEEGAN/PacGAN protocol)."""
    make, std = TOYS[toy]
    modes = make().component_distribution.base_dist.loc
    return mode_coverage(seeded_samples(model, n, seed), modes, std)


def _toy_gan(name: str, toy: str, hidden: int, minibatch_std: bool, steps: int = 6000) -> Recipe:
    config = GAN.Config(latent_dim=2, hidden=(hidden,) * 3, minibatch_std=minibatch_std)

    def train(model: GAN) -> None:
        x = TOYS[toy][0]().sample((100_000,))
        fit_gan(model, x, steps=steps, batch_size=256, lr=1e-3, decay=True, device="cpu")

    def evaluate(model: GAN) -> dict:
        cov = toy_coverage(model, toy)
        return {"modes_captured": cov.modes_captured, "modes_total": cov.modes_total,
                "high_quality_fraction": round(cov.high_quality_fraction, 4)}

    kind = "GAN + minibatch-std discriminator (the remedy)" if minibatch_std else "plain GAN (non-saturating loss)"
    return Recipe(
        name=name,
        description=f"{kind} on the {toy} toy, MLPs of 3x{hidden} ({steps} steps, batch 256, Adam lr 0.001 cosine decay)",
        build=lambda: GAN(config),
        train=train,
        evaluate=evaluate,
        headline="high_quality_fraction",
        tolerance=0.005,
        family="implicit density (GAN)",
        half=True,
    )


RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in [
        Recipe(
            name="bernoulli_mnist",
            description="independent Bernoulli pixels on binarized MNIST (closed-form MLE): the baseline",
            build=BernoulliImageModel,
            train=_train_bernoulli,
            evaluate=_nll_metrics,
            headline="test_nll_nats",
            tolerance=0.01,
            family="explicit density (independent pixels)",
        ),
        Recipe(
            name="ae_mnist_2d",
            description="MLP autoencoder with a 2-D code on MNIST grey levels (L2 loss), for notebook 03's explorer",
            build=_ae_2d,
            train=_train_ae_2d,
            evaluate=_reconstruction_metrics,
            headline="test_l2_error",
            tolerance=0.05,
            family="autoencoder (no density)",
            half=True,
        ),
        _autoregressive("fvsbn_mnist", FVSBN, epochs=60, lr=1e-2, what="FVSBN (one logistic regression per pixel)",
                        half=True),
        _autoregressive("nade_mnist", lambda: NADE(NADE.Config(hidden=200)), epochs=12, lr=1e-2,
                        what="NADE (200 hidden units)", half=True),
        _autoregressive("made_mnist", lambda: MADE(MADE.Config(hidden=(1000,), direct=True)), epochs=40, lr=3e-3,
                        weight_decay=0.1, what="MADE (one hidden layer of 1000 units + a direct path)", half=True),
        _autoregressive("pixelcnn_mnist", lambda: PixelCNN(PixelCNN.Config(channels=32, layers=10)),
                        epochs=18, lr=3e-3, batch_size=64,
                        what="PixelCNN (32 channels, 10 residual layers)"),
        _autoregressive("pixelrnn_mnist", PixelRNN, epochs=30, lr=5e-3, batch_size=64,
                        what="PixelRNN (an LSTM over rows + a masked layer along the row)", half=True),
        _vae("vae_mnist", 32, epochs=200, what="MLP VAE (one hidden layer of 512) with a 32-D latent"),
        _vae("vae_mnist_2d", 2, epochs=100, what="MLP VAE (one hidden layer of 512) with a 2-D latent, for pictures and the explorer"),
        Recipe(
            name="mnist_features",
            description="MNIST classifier (2 conv blocks, 128 features; 20 epochs, shifts of <= 2 px) whose features give the course FID",
            build=MNISTClassifier,
            train=_train_classifier,
            evaluate=_classifier_metrics,
            evaluate_headline=_classifier_accuracy,
            headline="test_accuracy",
            tolerance=0.0005,
            family="feature network (for the course FID)",
            half=True,
        ),
        _toy_gan("gan_ring8", "ring8", 128, minibatch_std=False),
        _toy_gan("gan_ring8_mbstd", "ring8", 128, minibatch_std=True),
        _toy_gan("gan_grid25", "grid25", 256, minibatch_std=False),
        _toy_gan("gan_grid25_mbstd", "grid25", 256, minibatch_std=True),
        _image_gan("gan_mnist_mlp", GAN.Config(data_shape=(1, 28, 28), latent_dim=64, hidden=(256, 512)), epochs=100,
                   what="MLP GAN (G 64-256-512-784, D 784-512-256-1; non-saturating loss)"),
        _image_gan("dcgan_mnist", GAN.Config(data_shape=(1, 28, 28), latent_dim=64, arch="dcgan", width=32), epochs=100,
                   lr=4e-4, what="DCGAN (G: linear to 64x7x7, two transposed convs; D: two strided convs)"),
        _image_gan("cgan_mnist", GAN.Config(data_shape=(1, 28, 28), latent_dim=64, arch="dcgan", width=32, num_classes=10),
                   epochs=60, lr=4e-4, what="class-conditional DCGAN (one-hot label into G, projection D)"),
    ]
}


# ---------------------------------------------------------------- Fashion-MNIST (official 60,000 / 10,000 split)

FASHION_IWAE_K = 100  # 10,000 test images: k = 1,000 would take minutes


def _fashion_features_train(model: MNISTClassifier, epochs: int = 4) -> None:
    x, y = data.load_fashion_mnist("train")
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    fit(model, x, labels=y, epochs=epochs, batch_size=128, optimizer=opt, callbacks=[lambda m, h: schedule.step()],
        device="cpu")


@torch.no_grad()
def _fashion_accuracy(model: MNISTClassifier) -> float:
    x, y = data.load_fashion_mnist("test")
    return round((model.predict(x) == y).double().mean().item(), 4)


def _fashion_gan_train(model: GAN, epochs: int = 8) -> None:
    fit_gan(model, data.load_fashion_mnist("train")[0], epochs=epochs, batch_size=64, lr=4e-4, device="cpu")


FASHION = "Fashion-MNIST (official 60,000 training images)"
FASHION_RECIPES = [
    Recipe(name="bernoulli_fashion", description=f"independent Bernoulli pixels on binarized {FASHION} (closed form)",
           build=BernoulliImageModel, train=lambda m: m.fit_closed_form(data.load_fashion_mnist("train")[0]),
           evaluate=partial(_nll_metrics, dataset="fashion"), headline="test_nll_nats", tolerance=0.01,
           family="explicit density (independent pixels)", dataset="fashion"),
    Recipe(name="made_fashion", description=f"MADE (one hidden layer of 200) on binarized {FASHION} (10 epochs, AdamW lr 0.003, cosine decay)",
           build=lambda: MADE(MADE.Config(hidden=(200,))),
           train=lambda m: fit_binarized(m, data.load_fashion_mnist("train")[0], epochs=10, lr=3e-3),
           evaluate=partial(_nll_metrics, dataset="fashion"), headline="test_nll_nats", tolerance=0.05,
           family="explicit tractable density (autoregressive)", half=True, dataset="fashion"),
    Recipe(name="vae_fashion", description=f"MLP VAE (hidden 256, 16-D latent) on binarized {FASHION} (20 epochs, AdamW lr 0.001, cosine decay)",
           build=lambda: VAE(VAE.Config(latent_dim=16, hidden=(256,))),
           train=lambda m: fit_binarized(m, data.load_fashion_mnist("train")[0], epochs=20, lr=1e-3),
           evaluate=partial(_vae_metrics, dataset="fashion", k=FASHION_IWAE_K),
           evaluate_headline=partial(_vae_neg_elbo, dataset="fashion"), headline="test_neg_elbo",
           tolerance=0.05, family="explicit approximate density (variational)", half=True, dataset="fashion"),
    Recipe(name="fashion_features", description=f"classifier (2 conv blocks of 16/32, 64 features; 4 epochs) on {FASHION}: the Fashion course FID",
           build=lambda: MNISTClassifier(MNISTClassifier.Config(channels=(16, 32), features=64)),
           train=_fashion_features_train, evaluate=lambda m: {"test_accuracy": _fashion_accuracy(m)},
           evaluate_headline=_fashion_accuracy, headline="test_accuracy", tolerance=0.0005,
           family="feature network (for the course FID)", half=True, dataset="fashion"),
    Recipe(name="dcgan_fashion", description=f"DCGAN (as dcgan_mnist) on {FASHION} grey levels (8 epochs, Adam lr 0.0004)",
           build=lambda: GAN(GAN.Config(data_shape=(1, 28, 28), latent_dim=64, arch="dcgan", width=32)),
           train=_fashion_gan_train, evaluate=lambda m: {"course_fid": fid_of(m, "fashion")},
           headline="course_fid", tolerance=0.5, family="implicit density (GAN)", half=True, dataset="fashion"),
]
RECIPES.update({r.name: r for r in FASHION_RECIPES})


def get_recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise ValueError(f"unknown model {name!r}; the course trains: {', '.join(sorted(RECIPES))}.")
    return RECIPES[name]


def train_recipe(name: str) -> tuple[nn.Module, dict, float]:
    """Build and train recipe NAME (seeded); return (model, metrics, training seconds)."""
    from .runtime import seed_everything

    recipe = get_recipe(name)
    seed_everything(0)
    model = recipe.build()
    start = time.perf_counter()
    recipe.train(model)
    seconds = time.perf_counter() - start
    if recipe.half:  # evaluate the weights as they will be stored, so the sidecar matches a reload
        with torch.no_grad():
            for t in model.state_dict().values():  # parameters and buffers (batch-norm statistics)
                if t.is_floating_point():
                    t.copy_(t.half().float())
    return model, recipe.evaluate(model), seconds
