"""The MLP of the seed, built only from tinygrad_np: Z = A_prev . W + b, hidden g, softmax output."""
import numpy as np

from tinygrad_np import nn

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
DEFAULT_LAYER_SIZES = (784, 256, 128, 10)


def initializer_for(activation: str) -> str:
    """The seed's rule: He for ReLU layers, Xavier for sigmoid (and tanh) layers."""
    return "he_normal" if activation == "relu" else "xavier_normal"


class MLP(nn.Module):
    """Linear layers with `activation` between them; returns logits (the softmax is fused into
    the cross-entropy loss). `layers` holds Linear, activation (and Dropout when dropout > 0) in
    order, so parameters are named `layers.0.weight`, `layers.2.weight`, ... without dropout and
    `layers.0.weight`, `layers.3.weight`, ... with it.
    `activation` is one name for every hidden layer or a list with one name per hidden layer."""

    def __init__(self, layer_sizes=DEFAULT_LAYER_SIZES, activation="relu", dropout: float = 0.0,
                 seed: int = 0, dtype=np.float32):
        if len(layer_sizes) < 2 or any(size < 1 for size in layer_sizes):
            raise ValueError(f"layer sizes must be at least two positive numbers, got {list(layer_sizes)}")
        hidden = len(layer_sizes) - 2
        activations = [activation] * hidden if isinstance(activation, str) else list(activation)
        if len(activations) != hidden:
            raise ValueError(f"{len(activations)} activations for {hidden} hidden layers")
        for name in activations:
            if name not in ACTIVATIONS:
                raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
        self.layer_sizes, self.dropout = tuple(layer_sizes), dropout
        self.activation = activation if isinstance(activation, str) else activations
        rng = np.random.default_rng(seed)
        modules = []
        last = len(layer_sizes) - 2
        for index, (fan_in, fan_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:])):
            init = "xavier_normal" if index == last else initializer_for(activations[index])
            modules.append(nn.Linear(fan_in, fan_out, init=init, rng=rng, dtype=dtype))
            if index < last:
                modules.append(ACTIVATIONS[activations[index]]())
                if dropout > 0:
                    modules.append(nn.Dropout(dropout, rng=rng))
        self.layers = nn.Sequential(*modules)

    def forward(self, x):
        return self.layers(x)

    def linear_layers(self) -> list:
        return [module for module in self.layers if isinstance(module, nn.Linear)]

    def config(self) -> dict:
        """What a checkpoint stores to rebuild this model."""
        return {"layer_sizes": list(self.layer_sizes), "activation": self.activation, "dropout": self.dropout}
