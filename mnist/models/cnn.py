"""The default CNN of the project: two 5x5 convolutions, each with batch norm, ReLU and max pooling,
then a hidden Linear layer with dropout and the output layer.

    layers = Conv2d(1, 32, 5), BatchNorm2d(32), ReLU, MaxPool2d(2),
             Conv2d(32, 64, 5), BatchNorm2d(64), ReLU, MaxPool2d(2), Flatten,
             Linear(1024, 256), ReLU, Dropout(0.5), Linear(256, 10)

on images (N, 1, 28, 28): 28 -> 24 -> 12 -> 8 -> 4, so 64 * 4 * 4 = 1024 features reach the
first Linear layer. The convolutions have no bias (batch norm's shift takes its place, as in
PyTorch's ResNets). Checkpoints of format 2 held the CNN without batch norm or hidden layer, which
the app refuses now; CNN(batch_norm=False) still builds the convolutions with their bias.
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


def parameter_shapes(**settings) -> dict:
    """{name: shape} of the parameters `CNN(**settings)` has, in the order of its parameters() (the
    optimizer's state follows it). The network is built to find out: a checkpoint's settings are
    checked against the run's recorded config before this is called, and the CNN is small."""
    return {name: parameter.shape for name, parameter in CNN(**settings).named_parameters()}


def buffer_shapes(**settings) -> dict:
    """{name: (shape, dtype)} of the batch norm layers' running statistics, which state_dict holds."""
    return {name: (buffer.shape, buffer.dtype) for name, buffer in CNN(**settings).named_buffers()
            if buffer is not None}


class CNN(nn.Module):
    """conv (1 -> channels[0]) and conv (channels[0] -> channels[1]), each kernel_size square and
    followed by batch norm (with batch_norm=True), ReLU and 2x2 max pooling; Flatten; with hidden > 0
    a Linear layer of that many units, ReLU and Dropout(dropout); then Linear to `classes` logits.
    He init where a ReLU follows, Xavier for the output layer, as in the MLP."""

    def __init__(self, channels=(32, 64), kernel_size: int = 5, classes: int = 10, batch_norm: bool = False,
                 hidden: int = 0, dropout: float = 0.0, seed: int = 0, dtype=np.float32):
        first, second = channels
        if feature_side(kernel_size) < 1:
            raise ValueError(f"a {kernel_size}x{kernel_size} kernel leaves no features of a 28x28 image")
        self.channels, self.kernel_size, self.num_classes = (first, second), kernel_size, classes
        rng = np.random.default_rng(seed)
        layers: list[nn.Module] = []
        for fan_in, width in ((1, first), (first, second)):
            layers.append(nn.Conv2d(fan_in, width, kernel_size, bias=not batch_norm, init="he_normal", rng=rng,
                                    dtype=dtype))
            layers += [nn.BatchNorm2d(width, dtype=dtype)] if batch_norm else []
            layers += [nn.ReLU(), nn.MaxPool2d(2)]
        features = second * feature_side(kernel_size) ** 2
        layers.append(nn.Flatten())
        if hidden:
            layers += [nn.Linear(features, hidden, init="he_normal", rng=rng, dtype=dtype), nn.ReLU()]
            layers += [nn.Dropout(dropout, rng=rng)] if dropout > 0 else []
            features = hidden
        layers.append(nn.Linear(features, classes, init="xavier_normal", rng=rng, dtype=dtype))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)
