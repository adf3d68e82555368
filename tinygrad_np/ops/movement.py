"""Ops that move or select entries without arithmetic: reshape, permute, broadcast, index, join."""
import numpy as np

from tinygrad_np import kernels
from tinygrad_np.function import Function


class Reshape(Function):
    name = "reshape"
    def forward(self, x, shape=None): return x.reshape(shape)
    def backward(self, ops, g, out, x): return g.reshape(x.shape)


class Permute(Function):
    """The axes in the order `dims`; backward puts them back with the inverse order."""
    name = "permute"
    def forward(self, x, dims=None): return np.transpose(x, dims)

    def backward(self, ops, g, out, x):
        return ops.permute(g, tuple(np.argsort([dim % g.ndim for dim in self.params["dims"]])))


class Transpose(Function):
    """Two axes swapped; swapping them again undoes it."""
    name = "transpose"
    def forward(self, x, dim0=0, dim1=1): return np.swapaxes(x, dim0, dim1)
    def backward(self, ops, g, out, x): return g.swapaxes(self.params["dim0"], self.params["dim1"])


class BroadcastTo(Function):
    """Repeat along size-1 and new leading axes; backward is the walk's sum back to shape."""
    name = "broadcast_to"
    def forward(self, x, shape=None): return np.broadcast_to(x, shape)
    def backward(self, ops, g, out, x): return g


class SumTo(Function):
    """Sum a broadcast array back to `shape`: the adjoint of broadcast_to (used by the walk)."""
    name = "sum_to"
    def forward(self, x, shape=None): return kernels.sum_to(x, shape)
    def backward(self, ops, g, out, x): return ops.broadcast_to(g, x.shape)


class GetItem(Function):
    """x[index] with NumPy's rules: ints, slices, None, Ellipsis, integer arrays, boolean masks.

    Repeated integer indices accumulate their gradients.
    """
    name = "getitem"
    def forward(self, x, index=None): return x[index]
    def backward(self, ops, g, out, x): return ops.scatter_add(g, self.params["index"], x.shape)


class ScatterAdd(Function):
    """Zeros with `grad` added at `index`: the adjoint of GetItem (used under create_graph)."""
    name = "scatter_add"
    def forward(self, g, index=None, shape=None): return kernels.scatter_add(g, index, shape)
    def backward(self, ops, g, out, x): return g[self.params["index"]]


class Concatenate(Function):
    name = "concatenate"
    def forward(self, *arrays, axis=0): return np.concatenate(arrays, axis=axis)

    def backward(self, ops, g, out, *inputs):
        axis = self.params["axis"] % g.ndim
        grads, start = [], 0
        for x in inputs:
            stop = start + x.shape[axis]
            grads.append(g[(slice(None),) * axis + (slice(start, stop),)])
            start = stop
        return tuple(grads) if len(grads) > 1 else grads[0]
