"""mnist.report.plots: every figure is a readable PNG written atomically, with the marks it promises."""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from matplotlib.figure import Figure
from matplotlib.image import imread

from mnist.report.plots import (
    most_confident_mistakes,
    plot_confident_mistakes,
    plot_confusion_matrix,
    plot_learning_curves,
    plot_prediction_grid,
    save_all_plots,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DIGITS = [str(digit) for digit in range(10)]
FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
RED = (0.8392, 0.1529, 0.1569, 1.0)  # tab:red


def history(epochs, validation=True):
    return [{"epoch": e, "train_loss": 1 / e, "train_accuracy": 1 - 0.1 / e,
             "val_loss": 1.2 / e if validation else None,
             "val_accuracy": 1 - 0.2 / e if validation else None} for e in range(1, epochs + 1)]


def fake_images(count, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (count, 28, 28), dtype=np.uint8)


def one_hot_probabilities(predicted, classes=10, confidence=0.9):
    """Rows that put `confidence` on the predicted class and share the rest evenly."""
    probabilities = np.full((len(predicted), classes), (1 - confidence) / (classes - 1))
    probabilities[np.arange(len(predicted)), predicted] = confidence
    return probabilities


def read_png(path):
    """(height, width) of the PNG at `path`, checked to be the only file in its folder."""
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert os.listdir(path.parent) == [path.name]  # no temporary file left behind
    pixels = imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 0 and pixels.shape[1] > 0
    return pixels.shape[:2]


def titles(fig):
    return [axes.get_title() for axes in fig.axes]


def is_marked_as_mistake(axes):
    spines = axes.spines.values()
    return (axes.title.get_color() == "tab:red"
            and all(s.get_visible() and np.allclose(s.get_edgecolor(), RED, atol=1e-3) for s in spines))


# --- learning curves ----------------------------------------------------------------------------

def test_learning_curves_show_train_and_validation_side_by_side(tmp_path):
    fig = plot_learning_curves(history(5), tmp_path / "curves.png")
    height, width = read_png(tmp_path / "curves.png")
    assert width > height
    loss, accuracy = fig.axes
    assert (loss.get_title(), accuracy.get_title()) == ("Loss", "Accuracy")
    assert loss.get_xlabel() == accuracy.get_xlabel() == "Epoch"
    for axes in fig.axes:
        assert len(axes.lines) == 2
    np.testing.assert_allclose(accuracy.lines[1].get_ydata(), [1 - 0.2 / e for e in range(1, 6)])


def test_a_single_epoch_is_drawn_as_markers_on_an_integer_axis(tmp_path):
    fig = plot_learning_curves(history(1), tmp_path / "curves.png")
    read_png(tmp_path / "curves.png")
    for axes in fig.axes:
        assert all(line.get_marker() == "o" for line in axes.lines)
        assert list(axes.get_xticks()) == [1]


@pytest.mark.parametrize("missing", [None, float("nan")])
def test_without_validation_only_train_is_drawn(tmp_path, missing):
    rows = [{**row, "val_loss": missing, "val_accuracy": missing} for row in history(3)]
    fig = plot_learning_curves(rows, tmp_path / "curves.png")
    read_png(tmp_path / "curves.png")
    for axes in fig.axes:
        assert [line.get_label() for line in axes.lines][0].startswith("train")
        assert len(axes.lines) == 1


def test_empty_history_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no epochs"):
        plot_learning_curves([], tmp_path / "curves.png")
    assert os.listdir(tmp_path) == []


# --- prediction grid ----------------------------------------------------------------------------

def test_prediction_grid_titles_each_image_and_marks_mistakes(tmp_path):
    true = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    predicted = np.array([0, 1, 2, 8, 4, 5, 6, 1, 8, 9])
    fig = plot_prediction_grid(fake_images(10), predicted, true, DIGITS, tmp_path / "grid.png", columns=4)
    read_png(tmp_path / "grid.png")
    assert titles(fig) == [f"{p} / {t}" for p, t in zip(predicted, true, strict=True)]
    assert [axes.get_subplotspec().get_geometry()[:2] for axes in fig.axes] == [(3, 4)] * 10
    for axes, p, t in zip(fig.axes, predicted, true, strict=True):
        assert is_marked_as_mistake(axes) == (p != t)
        if p == t:
            assert axes.title.get_color() == "black"
            assert not any(spine.get_visible() for spine in axes.spines.values())


@pytest.mark.parametrize("count, columns, wide", [(16, 8, True), (6, 2, False)])
def test_prediction_grid_shape_follows_columns(tmp_path, count, columns, wide):
    labels = np.arange(count) % 10
    plot_prediction_grid(fake_images(count), labels, labels, DIGITS, tmp_path / "grid.png", columns)
    height, width = read_png(tmp_path / "grid.png")
    assert (width > height) == wide


def test_prediction_grid_takes_flat_float_images_and_long_names(tmp_path):
    flat = fake_images(3).reshape(3, 784) / 255.0
    fig = plot_prediction_grid(flat, [0, 9, 2], [0, 9, 3], FASHION, tmp_path / "grid.png")
    read_png(tmp_path / "grid.png")
    assert titles(fig) == ["T-shirt/top /\nT-shirt/top", "Ankle boot /\nAnkle boot", "Pullover /\nDress"]
    assert fig.axes[0].images[0].get_array().shape == (28, 28)


def test_prediction_grid_leaves_its_inputs_alone(tmp_path):
    images, labels = fake_images(4), np.array([1, 2, 3, 4])
    before = images.copy(), labels.copy()
    plot_prediction_grid(images, labels, labels[::-1], DIGITS, tmp_path / "grid.png")
    np.testing.assert_array_equal(images, before[0])
    np.testing.assert_array_equal(labels, before[1])


def test_prediction_grid_rejects_mismatched_lengths(tmp_path):
    with pytest.raises(ValueError, match="3 images, 2 predictions and 3 labels"):
        plot_prediction_grid(fake_images(3), [0, 1], [0, 1, 2], DIGITS, tmp_path / "grid.png")


# --- confusion matrix ---------------------------------------------------------------------------

def test_confusion_matrix_annotates_every_count(tmp_path):
    matrix = np.array([[5, 1, 0], [0, 7, 2], [3, 0, 9]])
    fig = plot_confusion_matrix(matrix, ["a", "b", "c"], tmp_path / "cm.png")
    read_png(tmp_path / "cm.png")
    axes = fig.axes[0]
    assert [text.get_text() for text in axes.texts] == [str(count) for count in matrix.ravel()]
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("Predicted class", "True class")
    assert "accuracy 77.78% of 27" in axes.get_title()
    # Colour is the row-normalised rate: row 0 is 5/6 of class "a".
    np.testing.assert_allclose(axes.images[0].get_array()[0], [5 / 6, 1 / 6, 0])


def test_long_class_names_are_rotated_and_short_ones_are_not(tmp_path):
    matrix = np.eye(10, dtype=int) * 10
    fashion = plot_confusion_matrix(matrix, FASHION, tmp_path / "fashion.png").axes[0]
    digits = plot_confusion_matrix(matrix, DIGITS, tmp_path / "digits.png").axes[0]
    assert [label.get_text() for label in fashion.get_xticklabels()] == FASHION
    assert {label.get_rotation() for label in fashion.get_xticklabels()} == {45}
    assert {label.get_rotation() for label in digits.get_xticklabels()} == {0}
    # Every tick label lies inside the saved picture.
    figure_box = fashion.figure.bbox
    for label in fashion.get_xticklabels() + fashion.get_yticklabels():
        box = label.get_window_extent()
        assert figure_box.x0 <= box.x0 and box.x1 <= figure_box.x1
        assert figure_box.y0 <= box.y0 and box.y1 <= figure_box.y1


def test_confusion_matrix_with_an_empty_class_or_float_counts_still_draws(tmp_path):
    fig = plot_confusion_matrix(np.array([[0.0, 0.0], [1.0, 3.0]]), ["a", "b"], tmp_path / "cm.png")
    read_png(tmp_path / "cm.png")
    assert [text.get_text() for text in fig.axes[0].texts] == ["0", "0", "1", "3"]


def test_confusion_matrix_must_fit_the_class_names(tmp_path):
    with pytest.raises(ValueError, match="does not fit 3 class names"):
        plot_confusion_matrix(np.zeros((2, 2)), ["a", "b", "c"], tmp_path / "cm.png")


# --- confident mistakes -------------------------------------------------------------------------

def test_most_confident_mistakes_by_hand():
    probabilities = [[0.9, 0.1],   # predicted 0, true 1: wrong at 0.9
                     [0.2, 0.8],   # predicted 1, true 0: wrong at 0.8
                     [0.3, 0.7],   # predicted 1, true 1: right
                     [0.95, 0.05]]  # predicted 0, true 0: right
    np.testing.assert_array_equal(most_confident_mistakes(probabilities, [1, 0, 1, 0], 5), [0, 1])
    np.testing.assert_array_equal(most_confident_mistakes(probabilities, [1, 0, 1, 0], 1), [0])
    np.testing.assert_array_equal(most_confident_mistakes(probabilities, [0, 1, 1, 0], 5), [])


def test_equally_confident_mistakes_keep_their_order():
    probabilities = one_hot_probabilities([1, 1, 1, 1], classes=3)
    np.testing.assert_array_equal(most_confident_mistakes(probabilities, [0, 1, 2, 0], 3), [0, 2, 3])


@st.composite
def classified(draw):
    """(probabilities, true): rows of a few distinct probability levels, so ties happen."""
    size, classes = draw(st.integers(0, 20)), draw(st.integers(2, 4))
    weights = draw(hnp.arrays(np.float64, (size, classes), elements=st.sampled_from([1.0, 2.0, 3.0, 5.0])))
    true = draw(hnp.arrays(np.int64, size, elements=st.integers(0, classes - 1)))
    return weights / weights.sum(axis=1, keepdims=True), true


@given(classified(), st.integers(0, 25))
def test_most_confident_mistakes_is_a_sort_of_the_mistakes(case, count):
    probabilities, true = case
    predicted = probabilities.argmax(axis=1)
    mistakes = [i for i in range(len(true)) if predicted[i] != true[i]]
    expected = sorted(mistakes, key=lambda i: (-probabilities[i].max(), i))[:count]
    assert most_confident_mistakes(probabilities, true, count).tolist() == expected


def test_confident_mistakes_show_both_classes_and_probabilities(tmp_path):
    probabilities = np.array([[0.7, 0.1, 0.1, 0.1],        # right
                              [0.3, 0.0, 0.1, 0.6],        # wrong at 0.6
                              [0.99999, 0.00001, 0, 0],    # wrong, nearly certain
                              [0.1, 0.1, 0.2, 0.6]])       # wrong at 0.6, ranked after index 1
    true = np.array([0, 0, 1, 2])
    fig = plot_confident_mistakes(fake_images(4), probabilities, true, FASHION, tmp_path / "m.png", count=2)
    read_png(tmp_path / "m.png")
    assert titles(fig) == ["pred T-shirt/top >99.9%\ntrue Trouser <0.1%",
                           "pred Dress 60.0%\ntrue T-shirt/top 30.0%"]
    assert all(is_marked_as_mistake(axes) for axes in fig.axes)
    assert "2 most confident of 3 mistakes" in fig.get_suptitle()


def test_no_mistakes_still_writes_a_figure_saying_so(tmp_path):
    true = np.array([0, 1, 2])
    fig = plot_confident_mistakes(fake_images(3), one_hot_probabilities(true), true, DIGITS,
                                  tmp_path / "m.png")
    read_png(tmp_path / "m.png")
    assert [text.get_text() for text in fig.texts] == ["No mistakes: all 3 images classified correctly."]


# --- all plots, atomic saving, threads -----------------------------------------------------------

def test_save_all_plots_writes_the_four_pictures(tmp_path):
    true = np.arange(12) % 10
    probabilities = one_hot_probabilities(np.where(np.arange(12) % 5 == 0, (true + 1) % 10, true))
    out = tmp_path / "new" / "run"
    paths = save_all_plots(out, history(3), fake_images(12), probabilities, true, DIGITS)
    assert [path.name for path in paths] == ["learning_curves.png", "predictions.png",
                                             "confusion_matrix.png", "confident_mistakes.png"]
    assert sorted(os.listdir(out)) == sorted(path.name for path in paths)
    for path in paths:
        assert path.read_bytes().startswith(PNG_SIGNATURE)
        assert min(imread(path).shape[:2]) > 0


def test_save_all_plots_skips_learning_curves_without_history(tmp_path):
    true = np.array([0, 1])
    paths = save_all_plots(tmp_path, [], fake_images(2), one_hot_probabilities(true), true, DIGITS)
    assert [path.name for path in paths] == ["predictions.png", "confusion_matrix.png",
                                             "confident_mistakes.png"]


def test_format_follows_the_suffix(tmp_path):
    plot_learning_curves(history(2), tmp_path / "curves.svg")
    assert b"<svg" in (tmp_path / "curves.svg").read_bytes()[:1000]


def test_failed_save_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "cm.png"
    target.write_bytes(b"old")

    def half_a_png(fig, file, **kwargs):
        file.write(PNG_SIGNATURE)
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", half_a_png)
    with pytest.raises(RuntimeError, match="disk full"):
        plot_confusion_matrix(np.eye(2, dtype=int), ["a", "b"], target)
    assert os.listdir(tmp_path) == ["cm.png"]
    assert target.read_bytes() == b"old"


def test_unknown_format_leaves_nothing_behind(tmp_path):
    with pytest.raises(ValueError, match="not supported"):
        plot_confusion_matrix(np.eye(2, dtype=int), ["a", "b"], tmp_path / "cm.nope")
    assert os.listdir(tmp_path) == []


def test_figures_can_be_drawn_from_several_threads(tmp_path):
    def draw(index):
        folder = tmp_path / str(index)
        folder.mkdir()
        plot_confusion_matrix(np.eye(3, dtype=int) * index, ["a", "b", "c"], folder / "cm.png")
        return read_png(folder / "cm.png")

    with ThreadPoolExecutor(4) as pool:
        sizes = list(pool.map(draw, range(4)))
    assert len(set(sizes)) == 1
