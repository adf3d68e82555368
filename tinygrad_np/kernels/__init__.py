"""Pure-NumPy kernels: plain ndarray functions that import nothing of tinygrad_np.

Ops call them in `forward`, and the backward walk hands this module to every op's backward as
`ops` for an ordinary `backward()`. `tinygrad_np.autograd.differentiable` has a twin of every
name in `__all__` that records a graph node instead, which the walk hands over under
`create_graph=True`; tests/test_kernels.py checks the two namespaces match name for name.
"""
from tinygrad_np.kernels.broadcast import broadcast_to, permute, scatter_add, sum_to
from tinygrad_np.kernels.conv import conv_grads
from tinygrad_np.kernels.elementwise import exp, log, values, where
from tinygrad_np.kernels.normalization import batch_norm_grads
from tinygrad_np.kernels.reduce import cumsum, einsum, prod
from tinygrad_np.kernels.softmax import log_softmax, softmax
from tinygrad_np.kernels.special import cos, erf, expm1, sin
from tinygrad_np.kernels.window import fold, pad, route_to_maxima, unfold

__all__ = ["broadcast_to", "sum_to", "scatter_add", "permute", "values", "exp", "log", "where",
           "softmax", "log_softmax", "unfold", "fold", "pad", "route_to_maxima", "conv_grads", "batch_norm_grads",
           "sin", "cos", "expm1", "erf", "prod", "cumsum", "einsum"]
