"""accuracy, confusion_matrix, per_class_accuracy: hand-worked cases and the counting identities."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mnist.report.metrics import accuracy, confusion_matrix, per_class_accuracy

# true:      0 0 1 2 2 2
# predicted: 0 1 1 2 0 2
TRUE = [0, 0, 1, 2, 2, 2]
PREDICTED = [0, 1, 1, 2, 0, 2]
MATRIX = [[1, 1, 0],
          [0, 1, 0],
          [1, 0, 2]]


@st.composite
def labelled_predictions(draw, max_classes=6, max_size=40):
    """(true, predicted, num_classes): two equally long label arrays, possibly empty."""
    num_classes = draw(st.integers(1, max_classes))
    size = draw(st.integers(0, max_size))
    labels = hnp.arrays(np.int64, size, elements=st.integers(0, num_classes - 1))
    return draw(labels), draw(labels), num_classes


def test_confusion_matrix_by_hand():
    matrix = confusion_matrix(TRUE, PREDICTED, 3)
    assert matrix.dtype == np.int64
    np.testing.assert_array_equal(matrix, MATRIX)


def test_accuracy_by_hand():
    assert accuracy(TRUE, PREDICTED) == 4 / 6
    assert accuracy([3], [3]) == 1.0


def test_per_class_accuracy_is_the_diagonal_over_the_row_sum():
    np.testing.assert_allclose(per_class_accuracy(MATRIX), [1 / 2, 1 / 1, 2 / 3])


def test_per_class_accuracy_of_an_absent_class_is_nan():
    rates = per_class_accuracy(confusion_matrix([0, 0, 2], [0, 1, 2], 3))
    np.testing.assert_array_equal(rates, [0.5, np.nan, 1.0])


def test_narrow_label_dtypes_do_not_overflow():
    # uint8 labels from an IDX file: 200 * 256 + 199 overflows uint8 unless widened first.
    matrix = confusion_matrix(np.array([200], np.uint8), np.array([199], np.uint8), 256)
    assert matrix[200, 199] == 1 and matrix.sum() == 1


def test_no_examples_give_a_zero_matrix():
    np.testing.assert_array_equal(confusion_matrix([], [], 2), np.zeros((2, 2)))


@pytest.mark.parametrize("true, predicted, fragment", [
    ([0, 1], [0], "equally long"),
    ([[0, 1]], [[0, 1]], "1-D"),
    ([0.0, 1.0], [0, 1], "integers"),
    ([0, 3], [0, 1], "[0, 3)"),
    ([0, 1], [-1, 1], "[0, 3)"),
])
def test_bad_labels_are_rejected(true, predicted, fragment):
    with pytest.raises(ValueError, match=re.escape(fragment)):
        confusion_matrix(true, predicted, 3)


def test_accuracy_of_nothing_is_an_error():
    with pytest.raises(ValueError, match="zero examples"):
        accuracy([], [])


def test_per_class_accuracy_needs_a_square_matrix():
    with pytest.raises(ValueError, match="square"):
        per_class_accuracy(np.zeros((2, 3)))


@given(labelled_predictions())
def test_confusion_matrix_counts_every_pair_once(case):
    true, predicted, num_classes = case
    matrix = confusion_matrix(true, predicted, num_classes)
    expected = np.zeros((num_classes, num_classes), np.int64)
    for t, p in zip(true, predicted, strict=True):
        expected[t, p] += 1
    np.testing.assert_array_equal(matrix, expected)
    # Rows sum to the class counts, columns to the prediction counts, the trace to the correct ones.
    np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(true, minlength=num_classes))
    np.testing.assert_array_equal(matrix.sum(axis=0), np.bincount(predicted, minlength=num_classes))
    assert np.trace(matrix) == np.sum(true == predicted)


@given(labelled_predictions().filter(lambda case: len(case[0]) > 0))
def test_accuracy_is_the_trace_over_the_total(case):
    true, predicted, num_classes = case
    matrix = confusion_matrix(true, predicted, num_classes)
    assert accuracy(true, predicted) == pytest.approx(np.trace(matrix) / len(true))
    # Weighting each class's accuracy by its size gives back the overall accuracy.
    counts = matrix.sum(axis=1)
    present = counts > 0
    weighted = np.sum(per_class_accuracy(matrix)[present] * counts[present]) / len(true)
    assert weighted == pytest.approx(accuracy(true, predicted))
