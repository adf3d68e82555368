"""The default CNN of the project: two 5x5 convolutions with max pooling, then one Linear layer.

    layers = Conv2d(1, 32, 5), ReLU, MaxPool2d(2), Conv2d(32, 64, 5), ReLU, MaxPool2d(2), Flatten,
             Linear(1024, 10)

on images (N, 1, 28, 28): 28 -> 24 -> 12 -> 8 -> 4, so 64 * 4 * 4 = 1024 features reach the
Linear layer. Parameters are `layers.0.weight` (32, 1, 5, 5), `layers.3.weight` (64, 32, 5, 5) and
`layers.7.weight` (1024, 10), as mnist.reference.network.DEFAULT_CNN names them.
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


def parameter_shapes(channels, kernel_size: int, classes: int) -> dict:
    """{name: shape} of the parameters `CNN(channels, kernel_size, classes)` has, without building it."""
    first, second = channels
    features = second * feature_side(kernel_size) ** 2
    return {"layers.0.weight": (first, 1, kernel_size, kernel_size), "layers.0.bias": (first,),
            "layers.3.weight": (second, first, kernel_size, kernel_size), "layers.3.bias": (second,),
            "layers.7.weight": (features, classes), "layers.7.bias": (classes,)}


class CNN(nn.Module):
    """conv (1 -> channels[0]) and conv (channels[0] -> channels[1]), each kernel_size square and
    followed by ReLU and 2x2 max pooling, then Flatten and Linear to `classes` logits. He init for
    the convolutions (a ReLU follows), Xavier for the output layer, as in the MLP."""

    def __init__(self, channels=(32, 64), kernel_size: int = 5, classes: int = 10, seed: int = 0,
                 dtype=np.float32):
        first, second = channels
        if feature_side(kernel_size) < 1:
            raise ValueError(f"a {kernel_size}x{kernel_size} kernel leaves no features of a 28x28 image")
        self.channels, self.kernel_size, self.num_classes = (first, second), kernel_size, classes
        rng = np.random.default_rng(seed)
        self.layers = nn.Sequential(
            nn.Conv2d(1, first, kernel_size, init="he_normal", rng=rng, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(first, second, kernel_size, init="he_normal", rng=rng, dtype=dtype), nn.ReLU(),
            nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(second * feature_side(kernel_size) ** 2, classes, init="xavier_normal", rng=rng, dtype=dtype))

    def forward(self, x):
        return self.layers(x)
