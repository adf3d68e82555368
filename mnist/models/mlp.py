"""The MLP of the seed, built only from tinygrad_np: Z = A_prev . W + b, hidden g, softmax output."""
import numpy as np

from tinygrad_np import nn

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
DEFAULT_LAYER_SIZES = (784, 256, 128, 10)
# Bounds on what settings or a checkpoint may ask for: 2**25 parameters are 128 MiB in float32,
# so no command line and no record of a few bytes can make the program allocate gigabytes.
MAX_PARAMETERS = 2**25
MAX_LAYER_SIZES = 64


def parameter_count(layer_sizes) -> int:
    """Weights and biases of the MLP with these layer sizes: sum of fan_in * fan_out + fan_out."""
    return sum(fan_in * fan_out + fan_out for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:], strict=False))


def check_layer_sizes(layer_sizes) -> None:
    """ValueError unless these are 2 to MAX_LAYER_SIZES whole numbers >= 1 whose MLP has at most
    MAX_PARAMETERS parameters; checked before anything is allocated."""
    sizes = list(layer_sizes)
    if not 2 <= len(sizes) <= MAX_LAYER_SIZES:
        raise ValueError(f"an MLP needs at least two sizes (input, classes) and at most {MAX_LAYER_SIZES}, "
                         f"got {len(sizes)}")
    if any(isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1 for size in sizes):
        raise ValueError(f"layer sizes must be whole numbers >= 1, got {sizes}")
    count = parameter_count(sizes)
    if count > MAX_PARAMETERS:
        raise ValueError(f"layer sizes {' '.join(map(str, sizes))} make {count:,} parameters, "
                         f"more than the {MAX_PARAMETERS:,} allowed")


def parameter_shapes(layer_sizes, dropout: float = 0.0) -> dict:
    """{name: shape} of the parameters `MLP(layer_sizes, dropout=dropout)` has, in its order,
    without building it: Linear j sits at index j * 2 of `layers`, or j * 3 with Dropout."""
    stride = 3 if dropout > 0 else 2  # Linear, activation and, with dropout, Dropout
    shapes: dict = {}
    for index, (fan_in, fan_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:], strict=False)):
        shapes[f"layers.{index * stride}.weight"] = (fan_in, fan_out)
        shapes[f"layers.{index * stride}.bias"] = (fan_out,)
    return shapes


def initializer_for(activation: str) -> str:
    """The seed's rule: He for ReLU layers, Xavier for sigmoid (and tanh) layers."""
    return "he_normal" if activation == "relu" else "xavier_normal"


class MLP(nn.Module):
    """Linear layers with `activation` between them; returns logits (the softmax is fused into
    the cross-entropy loss). `layers` holds Linear, activation (and Dropout when dropout > 0) in
    order, so parameters are named `layers.0.weight`, `layers.2.weight`, ... without dropout and
    `layers.0.weight`, `layers.3.weight`, ... with it.
    `activation` is one name for every hidden layer or a list with one name per hidden layer.
    Takes images (N, 1, 28, 28), flattened to rows of pixels first, or rows (N, layer_sizes[0])."""

    def __init__(self, layer_sizes=DEFAULT_LAYER_SIZES, activation="relu", dropout: float = 0.0,
                 seed: int = 0, dtype=np.float32):
        check_layer_sizes(layer_sizes)
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
        # Before `layers`, so the parameters keep their names (layers.0.weight, ...) and the
        # modules are registered in the order they run.
        self.flatten = nn.Flatten()
        modules: list[nn.Module] = []
        last = len(layer_sizes) - 2
        for index, (fan_in, fan_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:], strict=True)):
            init = "xavier_normal" if index == last else initializer_for(activations[index])
            modules.append(nn.Linear(fan_in, fan_out, init=init, rng=rng, dtype=dtype))
            if index < last:
                modules.append(ACTIVATIONS[activations[index]]())
                if dropout > 0:
                    modules.append(nn.Dropout(dropout, rng=rng))
        self.layers = nn.Sequential(*modules)

    def forward(self, x):
        return self.layers(self.flatten(x) if x.ndim > 2 else x)  # rows stay as they are: no reshape node

    @property
    def num_classes(self) -> int:
        return self.layer_sizes[-1]

    def linear_layers(self) -> list:
        return [module for module in self.layers if isinstance(module, nn.Linear)]
