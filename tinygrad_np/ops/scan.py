"""Scans: running results along one axis."""
import numpy as np

from tinygrad_np.function import Function


class Cumsum(Function):
    """Running sum along `axis`. Its adjoint is the running sum from the other end:
    d(loss)/d x_i = sum over j >= i of g_j."""
    name = "cumsum"
    def forward(self, x, axis=0): return np.cumsum(x, axis=axis)

    def backward(self, ops, g, out, x):
        reverse = (slice(None),) * (self.params["axis"] % g.ndim) + (slice(None, None, -1),)
        return ops.cumsum(g[reverse], self.params["axis"])[reverse]
