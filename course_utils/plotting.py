"""Figures of the course: image grids, loss curves, 2-D density heat maps, and the slide-sized style.

Sizes are worked out for the decks (course_utils/slides.py). A slide is 1440 x 810 px, scaled by reveal.js to the
window: by 0.853 in a 1280 x 720 window (its 4 % margin included). A figure is shown at its own pixel size
inside the output area, 1312 of the slide's px wide, and shrunk to that width when it is wider. So a length of
L px in a saved figure shows on a 1280-px-wide screen as

    L * min(1, 1312 / figure_width_px) * 0.853 screen px                              (`on_slide_px`)

- Text: 14 pt on that screen is 14 * 96 / 72 = 18.7 px. The style's smallest font, 15 pt at 110 dpi, is
  15 * 110 / 72 = 22.9 px in the PNG and 19.6 px on the screen: enough as long as a figure is shrunk by no more
  than 19.6 / 18.7, i.e. saved no wider than 1374 px (`MAX_FIGURE_PX`, 12.5 in at 110 dpi).
- Digits: a grid cell of 0.6 in (`GRID_CELL_IN`) is 66 px at 110 dpi, of which 28/30 are the digit (make_grid's
  2-px padding): 61.6 px in the PNG, 52.5 px on the screen (>= 48 px) for a figure up to 1312 px wide.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

__all__ = ["use_course_style", "image_grid", "image_rows", "image_panels", "nonzero_panels", "draw_receptive_field",
           "latent_scatter", "label_points", "plot_curves", "plot_history", "density_heatmap", "grid_points", "on_slide_px",
           "saved_width_px", "digit_px_on_slide"]

DPI = 110                      # figure and savefig dpi of the committed outputs
FONT_PT = 15                   # the smallest font of the style (ticks, labels, legends); titles 16 pt
GRID_CELL_IN = 0.6             # inches per image in image_grid: a digit >= 48 px on a 1280-px-wide screen
OUTPUT_WIDTH_PX = 1312         # a deck's output area, in the 1440-px slide's own px (measured in Chromium)
SCREEN_SCALE = 0.853           # reveal.js's scale of the 1440 x 810 slide in a 1280 x 720 window
MIN_TEXT_PX = 14 * 96 / 72     # 14 pt, in screen px
MIN_DIGIT_PX = 48              # a readable digit, in screen px
MAX_FIGURE_PX = int(OUTPUT_WIDTH_PX * FONT_PT * DPI / 72 * SCREEN_SCALE / MIN_TEXT_PX)  # 1374: widest figure


def use_course_style(presenting: bool = False) -> None:
    """The course's figure style, sized for the slides (see the module docstring): 110 dpi, 15-16 pt fonts,
    constrained layout (labels never overlap at these sizes). The committed outputs use this default, which
    already reads from the back of a room; `presenting=True` enlarges fonts and lines by a further 25 % for a
    large hall or a low-resolution projector (figures get more crowded)."""
    scale = 1.25 if presenting else 1.0
    plt.rcParams.update({
        "figure.dpi": DPI, "savefig.dpi": DPI, "figure.figsize": (8.0, 4.5),
        "figure.constrained_layout.use": True,
        "font.size": FONT_PT * scale, "axes.titlesize": (FONT_PT + 1) * scale, "axes.labelsize": FONT_PT * scale,
        "xtick.labelsize": FONT_PT * scale, "ytick.labelsize": FONT_PT * scale, "legend.fontsize": FONT_PT * scale,
        "legend.title_fontsize": FONT_PT * scale, "figure.titlesize": (FONT_PT + 1) * scale,
        "lines.linewidth": 2.2 * scale, "lines.markersize": 7 * scale,
        "axes.spines.top": False, "axes.spines.right": False, "image.cmap": "gray",
    })


def on_slide_px(length_px: float, figure_width_px: float) -> float:
    """Screen px on a 1280 x 720 screen of `length_px` px of a saved figure `figure_width_px` px wide."""
    return length_px * min(1.0, OUTPUT_WIDTH_PX / figure_width_px) * SCREEN_SCALE


def saved_width_px(fig) -> float:
    """Width in px of the PNG that Jupyter's inline backend saves of `fig` (bbox_inches="tight")."""
    bbox = fig.get_tightbbox(fig.canvas.get_renderer())  # inches
    return (bbox.width + 2 * plt.rcParams["savefig.pad_inches"]) * fig.dpi


def digit_px_on_slide(ax, size: int = 28) -> float:
    """Screen px (1280 x 720 screen) of one `size`-px image of the grid drawn in `ax` (e.g. by image_grid)."""
    fig = ax.figure
    fig.canvas.draw()
    image = ax.images[0]
    (x0, _), (x1, _) = ax.transData.transform([(image.get_extent()[0], 0), (image.get_extent()[1], 0)])
    per_pixel = abs(x1 - x0) / image.get_array().shape[1]  # figure px per image px
    return on_slide_px(per_pixel * size, saved_width_px(fig))


def _as_images(x: torch.Tensor) -> torch.Tensor:
    x = torch.as_tensor(x).detach().float().cpu()
    if x.dim() == 2 and x.shape[1] == 784:  # flat MNIST vectors
        x = x.view(-1, 1, 28, 28)  # (N, 1, 28, 28)
    if x.dim() == 3:
        x = x.unsqueeze(1)  # (N, 1, H, W)
    if x.dim() != 4:
        raise ValueError(f"image_grid expects images (N, C, H, W), (N, H, W) or (N, 784), got shape {tuple(x.shape)}.")
    return x


def _fixed_figure(size: tuple[float, float]):
    """A figure whose Axes the caller places itself: no layout engine, not even the style's constrained layout
    (set as a placeholder, because savefig(bbox_inches="tight") would otherwise restore the rcParams default)."""
    fig = plt.figure(figsize=size)
    fig.set_layout_engine("none")
    return fig


def _grid_inches(images: torch.Tensor, nrow: int, pad: int, cell: float) -> tuple[float, float]:
    """(width, height) in inches of make_grid's grid of `images`, `nrow` per row, at `cell` inches per image."""
    (h, w), n = images.shape[-2:], len(images)
    cols, rows = min(nrow, n), math.ceil(n / nrow)
    return cell * (cols * (w + pad) + pad) / (w + pad), cell * (rows * (h + pad) + pad) / (h + pad)


def image_grid(x: torch.Tensor, nrow: int = 8, ax=None, title: str | None = None, pad: int = 2,
               cell: float = GRID_CELL_IN, row_labels: Sequence[str] | None = None):
    """Show a batch of images in one grid (torchvision's make_grid), `nrow` images per row; returns the Axes.

    Without `ax`, the figure is `cell` inches per image, so that a digit reads on a slide (module docstring).
    `row_labels` names the rows on the left (e.g. one model per row).
    """
    from torchvision.utils import make_grid

    images = _as_images(x)
    grid = make_grid(images, nrow=nrow, padding=pad, pad_value=1.0)  # (3, H', W')
    if ax is None:
        fig = _fixed_figure(_grid_inches(images, nrow, pad, cell))
        ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(grid.permute(1, 2, 0).clamp(0, 1).numpy(), interpolation="nearest")
    if row_labels is None:
        ax.set_axis_off()
    else:
        height = images.shape[-2]
        ax.set_xticks([])
        ax.set_yticks([pad + r * (height + pad) + height / 2 for r in range(len(row_labels))], list(row_labels))
        ax.tick_params(length=0)
        ax.spines[:].set_visible(False)
    if title:
        ax.set_title(title)
    return ax


def image_rows(rows: Mapping[str, torch.Tensor], ncol: int = 8, title: str | None = None, ax=None,
               cell: float = GRID_CELL_IN):
    """One labelled row of the first `ncol` images of each entry of `rows` (label -> images), e.g. samples per
    model; returns the Axes."""
    short = [label for label, images in rows.items() if len(images) < ncol]
    if short:
        raise ValueError(f"image_rows shows {ncol} images per row; rows {short} have fewer: pass a smaller ncol.")
    return image_grid(torch.cat([_as_images(images)[:ncol] for images in rows.values()]), nrow=ncol, ax=ax,
                      title=title, cell=cell, row_labels=list(rows))


def image_panels(panels: Mapping[str, torch.Tensor], nrow: int = 8, lead: float = 0.0,
                 cell: float = GRID_CELL_IN, gap: float = 0.4, pad: int = 2):
    """Titled image grids side by side (title -> images), `nrow` images per row and `cell` inches per image.

    `lead` > 0 reserves a first, empty Axes that many inches wide (as tall as the grids) for another plot,
    e.g. a scatter plot of codes or one picture. Returns (fig, axes), the lead Axes first when there is one.
    """
    sizes = [_grid_inches(_as_images(images), nrow, pad, cell) for images in panels.values()]
    height = max(h for _, h in sizes)
    sizes = ([(lead, height)] if lead else []) + sizes
    total = sum(w for w, _ in sizes) + gap * (len(sizes) - 1)
    fig = _fixed_figure((total, height))
    axes, left = [], 0.0
    for w, h in sizes:  # tops aligned
        axes.append(fig.add_axes((left / total, 1 - h / height, w / total, h / height)))
        left += w + gap
    for ax, (title, images) in zip(axes[1 if lead else 0:], panels.items()):
        image_grid(images, nrow=nrow, ax=ax, title=title, pad=pad)
    return fig, axes


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


def nonzero_panels(matrices: Mapping[str, torch.Tensor], xlabel: str | None = None, ylabel: str | None = None,
                   title: str | None = None, size: float = 4.6):
    """Where each matrix (panel title -> (R, C) tensor) is non-zero, in black, side by side (e.g. Jacobians: which
    output depends on which input); `title` goes above all panels. Returns (fig, axes)."""
    fig, axes = plt.subplots(1, len(matrices), figsize=(size * len(matrices) + 0.4, size + 0.5), squeeze=False)
    for ax, (name, matrix) in zip(axes[0], matrices.items()):
        ax.imshow((torch.as_tensor(matrix).abs() > 0).cpu().numpy(), cmap="gray_r")
        ax.set(title=name, xlabel=xlabel, ylabel=ylabel)
    if title:
        fig.suptitle(title)
    return fig, list(axes[0])


def draw_receptive_field(field: torch.Tensor, blind: torch.Tensor, pixel: tuple[int, int], ax=None):
    """A pixel's receptive field in blue and the earlier pixels it cannot see (its blind spot) in orange, the pixel
    itself white (notebook 02's PixelCNN). field, blind: (H, W) bool. Returns the Axes."""
    picture = torch.zeros(*field.shape, 3)  # (H, W, RGB)
    picture[field] = torch.tensor([0.2, 0.5, 0.9])
    picture[blind] = torch.tensor([0.95, 0.6, 0.2])
    picture[pixel] = 1
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(picture.numpy())
    ax.set_axis_off()
    ax.set_title(f"blue: receptive field of pixel {tuple(pixel)}\norange: earlier pixels it cannot see")
    return ax


def latent_scatter(codes: Mapping[str, torch.Tensor], labels, prior_circle: Sequence[str] = (), size: float = 5.0):
    """2-D codes side by side (panel title -> (N, 2) codes), coloured by digit `labels` (N,), one colour bar.
    Panels named in `prior_circle` get the dashed circle of radius 2: two standard deviations of the prior
    N(0, I) (notebook 04). Returns (fig, axes)."""
    fig, axes = plt.subplots(1, len(codes), figsize=(size * len(codes) + 1.2, size), squeeze=False)
    axes = list(axes[0])
    for ax, (title, z) in zip(axes, codes.items()):
        z = torch.as_tensor(z).detach().cpu().numpy()
        points = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=4)
        ax.set(title=title, xlabel="$z_1$", ylabel="$z_2$")
        if title in prior_circle:
            ax.add_patch(plt.Circle((0, 0), 2, fill=False, ls="--", color="k", label="2σ of the prior"))
            ax.legend(loc="upper right")
    fig.colorbar(points, ax=axes, label="digit", ticks=range(10))
    return fig, axes


def label_points(ax, points: Mapping[str, tuple[float, float]], offset: float = 6.0):
    """Write each label next to its point (label -> (x, y) in data coordinates) so that labels overlap neither
    each other nor the other points: to the right of the point (left in the right quarter of the Axes), moved up
    or down where something is in the way, with a thin line back to a moved label's point. Call it after the
    Axes' limits and scales are set. Returns the annotations."""
    fig = ax.figure
    fig.canvas.draw()  # the layout, hence the data -> pixel transform, is final only after a draw
    size = plt.rcParams["font.size"] * fig.dpi / 72  # font size in pixels
    pixels = {label: ax.transData.transform(xy) for label, xy in points.items()}
    frame = ax.get_window_extent()
    taken = {label: (px - 0.5 * size, py - 0.5 * size, px + 0.5 * size, py + 0.5 * size)  # the points
             for label, (px, py) in pixels.items()}

    def free(box, own):  # inside the Axes (top and bottom) and on nothing else
        return frame.y0 <= box[1] and box[3] <= frame.y1 and not any(
            box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for key, b in taken.items() if key != own)

    notes = []
    for label, (px, py) in sorted(pixels.items(), key=lambda item: item[1][1]):
        width = 0.65 * size * len(label) + offset
        left = px > frame.x0 + 0.75 * frame.width
        x0 = px - width if left else px
        shifts = [s * 0.45 * size for k in range(60) for s in (k, -k)]
        shift = next((s for s in shifts if free((x0, py + s - 0.6 * size, x0 + width, py + s + 0.6 * size), label)),
                     0.0)
        taken[label + "\0label"] = (x0, py + shift - 0.6 * size, x0 + width, py + shift + 0.6 * size)
        notes.append(ax.annotate(
            label, points[label], xytext=(-offset if left else offset, shift * 72 / fig.dpi),
            textcoords="offset points", ha="right" if left else "left", va="center",
            arrowprops={"arrowstyle": "-", "color": "0.6", "lw": 0.8} if abs(shift) > 1 else None))
        notes[-1].set_in_layout(False)  # placed for this layout: constrained layout must not move the Axes
    return notes


def plot_curves(x, curves: Mapping[str, Sequence[float]], ax=None, xscale: str | None = None,
                xlabel: str | None = None, ylabel: str | None = None, title: str | None = None):
    """One line with markers per entry of `curves` (label -> y values) against `x`, with a legend; returns the
    Axes (e.g. train vs test log-likelihood against a model's flexibility). xscale: "log", "log2" or None."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    for k, (label, y) in enumerate(curves.items()):
        ax.plot(x, y, marker="os^Dv"[k % 5], ls="-" if k == 0 else "--", label=label)
    if xscale == "log2":
        ax.set_xscale("log", base=2)
    elif xscale:
        ax.set_xscale(xscale)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
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
    """The encoder -> code -> decoder picture of notebooks 03 and 04 (drawn, no image file).

    Encoder parameters phi, decoder parameters theta: the course's one convention (notebook 00's notation key).
    """
    from matplotlib.patches import Polygon, Rectangle

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.6))
    ax.add_patch(Rectangle((0, 0), 0.6, 3, fc="#dde8f5", ec="k"))
    ax.add_patch(Polygon([(1, 0), (3, 1.1), (3, 1.9), (1, 3)], fc="#cfe8ff", ec="k"))
    ax.add_patch(Rectangle((3.3, 1.1), 0.6, 0.8, fc="#fff2cc", ec="k"))
    ax.add_patch(Polygon([(4.2, 1.1), (6.2, 0), (6.2, 3), (4.2, 1.9)], fc="#d5f0d5", ec="k"))
    ax.add_patch(Rectangle((6.6, 0), 0.6, 3, fc="#dde8f5", ec="k"))
    for x, y, text in [(0.3, 1.5, "x"), (2.0, 1.5, "encoder\n$f_\\phi$"), (3.6, 1.5, latent_label),
                       (5.2, 1.5, "decoder\n$g_\\theta$"), (6.9, 1.5, "$\\hat x$")]:
        ax.text(x, y, text, ha="center", va="center", fontsize=FONT_PT + 1)
    ax.text(3.6, 0.75, "code (bottleneck)", ha="center", va="top")
    ax.text(3.6, 3.3, r"$J = \sum_n \|x_n - \hat x_n\|^2$", ha="center", fontsize=FONT_PT + 1)
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
                ax.annotate(name, (layer, yy), xytext=(-12 if layer == 0 else 12, 0), textcoords="offset points",
                            ha="right" if layer == 0 else "left", va="center")
    ax.set_xticks(range(len(sizes)), ["input"] + [f"hidden {k}" for k in range(1, len(sizes) - 1)] + ["output"])
    ax.set_yticks([])
    ax.set_xlim(-0.6, len(sizes) - 0.3)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(title)
    return ax

