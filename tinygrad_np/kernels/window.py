"""Sliding-window kernels for convolution and pooling, in plain NumPy (imports nothing of tinygrad_np).

`unfold` (im2col) lays every receptive field of an (N, C, H, W) input side by side without
copying: a read-only strided view of shape (C, kH, kW, oH, oW, N) of the input in batch-minor
memory order (C, H, W, N). Channels and kernel offsets lead, so `reshape(C * kH * kW, oH * oW * N)`
is the matrix of one GEMM with an (O, C * kH * kW) weight (one per group), and the product,
(O, oH, oW, N), is the (N, O, oH, oW) output as a transposed view: activations stay batch-minor
from layer to layer and each copy below walks runs of oW * N or N contiguous numbers. With the
batch axis ahead of H and W, as in (N, C, H, W) or (C, N, H, W), those runs are oW long and the
passes about twice as slow (the second conv of the default CNN at batch 64, process time: the
im2col copy 1.06 against 2.35 ms, col2im 3.1 against 6.6 ms).

`fold` (col2im) is unfold's adjoint: it adds each kernel offset's slice of the windows back into
place, kH * kW strided slice-adds, never a scatter per element. Windows that tile the image
(stride = kernel, no padding or dilation, as a 2x2 max pool's) fold by a reshape instead
(`fold_tiles`), which copies nothing when the windows lie in memory in image order.

Pooling reduces the windows one kernel offset at a time, an elementwise maximum over kH * kW
slices (`window_max`): 2x faster than NumPy's `max(axis=(1, 2))` of the view, and 50x faster than
the reshape (N, C, H/2, 2, W/2, 2).max(axis=(3, 5)) of an (N, C, H, W)-ordered array, a reduction
over the two innermost, 2-long axes (0.42, 0.83 and 21.5 ms for that 2x2 pool, process time).
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

Pair = tuple[int, int]
ROUTE_BLOCK_BYTES = 512 * 1024  # route_to_maxima's block of channels (L2 is 2 MB a core here)


def count_windows(input_size: Pair, kernel_size: Pair, stride: Pair, padding: Pair, dilation: Pair) -> Pair:
    """(oH, oW): how many windows fit along each side; ValueError when the kernel does not fit once."""
    sizes = []
    for size, kernel, step, pad, spacing in zip(input_size, kernel_size, stride, padding, dilation, strict=True):
        span = spacing * (kernel - 1) + 1
        if span > size + 2 * pad:
            raise ValueError(f"kernel {tuple(kernel_size)} with dilation {tuple(dilation)} spans {span}, more "
                             f"than the padded input's {size + 2 * pad} (input {tuple(input_size)}, "
                             f"padding {tuple(padding)})")
        sizes.append((size + 2 * pad - span) // step + 1)
    return sizes[0], sizes[1]


def empty_like_layout(shape, like: np.ndarray) -> np.ndarray:
    """An uninitialised array of `shape` whose axes lie in memory in the order of `like`'s strides,
    so a channel-major (C, N, H, W) activation gets a channel-major result."""
    order = sorted(range(like.ndim), key=lambda axis: -abs(like.strides[axis]))
    return np.empty([shape[axis] for axis in order], like.dtype).transpose(np.argsort(order))


def pad(x: np.ndarray, widths, value: float = 0.0) -> np.ndarray:
    """x with widths[axis] = (before, after) entries of `value` added on each side of each axis
    (negative widths crop). Pad by -widths (with zeros) is its adjoint."""
    shape = [size + before + after for size, (before, after) in zip(x.shape, widths, strict=True)]
    if min(shape, default=1) < 0:
        raise ValueError(f"padding {tuple(widths)} crops more than the input's shape {x.shape}")
    out = empty_like_layout(shape, x)
    out.fill(value)
    kept = tuple(slice(max(-before, 0), size - max(-after, 0))  # what negative widths leave of x
                 for size, (before, after) in zip(x.shape, widths, strict=True))
    placed = tuple(slice(max(before, 0), max(before, 0) + part.stop - part.start)
                   for part, (before, _) in zip(kept, widths, strict=True))
    out[placed] = x[kept]
    return out


def unfold(x: np.ndarray, kernel_size: Pair, stride: Pair, padding: Pair, dilation: Pair,
           pad_value: float = 0.0) -> np.ndarray:
    """Every window of an (N, C, H, W) array as a read-only (C, kH, kW, oH, oW, N) view of its
    batch-minor (C, H, W, N) copy (padded with `pad_value`; no copy when it is that already):
    windows[c, i, j, p, q, n] is the input at (n, c, p * sH + i * dH - pH, q * sW + j * dW - pW)."""
    if x.ndim != 4:
        raise ValueError(f"unfold needs an (N, C, H, W) array, got shape {x.shape}")
    out_h, out_w = count_windows(x.shape[2:], kernel_size, stride, padding, dilation)
    x = x.transpose(1, 2, 3, 0)
    if padding[0] or padding[1]:
        channels, height, width, batch = x.shape
        padded = np.full((channels, height + 2 * padding[0], width + 2 * padding[1], batch), pad_value, x.dtype)
        padded[:, padding[0]:padding[0] + height, padding[1]:padding[1] + width] = x
        x = padded
    else:
        x = np.ascontiguousarray(x)
    c_step, h_step, w_step, n_step = x.strides
    shape = (x.shape[0], kernel_size[0], kernel_size[1], out_h, out_w, x.shape[3])
    steps = (c_step, h_step * dilation[0], w_step * dilation[1], h_step * stride[0], w_step * stride[1], n_step)
    return as_strided(x, shape, steps, writeable=False)


def fold(windows: np.ndarray, output_size: Pair, kernel_size: Pair, stride: Pair, padding: Pair,
         dilation: Pair) -> np.ndarray:
    """The adjoint of unfold: (C, kH, kW, oH, oW, N) windows summed back into an (N, C, H, W)
    array (batch-minor in memory), where overlapping windows add up."""
    channels, kernel_h, kernel_w, out_h, out_w, batch = windows.shape
    if (kernel_h, kernel_w) != tuple(kernel_size):
        raise ValueError(f"fold: windows of shape {windows.shape} are not of a {tuple(kernel_size)} kernel")
    expected = count_windows(output_size, kernel_size, stride, padding, dilation)
    if expected != (out_h, out_w):
        raise ValueError(f"fold: an output of size {tuple(output_size)} has {expected} windows, got {(out_h, out_w)}")
    if tuple(stride) == tuple(kernel_size) and tuple(dilation) == (1, 1) and tuple(padding) == (0, 0):
        return fold_tiles(windows, output_size)
    return fold_by_offsets(windows, output_size, kernel_size, stride, padding, dilation)


def fold_by_offsets(windows: np.ndarray, output_size: Pair, kernel_size: Pair, stride: Pair, padding: Pair,
                    dilation: Pair) -> np.ndarray:
    """fold for any geometry: one strided slice-add per kernel offset into a zeroed image."""
    channels, kernel_h, kernel_w, out_h, out_w, batch = windows.shape
    height, width = output_size
    padded = np.zeros((channels, height + 2 * padding[0], width + 2 * padding[1], batch), windows.dtype)
    for i in range(kernel_h):
        rows = offset_slice(i, dilation[0], stride[0], out_h)
        for j in range(kernel_w):
            padded[:, rows, offset_slice(j, dilation[1], stride[1], out_w)] += windows[:, i, j]
    return padded[:, padding[0]:padding[0] + height, padding[1]:padding[1] + width].transpose(3, 0, 1, 2)


def offset_slice(offset: int, dilation: int, stride: int, count: int) -> slice:
    """Where kernel offset `offset` of each of `count` windows along one side lies in the padded input."""
    return slice(offset * dilation, offset * dilation + stride * (count - 1) + 1, stride)


def fold_tiles(windows: np.ndarray, output_size: Pair) -> np.ndarray:
    """fold for windows that tile the image without overlap (stride = kernel, no padding or
    dilation): a reshape, and no copy at all when the windows lie in memory in image order (as
    max_pool2d's gradient does). Rows and columns that no window covers get zeros."""
    channels, kernel_h, kernel_w, out_h, out_w, batch = windows.shape
    tiles = windows.transpose(0, 3, 1, 4, 2, 5).reshape(channels, out_h * kernel_h, out_w * kernel_w, batch)
    if tiles.shape[1:3] != tuple(output_size):
        image = np.zeros((channels,) + tuple(output_size) + (batch,), windows.dtype)
        image[:, :tiles.shape[1], :tiles.shape[2]] = tiles
        tiles = image
    return tiles.transpose(3, 0, 1, 2)


def window_max(windows: np.ndarray) -> np.ndarray:
    """The largest entry of each window: (C, kH, kW, oH, oW, N) -> (C, oH, oW, N)."""
    return _over_offsets(np.maximum, windows)


def window_sum(windows: np.ndarray) -> np.ndarray:
    """The sum of each window: (C, kH, kW, oH, oW, N) -> (C, oH, oW, N)."""
    return _over_offsets(np.add, windows)


def _over_offsets(ufunc: np.ufunc, windows: np.ndarray) -> np.ndarray:
    """`ufunc` folded over the kernel offsets' slices, into a new batch-minor array."""
    slices = [windows[:, i, j] for i in range(windows.shape[1]) for j in range(windows.shape[2])]
    if len(slices) == 1:
        return slices[0].copy()
    out = ufunc(slices[0], slices[1])
    for part in slices[2:]:
        ufunc(out, part, out=out)
    return out


def route_to_maxima(g: np.ndarray, windows: np.ndarray, maxima: np.ndarray) -> np.ndarray:
    """max pooling's gradient before the fold: each window hands its g / (number of tied maxima)
    to each entry equal to its maximum, 0 to the others. g is (N, C, oH, oW) in any layout,
    windows the (C, kH, kW, oH, oW, N) view, maxima (C, oH, oW, N); the result is shaped like
    the windows and lies in image order, so the fold of a tiling is a reshape.

    Per block of channels (about ROUTE_BLOCK_BYTES of result, so a block stays in L2): the float
    winners mask written into the result (NumPy casts the comparison into it), the tie counts
    summed from it, and the shares multiplied into it, one pass over the input and one write of
    the result. The first 2x2 pool of the default CNN at batch 64: 1.2 ms against 3.1 for a bool
    mask cast to float and multiplied into a new array (warm cache); in blocks against all
    channels at once, cold cache: 4.1-5.2 against 6.0-6.9 ms at batch 128, 2.0-2.9 against 2.4-3.4
    at batch 64."""
    channels, kernel_h, kernel_w, out_h, out_w, batch = windows.shape
    shares = np.empty((channels, out_h, kernel_h, out_w, kernel_w, batch), windows.dtype).transpose(0, 2, 4, 1, 3, 5)
    g = g.transpose(1, 2, 3, 0)
    step = max(1, ROUTE_BLOCK_BYTES // (shares[:1].size * shares.itemsize))
    for start in range(0, channels, step):
        block = slice(start, start + step)
        np.equal(windows[block], maxima[block, None, None], out=shares[block])
        per_winner = window_sum(shares[block])  # the tie counts, then g / count in place
        np.divide(g[block], per_winner, out=per_winner)
        np.multiply(shares[block], per_winner[:, None, None], out=shares[block])
    return shares
