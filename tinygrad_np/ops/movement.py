"""Ops that move or select entries without arithmetic: reshape, transpose, broadcast, index, join."""
import numpy as np

from tinygrad_np.function import Function
from tinygrad_np.ops.dual import broadcast_to, scatter_add


class Reshape(Function):
    name = "reshape"

    def forward(self, x, shape=None):
        return x.reshape(shape)

    def backward(self, g, out, x): return g.reshape(x.shape)


class Transpose(Function):
    name = "transpose"

    def forward(self, x, axes=None):
        self.axes = axes
        return np.transpose(x, axes)

    def backward(self, g, out, x):
        if self.axes is None:
            return g.transpose()
        return g.transpose(tuple(np.argsort([axis % g.ndim for axis in self.axes])))


class BroadcastTo(Function):
    """Repeat along size-1 and new leading axes; backward is the walk's sum back to shape."""
    name = "broadcast_to"

    def forward(self, x, shape=None):
        return np.broadcast_to(x, shape)

    def backward(self, g, out, x): return g


class SumTo(Function):
    """Sum a broadcast array back to `shape`: the adjoint of broadcast_to (used by the walk)."""
    name = "sum_to"

    def forward(self, x, shape=None):
        from tinygrad_np.ops.dual import sum_to
        return sum_to(x, shape)

    def backward(self, g, out, x): return broadcast_to(g, x.shape)


def _plain_index(index):
    """Tensors inside an index are replaced by their integer values."""
    def convert(part):
        if hasattr(part, "_ctx"):
            return part.data.astype(np.intp)
        return part
    return tuple(convert(p) for p in index) if isinstance(index, tuple) else convert(index)


class GetItem(Function):
    """x[index] with NumPy's rules: ints, slices, None, Ellipsis, integer arrays, boolean masks.

    Repeated integer indices accumulate their gradients.
    """
    name = "getitem"

    def forward(self, x, index=None):
        self.index = _plain_index(index)
        return x[self.index]

    def backward(self, g, out, x): return scatter_add(g, self.index, x.shape)


class ScatterAdd(Function):
    """Zeros with `grad` added at `index`: the adjoint of GetItem (used under create_graph)."""
    name = "scatter_add"

    def forward(self, g, index=None, shape=None):
        self.index = index
        return scatter_add(g, index, shape)

    def backward(self, g, out, x): return g[self.index]


class Concatenate(Function):
    name = "concatenate"

    def forward(self, *arrays, axis=0):
        self.axis = axis
        return np.concatenate(arrays, axis=axis)

    def backward(self, g, out, *inputs):
        axis = self.axis % g.ndim
        grads, start = [], 0
        for x in inputs:
            stop = start + x.shape[axis]
            grads.append(g[(slice(None),) * axis + (slice(start, stop),)])
            start = stop
        return tuple(grads) if len(grads) > 1 else grads[0]


def concatenate(tensors, axis=0):
    """Join tensors along an existing axis (NumPy's concatenate)."""
    from tinygrad_np.tensor import Tensor

    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate needs at least one tensor")
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    """Join tensors along a new axis: each gets a size-1 axis, then they are concatenated."""
    from tinygrad_np.tensor import Tensor

    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        from tinygrad_np.errors import ShapeError
        raise ShapeError(f"stack: all tensors need one shape, got {sorted(shapes)}")
    position = axis % (tensors[0].ndim + 1)
    expanded = [t.reshape(t.shape[:position] + (1,) + t.shape[position:]) for t in tensors]
    return Concatenate.apply(*expanded, axis=position)
