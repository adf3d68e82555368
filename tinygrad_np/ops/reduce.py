"""Reductions over `axis` (None, an int or a tuple), with NumPy's `keepdims`."""
import numpy as np

from tinygrad_np.function import Function
from tinygrad_np.ops.dual import broadcast_to, values


def _kept_shape(shape, axis):
    """The output shape with keepdims=True, so a gradient can broadcast back over the input."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in ((axis,) if isinstance(axis, (int, np.integer)) else axis)}
    return tuple(1 if i in axes else size for i, size in enumerate(shape))


class Sum(Function):
    name = "sum"

    def forward(self, x, axis=None, keepdims=False):
        self.axis = axis
        return np.sum(x, axis=axis, keepdims=keepdims)

    def backward(self, g, out, x):
        return broadcast_to(g.reshape(_kept_shape(x.shape, self.axis)), x.shape)

    def describe(self): return "sum" if self.axis is None else f"sum axis={self.axis}"


class Max(Function):
    """Largest entry. Convention: tied maxima share the gradient equally (as PyTorch's amax)."""
    name = "max"

    def forward(self, x, axis=None, keepdims=False):
        self.axis = axis
        return np.max(x, axis=axis, keepdims=keepdims)

    def backward(self, g, out, x):
        kept = _kept_shape(x.shape, self.axis)
        winners = values(x) == values(out).reshape(kept)
        share = (winners / winners.sum(axis=self.axis, keepdims=True)).astype(x.dtype)
        return g.reshape(kept) * share

    def describe(self): return "max" if self.axis is None else f"max axis={self.axis}"
