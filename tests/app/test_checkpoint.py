"""Checkpoints: a good one comes back exactly; a bad one is a one-line CheckpointError naming the file."""
import json
import re
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_training import synthetic_data

from mnist.errors import CheckpointError
from mnist.models.mlp import MLP, parameter_shapes
from mnist.models.saved_model import SavedModel
from mnist.training.checkpoint import FORMAT_VERSION, load_checkpoint, save_checkpoint
from mnist.training.config import TrainConfig
from mnist.training.trainer import Trainer

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
    trainer = make_trainer(tmp_path / "adam", optimizer="adam")
    trainer.run()
    rng = np.random.default_rng(0)
    parameters = {name: rng.normal(size=value.shape).astype(np.float32)
                  for name, value in trainer.model.state_dict().items()}
    parameters["layers.0.bias"][0] = np.nextafter(np.float32(1), np.float32(2))
    optimizer_state = {**trainer.optimizer.state_dict(), "state.1.step": np.int64(7), "lr": 1 / 3}
    record = trainer.record()
    save_checkpoint(tmp_path / "c.npz", parameters, optimizer_state, record)
    loaded_parameters, loaded_state, loaded_record = load_checkpoint(tmp_path / "c.npz")
    assert_same_state(loaded_parameters, parameters)
    # numbers come back as JSON gives them: NumPy scalars as Python ones, tuples as lists
    assert_same_state(loaded_state, {**optimizer_state, "state.1.step": 7, "betas": list(optimizer_state["betas"])})
    assert {key: value for key, value in loaded_record.items() if key != "format_version"} == \
        json.loads(json.dumps(record))


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
    assert (type(saved.model), saved.model.layer_sizes, saved.model.dropout) == \
        (type(trainer.model), trainer.model.layer_sizes, trainer.model.dropout)
    assert saved.class_names == ("a", "b", "c") and not saved.model.training


# Written by the program before the model registry (format 1): `make_trainer`'s settings with
# epochs=2, trained on synthetic_data(). Its record's "model" is the MLP's settings, its config has
# no "model".
FORMAT_1 = Path(__file__).parent / "data" / "format-1-checkpoint.npz"


def test_a_format_1_checkpoint_loads_and_resumes_as_its_format_2_copy_does(tmp_path):
    with np.load(FORMAT_1) as archive:
        written = {name.removeprefix("param/"): archive[name] for name in archive if name.startswith("param/")}
    assert json.loads(np.load(FORMAT_1)["record.json"].tobytes())["format_version"] == 1
    saved = SavedModel(FORMAT_1)
    assert_same_state(saved.model.state_dict(), written)
    assert saved.record["model"] == {"kind": "mlp", "settings": {"layer_sizes": [6, 5, 3], "activation": "relu",
                                                                  "dropout": 0.3}}
    # Restored, then saved again as format 2: both go on to the same parameters, bit for bit, so the
    # upgrade loses nothing of the run (optimizer state, progress, dropout generator).
    restored = make_trainer(tmp_path / "restored", epochs=3)
    restored.restore(FORMAT_1)
    assert restored.progress.epoch == 2 and restored.progress.step == 6
    (tmp_path / "restored").mkdir()
    restored.save()
    extended = []
    for checkpoint in (FORMAT_1, restored.checkpoint_path):
        trainer = make_trainer(tmp_path / f"extended{len(extended)}", epochs=3)
        trainer.restore(checkpoint)
        trainer.run()
        extended.append(trainer)
    assert_same_state(extended[0].model.state_dict(), extended[1].model.state_dict())
    assert_same_state(extended[0].optimizer.state_dict(), extended[1].optimizer.state_dict())
    assert [{**row, "train_seconds": 0} for row in extended[0].progress.history] == \
        [{**row, "train_seconds": 0} for row in extended[1].progress.history]
    assert load_checkpoint(extended[0].checkpoint_path)[2]["format_version"] == FORMAT_VERSION


@pytest.mark.parametrize("version", [0, 99, "2", None])
def test_a_format_this_program_does_not_read_is_refused_naming_it(trained, version):
    _, path = trained
    rewrite(path, edit_record(lambda r: r.update(format_version=version)))
    message = assert_checkpoint_error(load_checkpoint, path)
    assert f"checkpoint format {version!r}, this program reads formats 1 to {FORMAT_VERSION}" in message


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


def patch_central_directory(offset: int, value: bytes):
    """Overwrite bytes of the zip's first central directory record, `offset` bytes into it."""
    def damage(path):
        data = bytearray(path.read_bytes())
        start = data.index(b"PK\x01\x02") + offset
        data[start:start + len(value)] = value
        path.write_bytes(bytes(data))
    return damage


def replace_entry(name: str, content: bytes, compression=zipfile.ZIP_STORED):
    """Rewrite the archive with entry `name` holding `content` (its CRC consistent with it)."""
    def damage(path):
        with zipfile.ZipFile(path) as archive:
            entries = {info.filename: archive.read(info) for info in archive.infolist()}
        entries[name] = content
        with zipfile.ZipFile(path, "w") as archive:
            for entry, data in entries.items():
                archive.writestr(entry, data, compress_type=compression if entry == name else zipfile.ZIP_STORED)
    return damage


def npy(header: str, data: bytes = b"") -> bytes:
    """A .npy file of format 1.0 whose header is the text `header` (padded as NumPy pads it)."""
    text = header.encode("latin1")
    text += b" " * (-(10 + len(text) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + data


WEIGHT = "param/layers.0.weight.npy"
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
    # what about 1% of single-byte flips in a real checkpoint come to (zipfile's and NumPy's own errors)
    "unsupported compression method": patch_central_directory(10, struct.pack("<H", 99)),
    "encrypted entry": patch_central_directory(8, b"\x01"),
    "npy header not a Python literal": replace_entry(
        WEIGHT, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6, 5), (", bytes(120))),
    # arrays that are not what the record says, found from their headers
    "npy header claiming 8 TB": replace_entry(
        WEIGHT, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2000000000000,), }")),
    "more data than the header says": replace_entry(
        WEIGHT, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6, 5), }", bytes(1 << 20)),
        zipfile.ZIP_DEFLATED),
    "an entry that is not an array": replace_entry("notes.txt", b"hello"),
    "an unknown array": replace_entry("param/layers.9.weight.npy", npy(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (6, 5), }", bytes(120))),
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
    ("SavedModel", edit_record(lambda r: r["model"]["settings"].update(activation="softplus"))),
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


# A record whose JSON is valid but whose fields are not: each must be named in the one-line error.
RECORD_FIELDS = {
    "two class names": (lambda r: r.update(class_names=["a", "b"]), "class_names"),
    "data_dir a number": (lambda r: r["config"].update(data_dir=3), "config.data_dir"),
    "test_limit a string": (lambda r: r["config"].update(test_limit="abc"), "config.test_limit"),
    "batch_size 0": (lambda r: r["config"].update(batch_size=0), "config.batch_size"),
    "lr a string": (lambda r: r["config"].update(lr="fast"), "config.lr"),
    "lr NaN": (lambda r: r["config"].update(lr=float("nan")), "config.lr"),
    "nesterov without momentum": (lambda r: r["config"].update(nesterov=True, momentum=0.0), "config.nesterov"),
    "unknown setting": (lambda r: r["config"].update(speed=3), "config.speed"),
    "unknown model kind": (lambda r: r["config"].update(model="rnn"), "config.model"),
    "a CNN's record for an MLP's arrays": (lambda r: (r["config"].update(model="cnn"),
                                                      r.update(model={"kind": "cnn", "settings": {}})), "model"),
    "history a string": (lambda r: r["progress"].update(history="abc"), "progress.history"),
    "history row with a string loss": (lambda r: r["progress"]["history"][0].update(train_loss="low"),
                                       "progress.history[0].train_loss"),
    "more epochs done than planned": (lambda r: r["progress"].update(epoch=99), "progress.epoch"),
    "standardizer mean a string": (lambda r: (r["config"].update(standardize=True),
                                              r.update(standardizer={"mean": "x", "std": 0.3})), "standardizer.mean"),
    "a billion hidden units": (lambda r: [part.update(layer_sizes=[6, 10**9, 3])
                                          for part in (r["config"], r["model"]["settings"])],
                               "config.layer_sizes"),
    "model unlike the settings": (lambda r: r["model"]["settings"].update(layer_sizes=[6, 4, 3]), "model"),
    "optimizer hyperparameter a string": (lambda r: r["optimizer"].update(momentum="x"), "optimizer.momentum"),
    "dropout state missing": (lambda r: r.update(dropout_rng=None), "dropout_rng"),
    "dropout state out of range": (lambda r: r["dropout_rng"]["state"].update(state=10**60), "dropout_rng.state.state"),
    "unknown field": (lambda r: r.update(extra=1), "record.extra"),
}


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("case", RECORD_FIELDS)
def test_a_record_field_of_the_wrong_type_or_range_is_named(trained, case, loader):
    _, path = trained
    edit, field = RECORD_FIELDS[case]
    rewrite(path, edit_record(edit))
    message = assert_checkpoint_error(LOADERS[loader], path)
    assert f" {field}: " in message, message


@settings(max_examples=30, deadline=None)
@given(sizes=st.lists(st.integers(1, 5), min_size=2, max_size=5), dropout=st.sampled_from([0.0, 0.5]))
def test_parameter_shapes_are_those_the_mlp_has(sizes, dropout):
    """What the checkpoint reader expects before it reads an array, from the sizes alone."""
    model = MLP(sizes, dropout=dropout)
    assert parameter_shapes(sizes, dropout) == {name: p.shape for name, p in model.named_parameters()}


# ---- fuzzing: a damaged checkpoint loads or is a CheckpointError, never anything else ----------

@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory):
    """A small real checkpoint: momentum buffers, a dropout generator's state, a history."""
    trainer = make_trainer(tmp_path_factory.mktemp("fuzz") / "run")
    trainer.run()
    return trainer.checkpoint_path.read_bytes()


# Where a flipped byte means most, after a signature: in each central directory record, the
# versions, flags and compression method (zipfile trusts these, not the local headers); the
# end record; each .npy header.
STRUCTURES = {b"PK\x01\x02": range(4, 12), b"PK\x05\x06": range(0, 22), b"\x93NUMPY": range(0, 128)}


def structure_bytes(raw: bytes):
    """Offsets into one of the STRUCTURES of `raw`: which kind, which occurrence, which byte."""
    return st.one_of(*(st.builds(lambda start, offset: min(start + offset, len(raw) - 1),
                                 st.sampled_from([match.start() for match in re.finditer(re.escape(signature), raw)]),
                                 st.sampled_from(offsets))
                       for signature, offsets in STRUCTURES.items()))


def damaged(raw: bytes):
    """Copies of `raw` with bytes flipped (anywhere, or in the headers half of the time), the end
    cut off, or a stretch replaced by random bytes."""
    def flip(changes):
        data = bytearray(raw)
        for position, mask in changes:
            data[position] ^= mask
        return bytes(data)

    positions = st.one_of(st.integers(0, len(raw) - 1), structure_bytes(raw))
    flips = st.lists(st.tuples(positions, st.integers(1, 255)), min_size=1, max_size=3).map(flip)
    cuts = st.integers(0, len(raw) - 1).map(lambda end: raw[:end])
    splices = st.tuples(st.integers(0, len(raw)), st.integers(0, 32), st.binary(max_size=32)).map(
        lambda splice: raw[:splice[0]] + splice[2] + raw[splice[0] + splice[1]:])
    return st.one_of(flips, cuts, splices)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_a_damaged_checkpoint_loads_or_is_a_checkpoint_error(checkpoint_bytes, tmp_path, data):
    path = tmp_path / "damaged.npz"
    path.write_bytes(data.draw(damaged(checkpoint_bytes)))
    for load in LOADERS.values():  # load_checkpoint first: the others read the file through it
        try:
            load(path)
        except CheckpointError as error:
            assert str(error).startswith(f"{path}: ") and "\n" not in str(error)
            if load is load_checkpoint:
                break


@pytest.mark.parametrize("other", [{"layer_sizes": (6, 4, 3)}, {"layer_sizes": (6, 5, 5, 3)},
                                   {"optimizer": "adam"}], ids=["narrower", "deeper", "adam"])
def test_a_checkpoint_of_another_run_does_not_load_into_this_one(trained, tmp_path, other):
    _, path = trained
    message = assert_checkpoint_error(make_trainer(tmp_path / "other", **other).restore, path)
    assert "does not fit this model" in message
