"""Reductions built from the primitives: var, std, logsumexp, norm; and the index-valued ones,
argmax, argmin and topk, which carry no gradient of their own.

`Tensor` exposes them as methods, with NumPy's `axis=`/`keepdims=` (PyTorch's `dim=`/`keepdim=`
accepted too).
"""
import math
from typing import NamedTuple, Union

import numpy as np

from tinygrad_np.dims import check_dim
from tinygrad_np.errors import ArgumentError
from tinygrad_np.functional import where
from tinygrad_np.tensor import Tensor


def var(x: Tensor, axis=None, correction: int = 1, keepdims: bool = False) -> Tensor:
    """Sum of squared deviations from the mean over N - correction, N the count reduced over.

    correction=1 (the default, as in PyTorch) is the unbiased sample variance, 0 the population
    variance. N - correction <= 0 gives inf, or nan where the deviations are all 0, as in PyTorch."""
    deviations = x - x.mean(axis=axis, keepdims=True)
    squares = (deviations * deviations).sum(axis=axis, keepdims=keepdims)
    count = x.size // squares.size if squares.size else 0
    return squares * (1 / (count - correction) if count > correction else math.inf)


def std(x: Tensor, axis=None, correction: int = 1, keepdims: bool = False) -> Tensor:
    """The square root of `var` (same arguments). Its gradient is nan where all entries are equal."""
    return var(x, axis=axis, correction=correction, keepdims=keepdims).sqrt()


def logsumexp(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))), shifted by the max so it neither overflows nor underflows.

    The shift is a constant: the result does not depend on it, and neither does the gradient
    (softmax(x)), so ties at the max need no convention."""
    shift = np.max(x.data, axis=axis, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0).astype(x.dtype)  # slices of -inf (or inf) stay so
    summed = (x - shift).exp().sum(axis=axis, keepdims=keepdims)
    return summed.log() + (shift if keepdims else np.squeeze(shift, axis=axis))


def norm(x: Tensor, p: Union[float, str] = 2, axis=None, keepdims: bool = False) -> Tensor:
    """The p-norm over `axis` (all entries for None): p = 2 (the default), 'fro' (2, as for a
    vector of all the entries), 1, any p > 0, inf (largest |x|) or -inf (smallest |x|).

    As in PyTorch, the gradient at a zero vector is 0 (not the nan of sqrt'(0) * 0), and the
    inf-norm shares its gradient among tied entries."""
    if p == "fro":
        p = 2
    if p == math.inf:
        return x.abs().max(axis=axis, keepdims=keepdims)
    if p == -math.inf:
        return x.abs().min(axis=axis, keepdims=keepdims)
    if isinstance(p, str) or not p > 0:
        raise ArgumentError(f"norm: p must be a positive number, 'fro', inf or -inf, got {p!r}")
    if p == 1:
        return x.abs().sum(axis=axis, keepdims=keepdims)
    powered = x * x if p == 2 else x.abs() ** p
    return _root(powered.sum(axis=axis, keepdims=keepdims), p)


def _root(total: Tensor, p: float) -> Tensor:
    """total ** (1/p) with gradient 0 where total is 0: the root is taken of 1 there (a branch not
    chosen), so its infinite slope never meets the zero gradient that where passes it."""
    zero = total.data == 0
    return where(zero, 0.0, where(zero, 1.0, total) ** (1 / p))


def argmax(x: Tensor, axis=None, keepdims: bool = False) -> np.ndarray:
    """Positions of the largest entries (the first of ties), as an integer array: no gradient."""
    return np.argmax(x.data, axis=axis, keepdims=keepdims)


def argmin(x: Tensor, axis=None, keepdims: bool = False) -> np.ndarray:
    """Positions of the smallest entries (the first of ties), as an integer array: no gradient."""
    return np.argmin(x.data, axis=axis, keepdims=keepdims)


class TopK(NamedTuple):
    """What topk returns, as torch.return_types.topk: `values, indices = x.topk(3)`."""
    values: Tensor
    indices: np.ndarray


def topk(x: Tensor, k: int, axis: int = -1, largest: bool = True, sorted: bool = True) -> TopK:
    """The k largest (or smallest) entries along `axis`, in order, and their positions.

    The values are `x.gather(axis, indices)`, so they carry x's gradient to the chosen entries;
    the indices are an integer array. Among ties the earlier position comes first. `sorted` is
    accepted for PyTorch's signature: the values always come sorted."""
    length = x.shape[check_dim("topk", axis, x.ndim)]
    if not 0 <= k <= length:
        raise ArgumentError(f"topk: k={k} is outside [0, {length}] for axis {axis} of shape {x.shape}")
    order = np.argsort(-x.data if largest else x.data, axis=axis, kind="stable")
    indices = np.take(order, np.arange(k), axis=axis)
    return TopK(x.gather(axis, indices), indices)
