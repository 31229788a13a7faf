import pytest
import torch

from course_utils.ae_vs_vae import decode_random_codes, fitted_gaussian, random_codes, random_decode_quality
from course_utils.models.autoencoders import MLPAutoencoder
from course_utils.models.vae import VAE


def _correlated_codes(n=20_000):
    mixing = torch.tensor([[2.0, 0.0], [1.5, 0.5]])
    return torch.randn(n, 2) @ mixing.T + torch.tensor([3.0, -1.0])  # mean (3, -1), cov mixing mixing^T


def test_fitted_gaussian_is_the_sample_mean_and_covariance():
    codes = _correlated_codes()
    gauss = fitted_gaussian(codes)
    centred = codes - codes.mean(0)
    torch.testing.assert_close(gauss.mean, codes.mean(0))
    torch.testing.assert_close(gauss.covariance_matrix, centred.T @ centred / len(codes), rtol=1e-4, atol=1e-4)


def test_random_codes_follow_the_fitted_gaussian_or_the_standard_normal():
    codes = _correlated_codes()
    z = random_codes(50_000, 2, fit_to=codes, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(z.mean(0), torch.tensor([3.0, -1.0]), atol=0.05, rtol=0)
    torch.testing.assert_close(torch.cov(z.T), torch.tensor([[4.0, 3.0], [3.0, 2.5]]), atol=0.1, rtol=0)
    plain = random_codes(50_000, 2, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(plain.mean(0), torch.zeros(2), atol=0.03, rtol=0)
    torch.testing.assert_close(torch.cov(plain.T), torch.eye(2), atol=0.03, rtol=0)


def test_the_same_seed_gives_the_same_noise_for_both_kinds_of_codes():
    codes = _correlated_codes(1000)
    gauss = fitted_gaussian(codes)
    plain = random_codes(8, 2, generator=torch.Generator().manual_seed(3))
    fitted = random_codes(8, 2, fit_to=codes, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(fitted, gauss.mean + plain @ gauss.scale_tril.T)


def test_bad_codes_get_a_clear_error():
    with pytest.raises(ValueError, match="more codes than dimensions"):
        fitted_gaussian(torch.randn(2, 2))
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        random_codes(4, 2, fit_to=torch.randn(100, 3))


@pytest.mark.parametrize("make", [lambda: MLPAutoencoder(MLPAutoencoder.Config(latent_dim=2, hidden=(16,))),
                                  lambda: VAE(VAE.Config(latent_dim=2, hidden=(16,)))])
def test_decode_random_codes_is_seeded_and_decodes_the_drawn_codes(make):
    model = make()
    images = decode_random_codes(model, n=6, seed=1)
    assert images.shape == (6, 1, 28, 28) and 0 <= images.min() and images.max() <= 1
    torch.testing.assert_close(images, decode_random_codes(model, n=6, seed=1))
    with torch.no_grad():
        expected = model.decode(random_codes(6, 2, generator=torch.Generator().manual_seed(1)))
    torch.testing.assert_close(images, expected)


def test_random_decode_quality_measures_the_decoded_images_as_sample_quality_does(monkeypatch):
    import course_utils.evaluation as evaluation

    seen = {}
    monkeypatch.setattr(evaluation, "sample_quality", lambda x, dataset: seen.setdefault("args", (x, dataset)))
    model = MLPAutoencoder(MLPAutoencoder.Config(latent_dim=2, hidden=(16,)))
    images, dataset = random_decode_quality(model, n=5, seed=2, dataset="fashion-mnist")
    assert dataset == "fashion-mnist"
    torch.testing.assert_close(images, decode_random_codes(model, n=5, seed=2))
