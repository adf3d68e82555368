"""The default CNN of the project: two 5x5 convolutions, each with batch norm, ReLU and max pooling,
then one Linear layer.

    layers = Conv2d(1, 32, 5), BatchNorm2d(32), ReLU, MaxPool2d(2),
             Conv2d(32, 64, 5), BatchNorm2d(64), ReLU, MaxPool2d(2), Flatten, Linear(1024, 10)

on images (N, 1, 28, 28): 28 -> 24 -> 12 -> 8 -> 4, so 64 * 4 * 4 = 1024 features reach the
Linear layer. The convolutions have no bias (batch norm's shift takes its place, as in PyTorch's
ResNets). With batch_norm=False (the checkpoints written before it came) the layers are Conv2d (with
bias), ReLU, MaxPool2d, twice, Flatten and Linear: `layers.7.weight` is then the Linear's.
"""
import numpy as np

from tinygrad_np import nn

IMAGE_SIDE = 28


def feature_side(kernel_size: int) -> int:
    """The side of the feature maps after the two conv + pool blocks: (28 - k + 1) // 2, twice."""
    side = IMAGE_SIDE
    for _ in range(2):
        side = (side - kernel_size + 1) // 2
    return side


def layer_indices(batch_norm: bool) -> tuple[int, int, int]:
    """Where the two convolutions and the Linear layer sit in `layers`."""
    return (0, 4, 9) if batch_norm else (0, 3, 7)


def parameter_shapes(channels, kernel_size: int, classes: int, batch_norm: bool = False) -> dict:
    """{name: shape} of the parameters `CNN(channels, kernel_size, classes, batch_norm)` has, in the
    order of its parameters() (the optimizer's state follows it), without building it."""
    first, second = channels
    conv1, conv2, linear = layer_indices(batch_norm)
    shapes = {}
    for index, fan_in, width in ((conv1, 1, first), (conv2, first, second)):
        shapes[f"layers.{index}.weight"] = (width, fan_in, kernel_size, kernel_size)
        if batch_norm:  # batch norm's scale and shift; the convolution has no bias
            shapes.update({f"layers.{index + 1}.weight": (width,), f"layers.{index + 1}.bias": (width,)})
        else:
            shapes[f"layers.{index}.bias"] = (width,)
    shapes[f"layers.{linear}.weight"] = (second * feature_side(kernel_size) ** 2, classes)
    shapes[f"layers.{linear}.bias"] = (classes,)
    return shapes


def buffer_shapes(channels, batch_norm: bool = False) -> dict:
    """{name: (shape, dtype)} of the batch norm layers' running statistics, which state_dict holds."""
    if not batch_norm:
        return {}
    conv1, conv2, _ = layer_indices(batch_norm)
    return {f"layers.{conv + 1}.{name}": ((width,), np.dtype(np.float32)) if name != "num_batches_tracked"
            else ((), np.dtype(np.int64))
            for conv, width in zip((conv1, conv2), channels, strict=True)
            for name in ("running_mean", "running_var", "num_batches_tracked")}


class CNN(nn.Module):
    """conv (1 -> channels[0]) and conv (channels[0] -> channels[1]), each kernel_size square and
    followed by batch norm (with batch_norm=True), ReLU and 2x2 max pooling, then Flatten and Linear
    to `classes` logits. He init for the convolutions (a ReLU follows), Xavier for the output layer,
    as in the MLP."""

    def __init__(self, channels=(32, 64), kernel_size: int = 5, classes: int = 10, batch_norm: bool = False,
                 seed: int = 0, dtype=np.float32):
        first, second = channels
        if feature_side(kernel_size) < 1:
            raise ValueError(f"a {kernel_size}x{kernel_size} kernel leaves no features of a 28x28 image")
        self.channels, self.kernel_size, self.num_classes = (first, second), kernel_size, classes
        rng = np.random.default_rng(seed)
        layers = []
        for fan_in, width in ((1, first), (first, second)):
            layers.append(nn.Conv2d(fan_in, width, kernel_size, bias=not batch_norm, init="he_normal", rng=rng,
                                    dtype=dtype))
            layers += [nn.BatchNorm2d(width, dtype=dtype)] if batch_norm else []
            layers += [nn.ReLU(), nn.MaxPool2d(2)]
        layers += [nn.Flatten(), nn.Linear(second * feature_side(kernel_size) ** 2, classes, init="xavier_normal",
                                           rng=rng, dtype=dtype)]
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)
