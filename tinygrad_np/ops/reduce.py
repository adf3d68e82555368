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
    formula = "dx = broadcast_to(g, x.shape)"
    def forward(self, x, axis=None, keepdims=False): return np.sum(x, axis=axis, keepdims=keepdims)

    def backward(self, ops, g, out, x):
        return ops.broadcast_to(g.reshape(_kept_shape(x.shape, self.params["axis"])), x.shape)


class Max(Function):
    """Largest entry. Convention: tied maxima share the gradient equally (as PyTorch's amax)."""
    name = "max"
    formula = "dx = g ⊙ 1[x = max] / #ties"
    def forward(self, x, axis=None, keepdims=False): return np.max(x, axis=axis, keepdims=keepdims)

    def backward(self, ops, g, out, x):
        axis = self.params["axis"]
        kept = _kept_shape(x.shape, axis)
        winners = ops.values(x) == ops.values(out).reshape(kept)
        share = (winners / winners.sum(axis=axis, keepdims=True)).astype(x.dtype)
        return g.reshape(kept) * share


class Prod(Function):
    """Product of the entries. d out / d x_i is the product of the other entries: out / x_i where
    x_i != 0; at a zero, the product of the nonzero others if it is its slice's only zero, else 0.
    No division by zero, so zeros give exact gradients (as PyTorch's). As in PyTorch, a product
    that underflows to 0 with no zero entry (1e-200 * 1e-200) gives gradient 0."""
    name = "prod"
    formula = "dxᵢ = g ⊙ Πⱼ≠ᵢ xⱼ"
    def forward(self, x, axis=None, keepdims=False): return np.prod(x, axis=axis, keepdims=keepdims)

    def backward(self, ops, g, out, x):
        axis = self.params["axis"]
        zero = ops.values(x) == 0
        nonzero = ops.where(zero, 1.0, x)  # the zeros replaced by 1
        lone_zero = zero.sum(axis=axis, keepdims=True) == 1
        at_zero = ops.where(lone_zero, ops.prod(nonzero, axis=axis, keepdims=True), 0.0)
        kept = _kept_shape(x.shape, axis)
        return g.reshape(kept) * ops.where(zero, at_zero, out.reshape(kept) / nonzero)
