"""Helpers that work on ndarrays and on Tensors alike, so each backward is written once."""
import numpy as np

from tinygrad_np.kernels import window


def _is_tensor(x) -> bool:
    return not isinstance(x, np.ndarray) and hasattr(x, "_ctx")  # ndarrays first: hasattr misses cost


def values(x) -> np.ndarray:
    """The plain numbers, for masks that carry no gradient."""
    return x.data if _is_tensor(x) else x


def exp(x):
    return x.exp() if _is_tensor(x) else np.exp(x)


def log(x):
    return x.log() if _is_tensor(x) else np.log(x)


def where(condition, x, y):
    if _is_tensor(x) or _is_tensor(y):
        from tinygrad_np.ops.elementwise import where as tensor_where
        return tensor_where(condition, x, y)
    return np.where(condition, x, y)


def broadcast_to(x, shape):
    return x.broadcast_to(shape) if _is_tensor(x) else np.broadcast_to(x, shape)


def sum_to(x, shape):
    """Sum a broadcast gradient back to `shape`: the adjoint of broadcast_to."""
    if _is_tensor(x):
        from tinygrad_np.ops.movement import SumTo
        return SumTo.apply(x, shape=tuple(shape))
    leading = x.ndim - len(shape)
    axes = tuple(range(leading)) + tuple(
        leading + i for i, size in enumerate(shape) if size == 1 and x.shape[leading + i] != 1)
    return x.sum(axis=axes).reshape(shape) if axes else x.reshape(shape)


def scatter_add(grad, index, shape):
    """Zeros of `shape` with `grad` added at `index` (repeats accumulate): the adjoint of x[index]."""
    if _is_tensor(grad):
        from tinygrad_np.ops.movement import ScatterAdd
        return ScatterAdd.apply(grad, index=index, shape=shape)
    out = np.zeros(shape, dtype=grad.dtype)
    np.add.at(out, index, grad)
    return out


def unfold(x, **geometry):
    """Every kernel window of an (N, C, H, W) input as (C, kH, kW, N, oH, oW): the adjoint of fold."""
    if _is_tensor(x):
        from tinygrad_np.ops.window import Unfold
        return Unfold.apply(x, **geometry)
    return window.unfold(x, **geometry)


def fold(windows, output_size, **geometry):
    """(C, kH, kW, N, oH, oW) windows summed back into (N, C, H, W): the adjoint of unfold."""
    if _is_tensor(windows):
        from tinygrad_np.ops.window import Fold
        return Fold.apply(windows, output_size=tuple(output_size), **geometry)
    return window.fold(windows, output_size, **geometry)


def pad(x, widths):
    """x padded with zeros by widths[axis] = (before, after), negative widths cropping: the
    adjoint of padding by -widths."""
    if _is_tensor(x):
        from tinygrad_np.ops.window import Pad
        return Pad.apply(x, widths=widths)
    return window.pad(x, widths)
