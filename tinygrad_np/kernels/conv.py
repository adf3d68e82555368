"""Convolution kernels in plain NumPy (imports nothing of tinygrad_np but its sibling kernels):
conv2d's forward and its gradients, by one of two lowerings. `forward` picks one per call and
returns what the backward needs of it; `conv_grads` follows the same lowering.

- im2col (the functions below): the columns of every window, one matrix product per group.
  Any stride, padding, dilation and groups.
- spectral (kernels/spectral.py): products per frequency, for stride 1 and one group, when
  `spectral.pays`: the default CNN's second conv, which by im2col took half the step's time.

Layouts as in kernels/window.py: the columns are (groups, C/groups * kH * kW, oH * oW * N), one
copy of unfold's strided view, and a gradient g arrives as rows (groups, O/groups, oH * oW * N),
the batch-minor (O, oH, oW, N) memory of conv2d's output.

The bias rides in the matrix product: with a bias, the columns get a last row of ones and the
weight matrix a last column of biases. The forward then adds no pass over its output, and the
weight gradient's product yields the bias gradient (the sum of g over positions) as its last
column. For the default CNN's first conv at batch 64 that saves a pass each way over the
(64, 32, 24, 24) output, 0.3 ms each, for 4% more work in its two products.
"""
import numpy as np

from tinygrad_np.kernels import spectral, window

Pair = tuple[int, int]


def forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, stride: Pair, padding: Pair,
            dilation: Pair, groups: int) -> tuple:
    """(conv2d's output as an (N, O, oH, oW) view of (O, oH, oW, N) memory, what conv_grads
    needs of the lowering taken: the im2col columns or a spectral.Saved)."""
    if spectral.pays(x.shape, weight.shape, stride, padding, dilation, groups):
        result = spectral.forward(x, weight, bias, padding, dilation)
        if result is not None:  # else an inf or NaN, which im2col keeps to its windows
            return result
    kernel_size = weight.shape[2:]
    saved = columns(x, kernel_size, stride, padding, dilation, groups, ones_row=bias is not None)
    product = np.matmul(weight_rows(weight, bias, groups), saved)  # (groups, O/groups, oH * oW * N)
    out_h, out_w = window.count_windows(x.shape[2:], kernel_size, stride, padding, dilation)
    return product.reshape(weight.shape[0], out_h, out_w, x.shape[0]).transpose(3, 0, 1, 2), saved


def conv_grads(g: np.ndarray, x: np.ndarray, weight: np.ndarray, saved, stride: Pair, padding: Pair,
               dilation: Pair, groups: int, needs) -> tuple:
    """(dx, dW, db) from the (N, O, oH, oW) output gradient by the forward's lowering (im2col
    for a gradient with an inf or NaN: spectral.finite), None where `needs` (x, weight, bias)
    says no; db is None without a bias."""
    if isinstance(saved, spectral.Saved):
        grads = spectral.gradients(g, x.shape[2:], weight.shape, saved, needs)
        if grads is not None:
            return grads
        saved = columns(x, weight.shape[2:], stride, padding, dilation, groups, ones_row=needs[2])
    g_rows = np.ascontiguousarray(g.transpose(1, 2, 3, 0)).reshape(groups, weight.shape[0] // groups, -1)
    geometry = dict(stride=stride, padding=padding, dilation=dilation)
    grad_x = conv_input_grad(g_rows, weight, x.shape[2:], **geometry) if needs[0] else None
    if not any(needs[1:]):  # a frozen weight and bias skip their product
        return grad_x, None, None
    grad_weight, grad_bias = conv_weight_grad(g_rows, x, saved, weight.shape[2:], **geometry)
    return grad_x, grad_weight.reshape(weight.shape), grad_bias


def columns(x: np.ndarray, kernel_size: Pair, stride: Pair, padding: Pair, dilation: Pair, groups: int,
            ones_row: bool) -> np.ndarray:
    """im2col of an (N, C, H, W) array: (groups, C/groups * kH * kW [+ 1], oH * oW * N), each
    column one window, and with `ones_row` a last row of ones (for the bias)."""
    windows = window.unfold(x, kernel_size, stride, padding, dilation)  # (C, kH, kW, oH, oW, N) view
    channels, kernel_h, kernel_w, out_h, out_w, batch = windows.shape
    depth = channels // groups * kernel_h * kernel_w
    out = np.empty((groups, depth + ones_row, out_h * out_w * batch), x.dtype)
    out[:, :depth].reshape((groups, channels // groups) + windows.shape[1:])[...] = (
        windows.reshape((groups, channels // groups) + windows.shape[1:]))
    if ones_row:
        out[:, depth] = 1
    return out


def weight_rows(weight: np.ndarray, bias: np.ndarray | None, groups: int) -> np.ndarray:
    """The weight (O, C/groups, kH, kW) as (groups, O/groups, C/groups * kH * kW [+ 1]), the
    bias as the last column: the left factor of the forward product."""
    rows = weight.reshape(groups, weight.shape[0] // groups, -1)
    if bias is None:
        return rows
    return np.concatenate([rows, bias.reshape(groups, -1, 1).astype(rows.dtype, copy=False)], axis=2)


def conv_weight_grad(g_rows: np.ndarray, x: np.ndarray, columns: np.ndarray, kernel_size: Pair, stride: Pair,
                     padding: Pair, dilation: Pair) -> tuple:
    """(dW as (groups, O/groups, C/groups * kH * kW), db as (O,) or None): g colsᵀ, from the
    forward's saved `columns` (x is what the differentiable twin unfolds instead). Computed as
    (cols gᵀ)ᵀ, the same numbers from a product OpenBLAS runs faster (3.0 against 3.6 ms for
    the default CNN's second conv at batch 64)."""
    grad = np.matmul(columns, g_rows.swapaxes(1, 2)).swapaxes(1, 2)  # (groups, O/groups, depth [+ 1])
    depth = x.shape[1] // g_rows.shape[0] * kernel_size[0] * kernel_size[1]
    grad_bias = grad[:, :, depth].reshape(-1) if columns.shape[1] > depth else None
    return grad[:, :, :depth], grad_bias


def conv_input_grad(g_rows: np.ndarray, weight: np.ndarray, input_size: Pair, stride: Pair, padding: Pair,
                    dilation: Pair) -> np.ndarray:
    """dx = fold(Wᵀ g) as an (N, C, H, W) view of (C, H, W, N) memory, one row of kernel offsets
    at a time: each row's product, (C/groups * kW, oH * oW * N), is folded into place while it
    is still in cache, rather than the whole (C/groups * kH * kW, oH * oW * N) product written
    out and read back (the default CNN's second conv at batch 64: 7.4 against 7.7 ms with
    the weight gradient)."""
    groups, group_out, positions = g_rows.shape
    out_channels, group_channels, kernel_h, kernel_w = weight.shape
    out_h, out_w = window.count_windows(input_size, (kernel_h, kernel_w), stride, padding, dilation)
    batch = positions // (out_h * out_w)
    height, width = input_size
    dtype = np.result_type(g_rows, weight)
    padded = np.zeros((groups * group_channels, height + 2 * padding[0], width + 2 * padding[1], batch), dtype)
    block = np.empty((group_channels * kernel_w, positions), dtype)
    offsets = block.reshape(group_channels, kernel_w, out_h, out_w, batch)
    for group in range(groups):
        channels = slice(group * group_channels, (group + 1) * group_channels)
        group_weight = weight[group * group_out:(group + 1) * group_out]  # (O/groups, C/groups, kH, kW)
        for i in range(kernel_h):
            row_weight = group_weight[:, :, i].reshape(group_out, group_channels * kernel_w)
            np.matmul(row_weight.T, g_rows[group], out=block)
            rows = window.offset_slice(i, dilation[0], stride[0], out_h)
            for j in range(kernel_w):
                padded[channels, rows, window.offset_slice(j, dilation[1], stride[1], out_w)] += offsets[:, j]
    return padded[:, padding[0]:padding[0] + height, padding[1]:padding[1] + width].transpose(3, 0, 1, 2)
