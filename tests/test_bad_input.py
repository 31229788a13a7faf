"""What students will get wrong: every case must fail with a message that says what was expected and how to fix it.

Each case is (call, exception type, regex the message must match). The regexes name the expectation and,
where there is one, the fix, so a bare `raise ValueError()` or a library's internal error fails here.
"""

import json
import pathlib

import numpy as np
import pytest
import torch

from course_utils import checkpoints, data, metrics, plotting, runtime, source, train, zoo
from course_utils.checkpoints import CheckpointError
from course_utils.models.autoencoders import LinearAutoencoder, MLPAutoencoder, reconstruction_error
from course_utils.models.autoregressive import FVSBN, NADE
from course_utils.models.density import BernoulliImageModel, DiagonalGaussian, GaussianMixture
from course_utils.models.features import MNISTClassifier
from course_utils.models.flows import CouplingFlow
from course_utils.models.gans import GAN, generator_loss
from course_utils.models.made import MADE
from course_utils.models.pixel_models import MaskedConv2d, PixelCNN, PixelRNN
from course_utils.models.vae import VAE, gaussian_kl

BITS = torch.bernoulli(torch.full((2, 1, 28, 28), 0.5), generator=torch.Generator().manual_seed(0))
GREY = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(0))
META = torch.empty(2, 1, 28, 28, device="meta")  # "another device" that every machine has
IMAGE_GAN = GAN.Config(data_shape=(1, 28, 28), arch="dcgan", latent_dim=8, width=4)

CASES = {
    # ---- tensors given to models: shape, dtype, range, finiteness, device
    "bernoulli grey levels": (lambda: BernoulliImageModel().log_prob(GREY), ValueError,
                              r"binary pixels.*values in \{0, 1\}.*dynamic_binarize"),
    "bernoulli flat images": (lambda: BernoulliImageModel().log_prob(BITS.flatten(1)), ValueError,
                              r"shape \(N, 1, 28, 28\), got \(2, 784\)"),
    "bernoulli int64 pixels": (lambda: BernoulliImageModel().log_prob(BITS.long()), TypeError,
                               r"float tensor, got dtype torch.int64\. Use x\.float\(\)"),
    "bernoulli NaN": (lambda: BernoulliImageModel().log_prob(BITS * float("nan")), ValueError,
                      r"NaN or inf.*nan_to_num"),
    "fvsbn half image": (lambda: FVSBN().log_prob(BITS[:, :, :14]), ValueError, r"\(N, 1, 28, 28\), got \(2, 1, 14, 28\)"),
    "nade grey levels": (lambda: NADE().log_prob(GREY), ValueError, r"NADE models binary pixels"),
    "made int32 pixels": (lambda: MADE().log_prob(BITS.int()), TypeError, r"MADE expects x as a float tensor"),
    "made on another device": (lambda: MADE().log_prob(META), ValueError, r"weights on cpu but got x on meta.*\.to\("),
    "pixelcnn no batch dim": (lambda: PixelCNN().log_prob(BITS[0]), ValueError, r"Add a batch dimension.*unsqueeze"),
    "pixelrnn numpy array": (lambda: PixelRNN().log_prob(BITS.numpy()), TypeError,
                             r"torch\.Tensor .*got ndarray.*torch\.as_tensor"),
    "pixelcnn sample 0": (lambda: PixelCNN().sample(0), ValueError, r"positive int n, got 0"),
    "made sample 2.5": (lambda: MADE().sample(2.5), ValueError, r"positive int n, got 2\.5"),
    "masked conv type C": (lambda: MaskedConv2d("C", 1, 1, 3), ValueError, r"mask_type must be 'A' or 'B', got 'C'"),
    "masked conv even kernel": (lambda: MaskedConv2d("A", 1, 1, 4), ValueError, r"kernel_size must be odd.*got 4"),
    "flow 3-D points": (lambda: CouplingFlow().log_prob(torch.randn(5, 3)), ValueError, r"\(N, 2\), got \(5, 3\)"),
    "flow inverse 3-D": (lambda: CouplingFlow().inverse(torch.randn(5, 3)), ValueError, r"expects z of shape \(N, 2\)"),
    "flow on another device": (lambda: CouplingFlow().log_prob(torch.empty(5, 2, device="meta")), ValueError,
                               r"CouplingFlow has its weights on cpu but got x on meta"),
    "gaussian 3-D points": (lambda: DiagonalGaussian().log_prob(torch.randn(5, 3)), ValueError,
                            r"DiagonalGaussian expects x of shape \(N, 2\)"),
    "mixture inf": (lambda: GaussianMixture().log_prob(torch.tensor([[0.0, float("inf")]])), ValueError, r"NaN or inf"),
    "vae flat images": (lambda: VAE().encode(torch.rand(2, 784)), ValueError, r"VAE expects x of shape \(N, 1, 28, 28\)"),
    "vae wrong latent size": (lambda: VAE().decode(torch.randn(2, 7)), ValueError, r"z of shape \(N, 32\), got \(2, 7\)"),
    "vae bernoulli grey": (lambda: VAE().loss(GREY), ValueError, r"Bernoulli likelihood.*\{0, 1\}"),
    "vae on another device": (lambda: VAE().loss(META), ValueError, r"VAE has its weights on cpu but got x on meta"),
    "vae IWAE k=0": (lambda: VAE().log_prob(BITS, k=0), ValueError, r"k \(importance samples\) must be a positive int"),
    "kl mismatched halves": (lambda: gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 4)), ValueError,
                             r"same shape.*\(2, 3\) and \(2, 4\).*encode"),
    "autoencoder flat images": (lambda: MLPAutoencoder().loss(torch.rand(2, 784)), ValueError,
                                r"MLPAutoencoder expects x of shape"),
    "autoencoder on another device": (lambda: MLPAutoencoder().decode(torch.empty(2, 2, device="meta")), ValueError,
                                      r"got z on meta"),
    "reconstruction loss l3": (lambda: reconstruction_error(GREY, GREY, kind="l3"), ValueError, r"'l3'.*'l2' or 'bce'"),
    "reconstruction shapes": (lambda: reconstruction_error(GREY, GREY[:, :, :14]), ValueError, r"same shape"),
    "classifier 0-255 images": (lambda: MNISTClassifier().predict(GREY * 255), ValueError, r"\[0, 1\].*255"),
    # ---- GANs
    "gan flat images to 2-D GAN": (lambda: GAN(GAN.Config()).discriminate(torch.rand(2, 784)), ValueError,
                                   r"GAN\.discriminate expects x of shape \(N, 2\), got \(2, 784\)"),
    "gan D loss on [-1, 1] images": (lambda: GAN(IMAGE_GAN).d_loss(GREY * 2 - 1), ValueError,
                                     r"d_loss expects images in \[0, 1\].*\(x \+ 1\) / 2"),
    "gan D loss wrong shape": (lambda: GAN(GAN.Config()).d_loss(GREY), ValueError, r"shape \(N, 2\)"),
    "gan loss hinge": (lambda: GAN(GAN.Config(loss="hinge")), ValueError, r"'hinge'.*'saturating', 'non_saturating'"),
    "gan labels to unconditional": (lambda: GAN(GAN.Config()).sample(2, labels=torch.tensor([1, 2])), ValueError,
                                    r"unconditional.*without labels"),
    "gan label 12 of 10": (lambda: GAN(GAN.Config(num_classes=10)).sample(2, labels=torch.tensor([1, 12])),
                           ValueError, r"labels must lie in 0\.\.9"),
    "gan float labels": (lambda: GAN(GAN.Config(num_classes=10)).sample(2, labels=torch.tensor([1.0, 2.0])),
                         ValueError, r"int64 tensor of shape \(2,\)"),
    "generator loss kind": (lambda: generator_loss(torch.zeros(3), kind="hinge"), ValueError, r"unknown GAN loss"),
    # ---- training budgets and arguments
    "fit without budget": (lambda: train.fit(BernoulliImageModel(), BITS), ValueError, r"needs a budget.*epochs=N"),
    "fit 0 epochs": (lambda: train.fit(BernoulliImageModel(), BITS, epochs=0), ValueError, r"positive int, got 0"),
    "fit -2 epochs": (lambda: train.fit(BernoulliImageModel(), BITS, epochs=-2), ValueError, r"positive int, got -2"),
    "fit 0 seconds": (lambda: train.fit(BernoulliImageModel(), BITS, seconds=0), ValueError, r"seconds must be a positive number, got 0"),
    "fit negative lr": (lambda: train.fit(BernoulliImageModel(), BITS, epochs=1, lr=-1.0), ValueError,
                        r"lr must be a positive number.*got -1\.0"),
    "fit a list": (lambda: train.fit(BernoulliImageModel(), [1, 2, 3], epochs=1), TypeError,
                   r"tensor of training examples.*got list"),
    "fit batch 0": (lambda: train.fit(BernoulliImageModel(), BITS, epochs=1, batch_size=0), ValueError,
                    r"batch_size must be >= 1, got 0"),
    "fit a GAN": (lambda: train.fit(GAN(GAN.Config()), torch.randn(8, 2), epochs=1), TypeError, r"fit_gan"),
    "fit_gan 0 steps": (lambda: train.fit_gan(GAN(GAN.Config()), torch.randn(8, 2), steps=0), ValueError,
                        r"steps must be a positive int, got 0"),
    "fit_gan lr_d 0": (lambda: train.fit_gan(GAN(GAN.Config()), torch.randn(8, 2), steps=1, lr_d=0.0), ValueError,
                       r"lr_d must be a positive number"),
    "fit_gan a VAE": (lambda: train.fit_gan(VAE(), BITS, steps=1), TypeError, r"trains a GAN.*fit\(\)"),
    # ---- data
    "mnist split valid": (lambda: data.load_mnist("valid"), ValueError, r"unknown split 'valid'.*'train', 'test'"),
    "mnist missing folder": (lambda: data.load_mnist(root="/nonexistent"), FileNotFoundError,
                             r"not found.*Restore it with"),
    "fashion split val": (lambda: data.load_fashion_mnist("val"), ValueError, r"unknown split 'val'"),
    "loader batch 0": (lambda: data.make_loader(GREY, batch_size=0), ValueError, r"batch_size must be >= 1"),
    "binarize 0-255": (lambda: data.dynamic_binarize(GREY * 255), ValueError, r"grey levels in \[0, 1\].*255"),
    "two moons n=0": (lambda: data.two_moons(0), ValueError, r"two_moons needs n as a positive int.*got 0"),
    "ring of 0 modes": (lambda: data.ring_of_gaussians(k=0), ValueError, r"k as a positive int.*modes"),
    "grid std 0": (lambda: data.grid_of_gaussians(std=0.0), ValueError, r"std > 0"),
    # ---- metrics
    "bits/dim dims 0": (lambda: metrics.bits_per_dim(100.0, dims=0), ValueError, r"dims must be positive, got 0"),
    "frechet mismatched dims": (lambda: metrics.frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4)),
                                ValueError, r"same d, got \(3,\), \(3, 3\), \(4,\), \(4, 4\)"),
    "gaussian stats of 1 point": (lambda: metrics.gaussian_statistics(np.zeros((1, 5))), ValueError, r"N >= 2"),
    "coverage 3-D samples": (lambda: metrics.mode_coverage(torch.zeros(10, 3), torch.zeros(8, 2), std=0.1),
                             ValueError, r"modes of shape \(N, 3\), got \(8, 2\)"),
    "coverage std -1": (lambda: metrics.mode_coverage(torch.zeros(10, 2), torch.zeros(8, 2), std=-1), ValueError,
                        r"std > 0, got -1"),
    "fid of 0-255 images": (lambda: metrics.course_fid(GREY * 255, GREY, feature_net=MNISTClassifier()), ValueError,
                            r"images in \[0, 1\]"),
    "nll of an autoencoder": (lambda: metrics.evaluate_nll(MLPAutoencoder(), BITS), TypeError, r"not a density model"),
    # ---- runtime, plotting, source, zoo
    "seed 'a'": (lambda: runtime.seed_everything("a"), TypeError, r"seed must be an int, got str"),
    "device tpu": (lambda: runtime.device("tpu"), ValueError, r"unknown device 'tpu'.*'cpu', 'cuda'"),
    "threads 0": (lambda: runtime.set_threads(0), ValueError, r"threads must be a positive int, got 0"),
    "image grid of vectors": (lambda: plotting.image_grid(torch.rand(3, 5)), ValueError, r"\(N, C, H, W\).*\(3, 5\)"),
    "show an int": (lambda: source.show(3), TypeError, r"class, function or method.*got int"),
    "unknown recipe": (lambda: zoo.get_recipe("nope"), ValueError, r"unknown model 'nope'; the course trains: .*made_mnist"),
    "unknown dataset": (lambda: data.load_dataset("cifar10"), ValueError, r"unknown dataset 'cifar10': expected one of 'mnist'"),
    "generator not a Generator": (lambda: BernoulliImageModel().sample(2, generator=3), TypeError,
                                  r"generator must be a torch.Generator \(or None\), got int"),
    "MADE mask set out of range": (lambda: MADE(MADE.Config(shape=(1, 2, 2), hidden=(4,))).use_mask(1), ValueError,
                                   r"mask set must be an int in 0..0, got 1"),
    "linear AE with BCE": (lambda: LinearAutoencoder.Config(loss="bce"), ValueError, r"loss='bce' is not implemented"),
    # ---- shipped checkpoints used wrongly
    "unknown checkpoint": (lambda: checkpoints.load_pretrained("no_such_model"), FileNotFoundError,
                           r"no checkpoint named 'no_such_model'.*available: .*made_mnist.*python -m course_utils train"),
    "checkpoint of another config": (lambda: checkpoints.load_weights(MADE(MADE.Config(hidden=(10,))), "made_mnist"),
                                     CheckpointError, r"another config \(.*hidden: checkpoint \[1000\], model \[10\]"),
    "checkpoint of another class": (lambda: checkpoints.load_weights(NADE(), "made_mnist"), CheckpointError,
                                    r"holds a MADE, not a NADE.*load_pretrained\('made_mnist'\)"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_gets_a_clear_message(case):
    call, error, message = CASES[case]
    with pytest.raises(error, match=message):
        call()


def test_there_are_at_least_forty_cases():
    assert len(CASES) >= 40


# ---- checkpoints damaged or from another version (need a temporary folder)

def _saved(tmp_path, name="gmm"):
    checkpoints.save(GaussianMixture(), name, metrics={}, command="python -m course_utils train gmm", root=tmp_path)
    return tmp_path / f"{name}.pt", tmp_path / f"{name}.json"


def test_checkpoint_from_a_newer_version(tmp_path):
    _, js = _saved(tmp_path)
    meta = json.loads(js.read_text())
    meta["config"]["temperature"] = 0.5  # a field this version has never heard of
    js.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match=r"cannot build .*temperature.*another version.*course_utils train gmm"):
        checkpoints.load_pretrained("gmm", root=tmp_path)


def test_checkpoint_weights_missing(tmp_path):
    pt, _ = _saved(tmp_path)
    pt.unlink()
    with pytest.raises(FileNotFoundError, match=r"weights .* are missing \(the sidecar exists\).*train gmm"):
        checkpoints.load_pretrained("gmm", root=tmp_path)


def test_checkpoint_of_another_model_class(tmp_path):
    _, js = _saved(tmp_path)
    meta = json.loads(js.read_text())
    meta["model"] = "course_utils.models.density.NoSuchModel"
    js.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match=r"'course_utils\.models\.density\.NoSuchModel', which this version"):
        checkpoints.load_pretrained("gmm", root=tmp_path)


def test_checkpoint_with_python_objects_is_refused(tmp_path):
    pt, _ = _saved(tmp_path)
    torch.save({"means": torch.zeros(8, 2), "made_in": pathlib.Path("/tmp")}, pt)  # a Python object
    with pytest.raises(CheckpointError, match=r"refused to load .*could run code"):
        checkpoints.load_pretrained("gmm", root=tmp_path)
