"""conv2d, pooling, padding, unfold and fold on Tensors, with PyTorch's signatures and layouts.

Argument checks (a ShapeError naming the op and every shape), then the primitives: conv2d is
ops/conv.py's Conv2d, whose (O, oH, oW, N) product is returned as an (N, O, oH, oW) view, so
activations stay batch-minor in memory from layer to layer and the next im2col copies whole
rows (see kernels/window.py); the pools, unfold, fold and pad build on ops/window.py.
"""
import numpy as np

from tinygrad_np.errors import ArgumentError, ShapeError
from tinygrad_np.kernels import window
from tinygrad_np.ops.conv import Conv2d
from tinygrad_np.ops.window import Fold, MaxPool, Pad, Unfold
from tinygrad_np.tensor import Tensor, lift

PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pair(value, name: str = "argument", low: int = 1) -> tuple[int, int]:
    """An int or a pair of ints as (height, width), each at least `low`."""
    values = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != 2 or not all(isinstance(v, (int, np.integer)) and v >= low for v in values):
        raise ArgumentError(f"{name} must be an int or a pair of ints >= {low}, got {value!r}")
    return int(values[0]), int(values[1])


def _image(op: str, input) -> Tensor:
    """`input` as a Tensor of shape (N, C, H, W), or a ShapeError naming the op."""
    input = input if isinstance(input, Tensor) else Tensor(input)
    if input.ndim != 4:
        raise ShapeError(f"{op}: input must be 4-D (N, C, H, W), got shape {input.shape}")
    return input


def _count_windows(op: str, input: Tensor, kernel_size, stride, padding, dilation) -> tuple[int, int]:
    try:
        return window.count_windows(input.shape[2:], kernel_size, stride, padding, dilation)
    except ValueError as error:
        raise ShapeError(f"{op}: input of shape {input.shape}: {error}") from None


def conv2d(input, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """2-D cross-correlation as torch.nn.functional.conv2d: input (N, C, H, W), weight
    (out_channels, C // groups, kH, kW), bias (out_channels,); returns (N, out_channels, oH, oW)."""
    stride, dilation, padding = pair(stride, "stride"), pair(dilation, "dilation"), pair(padding, "padding", low=0)
    weight = lift(weight)
    input = _image("conv2d", lift(input, weight))
    if weight.ndim != 4:
        raise ShapeError(f"conv2d: weight must be 4-D (out_channels, in_channels // groups, kH, kW), "
                         f"got shape {weight.shape}")
    channels, (out_channels, group_channels, kernel_h, kernel_w) = input.shape[1], weight.shape
    if not isinstance(groups, (int, np.integer)) or groups < 1 or channels % groups or out_channels % groups:
        raise ShapeError(f"conv2d: groups={groups} must divide both the input's {channels} channels "
                         f"(input {input.shape}) and the weight's {out_channels} out_channels (weight {weight.shape})")
    if group_channels * groups != channels:
        raise ShapeError(f"conv2d: input of shape {input.shape} has {channels} channels, the weight of shape "
                         f"{weight.shape} with groups={groups} expects {group_channels * groups}")
    if bias is not None and bias.shape != (out_channels,):
        raise ShapeError(f"conv2d: bias of shape {bias.shape} for a weight of shape {weight.shape} "
                         f"(needs ({out_channels},))")
    _count_windows("conv2d", input, (kernel_h, kernel_w), stride, padding, dilation)
    geometry = dict(stride=stride, padding=padding, dilation=dilation, groups=int(groups))
    if bias is None:
        return Conv2d.apply(input, weight, **geometry)
    return Conv2d.apply(input, weight, lift(bias, weight), **geometry)


def _pool_geometry(op: str, input: Tensor, kernel_size, stride, padding, dilation=1) -> dict:
    kernel_size = pair(kernel_size, "kernel_size")
    stride = kernel_size if stride is None else pair(stride, "stride")
    padding, dilation = pair(padding, "padding", low=0), pair(dilation, "dilation")
    for pad, kernel, spacing in zip(padding, kernel_size, dilation, strict=True):
        if 2 * pad > spacing * (kernel - 1) + 1:  # else a window could lie wholly in the padding
            raise ArgumentError(f"{op}: padding {padding} must be at most half the (dilated) kernel {kernel_size}")
    _count_windows(op, input, kernel_size, stride, padding, dilation)
    return dict(kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1) -> Tensor:
    """The maximum of each window, as torch.nn.functional.max_pool2d (stride defaults to the
    kernel size; padding is -inf). Tied maxima share their window's gradient equally."""
    input = _image("max_pool2d", input)
    geometry = _pool_geometry("max_pool2d", input, kernel_size, stride, padding, dilation)
    return MaxPool.apply(input, **geometry)


def avg_pool2d(input, kernel_size, stride=None, padding=0, count_include_pad: bool = True) -> Tensor:
    """The mean of each window, as torch.nn.functional.avg_pool2d: the zero padding counts
    towards the mean unless count_include_pad=False. A composition, unfold then a mean over the
    kernel axes: measured as fast as a pooling primitive."""
    input = _image("avg_pool2d", input)
    geometry = _pool_geometry("avg_pool2d", input, kernel_size, stride, padding)
    windows = Unfold.apply(input, **geometry)  # (C, kH, kW, oH, oW, N), padded with zeros
    if count_include_pad:
        return windows.mean(axis=(1, 2)).permute(3, 0, 1, 2)
    inside = window.window_sum(window.unfold(np.ones((1, 1) + input.shape[2:], input.dtype), **geometry))
    return (windows.sum(axis=(1, 2)) / inside).permute(3, 0, 1, 2)  # inside: each window's real entries


def pad(input, pad, mode: str = "constant", value: float = 0.0) -> Tensor:
    """torch.nn.functional.pad: `pad` = (left, right, top, bottom, ...) widths, last axis first.
    'constant' fills with `value` (negative widths crop); 'reflect', 'replicate' and 'circular'
    index the input (reflect needs widths below the axis's size, circular at most its size)."""
    input = input if isinstance(input, Tensor) else Tensor(input)
    if len(pad) % 2 or len(pad) > 2 * input.ndim or not all(isinstance(w, (int, np.integer)) for w in pad):
        raise ShapeError(f"pad: widths {tuple(pad)} must be pairs of ints, at most two per axis of {input.shape}")
    if mode not in PAD_MODES:
        raise ArgumentError(f"pad: mode must be one of {', '.join(PAD_MODES)}, got {mode!r}")
    padded_axes = len(pad) // 2
    widths = ((0, 0),) * (input.ndim - padded_axes) + tuple(
        (int(pad[2 * k]), int(pad[2 * k + 1])) for k in reversed(range(padded_axes)))
    if mode == "constant":
        return Pad.apply(input, widths=widths, value=value)
    out = input
    for axis, (before, after) in enumerate(widths):
        if before or after:
            out = out[(slice(None),) * axis + (_source_positions(mode, input.shape[axis], before, after),)]
    return out


def _source_positions(mode: str, size: int, before: int, after: int) -> np.ndarray:
    """Which input position each output position along one axis copies, for the indexing modes."""
    limit = {"reflect": size - 1, "circular": size}.get(mode)  # replicate repeats the edge any number of times
    if min(before, after) < 0 or limit is not None and max(before, after) > limit:
        raise ArgumentError(f"pad: {mode} padding ({before}, {after}) of an axis of size {size} "
                            f"must lie in [0, {limit if limit is not None else 'inf'}]")
    positions = np.arange(-before, size + after)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    if mode == "circular":
        return positions % size
    return np.where(positions < 0, -positions, np.where(positions >= size, 2 * (size - 1) - positions, positions))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """torch.nn.functional.unfold: (N, C, H, W) -> (N, C * kH * kW, oH * oW), each column one window."""
    input = _image("unfold", input)
    geometry = dict(kernel_size=pair(kernel_size, "kernel_size"), stride=pair(stride, "stride"),
                    padding=pair(padding, "padding", low=0), dilation=pair(dilation, "dilation"))
    _count_windows("unfold", input, **geometry)
    windows = Unfold.apply(input, **geometry)
    channels, kernel_h, kernel_w, out_h, out_w, batch = windows.shape
    return windows.permute(5, 0, 1, 2, 3, 4).reshape(batch, channels * kernel_h * kernel_w, out_h * out_w)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """torch.nn.functional.fold: (N, C * kH * kW, L) columns summed into (N, C, *output_size)."""
    input = input if isinstance(input, Tensor) else Tensor(input)
    geometry = dict(kernel_size=pair(kernel_size, "kernel_size"), stride=pair(stride, "stride"),
                    padding=pair(padding, "padding", low=0), dilation=pair(dilation, "dilation"))
    output_size = pair(output_size, "output_size")
    kernel_h, kernel_w = geometry["kernel_size"]
    try:
        out_h, out_w = window.count_windows(output_size, **geometry)
    except ValueError as error:
        raise ShapeError(f"fold: input of shape {input.shape}: {error}") from None
    if input.ndim != 3 or input.shape[1] % (kernel_h * kernel_w) or input.shape[2] != out_h * out_w:
        raise ShapeError(f"fold: input of shape {input.shape} is not (N, C * {kernel_h * kernel_w}, {out_h * out_w}) "
                         f"for output_size {output_size} and kernel {geometry['kernel_size']}")
    batch, channels = input.shape[0], input.shape[1] // (kernel_h * kernel_w)
    windows = input.reshape(batch, channels, kernel_h, kernel_w, out_h, out_w).permute(1, 2, 3, 4, 5, 0)
    return Fold.apply(windows, output_size=output_size, **geometry)
