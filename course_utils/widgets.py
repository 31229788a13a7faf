"""ipywidgets explorers for live lectures.

Each explorer is a thin `ipywidgets.interactive` around a plain update function that draws
and returns the numbers it shows, so the update functions are tested without a browser.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch.distributions import Normal

__all__ = ["gaussian_likelihood_view", "gaussian_likelihood_explorer", "latent_decoder_view", "latent_explorer",
           "sampling_view", "sampling_stepper"]


def _interactive(update, **controls):
    """`ipywidgets.interactive(update, **controls)` whose first view is written into its Output widget's state.

    `interactive` draws its first view while the cell runs, inside `with out:`. Run headless by nbclient (`jupyter
    nbconvert --execute`, papermill, the reproducibility test), every output captured that way makes nbclient's
    stand-in for the front end's Output widget send the widget's new state back to the kernel on the shell socket,
    while nbclient waits for the cell's execute_reply on that same asyncio socket. With nbclient 0.10-0.11 and
    pyzmq 27 the reply's wake-up can be lost: the kernel is idle, the reply sits unread, and the run stalls until
    the cell timeout (forever without one; nbclient issue #312). Measured on notebook 03: 599.7 s after the
    `latent_explorer` cell with a 600-s timeout. Drawn here with `capture_output` and handed to the Output widget
    as its `outputs`, the first view reaches the front end (and the saved widget state the static decks show) as
    before, and nbclient sends nothing. Moving a slider later goes through `interactive.update`, unchanged.
    """
    import ipywidgets as w
    from IPython.utils.capture import capture_output
    from ipywidgets.widgets.interaction import show_inline_matplotlib_plots

    class Explorer(w.interactive):
        _drawn = False

        def update(self, *args):
            if self._drawn:
                return super().update(*args)
            self._drawn = True
            show_inline_matplotlib_plots()  # a figure the cell drew before stays in the cell, as interactive does
            self.kwargs = {c._kwarg: c.get_interact_value() for c in self.kwargs_widgets}
            with capture_output() as shown:
                self.result = self.f(**self.kwargs)
                show_inline_matplotlib_plots()
            streams = [{"output_type": "stream", "name": name, "text": text}
                       for name, text in (("stdout", shown.stdout), ("stderr", shown.stderr)) if text]
            self.out.outputs = tuple(streams + [{"output_type": "display_data", "data": o.data,
                                                 "metadata": o.metadata} for o in shown.outputs])

    return Explorer(update, **controls)


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

    return _interactive(
        update,
        mu=w.FloatSlider(value=round(m - s, 2), min=round(m - 3 * s, 2), max=round(m + 3 * s, 2), step=0.05),
        sigma=w.FloatSlider(value=round(s / 2, 2), min=round(s / 5, 2), max=round(3 * s, 2), step=0.05),
    )


@torch.no_grad()
def latent_decoder_view(model, z1: float, z2: float, codes: torch.Tensor | None = None,
                        labels: torch.Tensor | None = None, axes=None) -> torch.Tensor:
    """Decode the 2-D code (z1, z2); draw it on the latent scatter (if codes given) and the image.

    Returns the decoded image, (1, 28, 28).
    """
    if getattr(model.config, "latent_dim", None) != 2:
        raise ValueError(f"latent_decoder_view needs a model with a 2-D latent space, got latent_dim="
                         f"{getattr(model.config, 'latent_dim', None)}. Use the 'ae_mnist_2d' checkpoint.")
    dev = next(model.parameters()).device
    image = model.decode(torch.tensor([[z1, z2]], dtype=torch.float32, device=dev))[0].cpu()  # (1, 28, 28)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8, 3.8))
    if codes is not None:
        c = codes.detach().cpu().numpy()
        axes[0].scatter(c[:, 0], c[:, 1], c=None if labels is None else np.asarray(labels), cmap="tab10", s=3, alpha=0.5)
        axes[0].plot([z1], [z2], "k*", ms=18)
        axes[0].set_title("latent space")
    axes[1].imshow(image[0].clamp(0, 1).numpy(), cmap="gray", vmin=0, vmax=1)
    axes[1].set_title(f"decode(z = [{z1:.2f}, {z2:.2f}])")
    axes[1].set_axis_off()
    return image


def latent_explorer(model, codes: torch.Tensor, labels: torch.Tensor | None = None):
    """Two sliders over the latent plane (the range of `codes`, (N, 2)); the decoded image follows."""
    import ipywidgets as w

    lo, hi = codes.min(0).values.tolist(), codes.max(0).values.tolist()

    def update(z1, z2):
        image = latent_decoder_view(model, z1, z2, codes, labels)
        plt.show()
        return image

    def slider(i):
        return w.FloatSlider(value=round((lo[i] + hi[i]) / 2, 2), min=round(lo[i], 2), max=round(hi[i], 2),
                             step=round((hi[i] - lo[i]) / 100, 3), description=f"z{i + 1}")

    return _interactive(update, z1=slider(0), z2=slider(1))


def sampling_view(shots: torch.Tensor, step: int, every: int, ax=None) -> int:
    """Draw snapshot `step` of an autoregressive sampler's snapshots (T, n, 1, H, W) (from
    `model.sample_progress(n, every)`): grey = not drawn yet. Returns the number of pixels drawn."""
    if shots.dim() != 5:
        raise ValueError(f"shots must have shape (T, n, 1, H, W) as returned by sample_progress, got {tuple(shots.shape)}.")
    if not 0 <= step < len(shots):
        raise ValueError(f"step must be in 0..{len(shots) - 1} (there are {len(shots)} snapshots), got {step}.")
    from .plotting import image_grid

    pixels = shots.shape[-1] * shots.shape[-2]
    drawn = min((step + 1) * every, pixels)
    if ax is None:
        _, ax = plt.subplots(figsize=(2 * shots.shape[1], 2.4))
    image_grid(shots[step], nrow=shots.shape[1], ax=ax, title=f"{drawn} of {pixels} pixels drawn")
    return drawn


def sampling_stepper(shots: torch.Tensor, every: int):
    """A slider (and play button) over the snapshots of pixel-by-pixel sampling."""
    import ipywidgets as w

    def update(step):
        drawn = sampling_view(shots, step, every)
        plt.show()
        return drawn

    slider = w.IntSlider(value=len(shots) // 2, min=0, max=len(shots) - 1, description="snapshot")
    play = w.Play(value=slider.value, min=0, max=len(shots) - 1, interval=150)
    w.jslink((play, "value"), (slider, "value"))
    return w.VBox([play, _interactive(update, step=slider)])


# ---------------------------------------------------------------- GANs (notebook 05)

@torch.no_grad()
def gan_snapshot(gan, n: int = 1000, lim: float = 3.0, resolution: int = 60, seed: int = 0) -> dict:
    """What a 2-D GAN looks like now: n samples (n, 2) and D(x) = sigmoid(logit) on a grid (resolution, resolution)."""
    if tuple(gan.config.data_shape) != (2,) or gan.config.pack != 1 or gan.config.num_classes:
        raise ValueError("gan_snapshot draws unconditional 2-D GANs with pack=1, got config " f"{gan.config}.")
    axis = torch.linspace(-lim, lim, resolution)
    xx, yy = torch.meshgrid(axis, axis, indexing="xy")
    points = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)
    d = torch.sigmoid(gan.discriminate(points)).reshape(resolution, resolution)
    g = torch.Generator(device=gan.device).manual_seed(seed)
    return {"samples": gan.sample(n, generator=g).cpu(), "d": d.cpu(), "lim": lim}


def gan_training_view(snapshots: list, step: int, real: torch.Tensor | None = None, ax=None, every: int = 1) -> None:
    """Snapshot `step`: D's decision surface (colour: D(x), the probability 'real'), real points and G's samples."""
    if not 0 <= step < len(snapshots):
        raise ValueError(f"step must be in 0..{len(snapshots) - 1} (there are {len(snapshots)} snapshots), got {step}.")
    snap = snapshots[step]
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5))
    lim = snap["lim"]
    im = ax.imshow(snap["d"].numpy(), origin="lower", extent=(-lim, lim, -lim, lim), cmap="coolwarm_r", vmin=0, vmax=1)
    if real is not None:
        ax.scatter(real[:, 0], real[:, 1], s=4, c="k", alpha=0.3, label="data")
    s = snap["samples"]
    ax.scatter(s[:, 0], s[:, 1], s=4, c="gold", edgecolors="none", label="G(z)")
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), title=f"after {step * every} generator steps")
    ax.legend(loc="upper right", fontsize=9, markerscale=3)
    if ax.figure is not None and len(ax.figure.axes) == 1:
        ax.figure.colorbar(im, ax=ax, label="D(x)")


def gan_training_stepper(snapshots: list, real: torch.Tensor | None = None, every: int = 1):
    """A slider (and play button) over GAN training snapshots from `gan_snapshot`."""
    import ipywidgets as w

    def update(step):
        gan_training_view(snapshots, step, real, every=every)
        plt.show()

    slider = w.IntSlider(value=len(snapshots) - 1, min=0, max=len(snapshots) - 1, description="snapshot")
    play = w.Play(value=slider.value, min=0, max=len(snapshots) - 1, interval=200)
    w.jslink((play, "value"), (slider, "value"))
    return w.VBox([play, _interactive(update, step=slider)])


@torch.no_grad()
def gan_latent_view(gan, z: torch.Tensor, label: int | None = None, ax=None) -> torch.Tensor:
    """G(z) for one latent vector z (latent_dim,) (and a class label for a conditional GAN): (1, 28, 28)."""
    labels = None if not gan.config.num_classes else torch.tensor([0 if label is None else label])
    image = gan.generate(z.reshape(1, -1), labels)[0].cpu()
    if ax is None:
        _, ax = plt.subplots(figsize=(3, 3))
    ax.imshow(image[0].numpy(), cmap="gray", vmin=0, vmax=1)
    ax.set_axis_off()
    ax.set_title("G(z)" if label is None else f"G(z, y={label})")
    return image


def gan_explorer(gan, sliders: int = 4, seed: int = 0):
    """Sliders over the first `sliders` coordinates of z (the others fixed by `seed`); a label for conditional GANs."""
    import ipywidgets as w

    base = torch.randn(gan.config.latent_dim, generator=torch.Generator().manual_seed(seed))
    sliders = min(sliders, gan.config.latent_dim)

    def update(**coords):
        label = coords.pop("label", None)
        z = base.clone()
        for i in range(sliders):
            z[i] = coords[f"z{i + 1}"]
        image = gan_latent_view(gan, z, label)
        plt.show()
        return image

    controls = {f"z{i + 1}": w.FloatSlider(value=round(float(base[i]), 2), min=-3, max=3, step=0.05,
                                           description=f"z{i + 1}") for i in range(sliders)}
    if gan.config.num_classes:
        controls["label"] = w.IntSlider(value=0, min=0, max=gan.config.num_classes - 1, description="label")
    return _interactive(update, **controls)
