"""Layers: Linear, Sequential, activations and Dropout."""
import numpy as np

from tinygrad_np.nn import init as initializers
from tinygrad_np.nn.functional import linear
from tinygrad_np.nn.module import Module, ModuleList, Parameter
from tinygrad_np.tensor import Tensor


class Linear(Module):
    """x @ W + b with W of shape (in_features, out_features), as in the seed's Z = A . W + b.

    The weight is transposed against torch.nn.Linear's (out_features, in_features): the one
    deliberate difference from PyTorch, kept so the code reads like the seed's formulas.

    `init` names the weight initializer ('he_normal' for ReLU layers, 'xavier_normal' for
    sigmoid/softmax layers) or is a function (shape, rng) -> array; biases start at zero.
    """

    def __init__(self, in_features: int, out_features: int, init="he_normal", rng=None,
                 dtype=np.float32, bias: bool = True):
        if in_features < 1 or out_features < 1:
            raise ValueError(f"Linear needs positive sizes, got in={in_features}, out={out_features}")
        rng = rng if rng is not None else np.random.default_rng()
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
    """Inverted dropout: in training, zero each entry with probability p and scale the rest by
    1/(1-p), so eval() needs no rescaling. The mask comes from a seeded Generator."""

    def __init__(self, p: float = 0.5, rng=None):
        if not 0 <= p < 1:
            raise ValueError(f"Dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.rng = rng if rng is not None else np.random.default_rng()

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = self.rng.random(x.shape) >= self.p
        return x * (keep / (1 - self.p)).astype(x.dtype)

    def extra_repr(self):
        return f"p={self.p}"
