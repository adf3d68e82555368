"""Weight initializers, each (shape, rng) -> ndarray for a weight of shape (fan_in, fan_out)."""
import numpy as np


def he_normal(shape, rng: np.random.Generator) -> np.ndarray:
    """N(0, sqrt(2 / fan_in)): keeps activation variance steady through ReLU layers."""
    return rng.standard_normal(shape) * np.sqrt(2.0 / shape[0])


def xavier_normal(shape, rng: np.random.Generator) -> np.ndarray:
    """N(0, sqrt(1 / fan_in)), the seed's Xavier rule for sigmoid and softmax layers."""
    return rng.standard_normal(shape) * np.sqrt(1.0 / shape[0])
