"""The figure style and helpers of course_utils.plotting: sized for the slides (text >= 14 pt seen on a 1280-px
screen, digits >= 48 px), and the scaffolding helpers the notebooks call instead of layout code."""

import io
import warnings

import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.text import Text

from course_utils import plotting
from course_utils.plotting import (
    MAX_FIGURE_PX,
    MIN_DIGIT_PX,
    MIN_TEXT_PX,
    digit_px_on_slide,
    draw_receptive_field,
    image_grid,
    image_panels,
    image_rows,
    label_points,
    latent_scatter,
    nonzero_panels,
    on_slide_px,
    plot_curves,
    saved_width_px,
    use_course_style,
)

FONT_KEYS = ["font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize", "ytick.labelsize",
             "legend.fontsize", "figure.titlesize"]


@pytest.fixture(autouse=True)
def course_style():
    """Each test runs in the course style and leaves matplotlib's settings as it found them."""
    with plt.rc_context():
        use_course_style()
        yield
    plt.close("all")


def _images(n):
    return torch.rand(n, 1, 28, 28)


def test_the_style_is_sized_for_the_slides():
    assert plt.rcParams["figure.dpi"] >= 110 and plt.rcParams["savefig.dpi"] >= 110
    sizes = {key: plt.rcParams[key] for key in FONT_KEYS}
    assert min(sizes.values()) >= 14, sizes
    # The smallest text of the widest allowed figure still shows as large as 14 pt on a 1280 x 720 screen.
    smallest_px = min(sizes.values()) * plt.rcParams["figure.dpi"] / 72
    assert on_slide_px(smallest_px, MAX_FIGURE_PX) >= MIN_TEXT_PX
    assert on_slide_px(smallest_px, MAX_FIGURE_PX + 10) < MIN_TEXT_PX  # ...and MAX_FIGURE_PX is that limit
    assert plt.rcParams["figure.constrained_layout.use"]  # large labels never overlap


def test_presenting_enlarges_the_fonts_further():
    default = {key: plt.rcParams[key] for key in FONT_KEYS}
    use_course_style(presenting=True)
    assert all(plt.rcParams[key] == pytest.approx(1.25 * default[key]) for key in FONT_KEYS)
    assert plt.rcParams["figure.dpi"] >= 110


def test_on_slide_px_shrinks_only_figures_wider_than_the_output_area():
    assert on_slide_px(100, 500) == pytest.approx(100 * plotting.SCREEN_SCALE)
    assert on_slide_px(100, 2 * plotting.OUTPUT_WIDTH_PX) == pytest.approx(50 * plotting.SCREEN_SCALE)


# (number of images, images per row) of the notebooks' image_grid calls
GRID_SHAPES = [(32, 16), (24, 8), (48, 8), (24, 12), (40, 10), (10, 10), (120, 12), (225, 15), (60, 12),
               (8, 8), (24, 6), (24, 4)]


@pytest.mark.parametrize(("n", "nrow"), GRID_SHAPES)
def test_image_grid_digits_are_readable_on_a_slide(n, nrow):
    ax = image_grid(_images(n), nrow=nrow, title="a title")
    assert digit_px_on_slide(ax) >= MIN_DIGIT_PX
    assert saved_width_px(ax.figure) <= MAX_FIGURE_PX


def test_image_grid_in_a_given_axes_and_bad_input():
    _, ax = plt.subplots()
    assert image_grid(_images(4), nrow=2, ax=ax) is ax and len(ax.images) == 1
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        image_grid(torch.rand(3, 5))


# the notebooks' image_panels layouts: panels, images per panel, per row, lead inches
PANEL_LAYOUTS = [(3, 24, 6, 0.0), (2, 48, 8, 0.0), (2, 24, 8, 1.6), (2, 24, 4, 4.4)]


@pytest.mark.parametrize(("panels", "n", "nrow", "lead"), PANEL_LAYOUTS)
def test_image_panels_digits_are_readable_on_a_slide(panels, n, nrow, lead):
    fig, axes = image_panels({f"panel {k}": _images(n) for k in range(panels)}, nrow=nrow, lead=lead)
    assert len(axes) == panels + bool(lead)
    if lead > 3:  # as in the notebooks: a scatter plot of codes (03), or one picture without axes (01)
        axes[0].scatter(*(torch.randn(2, 100) * 5).numpy())
    elif lead:
        axes[0].imshow(torch.rand(28, 28).numpy())
        axes[0].set_axis_off()
    grids = axes[1:] if lead else axes
    assert [ax.get_title() for ax in grids] == [f"panel {k}" for k in range(panels)]
    assert all(digit_px_on_slide(ax) >= MIN_DIGIT_PX for ax in grids)
    assert saved_width_px(fig) <= MAX_FIGURE_PX


@pytest.mark.parametrize(("rows", "ncol"), [(7, 8), (5, 12), (3, 8)])
def test_image_rows_label_each_row(rows, ncol):
    labels = [f"model {k} (FID {100 * k})" for k in range(rows)]
    ax = image_rows({label: _images(ncol + 3) for label in labels}, ncol=ncol)
    assert [t.get_text() for t in ax.get_yticklabels()] == labels
    assert ax.images[0].get_array().shape[:2] == (rows * 30 + 2, ncol * 30 + 2)  # ncol images of each row
    assert digit_px_on_slide(ax) >= MIN_DIGIT_PX and saved_width_px(ax.figure) <= MAX_FIGURE_PX
    with pytest.raises(ValueError, match="have fewer"):
        image_rows({"short": _images(ncol - 1)}, ncol=ncol)


def test_image_rows_in_a_given_axes():
    _, axes = plt.subplots(1, 2, figsize=(11.5, 4.4), gridspec_kw={"width_ratios": [1, 1.4]})
    ax = image_rows({name: _images(16) for name in ["FVSBN", "NADE", "MADE", "PixelCNN", "PixelRNN"]}, ax=axes[1])
    assert ax is axes[1] and digit_px_on_slide(ax) >= MIN_DIGIT_PX


def test_saving_twice_gives_no_layout_warning():
    """savefig(bbox_inches="tight") restores a figure's layout engine from rcParams (constrained layout): the grid
    figures keep theirs a placeholder, so a second draw does not warn."""
    ax = image_grid(_images(8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2):
            ax.figure.savefig(io.BytesIO(), format="png", bbox_inches="tight")


def test_nonzero_panels_show_where_matrices_are_nonzero():
    matrix = torch.randn(6, 6).tril(-1)
    fig, axes = nonzero_panels({"a": matrix, "b": -matrix}, xlabel="input j", ylabel="logit i", title="non-zeros")
    assert [ax.get_title() for ax in axes] == ["a", "b"] and fig.get_suptitle() == "non-zeros"
    shown = axes[0].images[0].get_array()
    assert (torch.as_tensor(shown.astype(bool)) == (matrix != 0)).all()


def test_draw_receptive_field_colours_field_blind_spot_and_pixel():
    field = torch.zeros(5, 5, dtype=torch.bool)
    field[0, :3] = True
    blind = torch.zeros(5, 5, dtype=torch.bool)
    blind[0, 4] = True
    ax = draw_receptive_field(field, blind, pixel=(2, 2))
    picture = torch.as_tensor(ax.images[0].get_array())
    assert torch.allclose(picture[0, 0], torch.tensor([0.2, 0.5, 0.9]))
    assert torch.allclose(picture[0, 4], torch.tensor([0.95, 0.6, 0.2]))
    assert (picture[2, 2] == 1).all() and (picture[4, 4] == 0).all()
    assert ax.get_title() == "blue: receptive field of pixel (2, 2)\norange: earlier pixels it cannot see"


def test_latent_scatter_draws_the_prior_circle_where_asked():
    codes = {"autoencoder": torch.randn(50, 2) * 4, "VAE": torch.randn(50, 2)}
    fig, axes = latent_scatter(codes, torch.randint(0, 10, (50,)), prior_circle=["VAE"])
    assert [len(ax.patches) for ax in axes] == [0, 1]
    assert axes[1].get_legend().get_texts()[0].get_text() == "2σ of the prior"


def test_plot_curves_one_line_per_entry_and_log2_axis():
    ax = plot_curves([2, 4, 8], {"train": [1, 2, 3], "test": [3, 2, 1]}, xscale="log2", xlabel="k")
    assert [line.get_label() for line in ax.get_lines()] == ["train", "test"]
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "k"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "test"]


def test_label_points_labels_never_overlap():
    fig, ax = plt.subplots(figsize=(6, 4.5))
    points = {"FVSBN": (99.5, 702), "NADE": (97.4, 653), "MADE": (93.0, 562), "PixelCNN": (91.2, 705),
              "VAE": (97.3, 564), "PixelRNN": (82.9, 238), "independent Bernoulli": (208, 2502)}
    for x, y in points.values():
        ax.scatter(x, y)
    ax.set(yscale="log", xlim=(75, 230))
    notes = label_points(ax, points)
    fig.canvas.draw()
    boxes = [Text.get_window_extent(note) for note in notes]  # the text, not its leader line
    assert [note.get_text() for note in notes] and sorted(n.get_text() for n in notes) == sorted(points)
    overlaps = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a.overlaps(b)]
    assert not overlaps
