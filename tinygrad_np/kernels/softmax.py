"""Softmax and log-softmax along one axis, shifted by the max so large logits stay finite.

Both reduce along the first axis of a contiguous copy (`axis` swapped to the front): NumPy
reduces a short last axis one row at a time, and 10 classes are the common case. The max over
10 classes of 64 rows takes 4.0 us along the last axis and 1.5 us along the first (1024 rows:
48 us against 1.9 us). Measured on cross_entropy's forward and backward in a training step of
the 784-128-64-10 MLP (medians): 34 us against 39 at batch 64, 37 against 50 at batch 128, 84
against 206 at batch 1024, about 0.6%, 1.3% and 2.3% of the step.
"""
import numpy as np


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """x - max - log(sum(exp(x - max))): never overflows, for logits of any size."""
    shifted = x.swapaxes(0, axis).copy()
    shifted -= shifted.max(axis=0)
    shifted -= np.log(np.exp(shifted).sum(axis=0))
    return shifted.swapaxes(0, axis)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(x - max) / sum(exp(x - max)): entries in [0, 1] that sum to 1 along `axis`."""
    exps = x.swapaxes(0, axis).copy()
    exps -= exps.max(axis=0)
    np.exp(exps, out=exps)
    exps /= exps.sum(axis=0)
    return exps.swapaxes(0, axis)
