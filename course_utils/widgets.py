"""ipywidgets explorers for live lectures.

Each explorer is a thin `ipywidgets.interactive` around a plain update function that draws
and returns the numbers it shows, so the update functions are tested without a browser.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch.distributions import Normal

__all__ = ["gaussian_likelihood_view", "gaussian_likelihood_explorer"]


def gaussian_likelihood_view(data: torch.Tensor, mu: float, sigma: float, ax=None) -> float:
    """Draw N(mu, sigma^2) over a histogram of 1-D `data` (N,); return the mean log-likelihood (nats)."""
    data = torch.as_tensor(data, dtype=torch.float32).flatten()
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}.")
    loglik = Normal(mu, sigma).log_prob(data).mean().item()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.4))
    lo, hi = data.min().item() - 1, data.max().item() + 1
    xs = np.linspace(lo, hi, 300)
    ax.hist(data.numpy(), bins=30, density=True, alpha=0.45, label="data")
    ax.plot(xs, Normal(mu, sigma).log_prob(torch.from_numpy(xs)).exp().numpy(), label=f"N({mu:.2f}, {sigma:.2f}²)")
    ax.set_title(f"mean log-likelihood = {loglik:.3f} nats")
    ax.set_xlim(lo, hi)
    ax.legend(loc="upper right")
    return loglik


def gaussian_likelihood_explorer(data: torch.Tensor):
    """Sliders over mu and sigma; the plot and the title's log-likelihood follow."""
    import ipywidgets as w

    data = torch.as_tensor(data, dtype=torch.float32).flatten()
    m, s = data.mean().item(), data.std().item()

    def update(mu, sigma):
        value = gaussian_likelihood_view(data, mu, sigma)
        plt.show()
        return value

    return w.interactive(
        update,
        mu=w.FloatSlider(value=round(m - s, 2), min=round(m - 3 * s, 2), max=round(m + 3 * s, 2), step=0.05),
        sigma=w.FloatSlider(value=round(s / 2, 2), min=round(s / 5, 2), max=round(3 * s, 2), step=0.05),
    )
