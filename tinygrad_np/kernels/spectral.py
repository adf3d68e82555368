"""Convolution through the discrete Fourier transform, written as real matrix products (plain
NumPy; imports nothing of tinygrad_np).

Cross-correlating a padded (Lh, Lw) image with a kernel is, position by position, a product of
their spectra: out̂[o] = Σ_c ŵ[o, c] x̂[c] at each frequency, where ŵ is the conjugate spectrum
of the (dilated) kernel. Lh = H + 2 pH is already long enough for the circular correlation to
equal the linear one on the oH rows kept. Per frequency that is a complex (O, C) x (C, N)
product: for the default CNN's second conv (32 -> 64 channels, 5x5 on 12x12) 84 products of
4 * 32 * 64 real multiply-adds a sample, against im2col's 64 positions of 25 * 32 * 64, a
4.8x smaller product.

The transforms are small matrix products too, one image axis at a time: a real DFT along H
(`Lh // 2 + 1` frequencies, the rest are conjugates), then a complex DFT along W. NumPy's FFT
was no help here: 6.8 ms for the 4,096 12x12 transforms of that conv's input at batch 128,
against 1.2 ms for the two matrix products (and a transposing copy) that do it here. Padding
costs nothing (the padded zeros are columns the matrices leave out) and dilation costs nothing
(the kernel's taps are placed in the padded frame before its transform). Only stride 1 and one
group fit this scheme.

Every stage is a real linear map, so each backward stage is the product with the same matrix,
transposed: the gradients are exact adjoints of the forward, whatever the rounding.

Layouts: the activations arrive batch-minor, (C, H, W, N) memory (see kernels/window.py). The
spectra are (A, Lw, 2, C, N): frequency (a, b), then real and imaginary part, then channel and
sample, so each frequency's (2C, N) block is one matrix of the per-frequency product.
"""
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

Pair = tuple[int, int]


@dataclass(frozen=True)
class Transforms:
    """The real matrices of one geometry, in the dtype of the data.

    to_h (A, 2, H): real DFT along H.          to_w (Lw, 2, 2, W): complex DFT along W.
    from_w (2, oW, Lw, 2): inverse along W.    from_h (oH, A, 2): inverse along H, real part,
    kernel (A * Lw, 2, kH * kW): the conjugate spectrum of each kernel tap (real, imaginary).
    from_h carries the inverse's 1 / (Lh Lw) and the doubling of the frequencies whose
    conjugates the half spectrum leaves out. lengths: (Lh, Lw), the padded image.
    """
    lengths: Pair
    to_h: np.ndarray
    to_w: np.ndarray
    from_w: np.ndarray
    from_h: np.ndarray
    kernel: np.ndarray


@lru_cache(maxsize=32)
def transforms(input_size: Pair, kernel_size: Pair, padding: Pair, dilation: Pair, dtype: np.dtype) -> Transforms:
    """The matrices for this geometry (cached: a network reuses a handful of geometries)."""
    (height, width), (kernel_h, kernel_w) = input_size, kernel_size
    length_h, length_w = height + 2 * padding[0], width + 2 * padding[1]
    out_h, out_w = length_h - dilation[0] * (kernel_h - 1), length_w - dilation[1] * (kernel_w - 1)
    freq_h, freq_w = np.arange(length_h // 2 + 1), np.arange(length_w)

    angle = 2 * np.pi * np.outer(freq_h, np.arange(height) + padding[0]) / length_h  # (A, H)
    to_h = np.stack([np.cos(angle), -np.sin(angle)], axis=1)

    angle = 2 * np.pi * np.outer(freq_w, np.arange(width) + padding[1]) / length_w  # (Lw, W): e^{-iθ}(r + is)
    cos, sin = np.cos(angle), np.sin(angle)
    to_w = np.stack([np.stack([cos, sin], axis=1), np.stack([-sin, cos], axis=1)], axis=1)

    angle = 2 * np.pi * np.outer(np.arange(out_w), freq_w) / length_w  # (oW, Lw): e^{iφ}(r + is)
    cos, sin = np.cos(angle), np.sin(angle)
    from_w = np.stack([np.stack([cos, -sin], axis=2), np.stack([sin, cos], axis=2)])

    # Re Σ_a over half the spectrum: the other half are conjugates, counted by doubling
    hermitian = np.where((freq_h == 0) | (2 * freq_h == length_h), 1.0, 2.0) / (length_h * length_w)
    angle = 2 * np.pi * np.outer(np.arange(out_h), freq_h) / length_h  # (oH, A)
    from_h = np.stack([hermitian * np.cos(angle), -hermitian * np.sin(angle)], axis=2)

    taps_h = np.exp(2j * np.pi * np.outer(freq_h, dilation[0] * np.arange(kernel_h)) / length_h)  # (A, kH)
    taps_w = np.exp(2j * np.pi * np.outer(freq_w, dilation[1] * np.arange(kernel_w)) / length_w)  # (Lw, kW)
    taps = np.einsum("au,bv->abuv", taps_h, taps_w).reshape(len(freq_h) * length_w, kernel_h * kernel_w)
    kernel = np.stack([taps.real, taps.imag], axis=1)
    return Transforms((length_h, length_w), *(_read_only(matrix.astype(dtype)) for matrix in
                                              (to_h, to_w, from_w, from_h, kernel)))


def _read_only(matrix: np.ndarray) -> np.ndarray:
    """The cached matrices are shared by every call: nobody may write into them."""
    matrix.flags.writeable = False
    return matrix


def spectrum(images: np.ndarray, matrices: Transforms) -> np.ndarray:
    """x̂ (A, Lw, 2, C, N) of an (N, C, H, W) batch: the DFT along H, then along W."""
    batch, channels, height, width = images.shape
    lined_up = np.ascontiguousarray(images.transpose(2, 3, 1, 0)).reshape(height, -1)  # (H, W C N)
    along_h = (matrices.to_h.reshape(-1, height) @ lined_up).reshape(-1, 2 * width, channels * batch)
    length_w = matrices.to_w.shape[0]
    return np.matmul(matrices.to_w.reshape(2 * length_w, 2 * width), along_h).reshape(
        -1, length_w, 2, channels, batch)


def spectrum_adjoint(grad_spectrum: np.ndarray, matrices: Transforms, height: int, width: int) -> np.ndarray:
    """spectrum's transpose: an (A, Lw, 2, C, N) gradient to the (N, C, H, W) image gradient, as
    a view of (C, H, W, N) memory."""
    freq_h, length_w, _, channels, batch = grad_spectrum.shape
    along_h = np.matmul(matrices.to_w.reshape(2 * length_w, 2 * width).T,
                        grad_spectrum.reshape(freq_h, 2 * length_w, channels * batch))
    lined_up = matrices.to_h.reshape(-1, height).T @ along_h.reshape(2 * freq_h, -1)  # (H, W C N)
    images = np.ascontiguousarray(lined_up.reshape(height, width, channels, batch).transpose(2, 0, 1, 3))
    return images.transpose(3, 0, 1, 2)


def kernel_blocks(weight: np.ndarray, matrices: Transforms) -> np.ndarray:
    """(A * Lw, 2O, 2C): at each frequency the complex (O, C) kernel spectrum k = r + i m as the
    real block [[r, -m], [m, r]], the left factor of the per-frequency product."""
    out_channels, channels = weight.shape[:2]
    frequencies, _, taps = matrices.kernel.shape
    parts = (matrices.kernel.reshape(-1, taps) @ weight.reshape(-1, taps).T).reshape(frequencies, 2, out_channels,
                                                                                      channels)
    blocks = np.empty((frequencies, 2 * out_channels, 2 * channels), parts.dtype)  # filled: 0.2 against
    top, bottom = blocks[:, :out_channels], blocks[:, out_channels:]                # 3.5 ms for concatenate
    top[:, :, :channels] = bottom[:, :, channels:] = parts[:, 0]
    np.negative(parts[:, 1], out=top[:, :, channels:])
    bottom[:, :, :channels] = parts[:, 1]
    return blocks


def kernel_blocks_adjoint(grad_blocks: np.ndarray, matrices: Transforms, weight_shape) -> np.ndarray:
    """kernel_blocks' transpose: the (F, 2O, 2C) blocks' gradient to the weight's (O, C, kH, kW)."""
    out_channels, channels = weight_shape[:2]
    top, bottom = grad_blocks[:, :out_channels], grad_blocks[:, out_channels:]
    real = top[:, :, :channels] + bottom[:, :, channels:]
    imag = bottom[:, :, :channels] - top[:, :, channels:]
    grad = real.reshape(len(real), -1).T @ matrices.kernel[:, 0] + imag.reshape(len(imag), -1).T @ matrices.kernel[:, 1]
    return grad.reshape(weight_shape)


def image(out_spectrum: np.ndarray, matrices: Transforms) -> np.ndarray:
    """The (oH, oW, O, N) output of an (A, Lw, 2, O, N) spectrum: inverse along W, then along H,
    keeping the real part on the oH x oW positions the correlation is exact on."""
    freq_h, length_w, _, channels, batch = out_spectrum.shape
    _, out_w, _, _ = matrices.from_w.shape
    along_w = np.matmul(matrices.from_w.reshape(2 * out_w, 2 * length_w),
                        out_spectrum.reshape(freq_h, 2 * length_w, channels * batch))  # (A, 2, oW, O N)
    out_h = matrices.from_h.shape[0]
    return (matrices.from_h.reshape(out_h, 2 * freq_h) @ along_w.reshape(2 * freq_h, -1)).reshape(
        out_h, out_w, channels, batch)


def image_adjoint(grad: np.ndarray, matrices: Transforms) -> np.ndarray:
    """image's transpose: an (N, O, oH, oW) gradient to its (A, Lw, 2, O, N) spectrum."""
    batch, channels, out_h, out_w = grad.shape
    freq_h, length_w = matrices.from_h.shape[1], matrices.from_w.shape[2]
    lined_up = np.ascontiguousarray(grad.transpose(2, 3, 1, 0)).reshape(out_h, -1)  # (oH, oW O N)
    along_w = (matrices.from_h.reshape(out_h, 2 * freq_h).T @ lined_up).reshape(freq_h, 2 * out_w, -1)
    return np.matmul(matrices.from_w.reshape(2 * out_w, 2 * length_w).T, along_w).reshape(
        freq_h, length_w, 2, channels, batch)


def correlate(x_spectrum: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """The per-frequency products: (A, Lw, 2, C, N) and (F, 2O, 2C) blocks to (A, Lw, 2, O, N)."""
    freq_h, length_w, _, channels, batch = x_spectrum.shape
    product = np.matmul(blocks, x_spectrum.reshape(-1, 2 * channels, batch))
    return product.reshape(freq_h, length_w, 2, -1, batch)


def correlate_adjoints(grad_spectrum: np.ndarray, x_spectrum: np.ndarray, blocks: np.ndarray, needs_x: bool = True,
                       needs_blocks: bool = True) -> tuple:
    """correlate's two transposes: (the gradient of x̂, of the blocks) from out̂'s gradient, each
    None when not needed."""
    frequencies = blocks.shape[0]
    grad_rows = grad_spectrum.reshape(frequencies, blocks.shape[1], -1)  # (F, 2O, N)
    grad_x = np.matmul(blocks.swapaxes(1, 2), grad_rows).reshape(x_spectrum.shape) if needs_x else None
    if not needs_blocks:
        return grad_x, None
    x_rows = x_spectrum.reshape(frequencies, blocks.shape[2], -1)  # (F, 2C, N)
    return grad_x, np.matmul(grad_rows, x_rows.swapaxes(1, 2))


def cheaper(input_size: Pair, kernel_size: Pair, padding: Pair, dilation: Pair, channels: int,
            out_channels: int) -> bool:
    """Whether the spectral forward costs at most half im2col's multiply-adds a sample, counting
    the transforms of the input and the output (they run slower than the products: small inner
    dimensions, more memory per multiply-add). The default CNN's second conv: 1.1 against 3.3
    million, and measured, forward and backward at batch 64, 6.5 against 12.0 ms. Its first
    conv (one input channel, 28x28) would be 4 times the work, and a 3x3 conv on a 28x28 image
    about the same (7.0 against 7.2 million): both take im2col."""
    (height, width), (kernel_h, kernel_w) = input_size, kernel_size
    length_h, length_w = height + 2 * padding[0], width + 2 * padding[1]
    out_h, out_w = length_h - dilation[0] * (kernel_h - 1), length_w - dilation[1] * (kernel_w - 1)
    freq_h = length_h // 2 + 1
    products = 4 * freq_h * length_w * channels * out_channels
    to_spectrum = channels * (2 * freq_h * height * width + 4 * length_w * width * freq_h)
    from_spectrum = out_channels * (4 * out_w * length_w * freq_h + 2 * out_h * freq_h * out_w)
    return 2 * (products + to_spectrum + from_spectrum) <= channels * out_channels * kernel_h * kernel_w * out_h * out_w


def finite(zero_frequency: np.ndarray) -> bool:
    """Whether the array behind a spectrum is finite, read off its zero frequency (the sums of
    its entries, which an inf or NaN anywhere makes inf or NaN) at no cost. A transform spreads
    each entry over every frequency, so one inf or NaN would make the whole output NaN where
    im2col keeps it to the windows that hold it: such inputs and gradients take im2col."""
    return bool(np.isfinite(zero_frequency.sum()))


_forced: list[bool] = []  # the innermost `forced` block's choice, if any


@contextmanager
def forced(spectral: bool):
    """Inside: conv2d takes the spectral lowering wherever it fits (True) or never (False),
    whatever `cheaper` says; for comparing the two routes (the tests, benchmarks.conv)."""
    _forced.append(spectral)
    try:
        yield
    finally:
        _forced.pop()


def pays(input_shape, weight_shape, stride: Pair, padding: Pair, dilation: Pair, groups: int) -> bool:
    """Whether conv2d takes the spectral path: stride 1, one group, and `cheaper` (or `forced`)."""
    if stride != (1, 1) or groups != 1:
        return False
    if _forced:
        return _forced[-1]
    return cheaper(input_shape[2:], weight_shape[2:], padding, dilation, input_shape[1], weight_shape[0])


@dataclass
class Saved:
    """What the spectral forward keeps for the backward: x̂ and the kernel blocks (F, 2O, 2C)."""
    matrices: Transforms
    x_spectrum: np.ndarray
    blocks: np.ndarray


def forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, padding: Pair,
            dilation: Pair) -> tuple[np.ndarray, Saved] | None:
    """conv2d (stride 1, one group) as an (N, O, oH, oW) view of (O, oH, oW, N) memory, plus
    the bias, and what the backward needs; None when x or the weight is not `finite`."""
    matrices = transforms(x.shape[2:], weight.shape[2:], padding, dilation, np.result_type(x, weight))
    with np.errstate(invalid="ignore", over="ignore"):  # an inf's spread is caught below, not warned of
        saved = Saved(matrices, spectrum(x, matrices), kernel_blocks(weight, matrices))
    if not (finite(saved.x_spectrum[0, 0, 0]) and finite(saved.blocks[0])):
        return None
    lined_up = image(correlate(saved.x_spectrum, saved.blocks), matrices)  # (oH, oW, O, N)
    out = np.empty(lined_up.shape[2:3] + lined_up.shape[:2] + lined_up.shape[3:], lined_up.dtype)
    if bias is None:
        out[...] = lined_up.transpose(2, 0, 1, 3)
    else:
        np.add(lined_up.transpose(2, 0, 1, 3), bias.reshape(-1, 1, 1, 1), out=out)
    return out.transpose(3, 0, 1, 2), saved


def gradients(g: np.ndarray, input_size: Pair, weight_shape, saved: Saved, needs) -> tuple | None:
    """(dx, dW, db) from the (N, O, oH, oW) output gradient, None where `needs` says no, or
    None for them all when g is not `finite`. db is Σ g, read off the transposed inverse's zero
    frequency, where it is (1 / Lh Lw) Σ g."""
    with np.errstate(invalid="ignore", over="ignore"):
        grad_spectrum = image_adjoint(g, saved.matrices)
    zero_frequency = grad_spectrum[0, 0, 0]  # its real part (O, N): (1 / Lh Lw) Σ g over positions
    if not finite(zero_frequency):
        return None
    grad_x_spectrum, grad_blocks = correlate_adjoints(grad_spectrum, saved.x_spectrum, saved.blocks,
                                                      needs_x=needs[0], needs_blocks=needs[1])
    grad_x = None if grad_x_spectrum is None else spectrum_adjoint(grad_x_spectrum, saved.matrices, *input_size)
    grad_weight = None if grad_blocks is None else kernel_blocks_adjoint(grad_blocks, saved.matrices, weight_shape)
    length_h, length_w = saved.matrices.lengths
    grad_bias = zero_frequency.sum(axis=-1) * (length_h * length_w) if needs[2] else None
    return grad_x, grad_weight, grad_bias
