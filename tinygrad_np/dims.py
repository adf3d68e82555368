"""Axis arguments: PyTorch's `dim=`/`keepdim=` accepted for NumPy's `axis=`/`keepdims=`, and
checking a dim against a tensor's number of axes."""
import functools
from typing import Callable

import numpy as np

from tinygrad_np.errors import ShapeError

_NUMPY_NAMES = {"dim": "axis", "keepdim": "keepdims"}


def dim_alias(function: Callable) -> Callable:
    """Let `function`, which takes NumPy's `axis=` and `keepdims=`, also take PyTorch's `dim=` and
    `keepdim=` (`x.sum(dim=1, keepdim=True)` is `x.sum(axis=1, keepdims=True)`); both at once is
    refused."""
    @functools.wraps(function)
    def accepting_dim(*args, **kwargs):
        for torch_name, numpy_name in _NUMPY_NAMES.items():
            if torch_name in kwargs:
                if numpy_name in kwargs:
                    raise TypeError(f"{function.__name__}() got both {numpy_name}= and {torch_name}= "
                                    f"(the same argument: pass one)")
                kwargs[numpy_name] = kwargs.pop(torch_name)
        return function(*args, **kwargs)
    return accepting_dim


def check_dim(op: str, dim: int, ndim: int) -> int:
    """`dim` as a non-negative axis of a tensor with `ndim` axes (negatives count from the end)."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not -ndim <= dim < ndim:
        raise ShapeError(f"{op}: dim {dim!r} is out of range for a tensor with {ndim} axes")
    return int(dim) % ndim
