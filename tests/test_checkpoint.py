"""Checkpoints: a good one comes back exactly; a bad one is a one-line CheckpointError naming the file."""
import json

import numpy as np
import pytest

from mnist.checkpoint import load_checkpoint, save_checkpoint
from mnist.config import TrainConfig
from mnist.errors import CheckpointError
from mnist.saved_model import SavedModel
from mnist.train import Trainer
from test_training import synthetic_data

SETTINGS = {"layer_sizes": (6, 5, 3), "epochs": 2, "batch_size": 32, "dropout": 0.3, "momentum": 0.9}


def make_trainer(folder, **settings) -> Trainer:
    return Trainer(TrainConfig(**{**SETTINGS, **settings}), synthetic_data(), folder, log=lambda *_: None)


@pytest.fixture
def trained(tmp_path):
    """A trainer after two epochs (momentum buffers and the dropout generator in use), and its checkpoint."""
    trainer = make_trainer(tmp_path / "run")
    trainer.run()
    return trainer, trainer.checkpoint_path


def assert_same_state(a: dict, b: dict):
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], np.ndarray):
            assert a[key].dtype == b[key].dtype and np.array_equal(a[key], b[key]), key
        else:
            assert a[key] == b[key], key


def test_save_then_load_returns_exactly_what_was_saved(tmp_path):
    rng = np.random.default_rng(0)
    parameters = {"layers.0.weight": rng.normal(size=(4, 3)).astype(np.float32),
                  "layers.0.bias": np.array([np.nextafter(np.float32(1), np.float32(2))])}
    optimizer_state = {"lr": 0.1, "nesterov": True, "state.0.velocity": rng.normal(size=(4, 3)),
                       "state.1.step": np.int64(7)}
    record = {"config": {"layer_sizes": [4, 3]}, "history": [{"epoch": 1, "val_loss": None, "lr": 1 / 3}]}
    save_checkpoint(tmp_path / "c.npz", parameters, optimizer_state, record)
    loaded_parameters, loaded_state, loaded_record = load_checkpoint(tmp_path / "c.npz")
    assert_same_state(loaded_parameters, parameters)
    assert_same_state(loaded_state, {**optimizer_state, "state.1.step": 7})
    assert {key: value for key, value in loaded_record.items() if key != "format_version"} == record


def test_a_training_checkpoint_restores_parameters_optimizer_progress_and_dropout(trained, tmp_path):
    trainer, path = trained
    parameters, optimizer_state, record = load_checkpoint(path)
    assert_same_state(parameters, trainer.model.state_dict())
    assert_same_state(optimizer_state, trainer.optimizer.state_dict())
    assert record["progress"] == vars(trainer.progress)
    assert record["config"] == trainer.config.to_dict()

    restored = make_trainer(tmp_path / "other")
    restored.restore(path)
    assert_same_state(restored.model.state_dict(), trainer.model.state_dict())
    assert_same_state(restored.optimizer.state_dict(), trainer.optimizer.state_dict())
    assert vars(restored.progress) == vars(trainer.progress)
    assert restored._dropout_rng().bit_generator.state == trainer._dropout_rng().bit_generator.state


def test_saved_model_rebuilds_the_trained_network(trained):
    trainer, path = trained
    saved = SavedModel(path)
    assert_same_state(saved.model.state_dict(), trainer.model.state_dict())
    assert saved.model.config() == trainer.model.config()
    assert saved.class_names == ("a", "b", "c") and not saved.model.training


# ---- broken files --------------------------------------------------------------------------

def rewrite(path, change) -> None:
    """Apply `change` to the checkpoint's arrays (by entry name) and write them back."""
    with np.load(path) as archive:
        arrays = dict(archive)
    change(arrays)
    with open(path, "wb") as file:
        np.savez(file, **arrays)


def edit_record(edit):
    def change(arrays):
        record = json.loads(arrays["record.json"].tobytes())
        edit(record)
        arrays["record.json"] = np.frombuffer(json.dumps(record).encode(), np.uint8)
    return change


def flip_middle_bytes(path):
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 8] = bytes(255 - b for b in data[middle:middle + 8])
    path.write_bytes(bytes(data))


BROKEN_FILES = {
    "corrupt": flip_middle_bytes,
    "truncated": lambda path: path.write_bytes(path.read_bytes()[:path.stat().st_size // 2]),
    "empty": lambda path: path.write_bytes(b""),
    "text": lambda path: path.write_text("not a checkpoint\n"),
    "npy": lambda path: np.save(open(path, "wb"), np.zeros(3)),
    "npz without record": lambda path: rewrite(path, lambda arrays: arrays.pop("record.json")),
    "record not JSON": lambda path: rewrite(path, lambda arrays: arrays.update(
        {"record.json": np.frombuffer(b"\xff{oops", np.uint8)})),
    "record not a dict": lambda path: rewrite(path, lambda arrays: arrays.update(
        {"record.json": np.frombuffer(b"[1, 2]", np.uint8)})),
    "other format version": lambda path: rewrite(path, edit_record(lambda r: r.update(format_version=99))),
    "no optimizer in record": lambda path: rewrite(path, edit_record(lambda r: r.pop("optimizer"))),
    "optimizer array missing": lambda path: rewrite(
        path, lambda arrays: arrays.pop(next(name for name in arrays if name.startswith("optim/")))),
}

LOADERS = {
    "load_checkpoint": load_checkpoint,
    "SavedModel": SavedModel,
    "Trainer.restore": lambda path: make_trainer(path.parent / "restored").restore(path),
}


def assert_checkpoint_error(load, path):
    with pytest.raises(CheckpointError) as error:
        load(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    return message


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("damage", BROKEN_FILES)
def test_a_broken_file_is_a_checkpoint_error_naming_it(trained, damage, loader):
    _, path = trained
    BROKEN_FILES[damage](path)
    assert_checkpoint_error(LOADERS[loader], path)


def set_array(name, value):
    return lambda arrays: arrays.update({name: value(arrays[name])})


PARAMETER_MISFITS = {
    "wrong shape": set_array("param/layers.0.weight", lambda w: w.T.copy()),
    "wrong dtype": set_array("param/layers.0.weight", lambda w: w.astype(np.float64)),
    "parameter missing": lambda arrays: arrays.pop("param/layers.0.bias"),
    "extra parameter": lambda arrays: arrays.update({"param/layers.9.bias": arrays["param/layers.0.bias"]}),
}


@pytest.mark.parametrize("loader", ["SavedModel", "Trainer.restore"])
@pytest.mark.parametrize("misfit", PARAMETER_MISFITS)
def test_parameters_that_do_not_fit_the_model_are_a_checkpoint_error(trained, misfit, loader):
    _, path = trained
    rewrite(path, PARAMETER_MISFITS[misfit])
    assert_checkpoint_error(LOADERS[loader], path)


@pytest.mark.parametrize("loader, change", [
    ("SavedModel", edit_record(lambda r: r.pop("class_names"))),
    ("SavedModel", edit_record(lambda r: r["model"].update(activation="softplus"))),
    ("SavedModel", edit_record(lambda r: r.update(standardizer={"mean": 0.1}))),
    ("Trainer.restore", edit_record(lambda r: r.pop("progress"))),
    ("Trainer.restore", edit_record(lambda r: r["progress"].update(epochs=3))),
    ("Trainer.restore", edit_record(lambda r: r.update(dropout_rng=None))),
    ("Trainer.restore", lambda arrays: arrays.update(
        {name: value[:1] for name, value in arrays.items() if name.startswith("optim/") and value.ndim == 2})),
], ids=["no class names", "unknown activation", "standardizer without std", "no progress",
        "unknown progress field", "no dropout state", "optimizer buffers cut"])
def test_a_record_that_does_not_fit_is_a_checkpoint_error(trained, loader, change):
    _, path = trained
    rewrite(path, change)
    assert_checkpoint_error(LOADERS[loader], path)


@pytest.mark.parametrize("other", [{"layer_sizes": (6, 4, 3)}, {"layer_sizes": (6, 5, 5, 3)},
                                   {"optimizer": "adam"}], ids=["narrower", "deeper", "adam"])
def test_a_checkpoint_of_another_run_does_not_load_into_this_one(trained, tmp_path, other):
    _, path = trained
    message = assert_checkpoint_error(make_trainer(tmp_path / "other", **other).restore, path)
    assert "does not fit this model" in message
