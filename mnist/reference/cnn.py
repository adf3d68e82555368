"""The CNN's formulas by hand: plain NumPy, one function per closed-form formula, no autograd.

The companion of mnist.reference.mlp (the MLP's formulas: the CNN's dense head, activations, softmax
and loss); mnist.reference.network chains both into whole networks. Shapes are
PyTorch's: images (N, C, H, W), convolution weights (out_channels, in_channels, kH, kW); a Linear
weight is (in, out) as in the rest of the project. docs/backprop-cnn.md derives every formula.
"""
import numpy as np

Pair = tuple[int, int]


def pair(value: int | Pair) -> Pair:
    """(v, v) for an int, as PyTorch reads kernel_size=5 as 5x5; a pair stays a pair."""
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


# ---- sliding windows -----------------------------------------------------------------------


def output_size(size: int, kernel: int, stride: int, padding: int = 0, dilation: int = 1) -> int:
    """H_out = floor((H + 2p - d (k - 1) - 1) / s) + 1"""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def offset_slices(offset: tuple[int, ...], stride: Pair, dilation: Pair, out_hw: tuple[int, ...]) -> tuple[slice, ...]:
    """(rows, cols) such that A[:, :, rows, cols][n, c, y, x] = A[n, c, y s + i d, x s + j d] for
    the kernel offset (i, j): what that one kernel entry meets at every output position."""
    return tuple(slice(i * d, i * d + s * (n - 1) + 1, s)
                 for i, s, d, n in zip(offset, stride, dilation, out_hw, strict=True))


def kernel_offsets(kernel: tuple[int, ...]) -> np.ndindex:
    """Every (i, j) with 0 <= i < kH, 0 <= j < kW."""
    return np.ndindex(*kernel)


def pad(A: np.ndarray, padding: Pair) -> np.ndarray:
    """A_pad: p zero rows above and below, p zero columns left and right."""
    (ph, pw) = padding
    return np.pad(A, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


# ---- convolution -------------------------------------------------------------------------


def conv2d(A_prev: np.ndarray, W: np.ndarray, b: np.ndarray | None, stride: Pair, padding: Pair,
           dilation: Pair) -> np.ndarray:
    """Z[n, o, y, x] = b[o] + sum_{c, i, j} W[o, c, i, j] A_pad[n, c, y s + i d, x s + j d]

    A cross-correlation, as in PyTorch; one weighted sum over the image per kernel offset. b = None
    is a convolution without bias (b = 0)."""
    A_pad = pad(A_prev, padding)
    kernel = W.shape[2:]
    out_hw = tuple(output_size(size, k, s, 0, d)
                   for size, k, s, d in zip(A_pad.shape[2:], kernel, stride, dilation, strict=True))
    A_last = A_pad.transpose(0, 2, 3, 1)  # channels last: each offset is one matrix product over c
    Z_last = np.zeros((A_prev.shape[0], *out_hw, W.shape[0]), dtype=np.result_type(A_prev, W))
    for i, j in kernel_offsets(kernel):
        rows, cols = offset_slices((i, j), stride, dilation, out_hw)
        Z_last += A_last[:, rows, cols] @ W[:, :, i, j].T
    Z = Z_last.transpose(0, 3, 1, 2)
    return Z if b is None else Z + b[:, None, None]


def conv2d_weight_gradient(A_prev: np.ndarray, dZ: np.ndarray, kernel: Pair, stride: Pair, padding: Pair,
                           dilation: Pair) -> np.ndarray:
    """dW[o, c, i, j] = 1/m sum_{n, y, x} dZ[n, o, y, x] A_pad[n, c, y s + i d, x s + j d]"""
    A_pad = pad(A_prev, padding)
    out_hw = dZ.shape[2:]
    dW = np.empty((dZ.shape[1], A_prev.shape[1], *kernel), dtype=dZ.dtype)
    for i, j in kernel_offsets(kernel):
        rows, cols = offset_slices((i, j), stride, dilation, out_hw)
        dW[:, :, i, j] = np.einsum("nohw,nchw->oc", dZ, A_pad[:, :, rows, cols], optimize=True)
    return dW / dZ.shape[0]


def conv2d_bias_gradient(dZ: np.ndarray) -> np.ndarray:
    """db[o] = 1/m sum_{n, y, x} dZ[n, o, y, x]"""
    return dZ.sum(axis=(0, 2, 3)) / dZ.shape[0]


def dilate(dZ: np.ndarray, stride: Pair) -> np.ndarray:
    """dZ_s: s - 1 zeros between neighbouring entries, dZ_s[n, o, y s, x s] = dZ[n, o, y, x]."""
    (sh, sw), (height, width) = stride, dZ.shape[2:]
    dZ_s = np.zeros((*dZ.shape[:2], sh * (height - 1) + 1, sw * (width - 1) + 1), dtype=dZ.dtype)
    dZ_s[:, :, ::sh, ::sw] = dZ
    return dZ_s


def flip_kernel(W: np.ndarray) -> np.ndarray:
    """W_flip[c, o, i, j] = W[o, c, kH - 1 - i, kW - 1 - j]: rotated by 180 degrees, in and out swapped."""
    return W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)


def conv2d_input_gradient(dZ: np.ndarray, W: np.ndarray, input_hw: tuple[int, ...], stride: Pair, padding: Pair,
                          dilation: Pair) -> np.ndarray:
    """dA_prev = crop_p(dA_pad), dA_pad = full correlation of dZ_s with W_flip (dilation d)

    dA_pad[n, c, u, v] = sum_{o, i, j} dZ_s[n, o, u - i d, v - j d] W[o, c, i, j]: the transposed
    convolution. The full correlation pads dZ_s by d (k - 1); rows and columns of A_pad that no
    window reached (when s does not divide the span) get zero."""
    kernel = W.shape[2:]
    full_padding = tuple(d * (k - 1) for d, k in zip(dilation, kernel, strict=True))
    dA_span = conv2d(dilate(dZ, stride), flip_kernel(W), None, stride=(1, 1), padding=full_padding,
                     dilation=dilation)
    (ph, pw), (height, width) = padding, input_hw
    dA_pad = np.zeros((*dA_span.shape[:2], height + 2 * ph, width + 2 * pw), dtype=dA_span.dtype)
    dA_pad[:, :, :dA_span.shape[2], :dA_span.shape[3]] = dA_span
    return dA_pad[:, :, ph:ph + height, pw:pw + width]


# ---- pooling -------------------------------------------------------------------------------


def pool_output_hw(A_prev: np.ndarray, kernel: Pair, stride: Pair) -> Pair:
    """(H_out, W_out) of a pooling window without padding."""
    (height, width) = A_prev.shape[2:]
    return output_size(height, kernel[0], stride[0]), output_size(width, kernel[1], stride[1])


def pool_windows(A_prev: np.ndarray, kernel: Pair, stride: Pair) -> list:
    """[A_prev[:, :, y s + i, x s + j] for every kernel offset (i, j)], each (N, C, H_out, W_out)."""
    out_hw = pool_output_hw(A_prev, kernel, stride)
    windows = []
    for offset in kernel_offsets(kernel):
        rows, cols = offset_slices(offset, stride, (1, 1), out_hw)
        windows.append(A_prev[:, :, rows, cols])
    return windows


def max_pool2d(A_prev: np.ndarray, kernel: Pair, stride: Pair) -> np.ndarray:
    """A[n, c, y, x] = max_{i, j} A_prev[n, c, y s + i, x s + j]"""
    return np.max(pool_windows(A_prev, kernel, stride), axis=0)


def max_pool2d_backward(dA: np.ndarray, A_prev: np.ndarray, A: np.ndarray, kernel: Pair, stride: Pair) -> np.ndarray:
    """dA_prev[n, c, y s + i, x s + j] += dA[n, c, y, x] [entry = max] / (number of entries = max)

    Only a window's maximum moved the output; tied maxima share its gradient equally (the
    library's convention, and what a central difference measures along a tie)."""
    winners = [window == A for window in pool_windows(A_prev, kernel, stride)]
    ties = np.sum(winners, axis=0)
    dA_prev = np.zeros_like(A_prev, dtype=dA.dtype)
    for offset, won in zip(kernel_offsets(kernel), winners, strict=True):
        rows, cols = offset_slices(offset, stride, (1, 1), A.shape[2:])
        dA_prev[:, :, rows, cols] += dA * won / ties
    return dA_prev


def avg_pool2d(A_prev: np.ndarray, kernel: Pair, stride: Pair) -> np.ndarray:
    """A[n, c, y, x] = 1/(kH kW) sum_{i, j} A_prev[n, c, y s + i, x s + j]"""
    return np.sum(pool_windows(A_prev, kernel, stride), axis=0) / (kernel[0] * kernel[1])


def avg_pool2d_backward(dA: np.ndarray, input_shape: tuple[int, ...], kernel: Pair, stride: Pair) -> np.ndarray:
    """dA_prev[n, c, y s + i, x s + j] += dA[n, c, y, x] / (kH kW): every entry counted equally."""
    dA_prev = np.zeros(input_shape, dtype=dA.dtype)
    for offset in kernel_offsets(kernel):
        rows, cols = offset_slices(offset, stride, (1, 1), dA.shape[2:])
        dA_prev[:, :, rows, cols] += dA / (kernel[0] * kernel[1])
    return dA_prev


# ---- batch norm ----------------------------------------------------------------------------
# Training mode: per channel c, over the M = N H W values x[n, c, y, x] of the batch (axes 0, 2
# and 3), as torch.nn.BatchNorm2d computes it. m is the batch size N, as everywhere in this file.

CHANNEL_AXES = (0, 2, 3)


def batch_statistics(A_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """mu_c = 1/M sum_{n, y, x} x[n, c, y, x],  sigma2_c = 1/M sum_{n, y, x} (x[n, c, y, x] - mu_c)^2

    The biased variance (1/M, not 1/(M - 1)): the one batch norm normalizes by. Shapes (1, C, 1, 1)."""
    mean = A_prev.mean(axis=CHANNEL_AXES, keepdims=True)
    return mean, ((A_prev - mean) ** 2).mean(axis=CHANNEL_AXES, keepdims=True)


def normalize(A_prev: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """(x_hat, s): x_hat = (x - mu_c) / s_c with s_c = sqrt(sigma2_c + eps); s is kept for the
    input gradient."""
    mean, variance = batch_statistics(A_prev)
    std = np.sqrt(variance + eps)
    return (A_prev - mean) / std, std


def batch_norm(A_prev: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    """Z[n, c, y, x] = gamma_c x_hat[n, c, y, x] + beta_c"""
    X_hat, _ = normalize(A_prev, eps)
    return gamma[:, None, None] * X_hat + beta[:, None, None]


def batch_norm_weight_gradient(dZ: np.ndarray, X_hat: np.ndarray) -> np.ndarray:
    """dgamma_c = 1/m sum_{n, y, x} dZ[n, c, y, x] x_hat[n, c, y, x]

    (dbeta_c = 1/m sum_{n, y, x} dZ[n, c, y, x] is conv2d_bias_gradient: beta_c, like a convolution's
    bias, enters every output of its channel with coefficient 1.)"""
    return np.einsum("nchw,nchw->c", dZ, X_hat, optimize=True) / dZ.shape[0]


def batch_norm_input_gradient(dZ: np.ndarray, A_prev: np.ndarray, gamma: np.ndarray, eps: float) -> np.ndarray:
    """dA_prev = gamma_c / (M s_c) (M dZ - sum_{n, y, x} dZ - x_hat sum_{n, y, x} dZ x_hat)

    Every x of a channel moves mu_c and sigma2_c, so each output reads every input of its channel:
    the two sums are the gradient through the mean and through the variance. The formula is linear
    in dZ, so it holds alike for dJ/dZ and for the reference's m dJ/dZ (mnist.reference.network)."""
    X_hat, std = normalize(A_prev, eps)
    M = A_prev.size // A_prev.shape[1]
    total = dZ.sum(axis=CHANNEL_AXES, keepdims=True)
    along_x_hat = (dZ * X_hat).sum(axis=CHANNEL_AXES, keepdims=True)
    return gamma[:, None, None] / (M * std) * (M * dZ - total - X_hat * along_x_hat)


# ---- flatten -------------------------------------------------------------------------------


def flatten(A_prev: np.ndarray) -> np.ndarray:
    """A[n, c H W + y W + x] = A_prev[n, c, y, x] (row-major, as torch.flatten(start_dim=1))."""
    return A_prev.reshape(A_prev.shape[0], -1)


def unflatten(dA: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    """dA_prev[n, c, y, x] = dA[n, c H W + y W + x]: flatten only moves entries, so does its gradient."""
    return dA.reshape(input_shape)
