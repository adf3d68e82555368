"""Convolution as one primitive: conv2d's forward and its three gradients side by side.

Kernels in tinygrad_np.kernels.conv. Geometry params are pairs (height, width), as in ops/window.py.
"""
import numpy as np

from tinygrad_np.function import Function
from tinygrad_np.kernels import conv, window
from tinygrad_np.ops.window import describe_geometry


class Conv2d(Function):
    """2-D cross-correlation of x (N, C, H, W) with a weight (O, C/groups, kH, kW), plus a bias
    (O,): the im2col columns of x times the weight as rows, one matrix product per group,
    returned as an (N, O, oH, oW) view of the (O, oH, oW, N) product (the batch-minor layout
    the next layer's im2col copies fastest, see kernels/window.py).

    One node rather than the composition unfold, reshape, matmul, reshape, permute, + bias:
    the bias rides in the product (kernels/conv.py), and the input's gradient folds each row of
    kernel offsets while its product is in cache. The columns are kept for the weight gradient.
    """
    name = "conv2d"
    formula = "dW = g colsᵀ,  db = Σ g,  dx = fold(Wᵀ g)"

    def forward(self, x, weight, bias=None, stride=None, padding=None, dilation=None, groups=1):
        kernel_size = weight.shape[2:]
        self.columns = conv.columns(x, kernel_size, stride, padding, dilation, groups, ones_row=bias is not None)
        product = np.matmul(conv.weight_rows(weight, bias, groups), self.columns)  # (groups, O/groups, P)
        out_h, out_w = window.count_windows(x.shape[2:], kernel_size, stride, padding, dilation)
        return product.reshape(weight.shape[0], out_h, out_w, x.shape[0]).transpose(3, 0, 1, 2)

    def describe(self) -> str:
        return describe_geometry(self.name, self.params)

    def backward(self, ops, g, out, x, weight, bias=None):
        geometry = {key: self.params[key] for key in ("stride", "padding", "dilation")}
        groups = self.params["groups"]
        positions = g.shape[0] * g.shape[2] * g.shape[3]
        g_rows = ops.permute(g, (1, 2, 3, 0)).reshape(groups, weight.shape[0] // groups, positions)
        needs_grad = self.needs_input_grad
        grad_x = ops.conv_input_grad(g_rows, weight, x.shape[2:], **geometry) if needs_grad[0] else None
        grad_weight = grad_bias = None
        if any(needs_grad[1:]):  # a frozen weight and bias skip their product
            grad_weight, grad_bias = ops.conv_weight_grad(g_rows, x, self.columns, weight.shape[2:], **geometry)
            grad_weight = grad_weight.reshape(weight.shape)
        return (grad_x, grad_weight) if bias is None else (grad_x, grad_weight, grad_bias)
