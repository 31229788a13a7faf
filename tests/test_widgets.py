import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_utils.widgets import (  # noqa: E402
    gaussian_likelihood_explorer,
    gaussian_likelihood_view,
    latent_decoder_view,
    latent_explorer,
)


def test_gaussian_view_returns_the_log_likelihood_it_draws():
    data = torch.randn(500) * 2 + 1
    value = gaussian_likelihood_view(data, 1.0, 2.0)
    expected = torch.distributions.Normal(1.0, 2.0).log_prob(data).mean().item()
    assert value == pytest.approx(expected, rel=1e-5)
    assert f"{expected:.3f}" in plt.gca().get_title()
    plt.close("all")
    with pytest.raises(ValueError, match="sigma must be positive"):
        gaussian_likelihood_view(data, 0.0, -1.0)


def test_explorer_responds_to_its_sliders():
    data = torch.randn(300) + 3
    explorer = gaussian_likelihood_explorer(data)
    mu, sigma = explorer.children[0], explorer.children[1]
    explorer.update()
    before = explorer.result
    mu.value = float(data.mean())
    sigma.value = round(float(data.std()), 2)
    assert explorer.result > before  # moving to the MLE raises the log-likelihood
    plt.close("all")


def test_latent_explorer_decodes_the_slider_position():
    from course_utils.models.autoencoders import MLPAutoencoder

    model = MLPAutoencoder(MLPAutoencoder.Config(latent_dim=2, hidden=(16,))).eval()
    codes, labels = torch.randn(50, 2), torch.randint(0, 10, (50,))
    image = latent_decoder_view(model, 0.5, -0.25, codes, labels)
    torch.testing.assert_close(image, model.decode(torch.tensor([[0.5, -0.25]]))[0].detach())
    explorer = latent_explorer(model, codes, labels)
    explorer.children[0].value = explorer.children[0].min
    first = explorer.result.clone()
    explorer.children[1].value = explorer.children[1].max
    assert not torch.equal(first, explorer.result)  # moving a slider changes the decoded image
    torch.testing.assert_close(explorer.result, model.decode(
        torch.tensor([[explorer.children[0].value, explorer.children[1].value]]))[0].detach())
    plt.close("all")
    with pytest.raises(ValueError, match="2-D latent"):
        latent_decoder_view(MLPAutoencoder(MLPAutoencoder.Config(latent_dim=3, hidden=(8,))), 0.0, 0.0)


def test_sampling_view_and_stepper_follow_the_snapshots():
    from course_utils.models.autoregressive import NADE
    from course_utils.widgets import sampling_stepper, sampling_view

    shots = NADE(NADE.Config(hidden=8)).sample_progress(2, every=28)
    assert shots.shape == (28, 2, 1, 28, 28)
    assert sampling_view(shots, 0, every=28) == 28
    assert sampling_view(shots, 27, every=28) == 784
    assert plt.gca().get_title() == "784 of 784 pixels drawn"
    with pytest.raises(ValueError, match=r"step must be in 0..27"):
        sampling_view(shots, 28, every=28)
    stepper = sampling_stepper(shots, every=28)
    play, interactive = stepper.children
    interactive.update()
    slider = interactive.children[0]
    slider.value = 3
    assert interactive.result == 4 * 28
    assert play.max == slider.max == 27
    plt.close("all")


def test_gan_snapshot_and_stepper():
    from course_utils.models.gans import GAN
    from course_utils.widgets import gan_snapshot, gan_training_stepper, gan_training_view

    gan = GAN(GAN.Config(hidden=(8,)))
    snaps = [gan_snapshot(gan, n=50, resolution=10) for _ in range(3)]
    assert snaps[0]["samples"].shape == (50, 2) and snaps[0]["d"].shape == (10, 10)
    assert 0 <= snaps[0]["d"].min() and snaps[0]["d"].max() <= 1
    torch.testing.assert_close(snaps[0]["samples"], snaps[1]["samples"])  # seeded
    gan_training_view(snaps, 2, torch.randn(20, 2), every=100)
    assert plt.gca().get_title() == "after 200 generator steps"
    stepper = gan_training_stepper(snaps, every=100)
    stepper.children[1].children[0].value = 1
    assert "after 100 generator steps" in [a.get_title() for a in plt.gcf().axes]
    with pytest.raises(ValueError, match="step must be in 0..2"):
        gan_training_view(snaps, 3)
    with pytest.raises(ValueError, match="2-D GANs"):
        gan_snapshot(GAN(GAN.Config(data_shape=(1, 28, 28), hidden=(8,))))
    plt.close("all")


def test_gan_explorer_follows_its_sliders():
    from course_utils.models.gans import GAN
    from course_utils.widgets import gan_explorer

    gan = GAN(GAN.Config(data_shape=(1, 28, 28), latent_dim=6, hidden=(16,), num_classes=3))
    explorer = gan_explorer(gan, sliders=2)
    explorer.update()
    first = explorer.result.clone()
    explorer.children[0].value = 2.5  # z1
    moved = explorer.result.clone()
    assert moved.shape == (1, 28, 28) and not torch.equal(first, moved)
    explorer.children[2].value = 1  # the label
    assert not torch.equal(moved, explorer.result)
    plain = gan_explorer(GAN(GAN.Config(data_shape=(1, 28, 28), latent_dim=6, hidden=(16,))), sliders=3)
    assert [c.description for c in plain.children[:3]] == ["z1", "z2", "z3"]
    plt.close("all")


# Each explorer with a tiny model, as a notebook cell: what `jupyter nbconvert --execute` runs.
HEADLESS_CELLS = [
    """import torch
from course_utils.models.autoencoders import MLPAutoencoder
from course_utils.models.autoregressive import NADE
from course_utils.models.gans import GAN
from course_utils import widgets
torch.manual_seed(0)""",
    "widgets.gaussian_likelihood_explorer(torch.randn(200))",
    "widgets.latent_explorer(MLPAutoencoder(MLPAutoencoder.Config(latent_dim=2, hidden=(16,))).eval(), "
    "torch.randn(50, 2), torch.randint(0, 10, (50,)))",
    "widgets.sampling_stepper(NADE(NADE.Config(hidden=8)).sample_progress(2, every=196), every=196)",
    "gan = GAN(GAN.Config(hidden=(8,)))\n"
    "widgets.gan_training_stepper([widgets.gan_snapshot(gan, n=50, resolution=10) for _ in range(2)], every=10)",
    "widgets.gan_explorer(GAN(GAN.Config(data_shape=(1, 28, 28), latent_dim=4, hidden=(8,))), sliders=2)",
    "print('after the widgets')",
]


def test_headless_run_sends_nothing_back_for_the_widgets(monkeypatch):
    """Issue 17: `jupyter nbconvert --execute notebooks/03_autoencoders.ipynb` stalled after the latent_explorer cell
    (for exactly the 600-s cell timeout here; forever without one). nbclient plays the front end of an Output widget:
    each output captured inside `with out:` makes it send the widget's state to the kernel on the shell socket while
    it awaits the cell's execute_reply on that socket, and that reply's wake-up can be lost (nbclient issue #312).
    The explorers draw their first view without `with out:`, so a headless run sends nothing, and the saved widget
    state still holds each first view's figure (the static decks show it)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.output_widget import OutputWidget

    sent = []
    monkeypatch.setattr(OutputWidget, "send", lambda self, data=None, *a, **k: sent.append(data))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in HEADLESS_CELLS])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    assert not sent, f"nbclient sent {len(sent)} Output-widget updates to the kernel during the run"
    assert "after the widgets" in nb.cells[-1].outputs[0]["text"]
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    views = [m["state"]["outputs"] for m in state.values() if m["model_name"] == "OutputModel"]
    assert len(views) == 5, [m["model_name"] for m in state.values()]
    assert all(any("image/png" in o.get("data", {}) for o in outputs) for outputs in views), views
