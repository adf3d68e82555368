"""Classification metrics on integer labels: the one implementation training, evaluation and plots use.

A confusion matrix has rows = true class, columns = predicted class, so row i sums to the number of
examples of class i and the trace counts the correct predictions.
"""
import numpy as np


def _labels(true, predicted):
    """Both label arrays as 1-D integer arrays of one length; a ValueError names what is wrong."""
    true, predicted = np.asarray(true), np.asarray(predicted)
    if true.ndim != 1 or predicted.ndim != 1 or len(true) != len(predicted):
        raise ValueError(f"true and predicted must be 1-D and equally long, got shapes "
                         f"{true.shape} and {predicted.shape}")
    for name, labels in (("true", true), ("predicted", predicted)):
        if labels.size and not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"{name} labels must be integers, got dtype {labels.dtype}")
    return true.astype(np.int64), predicted.astype(np.int64)


def accuracy(true, predicted) -> float:
    """Fraction of predictions equal to the true label: accuracy([0, 1, 1], [0, 1, 0]) == 2/3."""
    true, predicted = _labels(true, predicted)
    if len(true) == 0:
        raise ValueError("accuracy of zero examples is undefined")
    return float(np.mean(true == predicted))


def confusion_matrix(true, predicted, num_classes: int) -> np.ndarray:
    """(num_classes, num_classes) int64 counts; entry [i, j] counts examples of class i predicted as j."""
    true, predicted = _labels(true, predicted)
    for name, labels in (("true", true), ("predicted", predicted)):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f"{name} labels must lie in [0, {num_classes}), "
                             f"got values from {labels.min()} to {labels.max()}")
    # Each pair (i, j) gets its own bin i * C + j; one bincount counts them all.
    counts = np.bincount(true * num_classes + predicted, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def per_class_accuracy(matrix) -> np.ndarray:
    """Recall of each class, diagonal / row sum; NaN for a class with no examples."""
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"a confusion matrix is square, got shape {matrix.shape}")
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / totals, np.nan)
