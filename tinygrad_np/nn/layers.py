"""Layers: Linear, Sequential, activations, Dropout and Identity."""
import numpy as np

from tinygrad_np import random
from tinygrad_np.nn import init as initializers
from tinygrad_np.nn.functional import check_dropout_probability, dropout, linear
from tinygrad_np.nn.module import Module, ModuleList, Parameter
from tinygrad_np.tensor import Tensor


class Linear(Module):
    """x @ W + b with W of shape (in_features, out_features), as in the seed's Z = A . W + b.

    The weight is transposed against torch.nn.Linear's (out_features, in_features): the one
    deliberate difference from PyTorch, kept so the code reads like the seed's formulas.

    `init` names the weight initializer ('he_normal' for ReLU layers, 'xavier_normal' for
    sigmoid/softmax layers) or is a function (shape, rng) -> array; biases start at zero. The
    weight is drawn from `rng`, else from the default generator (`tinygrad_np.manual_seed`).
    """

    def __init__(self, in_features: int, out_features: int, init="he_normal", rng=None,
                 dtype=np.float32, bias: bool = True):
        if in_features < 1 or out_features < 1:
            raise ValueError(f"Linear needs positive sizes, got in={in_features}, out={out_features}")
        rng = random.generator(rng)
        initializer = getattr(initializers, init) if isinstance(init, str) else init
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(initializer((in_features, out_features), rng), dtype=dtype)
        self.bias = Parameter(np.zeros(out_features), dtype=dtype) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}"


class Sequential(ModuleList):
    """Modules applied in order; children are named '0', '1', ... (so 'layers.0.weight')."""

    def __init__(self, *modules: Module):
        super().__init__(modules)

    def forward(self, x):
        for module in self:
            x = module(x)
        return x


class ReLU(Module):
    def forward(self, x): return x.relu()


class Sigmoid(Module):
    def forward(self, x): return x.sigmoid()


class Tanh(Module):
    def forward(self, x): return x.tanh()


class Dropout(Module):
    """Inverted dropout (see nn.functional.dropout), in training mode only. Masks come from
    `rng`, or, when it is None, from the default generator at each call (`tinygrad_np.manual_seed`)."""

    def __init__(self, p: float = 0.5, rng=None):
        self.p = check_dropout_probability(p)
        self.rng = rng

    def forward(self, x):
        return dropout(x, self.p, self.training, self.rng)

    def extra_repr(self):
        return f"p={self.p}"


class Identity(Module):
    """Returns its input unchanged: a placeholder layer (arguments are accepted and ignored, as in PyTorch)."""

    def __init__(self, *args, **kwargs):
        pass

    def forward(self, x):
        return x
