"""Figures of the course: image grids, loss curves, 2-D density heat maps, and a presenting style."""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
import torch

__all__ = ["use_course_style", "image_grid", "plot_history", "density_heatmap", "grid_points"]


def use_course_style(presenting: bool = False) -> None:
    """Readable defaults; `presenting=True` enlarges fonts and lines for a projector."""
    scale = 1.5 if presenting else 1.0
    plt.rcParams.update({
        "figure.dpi": 80, "savefig.dpi": 80, "figure.figsize": (6.4, 4.0),
        "font.size": 11 * scale, "axes.titlesize": 12 * scale, "axes.labelsize": 11 * scale,
        "legend.fontsize": 10 * scale, "lines.linewidth": 1.8 * scale,
        "axes.spines.top": False, "axes.spines.right": False, "image.cmap": "gray",
    })


def _as_images(x: torch.Tensor) -> torch.Tensor:
    x = torch.as_tensor(x).detach().float().cpu()
    if x.dim() == 2 and x.shape[1] == 784:  # flat MNIST vectors
        x = x.view(-1, 1, 28, 28)  # (N, 1, 28, 28)
    if x.dim() == 3:
        x = x.unsqueeze(1)  # (N, 1, H, W)
    if x.dim() != 4:
        raise ValueError(f"image_grid expects images (N, C, H, W), (N, H, W) or (N, 784), got shape {tuple(x.shape)}.")
    return x


def image_grid(x: torch.Tensor, nrow: int = 8, ax=None, title: str | None = None, pad: int = 2):
    """Show a batch of images in one grid (torchvision's make_grid); returns the Axes."""
    from torchvision.utils import make_grid

    grid = make_grid(_as_images(x), nrow=nrow, padding=pad, pad_value=1.0)  # (3, H', W')
    if ax is None:
        _, ax = plt.subplots(figsize=(min(nrow, 10) * 0.7, max(1, np.ceil(len(x) / nrow)) * 0.7 + 0.4))
    ax.imshow(grid.permute(1, 2, 0).clamp(0, 1).numpy(), interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_history(history, ax=None, label: str = "train loss", test_label: str | None = "test metric"):
    """Per-epoch training loss (and the test metric when recorded) against epoch."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2))
    epochs = np.arange(1, history.epochs + 1)
    marker = "o" if history.epochs <= 30 else None  # markers only where they can be told apart
    ax.plot(epochs, history.train_loss, marker=marker, label=label)
    if history.test_metric and test_label:
        ax.plot(epochs, history.test_metric, marker=marker, ls="--", label=test_label)
    ax.set_xlabel("epoch")
    ax.legend()
    return ax


def grid_points(xlim=(-3, 3), ylim=(-3, 3), n: int = 150) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    """A regular n x n grid: the meshgrid arrays and the points as a (n*n, 2) float tensor."""
    xs, ys = np.linspace(*xlim, n), np.linspace(*ylim, n)
    gx, gy = np.meshgrid(xs, ys)
    pts = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], axis=1)).float()  # (n*n, 2)
    return gx, gy, pts


@torch.no_grad()
def density_heatmap(log_prob: Callable[[torch.Tensor], torch.Tensor], xlim=(-3, 3), ylim=(-3, 3), n: int = 150,
                    ax=None, data: torch.Tensor | None = None, title: str | None = None):
    """Heat map of exp(log_prob) over a 2-D box, optionally with data points on top; returns the Axes."""
    gx, gy, pts = grid_points(xlim, ylim, n)
    dens = log_prob(pts).exp().reshape(n, n).cpu().numpy()  # (n, n)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4.2))
    ax.pcolormesh(gx, gy, dens, cmap="viridis", shading="auto")
    if data is not None:
        d = torch.as_tensor(data).cpu()
        ax.scatter(d[:, 0], d[:, 1], s=2, c="white", alpha=0.5)
    ax.set_aspect("equal")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    if title:
        ax.set_title(title)
    return ax


def draw_autoencoder(ax=None, latent_label: str = "z", title: str = "autoencoder"):
    """The encoder -> code -> decoder picture of notebooks 03 and 04 (drawn, no image file)."""
    from matplotlib.patches import Polygon, Rectangle

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3))
    ax.add_patch(Rectangle((0, 0), 0.6, 3, fc="#dde8f5", ec="k"))
    ax.add_patch(Polygon([(1, 0), (3, 1.1), (3, 1.9), (1, 3)], fc="#cfe8ff", ec="k"))
    ax.add_patch(Rectangle((3.3, 1.1), 0.6, 0.8, fc="#fff2cc", ec="k"))
    ax.add_patch(Polygon([(4.2, 1.1), (6.2, 0), (6.2, 3), (4.2, 1.9)], fc="#d5f0d5", ec="k"))
    ax.add_patch(Rectangle((6.6, 0), 0.6, 3, fc="#dde8f5", ec="k"))
    for x, y, text in [(0.3, 1.5, "x"), (2.0, 1.5, "encoder\n$f_\\theta$"), (3.6, 1.5, latent_label),
                       (5.2, 1.5, "decoder\n$g_\\phi$"), (6.9, 1.5, "$\\hat x$")]:
        ax.text(x, y, text, ha="center", va="center", fontsize=13)
    ax.text(3.6, 0.75, "code (bottleneck)", ha="center", fontsize=9)
    ax.text(3.6, 3.3, r"$J = \sum_n \|x_n - \hat x_n\|^2$", ha="center", fontsize=13)
    ax.set_xlim(-0.2, 7.4)
    ax.set_ylim(-0.3, 3.7)
    ax.set_axis_off()
    ax.set_title(title)
    return ax


def draw_made_connectivity(masks: list, ax=None, title: str = "MADE connectivity"):
    """Draw a small MADE as a graph: one column of units per layer, an edge where the mask is 1.

    masks: the per-layer 0/1 masks [(H1, D), ..., (D, HL)] (e.g. `made_masks(order, hidden)`).
    """
    sizes = [masks[0].shape[1]] + [m.shape[0] for m in masks]
    if ax is None:
        _, ax = plt.subplots(figsize=(2.2 * len(sizes), 0.5 * max(sizes) + 1))
    ys = [np.linspace(0, 1, n) if n > 1 else np.array([0.5]) for n in sizes]
    for layer, mask in enumerate(masks):
        out_idx, in_idx = np.nonzero(np.asarray(mask))
        for o, i in zip(out_idx, in_idx):
            ax.plot([layer, layer + 1], [ys[layer][i], ys[layer + 1][o]], color="0.55", lw=0.8, zorder=1)
    for layer, y in enumerate(ys):
        color = "#4c72b0" if layer in (0, len(ys) - 1) else "#dd8452"
        ax.scatter(np.full(len(y), layer), y, s=160, c=color, zorder=2, edgecolors="k")
        if layer in (0, len(ys) - 1):
            for k, yy in enumerate(y):
                name = f"x{k + 1}" if layer == 0 else f"p(x{k + 1}|..)"
                ax.annotate(name, (layer, yy), xytext=(-32 if layer == 0 else 12, -4), textcoords="offset points", fontsize=9)
    ax.set_xticks(range(len(sizes)), ["input"] + [f"hidden {k}" for k in range(1, len(sizes) - 1)] + ["output"])
    ax.set_yticks([])
    ax.set_xlim(-0.6, len(sizes) - 0.3)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(title)
    return ax
