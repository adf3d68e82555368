"""mnist.report.diagnostic_plots: each picture is a PNG written atomically that shows the recorded numbers."""
import os

import numpy as np
import pytest
from test_plots import read_png

from mnist.models.mlp import MLP
from mnist.report.diagnostic_plots import (
    HEALTHY_UPDATE_RATIO,
    first_layer_images,
    mosaic,
    plot_activations,
    plot_first_layer_weights,
    plot_gradient_flow,
    plot_update_ratios,
    save_diagnostic_plots,
)
from mnist.report.diagnostics import TrainingDiagnostics
from tinygrad_np import Tensor
from tinygrad_np.nn.functional import cross_entropy
from tinygrad_np.optim import SGD

WEIGHT_LAYERS = {"layers.0": {"type": "Linear", "weight_shape": [784, 8]},
                 "layers.1": {"type": "ReLU"}, "layers.2": {"type": "Linear", "weight_shape": [8, 6]},
                 "layers.3": {"type": "Sigmoid"}, "layers.4": {"type": "Linear", "weight_shape": [6, 10]}}
STEPS_PER_EPOCH, EVERY = 10, 5


def per_layer(values) -> dict:
    return dict(zip(["layers.0", "layers.2", "layers.4"], values, strict=True))


def fake_diagnostics(epochs=3) -> dict:
    """Records with known numbers: gradient norms 10^-layer / epoch, update ratios 10^-3 / epoch."""
    records = []
    for epoch in range(1, epochs + 1):
        samples = [{"step": step, "lr": 0.1 / epoch, "gradient_norm": per_layer([0.02 / epoch, 0.2 / epoch, 2 / epoch]),
                    "update_ratio": per_layer([1e-3 / epoch] * 3)}
                   for step in range((epoch - 1) * STEPS_PER_EPOCH, epoch * STEPS_PER_EPOCH, EVERY)]
        records.append({
            "epoch": epoch, "gradient_norm": per_layer([0.02 / epoch, 0.2 / epoch, 2 / epoch]),
            "update_ratio": per_layer([1e-3 / epoch, 2e-3 / epoch, None if epoch == 1 else 3e-3]),
            "epoch_update_ratio": per_layer([0.1 / epoch] * 3), "weight_norm": per_layer([5.0, 3.0, 1.0]),
            "dead_fraction": {"layers.1": 0.25 * (epoch - 1), "layers.3": 0.0},
            "saturated_fraction": {"layers.3": 0.125},
            "activations": {"layers.1": {"edges": [0, 1, 2, 3], "counts": [60, 30, 10], "units": 8,
                                         "zero_fraction": 0.55, "mean": 0.7, "std": 0.4, "unit_spread": 0.3,
                                         "nonfinite": 0},
                            "layers.3": {"edges": [0, 0.5, 1], "counts": [25, 75], "units": 6,
                                         "zero_fraction": 0.0, "mean": 0.6, "std": 0.2, "unit_spread": 0.001,
                                         "nonfinite": 0}},
            "samples": samples})
    return {"version": 1, "layers": WEIGHT_LAYERS, "steps_per_epoch": STEPS_PER_EPOCH, "sample_every": EVERY,
            "probe_size": 64, "epochs": records}


def legend_texts(axes) -> list:
    return [text.get_text() for text in axes.get_legend().get_texts()]


def test_gradient_flow_draws_each_layers_means_on_a_log_scale_and_names_the_ratio(tmp_path):
    fig = plot_gradient_flow(fake_diagnostics(), tmp_path / "flow.png")
    read_png(tmp_path / "flow.png")
    axes, = fig.axes
    assert axes.get_yscale() == "log" and axes.get_xlabel() == "Epoch"
    assert "the first layer's is 0.01 x the last layer's" in axes.get_title()
    means = [line for line in axes.lines if line.get_marker() == "o"]
    np.testing.assert_allclose(means[0].get_ydata(), [0.02, 0.01, 0.02 / 3])
    np.testing.assert_allclose(means[2].get_xdata(), [1, 2, 3])
    assert legend_texts(axes) == ["layers.0 Linear 784x8: 0.0067", "layers.2 Linear 8x6: 0.067",
                                  "layers.4 Linear 6x10: 0.67"]
    samples = [line for line in axes.lines if line.get_marker() == "."]
    np.testing.assert_allclose(samples[0].get_xdata(), np.array([1, 6, 11, 16, 21, 26]) / STEPS_PER_EPOCH)


def test_update_ratios_show_steps_against_the_rule_of_thumb_and_whole_epochs(tmp_path):
    fig = plot_update_ratios(fake_diagnostics(), tmp_path / "ratios.png")
    read_png(tmp_path / "ratios.png")
    step_axes, epoch_axes, lr_axes = fig.axes
    assert "one step in 5 measured, 2 in the last epoch" in fig.get_suptitle()
    assert any(np.allclose(line.get_ydata(), HEALTHY_UPDATE_RATIO) for line in step_axes.lines)
    assert "layers.4 Linear 6x10: 0.003" in legend_texts(step_axes)
    assert "learning rate (right axis)" in legend_texts(step_axes)
    np.testing.assert_allclose(step_axes.lines[4].get_ydata(), [np.nan, 3e-3, 3e-3])  # None is a gap
    np.testing.assert_allclose(lr_axes.lines[0].get_ydata(), [0.1, 0.1, 0.05, 0.05, 0.1 / 3, 0.1 / 3])
    assert "layers.0 Linear 784x8: 0.033" in legend_texts(epoch_axes)
    assert epoch_axes.get_yscale() == step_axes.get_yscale() == "log"


def test_activations_give_dead_units_for_relu_and_saturation_for_sigmoid(tmp_path):
    fig = plot_activations(fake_diagnostics(), tmp_path / "activations.png")
    read_png(tmp_path / "activations.png")
    relu, sigmoid = fig.axes
    assert relu.get_title() == ("layers.1 ReLU: 4 of 8 units dead (50.0%)\nmean 0.7, std 0.4, 55.0% exactly 0\n"
                                "a unit's std over the images: 0.3")
    assert sigmoid.get_title() == ("layers.3 Sigmoid: 12.5% of outputs saturated\n"
                                   "mean 0.6, std 0.2\na unit's std over the images: 0.001")
    assert "probe batch of 64 images" in fig.get_suptitle()
    assert legend_texts(relu) == ["epoch 1", "epoch 2", "epoch 3"]
    latest = relu.patches[-1]   # the filled histogram of the last epoch: fractions 0.6, 0.3, 0.1
    assert latest.get_fill()
    heights = sorted({round(y, 6) for _, y in latest.get_path().vertices if y > 0})
    assert heights == [0.1, 0.3, 0.6]


def test_first_layer_images_are_the_units_columns_or_the_filters():
    weight = np.random.default_rng(0).normal(size=(784, 70))
    images, what = first_layer_images(weight)
    assert images.shape == (64, 28, 28) and "28x28" in what
    for unit in (0, 5, 63):
        np.testing.assert_array_equal(images[unit], weight[:, unit].reshape(28, 28))
    filters = np.random.default_rng(1).normal(size=(32, 3, 5, 5))   # (out, in, kH, kW)
    images, what = first_layer_images(filters)
    np.testing.assert_array_equal(images, filters[:, 0])
    assert "5x5 on input channel 0" in what
    with pytest.raises(ValueError, match=r"\(10, 4\)"):
        first_layer_images(np.zeros((10, 4)))


def test_a_mosaic_tiles_row_by_row_with_blank_gaps():
    images = np.arange(5 * 2 * 3, dtype=float).reshape(5, 2, 3)
    tiled = mosaic(images, columns=2)
    assert tiled.shape == (3 * 3 - 1, 2 * 4 - 1)
    np.testing.assert_array_equal(tiled[3:5, 4:7], images[3])     # row 1, column 1
    np.testing.assert_array_equal(tiled[6:8, 0:3], images[4])
    assert np.isnan(tiled[2]).all() and np.isnan(tiled[:, 3]).all() and np.isnan(tiled[6:, 4:]).all()


@pytest.mark.parametrize("shape, columns", [((784, 16), 4), ((8, 1, 5, 5), 3)])
def test_first_layer_weights_are_one_mosaic_on_a_symmetric_scale(tmp_path, shape, columns):
    weight = np.random.default_rng(2).normal(size=shape)
    fig = plot_first_layer_weights(weight, tmp_path / "weights.png")
    read_png(tmp_path / "weights.png")
    image, = fig.axes[0].images
    images, _ = first_layer_images(weight)
    np.testing.assert_array_equal(image.get_array().filled(np.nan), mosaic(images, columns))
    limit = np.abs(weight).max()
    assert image.get_clim() == pytest.approx((-limit, limit))
    assert f"|w| up to {limit:.3g}" in fig.get_suptitle()
    assert fig.axes[0].get_ylabel() == ("filter" if len(shape) == 4 else "unit")
    assert [label.get_text() for label in fig.axes[0].get_yticklabels()] == [
        str(row * columns) for row in range(len(images) // columns + (len(images) % columns > 0))]


def test_nothing_to_plot_is_an_error(tmp_path):
    for plot in (plot_gradient_flow, plot_update_ratios, plot_activations):
        with pytest.raises(ValueError, match="no epochs"):
            plot({**fake_diagnostics(), "epochs": []}, tmp_path / "x.png")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("sizes, pictures", [
    ([784, 6, 5, 10], ["gradient_flow.png", "update_ratios.png", "activations.png", "first_layer_weights.png"]),
    ([784, 10], ["gradient_flow.png", "update_ratios.png", "first_layer_weights.png"]),  # no activation layer
])
def test_a_recorded_run_gives_its_pictures(tmp_path, sizes, pictures):
    model = MLP(sizes, seed=0)
    x = np.random.default_rng(0).random((4, 784), dtype=np.float32)
    diagnostics = TrainingDiagnostics(model, x, steps_per_epoch=1)
    diagnostics.start_epoch(0)
    cross_entropy(model(Tensor(x)), np.arange(4)).backward()
    diagnostics.step(SGD(model.parameters(), lr=0.1), 0)
    diagnostics.end_epoch(1)
    paths = save_diagnostic_plots(tmp_path / "run", diagnostics.to_dict(), model)
    assert [path.name for path in paths] == pictures
    for path in paths:
        assert path.stat().st_size > 1000 and path.read_bytes().startswith(b"\x89PNG")
    assert sorted(os.listdir(tmp_path / "run")) == sorted(pictures)
