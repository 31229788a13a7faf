import json
import pickle

import pytest
import torch

from course_utils import checkpoints
from course_utils.checkpoints import CheckpointError
from course_utils.models.density import BernoulliImageModel, GaussianMixture
from course_utils.zoo import RECIPES


def _mixture(k=3):
    return GaussianMixture(GaussianMixture.Config(dim=2, components=k))


def test_round_trip_rebuilds_model_and_sidecar(tmp_path):
    model = _mixture()
    checkpoints.save(model, "gmm", metrics={"nll": 1.5}, command="python -m course_utils train gmm",
                     train_seconds=2.0, root=tmp_path)
    loaded = checkpoints.load_pretrained("gmm", root=tmp_path)
    x = torch.randn(10, 2)
    torch.testing.assert_close(loaded.log_prob(x), model.log_prob(x))
    meta = checkpoints.read_sidecar("gmm", root=tmp_path)
    assert meta["command"] == "python -m course_utils train gmm" and meta["metrics"] == {"nll": 1.5}
    assert meta["config"] == {"dim": 2, "components": 3, "init_std": 0.5}
    assert {"torch", "torchvision", "python"} <= set(meta["versions"])
    assert checkpoints.available_checkpoints(tmp_path) == ["gmm"]


def test_half_precision_round_trip(tmp_path):
    model = _mixture()
    checkpoints.save(model, "gmm16", metrics={}, command="x", half=True, root=tmp_path)
    loaded = checkpoints.load_pretrained("gmm16", root=tmp_path)
    assert loaded.means.dtype == torch.float32
    torch.testing.assert_close(loaded.means, model.means, atol=2e-3, rtol=1e-3)


def test_config_mismatch_is_a_clear_error(tmp_path):
    checkpoints.save(_mixture(3), "gmm", metrics={}, command="x", root=tmp_path)
    with pytest.raises(CheckpointError, match="components: checkpoint 3, model 5"):
        checkpoints.load_weights(_mixture(5), "gmm", root=tmp_path)


class _Evil:
    ran = False

    def __reduce__(self):
        return (_mark_ran, ())


def _mark_ran():
    _Evil.ran = True
    return {}


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_refuses_a_pickle_that_would_run_code(tmp_path):
    model = BernoulliImageModel()
    checkpoints.save(model, "evil", metrics={}, command="x", root=tmp_path)
    with open(tmp_path / "evil.pt", "wb") as f:
        pickle.dump({"logits": _Evil()}, f)
    with pytest.raises(CheckpointError, match="could run code"):
        checkpoints.load_pretrained("evil", root=tmp_path)
    assert not _Evil.ran


def test_missing_checkpoint_lists_what_exists_and_how_to_make_it(tmp_path):
    checkpoints.save(_mixture(), "gmm", metrics={}, command="x", root=tmp_path)
    with pytest.raises(FileNotFoundError, match=r"available: gmm.*python -m course_utils train vae"):
        checkpoints.load_pretrained("vae", root=tmp_path)


def test_bad_names_and_foreign_classes(tmp_path):
    with pytest.raises(ValueError, match="plain file stem"):
        checkpoints.read_sidecar("../etc/passwd", root=tmp_path)
    checkpoints.save(_mixture(), "gmm", metrics={}, command="x", root=tmp_path)
    meta = json.loads((tmp_path / "gmm.json").read_text())
    meta["model"] = "os.system"
    (tmp_path / "gmm.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="only course_utils models"):
        checkpoints.load_pretrained("gmm", root=tmp_path)


def test_load_or_train_falls_back_with_a_note(tmp_path, capsys):
    model = checkpoints.load_or_train("absent", lambda: _mixture(), root=tmp_path)
    assert isinstance(model, GaussianMixture)
    assert "not found: training it now" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(checkpoints.available_checkpoints()))
def test_every_shipped_checkpoint_reproduces_its_headline_metric(name):
    recipe = RECIPES[name]
    meta = checkpoints.read_sidecar(name)
    got = recipe.headline_value(checkpoints.load_pretrained(name))
    assert abs(got - meta["metrics"][recipe.headline]) <= recipe.tolerance
    assert meta["command"] == f"python -m course_utils train {name}"


def test_every_recipe_ships_a_checkpoint():
    missing = sorted(set(RECIPES) - set(checkpoints.available_checkpoints()))
    assert not missing, f"recipes without a shipped checkpoint: {missing}; run `python -m course_utils train NAME`"


def test_shipped_checkpoints_and_films_stay_under_30_mb():
    from course_utils.gan_film import FILM_DIR

    files = [*checkpoints.CHECKPOINT_DIR.glob("*.pt"), *FILM_DIR.glob("*.pt")]
    total = sum(p.stat().st_size for p in files)
    assert total < 30_000_000, f"checkpoints take {total / 1e6:.2f} MB; store large ones in float16 (Recipe.half)"


def test_sidecars_name_models_by_registry_key():
    for name in checkpoints.available_checkpoints():
        key = checkpoints.read_sidecar(name)["model"]
        assert "." not in key and type(checkpoints.load_pretrained(name)).__name__ == key


def test_a_sidecar_with_the_old_module_path_still_loads(tmp_path):
    """Sidecars written before the registry named MADE by the module it lived in then (before the split)."""
    import shutil

    for suffix in (".pt", ".json"):
        shutil.copy(checkpoints.CHECKPOINT_DIR / f"made_fashion{suffix}", tmp_path / f"made_fashion{suffix}")
    meta = json.loads((tmp_path / "made_fashion.json").read_text())
    meta["model"] = "course_utils.models.autoregressive.MADE"  # MADE lives in models/made.py now
    (tmp_path / "made_fashion.json").write_text(json.dumps(meta))
    old = checkpoints.load_pretrained("made_fashion", root=tmp_path)
    new = checkpoints.load_pretrained("made_fashion")
    x = torch.bernoulli(torch.full((4, 1, 28, 28), 0.3))
    torch.testing.assert_close(old.log_prob(x), new.log_prob(x))


def test_moving_a_class_to_another_module_needs_no_checkpoint_change(tmp_path, monkeypatch):
    from course_utils.models.base import MODEL_REGISTRY

    checkpoints.save(_mixture(), "gmm", metrics={}, command="x", root=tmp_path)
    monkeypatch.setattr(GaussianMixture, "__module__", "course_utils.models.somewhere_else")
    assert MODEL_REGISTRY["GaussianMixture"] is GaussianMixture
    assert isinstance(checkpoints.load_pretrained("gmm", root=tmp_path), GaussianMixture)


def test_an_unknown_model_key_is_a_clear_error(tmp_path):
    checkpoints.save(_mixture(), "gmm", metrics={}, command="x", root=tmp_path)
    meta = json.loads((tmp_path / "gmm.json").read_text())
    meta["model"] = "GatedPixelCNN9000"
    (tmp_path / "gmm.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="GatedPixelCNN9000.*does not have.*it has: .*MADE"):
        checkpoints.load_pretrained("gmm", root=tmp_path)


def test_a_field_added_after_the_checkpoint_loads_at_its_default_and_only_there(tmp_path):
    # A sidecar written before a config field existed lacks it: the checkpoint was made with the field's default.
    checkpoints.save(BernoulliImageModel(), "old", metrics={}, command="x", root=tmp_path)
    meta = json.loads((tmp_path / "old.json").read_text())
    del meta["config"]["clamp"]
    (tmp_path / "old.json").write_text(json.dumps(meta))
    assert checkpoints.load_pretrained("old", root=tmp_path).config.clamp == BernoulliImageModel.Config().clamp
    other = BernoulliImageModel(BernoulliImageModel.Config(clamp=0.01))
    with pytest.raises(CheckpointError, match=r"clamp: checkpoint 0\.001, model 0\.01"):
        checkpoints.load_weights(other, "old", root=tmp_path)
