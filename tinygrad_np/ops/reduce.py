"""Reductions over `axis` (None, an int or a tuple), with NumPy's `keepdims`."""
import numpy as np

from tinygrad_np.function import Function


def _kept_shape(shape, axis):
    """The output shape with keepdims=True, so a gradient can broadcast back over the input."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in ((axis,) if isinstance(axis, (int, np.integer)) else axis)}
    return tuple(1 if i in axes else size for i, size in enumerate(shape))


class Sum(Function):
    name = "sum"
    def forward(self, x, axis=None, keepdims=False): return np.sum(x, axis=axis, keepdims=keepdims)

    def backward(self, ops, g, out, x):
        return ops.broadcast_to(g.reshape(_kept_shape(x.shape, self.params["axis"])), x.shape)


class Max(Function):
    """Largest entry. Convention: tied maxima share the gradient equally (as PyTorch's amax)."""
    name = "max"
    def forward(self, x, axis=None, keepdims=False): return np.max(x, axis=axis, keepdims=keepdims)

    def backward(self, ops, g, out, x):
        axis = self.params["axis"]
        kept = _kept_shape(x.shape, axis)
        winners = ops.values(x) == ops.values(out).reshape(kept)
        share = (winners / winners.sum(axis=axis, keepdims=True)).astype(x.dtype)
        return g.reshape(kept) * share
