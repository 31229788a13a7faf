"""A 2-D GAN's training, recorded: G's samples, D's decision surface and the mode coverage every few steps.

Notebook 05 records the ring GAN live (`GANFilm` as a `fit_gan` callback); `data/checkpoints/gan_ring8_film.pt`
`data/films/gan_ring8_film.pt` is the shipped recording of the same run (`python -m course_utils film`), which the notebooks use when a
wall-clock cap cuts the live run short, so that later cells never depend on how far a live run got.
"""

from __future__ import annotations

import datetime
import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .data import DATA_DIR
from .evaluation import toy_coverage
from .metrics import ModeCoverage
from .runtime import say
from .widgets import gan_snapshot

__all__ = ["GANFilm", "load_film", "record_ring_gan", "save_film", "RING_RUN", "FILM_DIR"]

# The ring GAN of notebook 05: a plain MLP GAN, constant learning rate, a snapshot every 100 steps.
RING_RUN = {"hidden": (128, 128, 128), "steps": 2000, "every": 100, "batch_size": 256, "lr": 1e-3}
FILM_NAME = "gan_ring8_film"
FILM_DIR = DATA_DIR / "films"  # not data/checkpoints: a film is not a model


@dataclass
class GANFilm:
    """Snapshots of a 2-D GAN every `every` generator steps (the first before training) and both losses."""

    toy: str = "ring8"
    every: int = 100
    snapshots: list = field(default_factory=list)  # gan_snapshot dicts: samples (n, 2), d (R, R), lim
    coverage: list = field(default_factory=list)  # ModeCoverage of each snapshot
    d_loss: list = field(default_factory=list)  # every step's losses (filled by `finish`)
    g_loss: list = field(default_factory=list)

    def record(self, gan, history=None) -> None:
        """Add a snapshot of `gan` now; use as `fit_gan(..., callbacks=[film.record], callback_every=every)`."""
        self.snapshots.append(gan_snapshot(gan))
        self.coverage.append(toy_coverage(gan, self.toy))

    def finish(self, history) -> GANFilm:
        """Keep the history's losses and return the film, or the shipped recording if a cap cut training short."""
        if history.cut_short:
            say(f"The cells below use the shipped recording of this run ({FILM_NAME}) instead of the partial one.")
            return load_film()
        self.d_loss, self.g_loss = list(history.d_loss), list(history.g_loss)
        return self

    @property
    def steps(self) -> list[int]:
        """The generator step of each snapshot."""
        return [self.every * i for i in range(len(self.snapshots))]


def save_film(film: GANFilm, name: str = FILM_NAME, *, command: str, seconds: float,
              root: str | Path | None = None) -> Path:
    """Write NAME.pt (tensors only, float16 pictures) and NAME.json (how it was made)."""
    root = Path(root) if root is not None else FILM_DIR
    root.mkdir(parents=True, exist_ok=True)
    state = {
        "samples": torch.stack([s["samples"] for s in film.snapshots]).half(),  # (S, n, 2)
        "d": torch.stack([s["d"] for s in film.snapshots]).half(),  # (S, R, R)
        "lim": torch.tensor([s["lim"] for s in film.snapshots]),
        "counts": torch.tensor([list(c.counts) for c in film.coverage]),  # (S, modes)
        "captured": torch.tensor([c.modes_captured for c in film.coverage]),
        "high_quality": torch.tensor([c.high_quality_fraction for c in film.coverage], dtype=torch.float64),
        "d_loss": torch.tensor(film.d_loss), "g_loss": torch.tensor(film.g_loss),
        "every": torch.tensor(film.every),
    }
    pt = root / f"{name}.pt"
    torch.save(state, pt)
    sidecar = {"name": name, "kind": "GAN training film", "toy": film.toy, "run": RING_RUN,
               "final_coverage": str(film.coverage[-1]), "train_seconds": round(seconds, 1), "command": command,
               "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
               "versions": {"python": platform.python_version(), "torch": torch.__version__},
               "torch_threads": torch.get_num_threads()}
    (root / f"{name}.json").write_text(json.dumps(sidecar, indent=2) + "\n")
    return pt


def load_film(name: str = FILM_NAME, root: str | Path | None = None) -> GANFilm:
    """The shipped recording NAME (loaded with weights_only=True)."""
    root = Path(root) if root is not None else FILM_DIR
    pt = root / f"{name}.pt"
    if not pt.is_file():
        raise FileNotFoundError(f"no GAN film {pt}: the course ships it; `python -m course_utils film` re-records it.")
    state = torch.load(pt, map_location="cpu", weights_only=True)
    toy = json.loads((root / f"{name}.json").read_text()).get("toy", "ring8")
    film = GANFilm(toy=toy, every=int(state["every"]), d_loss=state["d_loss"].tolist(),
                   g_loss=state["g_loss"].tolist())
    for i in range(len(state["samples"])):
        film.snapshots.append({"samples": state["samples"][i].float(), "d": state["d"][i].float(),
                               "lim": float(state["lim"][i])})
        counts = tuple(int(c) for c in state["counts"][i])
        film.coverage.append(ModeCoverage(int(state["captured"][i]), len(counts),
                                          float(state["high_quality"][i]), counts))
    return film


def record_ring_gan(seconds: float | None = None, progress: bool = True):
    """Train notebook 05's ring GAN (seeded, RING_RUN) and record it; returns (film, history, wall seconds)."""
    from .data import ring_of_gaussians
    from .models.gans import GAN
    from .train import fit_gan

    torch.manual_seed(0)
    ring_data = ring_of_gaussians().sample((100_000,))
    toy = GAN(GAN.Config(latent_dim=2, hidden=RING_RUN["hidden"]))
    film = GANFilm(every=RING_RUN["every"])
    film.record(toy)
    start = time.perf_counter()
    history = fit_gan(toy, ring_data, steps=RING_RUN["steps"], seconds=seconds, batch_size=RING_RUN["batch_size"],
                      lr=RING_RUN["lr"], callbacks=[film.record], callback_every=RING_RUN["every"], progress=progress)
    return film.finish(history), history, time.perf_counter() - start
