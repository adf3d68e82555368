"""Figures of a training run: learning curves, predictions, confusion matrix, confident mistakes.

Figures are built on `matplotlib.figure.Figure` directly, never pyplot: no global figure registry,
no backend to select, so plotting is headless and safe from several threads. Every `plot_*`
function writes its file through `atomic_write` (the format follows the suffix: .png, .svg, .pdf)
and returns the figure, which tests inspect.
"""
import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from mnist.atomic import atomic_write, make_folder
from mnist.report.metrics import confusion_matrix

DPI = 110
MISTAKE_COLOR = "tab:red"
# Up to this many epochs every point gets a marker; a lone epoch would otherwise draw nothing.
MARKER_EPOCHS = 30
# Longer "pred / true" tile titles are split over two lines.
ONE_LINE_TITLE = 11


def save_figure(fig, path):
    """Write `fig` to `path` atomically, in the format its suffix names."""
    path = Path(path)
    file_format = path.suffix.lstrip(".").lower() or "png"
    with atomic_write(path, "wb") as file:
        fig.savefig(file, format=file_format, dpi=DPI)


# --- learning curves --------------------------------------------------------------------------

def _column(history, key):
    """One metric over the epochs as floats, None becoming NaN (matplotlib leaves a gap there)."""
    return np.array([np.nan if row.get(key) is None else row[key] for row in history], dtype=float)


def plot_learning_curves(history, path):
    """Loss and accuracy per epoch, train against validation; validation is left out where it is
    None or NaN in every epoch. `history` is a list of dicts with keys epoch, train_loss,
    train_accuracy, val_loss, val_accuracy (accuracies as fractions)."""
    if not history:
        raise ValueError("history is empty: there are no epochs to plot")
    epochs = _column(history, "epoch")
    marker = "o" if len(history) <= MARKER_EPOCHS else None
    fig = Figure(figsize=(10, 4), layout="constrained")
    loss_axes, accuracy_axes = fig.subplots(1, 2)
    for axes, metric, title in ((loss_axes, "loss", "Loss"), (accuracy_axes, "accuracy", "Accuracy")):
        for split, label in (("train", "train"), ("val", "validation")):
            values = _column(history, f"{split}_{metric}")
            if np.isnan(values).all():
                continue
            if metric == "accuracy":
                label += f" (last {values[~np.isnan(values)][-1]:.2%})"
            axes.plot(epochs, values, marker=marker, markersize=4, label=label)
        axes.set(title=title, xlabel="Epoch", ylabel=title)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        if len(history) == 1:  # the locator would invent fractional epochs around a lone one
            axes.set_xticks(epochs)
        axes.grid(alpha=0.3)
        axes.legend()
    accuracy_axes.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    fig.suptitle("Learning curves")
    save_figure(fig, path)
    return fig


# --- image grids -----------------------------------------------------------------------------

def _as_images(images):
    """(N, H, W) images; flat (N, H*W) rows of a square image are reshaped."""
    images = np.asarray(images)
    if images.ndim == 2 and math.isqrt(images.shape[1]) ** 2 == images.shape[1]:
        side = math.isqrt(images.shape[1])
        images = images.reshape(len(images), side, side)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (N, height, width), got {images.shape}")
    return images


def _tile_figure(images, titles, mistakes, columns, suptitle):
    """One tile per image, `columns` per row, each with its title; mistakes get a red title and a
    thick red frame. The figure is sized to the longest title line and the number of lines."""
    rows = math.ceil(len(images) / columns)
    columns = min(columns, len(images))
    lines = [line for title in titles for line in title.split("\n")]
    tile_width = max(1.3, 0.07 * max(map(len, lines)))  # about 0.07 inch a character at 8 points
    tile_height = 1.1 + 0.15 * max(title.count("\n") + 1 for title in titles)
    fig = Figure(figsize=(tile_width * columns + 0.2, tile_height * rows + 0.5), layout="constrained")
    # uint8 pixels span 0..255; float images (perhaps standardised) share one range so that
    # tiles stay comparable.
    low, high = (0, 255) if images.dtype == np.uint8 else (float(images.min()), float(images.max()))
    for index, (image, title, mistake) in enumerate(zip(images, titles, mistakes, strict=True)):
        axes = fig.add_subplot(rows, columns, index + 1)
        axes.imshow(image, cmap="gray", vmin=low, vmax=high, interpolation="nearest")
        axes.set_xticks([])
        axes.set_yticks([])
        axes.set_title(title, fontsize=8, color=MISTAKE_COLOR if mistake else "black")
        for spine in axes.spines.values():
            spine.set_visible(bool(mistake))
            spine.set_color(MISTAKE_COLOR)
            spine.set_linewidth(3)
    fig.suptitle(suptitle)
    return fig


def plot_prediction_grid(images, predicted, true, class_names, path, columns=8):
    """Each image titled "predicted / true"; mistakes in red with a red frame."""
    images = _as_images(images)
    predicted, true = np.asarray(predicted), np.asarray(true)
    if not len(images) == len(predicted) == len(true):
        raise ValueError(f"{len(images)} images, {len(predicted)} predictions and {len(true)} labels")
    if len(images) == 0:
        raise ValueError("no images to plot")
    titles = [f"{class_names[p]} / {class_names[t]}" for p, t in zip(predicted, true, strict=True)]
    if max(map(len, titles)) > ONE_LINE_TITLE:
        titles = [title.replace(" / ", " /\n") for title in titles]
    mistakes = predicted != true
    fig = _tile_figure(images, titles, mistakes, columns,
                       f"Predicted / true: {mistakes.sum()} of {len(images)} wrong (red)")
    save_figure(fig, path)
    return fig


# --- confusion matrix ------------------------------------------------------------------------

def plot_confusion_matrix(matrix, class_names, path):
    """Counts annotated in each cell, coloured by the fraction of the true class (row) they hold."""
    matrix = np.asarray(matrix)
    classes = len(class_names)
    if matrix.shape != (classes, classes):
        raise ValueError(f"matrix shape {matrix.shape} does not fit {classes} class names")
    totals = matrix.sum(axis=1, keepdims=True)
    rates = matrix / np.maximum(totals, 1)
    # Room for the cells plus the longest tick label, rotated 45 degrees below and upright at left.
    longest_name = max(len(str(name)) for name in class_names)
    side = max(4.0, 0.55 * classes) + 0.07 * longest_name
    fig = Figure(figsize=(side + 1.2, side), layout="constrained")
    axes = fig.add_subplot()
    image = axes.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=axes, label="Fraction of the true class", format=PercentFormatter(xmax=1),
                 shrink=0.8)
    font_size = 9 if classes <= 10 else max(5, 90 // classes)
    for (row, column), count in np.ndenumerate(matrix):
        # Zeros fade into the background so the mistakes stand out.
        color = "white" if rates[row, column] > 0.5 else "black" if count else "0.7"
        axes.text(column, row, str(int(count)), ha="center", va="center", fontsize=font_size, color=color)
    ticks = np.arange(classes)
    if longest_name > 2:
        axes.set_xticks(ticks, labels=class_names, rotation=45, ha="right", rotation_mode="anchor")
    else:
        axes.set_xticks(ticks, labels=class_names)
    axes.set_yticks(ticks, labels=class_names)
    correct, total = np.trace(matrix), matrix.sum()
    accuracy_text = f": accuracy {correct / total:.2%} of {int(total)}" if total else ""
    axes.set(xlabel="Predicted class", ylabel="True class", title=f"Confusion matrix{accuracy_text}")
    save_figure(fig, path)
    return fig


# --- confident mistakes ----------------------------------------------------------------------

def most_confident_mistakes(probabilities, true, count):
    """Indices of the `count` misclassified examples whose predicted class has the highest
    probability, most confident first; ties keep the lower index first.

        most_confident_mistakes([[.9, .1], [.2, .8], [.3, .7]], [1, 0, 1], 2) -> [0, 1]
    """
    probabilities, true = np.asarray(probabilities), np.asarray(true)
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != true)
    confidence = probabilities[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")[:count]]


def _percent(p):
    """A probability as a percentage that never rounds a near-certain mistake up to 100%."""
    if p >= 0.9995:
        return ">99.9%"
    if 0 < p < 0.0005:
        return "<0.1%"
    return f"{p:.1%}"


def plot_confident_mistakes(images, probabilities, true, class_names, path, count=12):
    """The `count` most confident mistakes, each titled with the predicted class and the true one,
    each with its probability. Without mistakes the figure says so."""
    images, probabilities, true = _as_images(images), np.asarray(probabilities), np.asarray(true)
    if not len(images) == len(probabilities) == len(true):
        raise ValueError(f"{len(images)} images, {len(probabilities)} probability rows and {len(true)} labels")
    chosen = most_confident_mistakes(probabilities, true, count)
    if len(chosen) == 0:
        fig = Figure(figsize=(5, 2), layout="constrained")
        fig.text(0.5, 0.5, f"No mistakes: all {len(images)} images classified correctly.",
                 ha="center", va="center", fontsize=12)
        save_figure(fig, path)
        return fig
    titles = []
    for index in chosen:
        p, t = probabilities[index].argmax(), true[index]
        titles.append(f"pred {class_names[p]} {_percent(probabilities[index, p])}\n"
                      f"true {class_names[t]} {_percent(probabilities[index, t])}")
    rows = math.ceil(len(chosen) / 6)
    mistakes = int(np.sum(probabilities.argmax(axis=1) != true))
    fig = _tile_figure(images[chosen], titles, [True] * len(chosen),
                       columns=math.ceil(len(chosen) / rows),  # rows as evenly filled as possible
                       suptitle=f"The {len(chosen)} most confident of {mistakes} mistakes")
    save_figure(fig, path)
    return fig


# --- all of them -----------------------------------------------------------------------------

PREDICTION_GRID_SIZE = 32
# The files save_all_plots writes, in this order.
LEARNING_CURVES = "learning_curves.png"
PLOT_NAMES = (LEARNING_CURVES, "predictions.png", "confusion_matrix.png", "confident_mistakes.png")


def save_all_plots(out_dir, history, images, probabilities, true, class_names):
    """Write learning_curves.png (skipped when `history` is empty), predictions.png (the first
    32 images), confusion_matrix.png and confident_mistakes.png into `out_dir`; return their paths."""
    out_dir = make_folder(out_dir)
    curves, grid, matrix, mistakes = (out_dir / name for name in PLOT_NAMES)
    images, probabilities, true = _as_images(images), np.asarray(probabilities), np.asarray(true)
    predicted = probabilities.argmax(axis=1)
    paths = []
    if history:
        paths.append(curves)
        plot_learning_curves(history, curves)
    shown = slice(PREDICTION_GRID_SIZE)
    paths.append(grid)
    plot_prediction_grid(images[shown], predicted[shown], true[shown], class_names, grid)
    paths.append(matrix)
    plot_confusion_matrix(confusion_matrix(true, predicted, len(class_names)), class_names, matrix)
    paths.append(mistakes)
    plot_confident_mistakes(images, probabilities, true, class_names, mistakes)
    return paths
