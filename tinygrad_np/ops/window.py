"""Sliding-window ops: Unfold and Fold (im2col and col2im, each the other's adjoint), max
pooling, and constant padding. Kernels in tinygrad_np.kernels.window; avg_pool2d (unfold,
mean) is a composition in nn.convolution, conv2d a primitive of its own (ops/conv.py).

Geometry params are pairs: kernel_size, stride, padding, dilation, as (height, width).
"""
import numpy as np

from tinygrad_np.function import Function
from tinygrad_np.kernels import window


class _Windowed(Function):
    """A sliding-window op: its params are the window geometry, which backward reuses."""

    def geometry(self) -> dict:
        return {key: self.params[key] for key in ("kernel_size", "stride", "padding", "dilation")}

    def describe(self) -> str:
        return describe_geometry(self.name, self.geometry())


GEOMETRY_DEFAULTS = {"padding": (0, 0), "stride": (1, 1), "dilation": (1, 1), "groups": 1}


def describe_geometry(name: str, geometry: dict) -> str:
    """A window op's graph label: its name and each geometry value other than its own default
    (a padding of (1, 1) is shown; a stride of (1, 1) is not)."""
    shown = [f"{key}={value}" for key, value in geometry.items() if GEOMETRY_DEFAULTS.get(key) != value]
    return " ".join([name] + shown)


class Unfold(_Windowed):
    """Every kernel window of an (N, C, H, W) input, as a (C, kH, kW, oH, oW, N) strided view:
    im2col without the copy (the reshape to a matrix copies). Backward is Fold."""
    name = "unfold"
    formula = "dx = fold(g)  (overlapping windows add up)"

    def forward(self, x, kernel_size=None, stride=None, padding=None, dilation=None):
        return window.unfold(x, kernel_size, stride, padding, dilation)

    def backward(self, ops, g, out, x): return ops.fold(g, x.shape[2:], **self.geometry())


class Fold(_Windowed):
    """(C, kH, kW, oH, oW, N) windows summed back into an (N, C, H, W) image (col2im), overlaps
    adding up. Backward is Unfold."""
    name = "fold"
    formula = "dwindows = unfold(g)"

    def forward(self, windows, output_size=None, kernel_size=None, stride=None, padding=None, dilation=None):
        return window.fold(windows, output_size, kernel_size, stride, padding, dilation)

    def backward(self, ops, g, out, windows): return ops.unfold(g, **self.geometry())


class MaxPool(_Windowed):
    """The largest entry of each window (padding is -inf, so it never wins).

    Convention: a window's gradient is split equally among its tied maxima (the rule of max).
    A primitive rather than unfold + max: forward and backward together took 7.7 ms against
    14.2 for the composition (2x2 pool of a (64, 32, 24, 24) float32 batch), 26 against 31 ms
    for 3x3 windows at stride 2; max's generic backward divides its tie counts in float64.
    """
    name = "max_pool2d"
    formula = "dx = fold(g ⊙ 1[x = window max] / #ties)"

    def forward(self, x, kernel_size=None, stride=None, padding=None, dilation=None):
        windows = window.unfold(x, kernel_size, stride, padding, dilation, pad_value=-np.inf)
        return window.window_max(windows).transpose(3, 0, 1, 2)

    # Each window hands g / (its number of tied maxima) to each maximum; fold adds up the shares
    # of an entry in several windows. The winners are constants, so create_graph differentiates g only.
    def backward(self, ops, g, out, x):
        geometry = self.geometry()
        windows = window.unfold(ops.values(x), **geometry, pad_value=-np.inf)
        shares = ops.route_to_maxima(g, windows, ops.values(out).transpose(1, 2, 3, 0))
        return ops.fold(shares, x.shape[2:], **geometry)


class Pad(Function):
    """widths[axis] = (before, after) entries of `value` on each side of each axis; negative
    widths crop. Its adjoint is the opposite padding with zeros, so backward is one more Pad."""
    name = "pad"
    formula = "dx = pad(g, −widths)  (crop the padding off)"

    def forward(self, x, widths=None, value=0.0):
        return window.pad(x, widths, value)

    def backward(self, ops, g, out, x):
        return ops.pad(g, tuple((-before, -after) for before, after in self.params["widths"]))
