"""Convolution as one primitive: conv2d's forward and its three gradients side by side.

Kernels in tinygrad_np.kernels.conv. Geometry params are pairs (height, width), as in ops/window.py.
"""
from tinygrad_np.function import Function
from tinygrad_np.kernels import conv
from tinygrad_np.ops.window import describe_geometry


class Conv2d(Function):
    """2-D cross-correlation of x (N, C, H, W) with a weight (O, C/groups, kH, kW), plus a bias
    (O,), returned as an (N, O, oH, oW) view of (O, oH, oW, N) memory (the batch-minor layout
    the next layer's im2col copies fastest, see kernels/window.py).

    One node rather than a composition (unfold, reshape, matmul, reshape, permute, + bias): the
    kernels choose per call between im2col and the spectral products (kernels/conv.py), keep
    what their backward needs (the columns, or the input's spectrum), and fold the bias in.
    """
    name = "conv2d"
    formula = "dW = g colsᵀ,  db = Σ g,  dx = fold(Wᵀ g)"

    def forward(self, x, weight, bias=None, stride=None, padding=None, dilation=None, groups=1):
        out, self.saved = conv.forward(x, weight, bias, stride, padding, dilation, groups)
        return out

    def describe(self) -> str:
        return describe_geometry(self.name, self.params)

    def backward(self, ops, g, out, x, weight, bias=None):
        needs = (*self.needs_input_grad, False)[:3]  # (x, weight, bias), bias False when there is none
        grads = ops.conv_grads(g, x, weight, self.saved, **self.params, needs=needs)
        return grads if bias is not None else grads[:2]
