"""The differentiable twin of `tinygrad_np.kernels`: the same names, on Tensors, each a recorded op.

The backward walk hands this module to every op's backward as `ops` under
`backward(create_graph=True)`, so the gradient it computes is itself a graph. Keep the names in
step with `kernels.__all__` (tests/test_kernels.py checks).
"""
from tinygrad_np import functional
from tinygrad_np.kernels import window as window_kernels
from tinygrad_np.ops import einsum as einsum_ops
from tinygrad_np.ops import elementwise, movement, reduce, scan, special, window
from tinygrad_np.ops import softmax as softmax_ops
from tinygrad_np.tensor import Tensor, lift


def values(x: Tensor):
    """The plain numbers, for masks that carry no gradient."""
    return x.data


def exp(x: Tensor) -> Tensor: return elementwise.Exp.apply(x)
def log(x: Tensor) -> Tensor: return elementwise.Log.apply(x)
def where(condition, x, y) -> Tensor: return functional.where(condition, x, y)
def broadcast_to(x: Tensor, shape) -> Tensor: return movement.BroadcastTo.apply(x, shape=tuple(shape))
def sum_to(x: Tensor, shape) -> Tensor: return movement.SumTo.apply(x, shape=tuple(shape))
def scatter_add(grad: Tensor, index, shape) -> Tensor: return movement.ScatterAdd.apply(grad, index=index, shape=shape)
def permute(x: Tensor, dims) -> Tensor: return movement.Permute.apply(x, dims=tuple(dims))
def softmax(x: Tensor, axis=-1) -> Tensor: return softmax_ops.Softmax.apply(x, axis=axis)
def log_softmax(x: Tensor, axis=-1) -> Tensor: return softmax_ops.LogSoftmax.apply(x, axis=axis)
def sin(x: Tensor) -> Tensor: return special.Sin.apply(x)
def cos(x: Tensor) -> Tensor: return special.Cos.apply(x)
def expm1(x: Tensor) -> Tensor: return special.Expm1.apply(x)
def erf(x: Tensor) -> Tensor: return special.Erf.apply(x)
def prod(x: Tensor, axis=None, keepdims=False) -> Tensor: return reduce.Prod.apply(x, axis=axis, keepdims=keepdims)
def cumsum(x: Tensor, axis) -> Tensor: return scan.Cumsum.apply(x, axis=axis)


def einsum(*operands, subscripts: str) -> Tensor:
    """Operands may include constant arrays (the ones a gradient adds for an axis summed alone)."""
    return einsum_ops.Einsum.apply(*(lift(operand) for operand in operands), subscripts=subscripts)


def unfold(x: Tensor, kernel_size, stride, padding, dilation) -> Tensor:
    return window.Unfold.apply(x, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation)


def fold(windows: Tensor, output_size, kernel_size, stride, padding, dilation) -> Tensor:
    return window.Fold.apply(windows, output_size=tuple(output_size), kernel_size=kernel_size, stride=stride,
                             padding=padding, dilation=dilation)


def pad(x: Tensor, widths, value: float = 0.0) -> Tensor: return window.Pad.apply(x, widths=widths, value=value)


def route_to_maxima(g: Tensor, windows, maxima) -> Tensor:
    """The kernel's shares as g / count times the constant winners mask: a product in g."""
    winners = (windows == maxima[:, None, None]).astype(windows.dtype)
    channels, _, _, out_h, out_w, batch = windows.shape
    share = permute(g, (1, 2, 3, 0)) / window_kernels.window_sum(winners)
    return share.reshape((channels, 1, 1, out_h, out_w, batch)) * winners


def conv_grads(g: Tensor, x: Tensor, weight: Tensor, saved, stride, padding, dilation, groups, needs) -> tuple:
    """(dx, dW, db) as recorded ops, by im2col whichever lowering the forward took (`saved` is
    not used: the twin unfolds x itself): dx = fold(Wᵀ g), dW = g colsᵀ, db = Σ g."""
    batch, out_channels, out_h, out_w = g.shape
    _, group_channels, kernel_h, kernel_w = weight.shape
    kernel_size = (kernel_h, kernel_w)
    g_rows = permute(g, (1, 2, 3, 0)).reshape(groups, out_channels // groups, -1)
    grad_x = grad_weight = grad_bias = None
    if needs[0]:
        product = weight.reshape(groups, out_channels // groups, -1).swapaxes(1, 2) @ g_rows
        windows = product.reshape(groups * group_channels, kernel_h, kernel_w, out_h, out_w, batch)
        grad_x = fold(windows, x.shape[2:], kernel_size, stride, padding, dilation)
    if needs[1]:
        windows = unfold(x, kernel_size, stride, padding, dilation)
        grad_weight = (g_rows @ windows.reshape(groups, group_channels * kernel_h * kernel_w, -1).swapaxes(1, 2)
                       ).reshape(weight.shape)
    if needs[2]:
        grad_bias = g_rows.sum(axis=2).reshape(-1)
    return grad_x, grad_weight, grad_bias


def batch_norm_grads(g: Tensor, x: Tensor, weight, saved, eps: float, needs) -> tuple:
    """(dx, dγ, dβ) as recorded ops, x̂ recomputed from x (the kernel's saved rows are
    constants, and dx must stay a function of x): dx = k (g - mean g - x̂ mean(g x̂))."""
    axes = (0, *range(2, x.ndim))
    per_channel = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    centered = x - x.mean(axis=axes, keepdims=True)
    inverse_std = ((centered * centered).mean(axis=axes, keepdims=True) + eps) ** -0.5
    normalized = centered * inverse_std
    grad_x = None
    if needs[0]:
        scale = inverse_std if weight is None else inverse_std * weight.reshape(per_channel)
        grad_x = scale * (g - g.mean(axis=axes, keepdims=True)
                          - normalized * (g * normalized).mean(axis=axes, keepdims=True))
    grad_weight = (g * normalized).sum(axis=axes) if needs[1] else None
    return grad_x, grad_weight, g.sum(axis=axes) if needs[2] else None


__all__ = ["broadcast_to", "sum_to", "scatter_add", "permute", "values", "exp", "log", "where",
           "softmax", "log_softmax", "unfold", "fold", "pad", "route_to_maxima", "conv_grads", "batch_norm_grads",
           "sin", "cos", "expm1", "erf", "prod", "cumsum", "einsum"]
