"""Pictures of the training diagnostics (`mnist.report.diagnostics`): gradient flow, update ratios,
activation histograms and the first layer's weights.

Built like `mnist.report.plots` (on `Figure`, never pyplot) and written through its `save_figure`, so
atomically. Every `plot_*` takes the diagnostics as `TrainingDiagnostics.to_dict()` or
`load_diagnostics` gives them, writes `path` and returns the figure, which tests inspect.
"""
import math
from pathlib import Path
from typing import Optional

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullLocator

from mnist.report.plots import save_figure

# CS231n's rule of thumb: a step that moves the weights by about 1e-3 of their norm is healthy;
# far below, the layer barely learns; far above, it is being thrown around.
HEALTHY_UPDATE_RATIO = 1e-3
SAMPLE_ALPHA = 0.25    # the single sampled steps, drawn faintly behind the epoch means
FIRST_LAYER_UNITS = 64  # units (or filters) of the first layer shown


def _check(diagnostics: dict) -> list:
    """The recorded epochs; ValueError when there are none to draw."""
    epochs = diagnostics.get("epochs") or []
    if not epochs:
        raise ValueError("the diagnostics hold no epochs: there is nothing to plot")
    return epochs


def _label(diagnostics: dict, layer: str) -> str:
    """'layers.0 Linear 784x256': the layer's name, type and weight shape."""
    info = diagnostics["layers"][layer]
    shape = "x".join(map(str, info.get("weight_shape", ())))
    return f"{layer} {info['type']}" + (f" {shape}" if shape else "")


def _per_epoch(epochs: list, key: str, layer: str) -> np.ndarray:
    """One layer's value over the epochs as floats; None (undefined) becomes NaN, a gap."""
    return np.array([np.nan if record[key][layer] is None else record[key][layer] for record in epochs], dtype=float)


def _sampled(diagnostics: dict, key: str, layer: Optional[str] = None):
    """(x, y) of the sampled steps' `key` (of `layer`, for per-layer values; undefined ones left
    out), x in epochs: the last step of epoch 1 sits at 1.0, where that epoch's mean is drawn."""
    values = [(sample["step"] + 1, sample[key] if layer is None else sample[key][layer])
              for record in diagnostics["epochs"] for sample in record["samples"]]
    points = np.array([(step, value) for step, value in values if value is not None], dtype=float).reshape(-1, 2)
    return points[:, 0] / diagnostics["steps_per_epoch"], points[:, 1]


def _epoch_axis(axes, epochs: list) -> None:
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlim(left=epochs[0]["epoch"] - 1)  # where the first epoch's sampled steps start
    axes.grid(alpha=0.3, which="both")


def _per_layer_lines(axes, diagnostics: dict, mean_key: str, sample_key: Optional[str] = None) -> None:
    """Each weight layer's epoch means as a line (its last value in the legend), and behind it
    its sampled steps as faint dots of the same colour."""
    epochs = diagnostics["epochs"]
    x = np.array([record["epoch"] for record in epochs], dtype=float)
    for layer in epochs[-1][mean_key]:
        values = _per_epoch(epochs, mean_key, layer)
        line, = axes.plot(x, values, marker="o", markersize=4,
                          label=f"{_label(diagnostics, layer)}: {values[-1]:.2g}")
        if sample_key:
            axes.plot(*_sampled(diagnostics, sample_key, layer), ".", color=line.get_color(),
                      alpha=SAMPLE_ALPHA, markersize=3)
    axes.set_yscale("log")
    _epoch_axis(axes, epochs)


# --- gradient flow ---------------------------------------------------------------------------

def plot_gradient_flow(diagnostics: dict, path) -> Figure:
    """Per weight layer, ||dL/dW|| over the epochs (log scale): the mean over each epoch's sampled
    steps as a line, the steps themselves as dots. The title gives the first layer's gradient as a
    multiple of the last layer's: far below 1, the gradient vanishes on its way down."""
    epochs = _check(diagnostics)
    fig = Figure(figsize=(9, 4.5), layout="constrained")
    axes = fig.add_subplot()
    _per_layer_lines(axes, diagnostics, "gradient_norm", "gradient_norm")
    axes.set(xlabel="Epoch", ylabel="||dL/dW|| (log scale)")
    axes.legend(title="layer: last epoch's mean", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    norms = list(epochs[-1]["gradient_norm"].values())
    title = "Gradient flow: gradient norm per layer"
    if len(norms) > 1 and norms[0] is not None and norms[-1]:  # None: no step was measured
        title += f"\nepoch {epochs[-1]['epoch']}: the first layer's is {norms[0] / norms[-1]:.2g} x the last layer's"
    axes.set_title(title)
    save_figure(fig, path)
    return fig


# --- update ratios ---------------------------------------------------------------------------

def plot_update_ratios(diagnostics: dict, path) -> Figure:
    """||dW|| / ||W|| per weight layer: of one step (mean over the sampled steps, and the steps
    as dots), next to the healthy 1e-3; and over each whole epoch."""
    epochs = _check(diagnostics)
    fig = Figure(figsize=(12, 4.5), layout="constrained")
    step_axes, epoch_axes = fig.subplots(1, 2)
    _per_layer_lines(step_axes, diagnostics, "update_ratio", "update_ratio")
    # Steps where a schedule has taken the learning rate to almost 0 would stretch the axis over
    # decades of nothing; the axis stops two decades below the smallest epoch mean.
    means = [value for record in epochs for value in record["update_ratio"].values() if value]
    if means:
        step_axes.set_ylim(bottom=max(step_axes.get_ylim()[0], min(means) / 100))
    step_axes.axhline(HEALTHY_UPDATE_RATIO, color="0.3", linestyle="--", linewidth=1,
                      label=f"rule of thumb: {HEALTHY_UPDATE_RATIO:g}")
    step_axes.set(title="One step: ||W_after - W_before|| / ||W_before||", xlabel="Epoch",
                  ylabel="update / weight (log scale)")
    # The learning rate explains much of the curve: a schedule decaying to 0 takes the ratio with it.
    lr_axes = step_axes.twinx()
    lr_axes.plot(*_sampled(diagnostics, "lr"), color="0.5", linestyle=":",
                 label="learning rate (right axis)")
    lr_axes.set(ylabel="learning rate", ylim=(0, None))
    handles = [handle for axes in (step_axes, lr_axes) for handle in axes.get_legend_handles_labels()[0]]
    step_axes.legend(handles=handles, title="layer: last epoch's mean", fontsize=8)
    _per_layer_lines(epoch_axes, diagnostics, "epoch_update_ratio")
    epoch_axes.set(title="Whole epoch: ||W_end - W_start|| / ||W_start||", xlabel="Epoch",
                   ylabel="change over the epoch / weight (log scale)")
    epoch_axes.legend(title="layer: last epoch", fontsize=8)
    every = diagnostics["sample_every"]
    fig.suptitle(f"Update-to-weight ratios ({'every step' if every == 1 else f'one step in {every}'} measured, "
                 f"{len(epochs[-1]['samples'])} in the last epoch)")
    save_figure(fig, path)
    return fig


# --- activations -----------------------------------------------------------------------------

def _fractions(histogram: dict) -> np.ndarray:
    counts = np.asarray(histogram["counts"], dtype=float)
    return counts / max(counts.sum(), 1)


def _number(value) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def _activation_title(diagnostics: dict, record: dict, layer: str) -> str:
    """The number that matters for the layer's kind: saturated outputs for a bounded activation
    (Sigmoid, Tanh), dead units and exact zeros for the rest (ReLU); then the spread, overall and
    of a unit over the images (near 0: the units answer every image alike)."""
    histogram = record["activations"][layer]
    spread = f"mean {_number(histogram['mean'])}, std {_number(histogram['std'])}"
    if layer in record["saturated_fraction"]:
        headline = f"{record['saturated_fraction'][layer]:.1%} of outputs saturated"
    else:
        dead, units = record["dead_fraction"][layer], histogram["units"]
        headline = f"{round(dead * units)} of {units} units dead ({dead:.1%})"
        spread += f", {histogram['zero_fraction']:.1%} exactly 0"
    return (f"{_label(diagnostics, layer)}: {headline}\n{spread}\n"
            f"a unit's std over the images: {_number(histogram['unit_spread'])}")


def plot_activations(diagnostics: dict, path) -> Figure:
    """Per activation layer, the histogram of its outputs on the probe batch after the last epoch
    (filled), after earlier epochs faintly; each title gives the dead units and the share of
    outputs exactly 0 (ReLU), or the share of saturated outputs (Sigmoid, Tanh). The y axis is
    logarithmic so that a spike at 0 (ReLU) or at 0 and 1 (a saturated sigmoid) does not flatten
    the rest."""
    epochs = _check(diagnostics)
    layers = list(epochs[-1]["activations"])
    if not layers:
        raise ValueError("the model has no activation layers (ReLU, Sigmoid, Tanh) to plot")
    columns = min(3, len(layers))
    rows = math.ceil(len(layers) / columns)
    fig = Figure(figsize=(4.4 * columns, 3.6 * rows + 0.4), layout="constrained")
    for index, layer in enumerate(layers):
        axes = fig.add_subplot(rows, columns, index + 1)
        for position, record in enumerate(epochs):
            histogram = record["activations"][layer]
            latest = position == len(epochs) - 1
            # Earlier epochs fade in from light to darker grey; the latest is filled.
            shade = str(0.85 - 0.45 * position / max(len(epochs) - 1, 1))
            axes.stairs(_fractions(histogram), histogram["edges"], fill=latest, alpha=0.8 if latest else 1,
                        color="tab:blue" if latest else shade, label=f"epoch {record['epoch']}")
        axes.set_yscale("log")
        axes.set(title=_activation_title(diagnostics, epochs[-1], layer), xlabel="output value",
                 ylabel="fraction of outputs (log scale)")
        axes.title.set_fontsize(9)
        axes.yaxis.set_major_formatter(FuncFormatter(lambda fraction, _: f"{100 * fraction:g}%"))
        axes.yaxis.set_minor_locator(NullLocator())  # unlabelled minor ticks over many decades: clutter, and slow
        axes.grid(alpha=0.3)
        if index == 0:
            axes.legend(fontsize=8)
    fig.suptitle(f"Activations on a fixed probe batch of {diagnostics['probe_size']} images "
                 f"(eval mode), epoch {epochs[-1]['epoch']}\n"
                 "dead: a unit that is 0 for every image; saturated: a sigmoid or tanh output within 1% of its "
                 "range from either end, where its slope is under 4% of its peak", fontsize=10)
    save_figure(fig, path)
    return fig


# --- the first layer's weights ---------------------------------------------------------------

def first_layer_images(weight: np.ndarray, count: int = FIRST_LAYER_UNITS):
    """Up to `count` images of a first layer's weights, and what they are.

    A Linear weight is (in, out): unit j's image is weight[:, j], reshaped to a square when `in`
    is a square number (784 -> 28x28). A Conv2d weight is (out, in, kH, kW): filter j's image is
    weight[j, 0], its kernel on the first input channel (the only one for grayscale images).
    """
    weight = np.asarray(weight)
    if weight.ndim == 4:
        channel = " on input channel 0" if weight.shape[1] > 1 else ""
        return weight[:count, 0], f"filters, {weight.shape[2]}x{weight.shape[3]}{channel}"
    side = math.isqrt(weight.shape[0]) if weight.ndim == 2 else 0
    if side * side != weight.shape[0] or side == 0:
        raise ValueError(f"cannot draw a weight of shape {weight.shape} as images: a Linear weight needs a square "
                         "number of inputs, a Conv2d weight 4 axes")
    units = weight[:, :count]
    return units.T.reshape(-1, side, side), f"units' input weights as {side}x{side} images"


def mosaic(images: np.ndarray, columns: int, gap: int = 1) -> np.ndarray:
    """(N, h, w) images tiled row by row, `columns` to a row, into one 2-D array with `gap`
    pixels of NaN between tiles (and in empty places), which imshow leaves blank. One image
    instead of N axes keeps the picture quick to draw."""
    count, height, width = images.shape
    rows = math.ceil(count / columns)
    tiled = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap), np.nan)
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        tiled[row * (height + gap):row * (height + gap) + height,
              column * (width + gap):column * (width + gap) + width] = image
    return tiled


def plot_first_layer_weights(weight: np.ndarray, path, layer: str = "layers.0") -> Figure:
    """The first layer's units (or filters) as images, row by row, on one symmetric red-blue
    scale: red pulls the unit's output up where the pixel is bright, blue pulls it down. A tile's
    unit is its row's label plus its column's."""
    images, what = first_layer_images(weight)
    columns = math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    height, width = images.shape[1:]
    limit = float(np.abs(images).max()) or 1.0
    fig = Figure(figsize=(0.9 * columns + 1.8, 0.9 * rows + 1.0), layout="constrained")
    axes = fig.add_subplot()
    shown = axes.imshow(mosaic(images, columns), cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    # One tick at the middle of each tile: its column below, the unit that starts its row on the left.
    axes.set_xticks((width + 1) * np.arange(columns) + (width - 1) / 2, labels=[str(c) for c in range(columns)])
    axes.set_yticks((height + 1) * np.arange(rows) + (height - 1) / 2, labels=[str(r * columns) for r in range(rows)])
    axes.tick_params(length=0, labelsize=8)
    axes.set(xlabel="+ column", ylabel="filter" if np.ndim(weight) == 4 else "unit")
    for spine in axes.spines.values():
        spine.set_visible(False)
    fig.colorbar(shown, ax=axes, label="weight", shrink=0.8)
    total = weight.shape[0] if np.ndim(weight) == 4 else weight.shape[1]
    fig.suptitle(f"First layer ({layer}, weight {'x'.join(map(str, np.shape(weight)))}): "
                 f"{len(images)} of {total} {what}\n|w| up to {limit:.3g}, ||W|| = {np.linalg.norm(weight):.3g}",
                 fontsize=10)
    save_figure(fig, path)
    return fig


# --- all of them -----------------------------------------------------------------------------

PICTURE_NAMES = ("gradient_flow.png", "update_ratios.png", "activations.png", "first_layer_weights.png")


def save_diagnostic_plots(out_dir, diagnostics: dict, model) -> list:
    """Write the `PICTURE_NAMES` into `out_dir` (activations.png only when the model has
    activation layers; first_layer_weights.png from `model`'s current weights); return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    flow, ratios, activations, weights = (out_dir / name for name in PICTURE_NAMES)
    plot_gradient_flow(diagnostics, flow)
    plot_update_ratios(diagnostics, ratios)
    last = _check(diagnostics)[-1]
    if last["activations"]:
        plot_activations(diagnostics, activations)
    first_layer = next(iter(last["weight_norm"]))
    plot_first_layer_weights(dict(model.named_parameters())[f"{first_layer}.weight"].data, weights, first_layer)
    return [flow, ratios, *([activations] if last["activations"] else []), weights]
