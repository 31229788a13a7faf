import pytest
import torch

from course_utils import fit
from course_utils.models.autoencoders import (
    ConvAutoencoder,
    DenoisingAutoencoder,
    LinearAutoencoder,
    MLPAutoencoder,
    reconstruction_error,
)

MODELS = [
    lambda: MLPAutoencoder(MLPAutoencoder.Config(latent_dim=4, hidden=(32,))),
    lambda: ConvAutoencoder(ConvAutoencoder.Config(latent_dim=4, channels=4)),
    lambda: LinearAutoencoder(LinearAutoencoder.Config(latent_dim=4)),
    lambda: DenoisingAutoencoder(DenoisingAutoencoder.Config(latent_dim=4, hidden=(32,))),
]


@pytest.mark.parametrize("make", MODELS)
def test_shapes(make):
    model = make()
    x = torch.rand(5, 1, 28, 28)
    z = model.encode(x)
    assert z.shape == (5, 4)
    assert model.decode(z).shape == (5, 1, 28, 28)
    assert model.loss(x).dim() == 0


def test_l2_loss_is_the_lectures_formula_on_a_hand_made_example():
    x = torch.zeros(2, 1, 28, 28)
    x_hat = torch.zeros(2, 1, 28, 28)
    x_hat[0, 0, 0, :3] = torch.tensor([1.0, 2.0, 2.0])  # ||x - x_hat||^2 = 1 + 4 + 4 = 9
    x_hat[1, 0, 5, 5] = 0.5  # 0.25
    torch.testing.assert_close(reconstruction_error(x, x_hat), torch.tensor([9.0, 0.25]))


def test_model_loss_equals_mean_squared_norm_of_its_reconstruction_error():
    model = MLPAutoencoder(MLPAutoencoder.Config(latent_dim=3, hidden=(16,)))
    x = torch.rand(6, 1, 28, 28)
    expected = ((x - model.reconstruct(x)) ** 2).sum(dim=(1, 2, 3)).mean()
    torch.testing.assert_close(model.loss(x), expected)


def test_bce_loss_matches_torch_and_needs_unit_range():
    model = MLPAutoencoder(MLPAutoencoder.Config(latent_dim=3, hidden=(16,), loss="bce"))
    x = torch.rand(4, 1, 28, 28)
    p = model.reconstruct(x)
    expected = torch.nn.functional.binary_cross_entropy(p, x, reduction="sum") / 4
    torch.testing.assert_close(model.loss(x), expected, rtol=1e-4, atol=1e-3)
    with pytest.raises(ValueError, match=r"loss='bce' expects pixels in \[0, 1\]"):
        model.loss(x * 3)


def test_linear_autoencoder_reaches_near_zero_error_on_rank_k_data():
    torch.manual_seed(0)
    k = 3
    basis = torch.randn(k, 784) / 28
    x = (torch.randn(1024, k) @ basis + 0.5).view(-1, 1, 28, 28)  # rank-3 data around 0.5
    model = LinearAutoencoder(LinearAutoencoder.Config(latent_dim=k))
    start = model.loss(x).item()
    model.center_on(x)
    fit(model, x, epochs=40, batch_size=128, lr=1e-2, progress=False, device="cpu")
    assert model.loss(x).item() < 1e-4 * start


def test_denoising_corrupts_only_in_training():
    model = DenoisingAutoencoder(DenoisingAutoencoder.Config(latent_dim=4, hidden=(8,), noise="masking", noise_level=0.5))
    x = torch.ones(2, 1, 28, 28)
    noisy = model.add_noise(x, generator=torch.Generator().manual_seed(0))
    assert 0.4 < noisy.mean() < 0.6
    model.eval()
    assert torch.equal(model.corrupt(x), x)
    with pytest.raises(ValueError, match="noise='salt' is not implemented; expected one of 'gaussian', 'masking'"):
        DenoisingAutoencoder(DenoisingAutoencoder.Config(noise="salt"))


def test_bad_inputs_say_what_to_do():
    model = MLPAutoencoder()
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\), got \(784,\)"):
        model.encode(torch.rand(784))
    with pytest.raises(ValueError, match=r"z of shape \(N, 2\), got \(3, 5\)"):
        model.decode(torch.rand(3, 5))
    with pytest.raises(ValueError, match="expected 'l2' or 'bce'"):
        reconstruction_error(torch.zeros(1, 2), torch.zeros(1, 2), "l1")
    with pytest.raises(ValueError, match="same shape"):
        reconstruction_error(torch.zeros(1, 2), torch.zeros(1, 3))
