"""Conv2d: a 2-D convolution layer with PyTorch's arguments and weight layout."""
import numpy as np

from tinygrad_np import random
from tinygrad_np.errors import ArgumentError
from tinygrad_np.nn import init as initializers
from tinygrad_np.nn.convolution import conv2d, pair
from tinygrad_np.nn.module import Module, Parameter
from tinygrad_np.tensor import Tensor


class Conv2d(Module):
    """conv2d with a weight (out_channels, in_channels // groups, kH, kW) and a bias (out_channels,).

    `init` names the weight initializer ('he_normal' for ReLU layers, 'xavier_normal') or is a
    function (shape, rng, fan_in) -> array; fan_in = in_channels // groups * kH * kW, the inputs
    each output sums over. Biases start at zero, as in Linear.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, init="he_normal", rng=None, dtype=np.float32):
        if in_channels < 1 or out_channels < 1 or groups < 1 or in_channels % groups or out_channels % groups:
            raise ArgumentError(f"Conv2d needs positive channels divisible by groups, got in_channels={in_channels}, "
                                f"out_channels={out_channels}, groups={groups}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride = pair(kernel_size, "kernel_size"), pair(stride, "stride")
        self.padding, self.dilation = pair(padding, "padding", low=0), pair(dilation, "dilation")
        rng = random.generator(rng)
        initializer = getattr(initializers, init) if isinstance(init, str) else init
        shape = (out_channels, in_channels // groups) + self.kernel_size
        fan_in = in_channels // groups * self.kernel_size[0] * self.kernel_size[1]
        self.weight = Parameter(initializer(shape, rng, fan_in=fan_in), dtype=dtype)
        self.bias = Parameter(np.zeros(out_channels), dtype=dtype) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        extra = "".join(f", {name}={getattr(self, name)}" for name, default in
                        (("padding", (0, 0)), ("dilation", (1, 1)), ("groups", 1)) if getattr(self, name) != default)
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
                + extra + ("" if self.bias is not None else ", bias=False"))
