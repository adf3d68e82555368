"""Weight initializers: the seed's He and Xavier rules, and PyTorch's in-place `nn.init` functions.

Fans follow this library's weight layouts, not only PyTorch's: a matrix is (in, out), as
`Linear`'s weight (Z = A W), while a convolution kernel is (out, in, *kernel), as PyTorch's.
So `fan_in_and_fan_out((784, 256))` is (784, 256) and `fan_in_and_fan_out((32, 1, 5, 5))` is
(25, 800). PyTorch reads every shape as (out, in, *kernel), which for a matrix swaps the two:
a PyTorch (out, in) matrix initialized here needs `fan_in=`/`fan_out=`, which every function
taking fans accepts to override the shape rule (a layer of another layout passes them).

    kaiming_normal_(layer.weight, nonlinearity="relu", generator=rng)  # in place, returns the tensor
    he_normal((784, 256), rng)                                          # a new array, the seed's rule
"""
import math

import numpy as np

from tinygrad_np import random
from tinygrad_np.tensor import Tensor

OptionalGenerator = np.random.Generator | None  # None: the default generator (tinygrad_np.manual_seed)


def fan_in_and_fan_out(shape, fan_in: int | None = None, fan_out: int | None = None) -> tuple:
    """(fan_in, fan_out) of a weight of `shape`: (in, out) for a matrix, (in * k, out * k) for a
    kernel (out, in, *kernel) with k = prod(kernel); explicit fans win over the shape rule."""
    shape = tuple(shape)
    if fan_in is None or fan_out is None:
        if len(shape) < 2:
            raise ValueError(f"fan-in and fan-out of a weight of shape {shape} are undefined (it needs at least "
                             "2 dimensions): pass fan_in= and fan_out=")
        receptive_field = math.prod(shape[2:])
        inputs, outputs = shape if len(shape) == 2 else (shape[1] * receptive_field, shape[0] * receptive_field)
        fan_in = inputs if fan_in is None else fan_in
        fan_out = outputs if fan_out is None else fan_out
    return fan_in, fan_out


_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """PyTorch's recommended gain for a nonlinearity: 1 (linear, conv, sigmoid), 5/3 (tanh),
    sqrt(2) (relu), sqrt(2 / (1 + slope**2)) (leaky_relu, slope `param`, default 0.01), 3/4 (selu)."""
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is not None and (isinstance(param, bool) or not isinstance(param, (int, float))):
            raise ValueError(f"negative_slope {param!r} is not a number")
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


# ---- the seed's rules: (shape, rng) -> a new array, the `init=` of Linear ---------------------

def he_normal(shape, rng: np.random.Generator, fan_in: int | None = None) -> np.ndarray:
    """N(0, sqrt(2 / fan_in)): keeps activation variance steady through ReLU layers."""
    fan_in = fan_in_and_fan_out(shape)[0] if fan_in is None else fan_in
    return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)


def xavier_normal(shape, rng: np.random.Generator, fan_in: int | None = None) -> np.ndarray:
    """N(0, sqrt(1 / fan_in)), the seed's Xavier rule for sigmoid and softmax layers."""
    fan_in = fan_in_and_fan_out(shape)[0] if fan_in is None else fan_in
    return rng.standard_normal(shape) * np.sqrt(1.0 / fan_in)


# ---- PyTorch's in-place initializers ----------------------------------------------------------
# Each fills `tensor.data` in place (keeping its dtype, no graph recorded) and returns the tensor.
# `generator` is a np.random.Generator; without one, the default generator (`manual_seed`) is used.

def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: OptionalGenerator = None) -> Tensor:
    """Values drawn uniformly from [a, b)."""
    return _fill(tensor, _generator(generator).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: OptionalGenerator = None) -> Tensor:
    """Values drawn from N(mean, std)."""
    return _fill(tensor, _generator(generator).normal(mean, std, tensor.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    return _fill(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: OptionalGenerator = None, *,
                    fan_in: int | None = None, fan_out: int | None = None) -> Tensor:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio)."""
    bound = math.sqrt(3.0) * _xavier_std(tensor, gain, fan_in, fan_out)
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: OptionalGenerator = None, *,
                   fan_in: int | None = None, fan_out: int | None = None) -> Tensor:
    """N(0, gain * sqrt(2 / (fan_in + fan_out))) (Glorot & Bengio)."""
    return normal_(tensor, 0.0, _xavier_std(tensor, gain, fan_in, fan_out), generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: OptionalGenerator = None, *, fan_in: int | None = None,
                     fan_out: int | None = None) -> Tensor:
    """U(-bound, bound) with bound = gain * sqrt(3 / fan) (He et al.); fan is fan_in or fan_out
    by `mode`, gain = calculate_gain(nonlinearity, a), `a` the leaky ReLU's negative slope."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity, fan_in, fan_out)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: OptionalGenerator = None, *, fan_in: int | None = None,
                    fan_out: int | None = None) -> Tensor:
    """N(0, gain / sqrt(fan)) (He et al.); fan and gain as in `kaiming_uniform_`."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity, fan_in, fan_out), generator)


def _xavier_std(tensor: Tensor, gain: float, fan_in, fan_out) -> float:
    if _tensor(tensor).data.size == 0:  # nothing to fill (PyTorch warns and returns it as it is)
        return 0.0
    fan_in, fan_out = fan_in_and_fan_out(tensor.shape, fan_in, fan_out)
    return gain * math.sqrt(2.0 / float(fan_in + fan_out))


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str, fan_in, fan_out) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    if _tensor(tensor).data.size == 0:  # nothing to fill (PyTorch warns and returns it as it is)
        return 0.0
    fans = dict(zip(("fan_in", "fan_out"), fan_in_and_fan_out(tensor.shape, fan_in, fan_out), strict=True))
    return calculate_gain(nonlinearity, a) / math.sqrt(fans[mode])


def _tensor(tensor) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init fills a Tensor in place, got {type(tensor).__name__}")
    return tensor


def _generator(generator) -> np.random.Generator:
    return random.generator(generator)  # the default one follows tinygrad_np.manual_seed


def _fill(tensor: Tensor, values) -> Tensor:
    _tensor(tensor).data[...] = values  # cast into the tensor's dtype, as PyTorch fills in place
    return tensor
