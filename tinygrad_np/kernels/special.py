"""Elementwise special functions: trigonometry, expm1 and the error function."""
import math

import numpy as np

_math_erf = np.frompyfunc(math.erf, 1, 1)  # an object-dtype ufunc over Python's erf


def sin(x: np.ndarray) -> np.ndarray:
    return np.sin(x)


def cos(x: np.ndarray) -> np.ndarray:
    return np.cos(x)


def expm1(x: np.ndarray) -> np.ndarray:
    """e^x - 1, exact for tiny x where exp(x) - 1 would round to 0."""
    return np.expm1(x)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, 2/sqrt(pi) * integral of e^(-t^2) from 0 to x, in x's dtype.

    NumPy has none; this is the C library's erf (through `math.erf`) applied to each element, so
    it is accurate to about one ulp in float64 but costs about 0.3 us per element, a hundred
    times a vectorised function's."""
    x = np.asarray(x)
    return np.asarray(_math_erf(x), dtype=x.dtype if x.dtype.kind == "f" else np.float64)
