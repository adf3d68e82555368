"""Elementwise special functions: sin, cos, log1p, expm1, erf, sign and softplus.

Each is a primitive because no composition of the other ops computes it as accurately
(log1p and expm1 near 0, softplus for large |x|) or at all (sin, cos, erf).
"""
import math

import numpy as np

from tinygrad_np import kernels
from tinygrad_np.function import Function

_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


class Sin(Function):
    """sin x, x in radians."""
    name = "sin"
    formula = "dx = g ⊙ cos x"
    def forward(self, x): return np.sin(x)
    def backward(self, ops, g, out, x): return g * ops.cos(x)


class Cos(Function):
    """cos x, x in radians. Its derivative is written with Sin, as Sin's is with Cos: derivatives of
    any order (backward with create_graph=True) need no other trigonometric op."""
    name = "cos"
    formula = "dx = −g ⊙ sin x"
    def forward(self, x): return np.cos(x)
    def backward(self, ops, g, out, x): return -g * ops.sin(x)


class Log1p(Function):
    """log(1 + x), exact for tiny x."""
    name = "log1p"
    formula = "dx = g / (1 + x)"
    def forward(self, x): return np.log1p(x)
    def backward(self, ops, g, out, x): return g / (1 + x)


class Expm1(Function):
    """e^x - 1, exact for tiny x. Its derivative is e^x, taken afresh: out + 1 would round to 0
    for x below about -37."""
    name = "expm1"
    formula = "dx = g ⊙ eˣ"
    def forward(self, x): return np.expm1(x)
    def backward(self, ops, g, out, x): return g * ops.exp(x)


class Erf(Function):
    """The error function; d erf(x)/dx = 2/sqrt(pi) e^(-x^2)."""
    name = "erf"
    formula = "dx = g ⊙ 2/√π · e^(−x²)"
    def forward(self, x): return kernels.erf(x)
    def backward(self, ops, g, out, x): return g * _TWO_OVER_SQRT_PI * ops.exp(-(x * x))


class Sign(Function):
    """-1, 0 or 1. Convention: its gradient is 0 everywhere, as in PyTorch (0 also where the
    incoming gradient is infinite, hence `where` rather than `g * 0`)."""
    name = "sign"
    formula = "dx = 0"
    def forward(self, x): return np.sign(x)
    def backward(self, ops, g, out, x): return ops.where(False, g, 0.0)


class Softplus(Function):
    """log(1 + e^x), as max(x, 0) + log1p(e^-|x|): finite for any x, and exact where it is tiny.

    Its derivative is sigmoid(x) = 1 - e^-out, taken as -expm1(-out) so it keeps its precision
    where it is tiny (x very negative)."""
    name = "softplus"
    formula = "dx = g ⊙ σ(x) = g ⊙ (1 − e^(−out))"
    def forward(self, x): return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))
    def backward(self, ops, g, out, x): return -g * ops.expm1(-out)
