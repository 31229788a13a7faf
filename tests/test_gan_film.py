"""The GAN training film: notebook 05's fallback when a busy CPU cuts the live ring GAN short."""

import json

import pytest
import torch

from course_utils.gan_film import FILM_DIR, RING_RUN, GANFilm, load_film, save_film
from course_utils.models.gans import GAN
from course_utils.train import fit_gan


def test_the_shipped_film_covers_the_whole_run():
    film = load_film()
    n = RING_RUN["steps"] // RING_RUN["every"] + 1  # a snapshot before training and one every 100 steps
    assert len(film.snapshots) == len(film.coverage) == n
    assert film.steps[-1] == RING_RUN["steps"]
    assert len(film.d_loss) == len(film.g_loss) == RING_RUN["steps"]
    assert film.snapshots[0]["samples"].shape == (1000, 2) and film.snapshots[0]["d"].dim() == 2
    assert all(0 <= c.modes_captured <= 8 for c in film.coverage)
    sidecar = json.loads((FILM_DIR / "gan_ring8_film.json").read_text())
    assert sidecar["command"] == "python -m course_utils film"
    assert sidecar["final_coverage"] == str(film.coverage[-1])


def test_the_shipped_film_shows_the_game_oscillate():
    # notebook 05b's lesson: with a constant learning rate, coverage rises and falls again
    captured = [c.modes_captured for c in load_film().coverage]
    peak = captured.index(max(captured))
    assert max(captured) >= 7 and min(captured[peak:]) <= max(captured) - 3, captured


def test_a_recorded_film_saves_and_loads(tmp_path):
    torch.manual_seed(0)
    gan = GAN(GAN.Config(latent_dim=2, hidden=(16,)))
    film = GANFilm(every=2)
    film.record(gan)
    history = fit_gan(gan, torch.randn(512, 2), steps=4, batch_size=64, progress=False, device="cpu",
                      callbacks=[film.record], callback_every=2)
    film.finish(history)
    assert film.steps == [0, 2, 4]
    save_film(film, "tiny", command="test", seconds=history.seconds, root=tmp_path)
    again = load_film("tiny", root=tmp_path)
    assert again.steps == film.steps and [str(c) for c in again.coverage] == [str(c) for c in film.coverage]
    torch.testing.assert_close(again.snapshots[-1]["samples"], film.snapshots[-1]["samples"], atol=2e-3, rtol=1e-3)
    assert again.d_loss == pytest.approx(film.d_loss)


def test_a_missing_film_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m course_utils film"):
        load_film("nothing", root=tmp_path)


def test_a_run_cut_short_finishes_with_the_shipped_film(capsys):
    gan = GAN(GAN.Config(latent_dim=2, hidden=(8,)))
    film = GANFilm(every=1000)
    film.record(gan)
    history = fit_gan(gan, torch.randn(256, 2), steps=1_000_000, seconds=0.2, batch_size=64, progress=False,
                      device="cpu", callbacks=[film.record], callback_every=1000)
    assert history.cut_short
    shipped = film.finish(history)
    assert len(shipped.snapshots) == RING_RUN["steps"] // RING_RUN["every"] + 1
    out = capsys.readouterr().out
    assert "shipped recording" in out and max(len(line) for line in out.splitlines()) <= 80
