"""Activation layers: each calls its `nn.functional` function with the settings it was built with,
so `nn.GELU(approximate="tanh")(x)` is `F.gelu(x, approximate="tanh")`."""
from typing import Callable

from tinygrad_np.nn import functional as F
from tinygrad_np.nn.module import Module


class _Activation(Module):
    """An activation as a layer: `function` applied with the attributes named in `settings`."""
    function: Callable  # a staticmethod in each subclass
    settings: tuple = ()

    def forward(self, x):
        return self.function(x, **{name: getattr(self, name) for name in self.settings})

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)!r}" for name in self.settings)


class LeakyReLU(_Activation):
    function, settings = staticmethod(F.leaky_relu), ("negative_slope",)

    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = negative_slope


class ELU(_Activation):
    function, settings = staticmethod(F.elu), ("alpha",)

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha


class GELU(_Activation):
    function, settings = staticmethod(F.gelu), ("approximate",)

    def __init__(self, approximate: str = "none"):
        self.approximate = approximate


class Softplus(_Activation):
    function, settings = staticmethod(F.softplus), ("beta", "threshold")

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        self.beta, self.threshold = beta, threshold


class Hardtanh(_Activation):
    function, settings = staticmethod(F.hardtanh), ("min_val", "max_val")

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0):
        self.min_val, self.max_val = min_val, max_val


class SiLU(_Activation):
    function = staticmethod(F.silu)


class ReLU6(_Activation):
    function = staticmethod(F.relu6)


class Hardswish(_Activation):
    function = staticmethod(F.hardswish)


class Mish(_Activation):
    function = staticmethod(F.mish)


class LogSigmoid(_Activation):
    function = staticmethod(F.logsigmoid)
