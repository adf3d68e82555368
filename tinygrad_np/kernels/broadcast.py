"""Broadcasting and indexing kernels with their adjoints, on plain ndarrays.

Each pair is adjoint: `sum_to` undoes `broadcast_to`, `scatter_add` undoes `x[index]`, and
`permute` by the inverse order undoes `permute`. The graph walk sums every gradient back to its
input's shape with `sum_to`, so no op's backward has to think about broadcasting.
"""
import numpy as np


def broadcast_to(x: np.ndarray, shape: tuple) -> np.ndarray:
    """A read-only view of `x` repeated along new leading axes and size-1 axes."""
    return np.broadcast_to(x, shape)


def sum_to(x: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum a broadcast array back to `shape`: the adjoint of broadcast_to."""
    leading = x.ndim - len(shape)
    axes = tuple(range(leading)) + tuple(
        leading + i for i, size in enumerate(shape) if size == 1 and x.shape[leading + i] != 1)
    return x.sum(axis=axes).reshape(shape) if axes else x.reshape(shape)


def scatter_add(grad: np.ndarray, index, shape: tuple) -> np.ndarray:
    """Zeros of `shape` with `grad` added at `index` (repeats accumulate): the adjoint of x[index]."""
    out = np.zeros(shape, dtype=grad.dtype)
    np.add.at(out, index, grad)
    return out


def permute(x: np.ndarray, dims: tuple) -> np.ndarray:
    """The axes of `x` in the order `dims` (a view, as torch.permute)."""
    return np.transpose(x, dims)
