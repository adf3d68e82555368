"""Tensors made from scratch, with PyTorch's names and arguments: zeros, ones, full, arange, eye,
randn, rand and the `_like` forms.

Every one returns a leaf Tensor of a float dtype (float32 unless `dtype=` says otherwise, as
the library's tensors are float only: `arange(5)` is float32, not int64 as in PyTorch) and
takes `requires_grad=`. Sizes are given as PyTorch takes them: `zeros(2, 3)` or `zeros((2, 3))`.
`randn` and `rand` draw from `rng`, else from the default generator that `manual_seed` seeds.
"""
from typing import Optional

import numpy as np

from tinygrad_np import random
from tinygrad_np.tensor import Tensor

DEFAULT_DTYPE = np.float32


def _size(size: tuple) -> tuple:
    """`(2, 3)` from `zeros(2, 3)` and from `zeros((2, 3))`; refuses negative or non-integer sizes."""
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    if not all(isinstance(side, (int, np.integer)) and not isinstance(side, bool) and side >= 0 for side in shape):
        raise ValueError(f"sizes must be non-negative integers, got {shape}")
    return shape


def _leaf(array: np.ndarray, dtype, requires_grad: bool) -> Tensor:
    return Tensor(array, requires_grad=requires_grad, dtype=DEFAULT_DTYPE if dtype is None else dtype)


def zeros(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.zeros(_size(size)), dtype, requires_grad)


def ones(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.ones(_size(size)), dtype, requires_grad)


def full(size, fill_value: float, dtype=None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.full(_size((size,)), fill_value, dtype=np.float64), dtype, requires_grad)


def zeros_like(tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    """Zeros of `tensor`'s shape and (unless `dtype=`) its dtype; a plain array works too."""
    return full_like(tensor, 0.0, dtype, requires_grad)


def ones_like(tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return full_like(tensor, 1.0, dtype, requires_grad)


def full_like(tensor, fill_value: float, dtype=None, requires_grad: bool = False) -> Tensor:
    like = np.asarray(tensor.data if isinstance(tensor, Tensor) else tensor)
    if dtype is None and like.dtype.kind == "f":
        dtype = like.dtype
    return _leaf(np.full(like.shape, fill_value, dtype=np.float64), dtype, requires_grad)


def arange(start: float, end: Optional[float] = None, step: float = 1, dtype=None,
           requires_grad: bool = False) -> Tensor:
    """start, start + step, ... up to `end` (excluded); `arange(n)` counts 0 .. n-1. Float values."""
    if step == 0:
        raise ValueError("arange: step must not be zero")
    start, end = (0, start) if end is None else (start, end)
    return _leaf(np.arange(start, end, step, dtype=np.float64), dtype, requires_grad)


def eye(n: int, m: Optional[int] = None, dtype=None, requires_grad: bool = False) -> Tensor:
    """The n x m matrix with ones on the diagonal (m defaults to n)."""
    return _leaf(np.eye(*_size((n,) if m is None else (n, m))), dtype, requires_grad)


def randn(*size, rng: Optional[np.random.Generator] = None, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples, from `rng` or the default generator (see `manual_seed`)."""
    return _leaf(random.generator(rng).standard_normal(_size(size)), dtype, requires_grad)


def rand(*size, rng: Optional[np.random.Generator] = None, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1), from `rng` or the default generator (see `manual_seed`)."""
    return _leaf(random.generator(rng).random(_size(size)), dtype, requires_grad)
