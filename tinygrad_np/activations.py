"""Activation functions beyond relu, sigmoid and tanh, with PyTorch's names, arguments and
gradients at the kinks. Each is a composition of primitives; only softplus (and erf, for gelu)
is a primitive of its own, because no composition is both stable and exact for large |x|.

`Tensor` has each as a method (`x.gelu()`), `nn.functional` as a function (`F.gelu(x)`), and
`nn` as a module (`nn.GELU()`).

Kink conventions (the gradient PyTorch gives at the point where the pieces meet):
leaky_relu'(0) = negative_slope, elu'(0) = alpha, hardtanh' and relu6' are 0 at both bounds
(ReLU'(0) = 0 likewise), hardswish'(-3) = 0 and hardswish'(3) = 1.
"""
import math

from tinygrad_np.errors import ArgumentError
from tinygrad_np.functional import where
from tinygrad_np.ops.special import Erf, Softplus
from tinygrad_np.tensor import Tensor

_SQRT_HALF = math.sqrt(0.5)
_SQRT_TWO_OVER_PI = math.sqrt(2 / math.pi)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope * x."""
    return where(x > 0, x, x * negative_slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x where x > 0, else alpha * (e^x - 1).

    The exponential is taken of min(x, 0): e^x of a large x, in the branch not chosen, would
    overflow, and its gradient 0 * inf would be nan."""
    return where(x > 0, x, x.clip(high=0).expm1() * alpha)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the standard normal CDF: 0.5 * x * (1 + erf(x / sqrt 2)) exactly, or with
    approximate='tanh' 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))."""
    if approximate == "none":
        return x * 0.5 * (1 + Erf.apply(x * _SQRT_HALF))
    if approximate == "tanh":
        return x * 0.5 * (1 + ((x + 0.044715 * x * x * x) * _SQRT_TWO_OVER_PI).tanh())
    raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    return x * x.sigmoid()


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta x)) / beta, and x itself where beta * x > threshold (as PyTorch)."""
    scaled = x * beta
    return where(scaled > threshold, x, Softplus.apply(scaled) / beta)


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x limited to [min_val, max_val]; unlike clip, the gradient is 0 at the bounds (as PyTorch)."""
    if not min_val < max_val:
        raise ArgumentError(f"hardtanh: min_val ({min_val}) must be below max_val ({max_val})")
    return where(x <= min_val, min_val, where(x >= max_val, max_val, x))


def relu6(x: Tensor) -> Tensor:
    """min(max(x, 0), 6): hardtanh over [0, 6]."""
    return hardtanh(x, 0.0, 6.0)


def hardswish(x: Tensor) -> Tensor:
    """x * relu6(x + 3) / 6 (0 up to -3, x from 3 on)."""
    return x * relu6(x + 3) / 6


def mish(x: Tensor) -> Tensor:
    """x * tanh(softplus(x))."""
    return x * Softplus.apply(x).tanh()


def logsigmoid(x: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x): finite for any x (log(sigmoid(-1e3)) is -1e3, not -inf)."""
    return -Softplus.apply(-x)
