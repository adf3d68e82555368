"""Products and sums along axes: prod, cumsum and einsum."""
import numpy as np


def prod(x: np.ndarray, axis=None, keepdims: bool = False) -> np.ndarray:
    return np.prod(x, axis=axis, keepdims=keepdims)


def cumsum(x: np.ndarray, axis: int) -> np.ndarray:
    """Running sums along `axis`."""
    return np.cumsum(x, axis=axis)


def einsum(*operands: np.ndarray, subscripts: str) -> np.ndarray:
    """np.einsum(subscripts, *operands), letting NumPy pick the order of contractions (and BLAS)."""
    return np.einsum(subscripts, *operands, optimize=True)
