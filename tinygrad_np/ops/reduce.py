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


class _Reduction(Function):
    """Sum and Max alike: reduce with NumPy, remembering the axis for backward and the picture."""
    reduce = None

    def forward(self, x, axis=None, keepdims=False):
        self.axis = axis
        return self.reduce(x, axis=axis, keepdims=keepdims)

    def describe(self): return self.name if self.axis is None else f"{self.name} axis={self.axis}"


class Sum(_Reduction):
    name = "sum"
    reduce = staticmethod(np.sum)

    def backward(self, g, out, x):
        return broadcast_to(g.reshape(_kept_shape(x.shape, self.axis)), x.shape)


class Max(_Reduction):
    """Largest entry. Convention: tied maxima share the gradient equally (as PyTorch's amax)."""
    name = "max"
    reduce = staticmethod(np.max)

    def backward(self, g, out, x):
        kept = _kept_shape(x.shape, self.axis)
        winners = values(x) == values(out).reshape(kept)
        share = (winners / winners.sum(axis=self.axis, keepdims=True)).astype(x.dtype)
        return g.reshape(kept) * share
