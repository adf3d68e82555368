"""mnist.report.diagnostics: every recorded number equals the same quantity computed directly from the model."""
import json

import numpy as np
import pytest
from cli_runs import SMALL, run_cli
from hypothesis import given
from hypothesis import strategies as st
from strategies import grid_arrays
from test_training import synthetic_data

from mnist.errors import DataError
from mnist.models.mlp import MLP
from mnist.report.diagnostics import (
    DIAGNOSTICS_NAME,
    HISTOGRAM_BINS,
    TrainingDiagnostics,
    dead_fraction,
    load_diagnostics,
    sample_every,
    save_diagnostics,
)
from mnist.training.config import TrainConfig
from mnist.training.trainer import Trainer
from tinygrad_np import Tensor, nn
from tinygrad_np.nn.functional import cross_entropy
from tinygrad_np.optim import SGD

layer_sizes = st.lists(st.integers(1, 4), min_size=3, max_size=4)


def small_mlp(sizes, activation="relu", seed=0) -> MLP:
    return MLP(sizes, activation, seed=seed, dtype=np.float64)


def inputs(count, features, seed=1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(count, features))


def weights(model) -> dict:
    """The weight layers' weights, named as the diagnostics name them ('layers.0')."""
    return {name.removesuffix(".weight"): p for name, p in model.named_parameters() if name.endswith(".weight")}


def backward_on(model, x, labels) -> None:
    model.zero_grad()
    cross_entropy(model(Tensor(x)), labels).backward()


# --- gradient norms and update ratios ---------------------------------------------------------

@given(sizes=layer_sizes, data=st.data(), lr=st.floats(1e-3, 1.0))
def test_one_step_records_the_gradient_norm_and_the_update_of_known_gradients(sizes, data, lr):
    model = small_mlp(sizes)
    known = {name: data.draw(grid_arrays(st.just(w.shape), spacing=0.25)) for name, w in weights(model).items()}
    for name, weight in weights(model).items():
        weight.grad = Tensor(known[name])
    before = {name: w.data.copy() for name, w in weights(model).items()}
    diagnostics = TrainingDiagnostics(model, inputs(3, sizes[0]), steps_per_epoch=1)
    diagnostics.start_epoch(0)
    diagnostics.step(SGD(model.parameters(), lr=lr), step=0)
    record = diagnostics.end_epoch(1)
    for name, weight in weights(model).items():
        np.testing.assert_allclose(weight.data, before[name] - lr * known[name])  # the step was taken
        gradient_norm = np.sqrt(np.sum(known[name] ** 2))
        assert record["gradient_norm"][name] == pytest.approx(gradient_norm, rel=1e-12, abs=1e-300)
        assert record["samples"][0]["gradient_norm"][name] == record["gradient_norm"][name]
        expected = lr * gradient_norm / np.sqrt(np.sum(before[name] ** 2))  # ||-lr g|| / ||W||
        assert record["update_ratio"][name] == pytest.approx(expected, rel=1e-9, abs=1e-300)
        assert record["epoch_update_ratio"][name] == pytest.approx(expected, rel=1e-9, abs=1e-300)
        assert record["weight_norm"][name] == pytest.approx(np.sqrt(np.sum(weight.data ** 2)), rel=1e-12)


def test_only_every_nth_step_is_measured_and_the_epoch_holds_their_mean():
    model, x, labels = small_mlp([5, 4, 3]), inputs(8, 5), np.arange(8) % 3
    optimizer = SGD(model.parameters(), lr=0.3, momentum=0.9, weight_decay=0.01)
    diagnostics = TrainingDiagnostics(model, x, steps_per_epoch=7, every=3)
    diagnostics.start_epoch(0)
    start = {name: w.data.copy() for name, w in weights(model).items()}
    expected = {"gradient_norm": [], "update_ratio": []}
    for step in range(7):
        backward_on(model, x, labels)
        before = {name: w.data.copy() for name, w in weights(model).items()}
        grads = {name: w.grad.data.copy() for name, w in weights(model).items()}
        diagnostics.step(optimizer, step)
        if step % 3 == 0:
            expected["gradient_norm"].append({name: np.linalg.norm(g) for name, g in grads.items()})
            expected["update_ratio"].append({name: np.linalg.norm(w.data - before[name]) / np.linalg.norm(before[name])
                                             for name, w in weights(model).items()})
    record = diagnostics.end_epoch(1)
    assert [sample["step"] for sample in record["samples"]] == [0, 3, 6]
    for key, per_step in expected.items():
        for name in weights(model):
            assert [s[key][name] for s in record["samples"]] == pytest.approx([s[name] for s in per_step], rel=1e-9)
            assert record[key][name] == pytest.approx(np.mean([s[name] for s in per_step]), rel=1e-9)
    for name, weight in weights(model).items():
        assert record["epoch_update_ratio"][name] == pytest.approx(
            np.linalg.norm(weight.data - start[name]) / np.linalg.norm(start[name]), rel=1e-9)


def test_a_zero_weight_has_no_update_ratio_and_the_mean_leaves_it_out():
    model = small_mlp([2, 3, 2])
    model.layers[2].weight.data[...] = 0
    diagnostics = TrainingDiagnostics(model, inputs(4, 2), steps_per_epoch=2)
    diagnostics.start_epoch(0)
    for step in range(2):
        backward_on(model, inputs(4, 2), np.array([0, 1, 0, 1]))
        diagnostics.step(SGD(model.parameters(), lr=0.5), step)
    record = diagnostics.end_epoch(1)
    first, second = (sample["update_ratio"]["layers.2"] for sample in record["samples"])
    assert first is None and second > 0
    assert record["update_ratio"]["layers.2"] == second
    assert record["epoch_update_ratio"]["layers.2"] is None


def test_a_float32_gradient_too_large_to_square_still_has_its_norm():
    model = MLP([2, 2, 2])
    weight = model.layers[0].weight
    weight.grad = Tensor(np.full(weight.shape, 1e30, dtype=np.float32))
    diagnostics = TrainingDiagnostics(model, inputs(2, 2).astype(np.float32), steps_per_epoch=1)
    diagnostics.start_epoch(0)
    diagnostics.step(SGD([weight], lr=1e-40), 0)
    assert diagnostics.end_epoch(1)["gradient_norm"]["layers.0"] == pytest.approx(2e30, rel=1e-6)


@pytest.mark.parametrize("steps, expected", [(1, 1), (49, 1), (100, 2), (430, 8)])
def test_sampling_interval(steps, expected):
    assert sample_every(steps) == expected


# --- dead units and activations ---------------------------------------------------------------

def test_units_that_are_zero_for_every_probe_example_are_dead():
    model = small_mlp([3, 5, 2])
    layer = model.layers[0]
    layer.weight.data[...] = [[1, -1, 2, -3, 0], [1, -2, 1, -1, 0], [0, -1, 1, -1, 1]]
    layer.bias.data[...] = [0, 0, 0, 0, -0.5]   # unit 4 is alive only where the third input > 0.5
    probe = np.array([[1.0, 2.0, 0.1], [0.5, 0.5, 0.2], [0.3, 0.1, 0.9]])  # positive: units 1 and 3 never fire
    diagnostics = TrainingDiagnostics(model, probe, steps_per_epoch=1)
    diagnostics.start_epoch(0)
    record = diagnostics.end_epoch(1)
    assert record["dead_fraction"] == {"layers.1": 2 / 5}
    hidden = np.maximum(probe @ layer.weight.data + layer.bias.data, 0)  # the ReLU layer's output, by hand
    counts, edges = np.histogram(hidden, bins=HISTOGRAM_BINS)
    activations = record["activations"]["layers.1"]
    assert activations["counts"] == counts.tolist() and activations["edges"] == pytest.approx(edges)
    assert activations["zero_fraction"] == np.mean(hidden == 0) and activations["units"] == 5
    assert activations["mean"] == pytest.approx(hidden.mean()) and activations["std"] == pytest.approx(hidden.std())
    assert activations["unit_spread"] == pytest.approx(np.mean([hidden[:, unit].std() for unit in range(5)]))


def test_a_channel_is_dead_only_when_zero_at_every_position_of_every_example():
    output = np.ones((2, 3, 4, 4))
    output[:, 1] = 0                    # channel 1: zero everywhere
    output[:, 2] = 0
    output[1, 2, 3, 0] = 0.1            # channel 2: alive at one position of one example
    assert dead_fraction(output) == 1 / 3
    with pytest.raises(ValueError, match="shape"):
        dead_fraction(np.zeros(3))


class ToChannels(nn.Module):
    """(N, C*H*W) -> (N, C, H, W): lets an MLP's ReLU see image-shaped outputs, as a CNN's does."""

    def __init__(self, channels, side):
        self.shape = (channels, side, side)

    def forward(self, x):
        return x.reshape((x.shape[0], *self.shape))


class ChannelModel(nn.Module):
    def __init__(self, weight):
        self.layers = nn.Sequential(nn.Linear(*weight.shape, dtype=np.float64), ToChannels(2, 2), nn.ReLU())
        self.layers[0].weight.data[...] = weight

    def forward(self, x):
        return self.layers(x)


def test_the_probe_counts_dead_channels_of_image_shaped_activations():
    weight = np.zeros((3, 8))           # channel 0 (outputs 0-3) is x0, x1, x2, x0+x1+x2; channel 1 is 0
    weight[:, :4] = [[1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 1, 1]]
    model = ChannelModel(weight)
    diagnostics = TrainingDiagnostics(model, np.array([[1.0, 2.0, 3.0], [3.0, 1.0, 1.0]]), steps_per_epoch=1)
    diagnostics.start_epoch(0)
    record = diagnostics.end_epoch(1)
    assert record["dead_fraction"] == {"layers.2": 0.5}
    assert record["activations"]["layers.2"]["units"] == 2
    channel_0 = [1, 2, 3, 6, 3, 1, 1, 5]  # over both images and the four positions; channel 1's std is 0
    assert record["activations"]["layers.2"]["unit_spread"] == pytest.approx(np.std(channel_0) / 2)
    assert diagnostics.layers == {"layers.0": {"type": "Linear", "weight_shape": [3, 8]},
                                  "layers.1": {"type": "ToChannels"}, "layers.2": {"type": "ReLU"}}


def test_the_probe_runs_in_eval_mode_and_leaves_training_and_dropout_as_they_were():
    model = MLP([4, 6, 3], dropout=0.5, seed=3, dtype=np.float64)
    rng_state = model.layers[2].rng.bit_generator.state
    probe = inputs(5, 4)
    outputs = TrainingDiagnostics(model, probe, steps_per_epoch=1).probe_activations()
    assert model.training and all(module.training for _, module in model.named_modules())
    assert model.layers[2].rng.bit_generator.state == rng_state
    first = model.layers[0]
    np.testing.assert_array_equal(outputs["layers.1"], np.maximum(probe @ first.weight.data + first.bias.data, 0))
    assert list(outputs) == ["layers.1"]  # Dropout is not an activation layer


# --- the file ---------------------------------------------------------------------------------

def recorded(tmp_path, epochs=2):
    model, x, labels = small_mlp([4, 3, 3, 2], "tanh"), inputs(6, 4), np.arange(6) % 2
    optimizer = SGD(model.parameters(), lr=0.1)
    diagnostics = TrainingDiagnostics(model, x, steps_per_epoch=2, path=tmp_path / DIAGNOSTICS_NAME)
    for epoch in range(epochs):
        diagnostics.start_epoch(epoch)
        for step in range(2 * epoch, 2 * epoch + 2):
            backward_on(model, x, labels)
            diagnostics.step(optimizer, step)
        diagnostics.end_epoch(epoch + 1)
    return diagnostics


def test_every_epoch_is_saved_and_the_file_round_trips(tmp_path):
    diagnostics = recorded(tmp_path)
    saved = load_diagnostics(tmp_path / DIAGNOSTICS_NAME)
    assert saved == diagnostics.to_dict()
    assert [record["epoch"] for record in saved["epochs"]] == [1, 2]
    assert saved["sample_every"] == 1 and saved["steps_per_epoch"] == 2 and saved["probe_size"] == 6
    save_diagnostics(tmp_path / "again.json", saved)
    assert load_diagnostics(tmp_path / "again.json") == saved
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.json", DIAGNOSTICS_NAME]  # no temporary files


@pytest.mark.parametrize("content, complaint", [("{", "cannot read"), ('{"version": 99}', "not a diagnostics file"),
                                                ("[]", "not a diagnostics file")])
def test_a_broken_file_is_refused_naming_it(tmp_path, content, complaint):
    path = tmp_path / DIAGNOSTICS_NAME
    path.write_text(content)
    with pytest.raises(DataError, match=f"{path}: {complaint}"):
        load_diagnostics(path)


def test_nan_is_refused_rather_than_written(tmp_path):
    with pytest.raises(ValueError):
        save_diagnostics(tmp_path / "d.json", {"version": 1, "epochs": [float("nan")]})
    assert list(tmp_path.iterdir()) == []


def test_end_epoch_needs_start_epoch():
    with pytest.raises(RuntimeError, match="start_epoch"):
        TrainingDiagnostics(small_mlp([2, 2, 2]), inputs(1, 2), steps_per_epoch=1).end_epoch(1)


# --- in the training loop ---------------------------------------------------------------------

def train(folder, diagnostics, epochs=3, resume=None) -> Trainer:
    # A constant learning rate: two epochs, then a third by --resume, equal three in one go.
    config = TrainConfig(layer_sizes=(6, 5, 4, 3), epochs=epochs, batch_size=16, dropout=0.2, schedule="constant")
    trainer = Trainer(config, synthetic_data(), folder, log=lambda *_: None, diagnostics=diagnostics)
    if resume:
        trainer.restore(resume)
    trainer.run()
    return trainer


def test_diagnostics_only_watch_training_does_the_same(tmp_path):
    plain, watched = train(tmp_path / "plain", False), train(tmp_path / "watched", True)
    for (name, a), (_, b) in zip(plain.model.named_parameters(), watched.model.named_parameters(), strict=True):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)
    assert not (tmp_path / "plain" / DIAGNOSTICS_NAME).exists()
    saved = load_diagnostics(tmp_path / "watched" / DIAGNOSTICS_NAME)
    assert saved == json.loads(json.dumps(watched.diagnostics.to_dict()))
    assert [record["epoch"] for record in saved["epochs"]] == [1, 2, 3]
    assert saved["steps_per_epoch"] == 6 and [s["step"] for s in saved["epochs"][1]["samples"]] == list(range(6, 12))
    assert list(saved["epochs"][0]["gradient_norm"]) == ["layers.0", "layers.3", "layers.6"]
    assert np.array_equal(watched.diagnostics.probe, synthetic_data().val_x)


def test_a_resumed_run_keeps_the_earlier_epochs_diagnostics(tmp_path):
    whole = train(tmp_path / "whole", True, epochs=3)
    train(tmp_path / "split", True, epochs=2)
    resumed = train(tmp_path / "split", True, epochs=3, resume=tmp_path / "split" / "checkpoint.npz")
    assert [record["epoch"] for record in resumed.diagnostics.epochs] == [1, 2, 3]
    assert resumed.diagnostics.epochs[:2] == load_diagnostics(tmp_path / "whole" / DIAGNOSTICS_NAME)["epochs"][:2]
    assert resumed.diagnostics.epochs == whole.diagnostics.epochs  # resuming is exact, so are its diagnostics


@pytest.mark.usefixtures("no_report")
def test_train_diagnostics_writes_the_json_and_the_pictures(tmp_path):
    status, out, err = run_cli("train", *SMALL, "--epochs", "2", "--diagnostics", "--out", tmp_path)
    assert status == 0, err
    pictures = ["gradient_flow.png", "update_ratios.png", "activations.png", "first_layer_weights.png"]
    assert f"wrote {tmp_path / DIAGNOSTICS_NAME} and {', '.join(pictures)}" in out
    for name in pictures:
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")
    saved = load_diagnostics(tmp_path / DIAGNOSTICS_NAME)
    assert len(saved["epochs"]) == 2 and saved["layers"]["layers.0"]["weight_shape"] == [784, 32]
