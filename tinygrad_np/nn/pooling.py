"""MaxPool2d and AvgPool2d: the pooling functions as layers, with PyTorch's arguments."""
from tinygrad_np.nn.convolution import avg_pool2d, max_pool2d
from tinygrad_np.nn.module import Module
from tinygrad_np.tensor import Tensor


class MaxPool2d(Module):
    """max_pool2d over kernel_size windows (stride defaults to kernel_size); tied maxima share the gradient."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1):
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation

    def forward(self, x: Tensor) -> Tensor:
        return max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}"
                + (f", dilation={self.dilation}" if self.dilation != 1 else ""))


class AvgPool2d(Module):
    """avg_pool2d over kernel_size windows; zero padding counts unless count_include_pad=False."""

    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad: bool = True):
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.count_include_pad = count_include_pad

    def forward(self, x: Tensor) -> Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.count_include_pad)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}"
                + ("" if self.count_include_pad else ", count_include_pad=False"))
