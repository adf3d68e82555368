"""Weight initializers, each (shape, rng, fan_in=None) -> ndarray. fan_in defaults to shape[0],
right for Linear's (in, out) weight; a layer whose weight is shaped otherwise passes its own
(Conv2d: in_channels // groups * kH * kW)."""
import numpy as np


def he_normal(shape, rng: np.random.Generator, fan_in: int | None = None) -> np.ndarray:
    """N(0, sqrt(2 / fan_in)): keeps activation variance steady through ReLU layers."""
    return rng.standard_normal(shape) * np.sqrt(2.0 / (shape[0] if fan_in is None else fan_in))


def xavier_normal(shape, rng: np.random.Generator, fan_in: int | None = None) -> np.ndarray:
    """N(0, sqrt(1 / fan_in)), the seed's Xavier rule for sigmoid and softmax layers."""
    return rng.standard_normal(shape) * np.sqrt(1.0 / (shape[0] if fan_in is None else fan_in))
