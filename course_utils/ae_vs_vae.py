"""Decoding random codes: the autoencoder against the VAE (notebook 03's bridge to notebook 04).

The lecture calls an autoencoder "a generative network" and says the VAE "performs better than AE". This
module gives that sentence a number: draw random codes, decode them, and measure the decoded images with the
course's sample-quality yardstick (`evaluation.sample_quality`: course FID and the share of confidently
recognised digits). A VAE's codes have a distribution, its prior p(z) = N(0, I); an autoencoder's have none,
so we try two stand-ins: N(0, I) as for the VAE, and the best simple guess, a Gaussian fitted to the
autoencoder's own training codes (mean and full covariance).
"""

from __future__ import annotations

import torch
from torch import nn

from .metrics import Recognisability
from .validation import check_tensor

__all__ = ["fitted_gaussian", "random_codes", "decode_random_codes", "random_decode_quality"]


def fitted_gaussian(codes: torch.Tensor) -> torch.distributions.MultivariateNormal:
    """N(mean, covariance) of a set of codes (N, d), N > d: the maximum-likelihood Gaussian (full covariance)."""
    check_tensor(codes, (None,), name="codes", who="fitted_gaussian")
    if len(codes) <= codes.shape[1]:
        raise ValueError(f"fitted_gaussian needs more codes than dimensions to fit a covariance; got {len(codes)} "
                         f"codes of dimension {codes.shape[1]}. Pass e.g. the codes of the training images.")
    codes = codes.detach().double()
    mean = codes.mean(0)  # (d,)
    centred = codes - mean  # (N, d)
    cov = centred.T @ centred / len(codes)  # (d, d), the ML estimate
    return torch.distributions.MultivariateNormal(mean.float(), covariance_matrix=cov.float())


def random_codes(n: int, latent_dim: int, fit_to: torch.Tensor | None = None,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """n codes (n, latent_dim): z ~ N(0, I), or z ~ the Gaussian fitted to `fit_to` (N, latent_dim) if given.

    Both are drawn from the same standard-normal noise eps: z = eps, or z = mean + L eps with L L^T the
    fitted covariance (its Cholesky factor), so a seed gives the same noise either way.
    """
    eps = torch.randn(n, latent_dim, generator=generator)  # (n, d)
    if fit_to is None:
        return eps
    if fit_to.shape[1:] != (latent_dim,):
        raise ValueError(f"random_codes: fit_to must hold codes of shape (N, {latent_dim}), got "
                         f"{tuple(fit_to.shape)}; pass model.encode(x) of the same model.")
    gauss = fitted_gaussian(fit_to)
    return gauss.mean + eps @ gauss.scale_tril.T  # (n, d)


@torch.no_grad()
def decode_random_codes(model: nn.Module, n: int = 2000, fit_to: torch.Tensor | None = None,
                        seed: int = 0) -> torch.Tensor:
    """decode(z) (n, 1, 28, 28) for n seeded random codes of a latent model (see `random_codes`)."""
    model.eval()
    z = random_codes(n, model.config.latent_dim, fit_to, torch.Generator().manual_seed(seed))
    return model.decode(z.to(model.device)).cpu()


def random_decode_quality(model: nn.Module, n: int = 2000, fit_to: torch.Tensor | None = None, seed: int = 0,
                          dataset: str = "mnist") -> tuple[float, Recognisability]:
    """(course FID, recognisability) of n decoded random codes, as `evaluation.sample_quality` measures samples."""
    from .evaluation import sample_quality

    return sample_quality(decode_random_codes(model, n, fit_to, seed), dataset)
