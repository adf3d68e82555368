"""Batch norm's kernels in plain NumPy (imports nothing of tinygrad_np): the normalized output
in training mode and its three gradients, each channel a row of a (C, M) view of the batch.

Batch-minor activations ((C, H, W, N) memory, see kernels/window.py) are already (C, M) rows, so
each statistic is one pass along contiguous memory; another layout is copied into rows once.
"""
from dataclasses import dataclass

import numpy as np


@dataclass
class Normalized:
    """What the backward needs: x̂ as (C, M) rows, 1 / sqrt(var + eps) and the axis order of the
    rows; and the batch's mean and biased variance (C,), which the running averages take."""
    rows: np.ndarray
    inverse_std: np.ndarray
    order: tuple
    mean: np.ndarray
    variance: np.ndarray


def channel_order(x: np.ndarray) -> tuple:
    """The axes of an (N, C, ...) array with the channel first and the rest as they lie in memory."""
    return (1, *sorted((axis for axis in range(x.ndim) if axis != 1), key=lambda axis: -abs(x.strides[axis])))


def as_rows(x: np.ndarray, order: tuple) -> np.ndarray:
    """x's axes in `order`, as (C, M) rows: a view when that is its memory order, else a copy."""
    return np.ascontiguousarray(x.transpose(order)).reshape(x.shape[1], -1)


def from_rows(rows: np.ndarray, shape: tuple, order: tuple) -> np.ndarray:
    """as_rows' inverse: an array of `shape`, a view of the rows' memory."""
    return rows.reshape([shape[axis] for axis in order]).transpose(np.argsort(order))


def batch_norm(x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None, eps: float) -> tuple:
    """(x̂ γ + β in x's layout, Normalized), x̂ = (x - mean) / sqrt(var + eps) per channel over
    the batch and every other axis, with the biased variance."""
    order = channel_order(x)
    rows = as_rows(x, order)
    count = rows.shape[1]
    mean = rows.mean(axis=1)
    normalized = rows - mean[:, None]
    variance = np.einsum("cm,cm->c", normalized, normalized) / count
    inverse_std = 1 / np.sqrt(variance + eps)
    normalized *= inverse_std[:, None]
    out = normalized * weight[:, None] if weight is not None else normalized.copy()
    if bias is not None:
        out += bias[:, None]
    return from_rows(out, x.shape, order), Normalized(normalized, inverse_std, order, mean, variance)


def batch_norm_grads(g: np.ndarray, x: np.ndarray, weight: np.ndarray | None, saved: Normalized, eps: float,
                     needs) -> tuple:
    """(dx, dγ, dβ), None where `needs` says no: with k = γ / sqrt(var + eps),
    dx = k (g - mean(g) - x̂ mean(g x̂)), dγ = Σ g x̂, dβ = Σ g; the two sums serve all three.
    (x and eps are for the differentiable twin, which recomputes x̂ from x.)"""
    g_rows = as_rows(g, saved.order)
    count = g_rows.shape[1]
    sum_g = g_rows.sum(axis=1)
    sum_g_normalized = np.einsum("cm,cm->c", g_rows, saved.rows)
    grad_x = None
    if needs[0]:
        scale = saved.inverse_std if weight is None else weight * saved.inverse_std
        rows = g_rows * scale[:, None]
        rows -= saved.rows * (scale * sum_g_normalized / count)[:, None]
        rows -= (scale * sum_g / count)[:, None]
        grad_x = from_rows(rows, x.shape, saved.order)
    return grad_x, sum_g_normalized if needs[1] else None, sum_g if needs[2] else None
