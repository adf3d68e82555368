"""Softmax, log-softmax and the fused softmax cross-entropy, all shifted by the max for stability."""
import numpy as np

from tinygrad_np import kernels
from tinygrad_np.errors import ArgumentError
from tinygrad_np.function import Function


class LogSoftmax(Function):
    name = "log_softmax"
    formula = "dx = g − softmax(x) ⊙ Σ g"
    def forward(self, x, axis=-1): return kernels.log_softmax(x, axis)

    # d out_i / d x_j = delta_ij - softmax_j
    def backward(self, ops, g, out, x): return g - ops.exp(out) * g.sum(axis=self.params["axis"], keepdims=True)


class Softmax(Function):
    name = "softmax"
    formula = "dx = out ⊙ (g − Σ g ⊙ out)"
    def forward(self, x, axis=-1): return kernels.softmax(x, axis)

    # d out_i / d x_j = out_i (delta_ij - out_j)
    def backward(self, ops, g, out, x): return out * (g - (g * out).sum(axis=self.params["axis"], keepdims=True))


class CrossEntropy(Function):
    """Mean over the batch of -sum_j Y_j log softmax(logits)_j, for (m, C) logits.

    Targets (fixed, no gradient) are class indices (m,), made one-hot rows Y here, or probability
    rows (m, C). Backward is the seed's dZ = A - Y, averaged: (softmax(logits) - Y) / m.
    """
    name = "cross_entropy"
    formula = "dZ = (softmax(Z) − Y) / m · g"

    def forward(self, logits, targets=None):
        if logits.ndim != 2:
            raise ValueError(f"logits must be (batch, classes), got shape {logits.shape}")
        batch, classes = logits.shape
        if batch == 0:
            raise ValueError("cross_entropy of an empty batch")
        self.target_rows = _target_rows(targets, batch, classes, logits.dtype)  # Y, (m, C)
        return -np.vdot(self.target_rows, kernels.log_softmax(logits, axis=1)) / batch

    # A/m - Y/m rather than (A - Y)/m: equal when m is a power of two, and otherwise rounded as
    # every earlier version of this op rounded it (a run's last, short batch has m = 24).
    def backward(self, ops, g, out, logits):
        scale = g / logits.shape[0]
        return ops.softmax(logits, axis=1) * scale - self.target_rows * scale


def _target_rows(targets, batch, classes, dtype) -> np.ndarray:
    """Y as (batch, classes) rows: one-hot rows for integer labels, checked to lie in range."""
    targets = np.asarray(targets)
    if targets.ndim == 1 and targets.dtype.kind in "iu":
        if targets.shape[0] != batch:
            raise ValueError(f"{targets.shape[0]} labels for {batch} rows of logits")
        low, high = targets.min(), targets.max()
        if low < 0 or high >= classes:
            raise ArgumentError(f"cross_entropy: labels must lie in [0, {classes}), got {low}..{high}")
        # Laid out as kernels.softmax lays out A, (classes, batch) in memory, so A - Y keeps that
        # order and the bias gradient sums each class's batch along contiguous memory, pairwise:
        # the rounding the README's MNIST accuracy was measured with (rows in (batch, classes)
        # order sum the batch one row at a time, and a seed's run ends 0.05% lower).
        rows = np.zeros((classes, batch), dtype).T
        rows[np.arange(batch), targets] = 1
        return rows
    if targets.shape != (batch, classes):
        raise ValueError(f"targets of shape {targets.shape} for logits of shape {(batch, classes)}: "
                         "give integer labels (batch,) or probability rows (batch, classes)")
    return targets.astype(dtype, copy=False)
