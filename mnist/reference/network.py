"""Whole networks by hand, any stack of the closed-form layers: the CNN's (mnist.reference.cnn) and
the MLP's (mnist.reference.mlp). Each layer spec carries its formulas; forward and backward chain them.

A network is a list of layer specs; spec i stands for the autograd model's `layers.<i>`:

    params = init_params(DEFAULT_CNN, seed=0)            # {"layers.0.weight": ..., "layers.12.bias": ...}
    loss, cache = forward(params, DEFAULT_CNN, X, Y)     # X (N, 1, 28, 28), Y one-hot (N, 10)
    grads = backward(params, DEFAULT_CNN, cache, Y)      # grads["layers.0.weight"] is dJ/dW of layer 0
    sgd_update(params, grads, lr=0.1)

Names. `cache` holds "X" (the input), the output of every layer i as "layers.<i>.Z" for a layer
with parameters and "layers.<i>.A" for any other layer, and "probabilities" (the softmax of the last
output). A Conv2d's or Linear's Z is a pre-activation; so is a BatchNorm2d's, gamma x_hat + beta, the
normalized pre-activation the activation after it reads (Ng's z tilde): the one rule "a layer with
parameters outputs a Z" is also how `compare` names autograd's outputs. `backward` names the gradient
of a cache entry by putting a d before its last part ("layers.4.dZ", "layers.6.dA", and "dX" with
input_gradient=True), and keys the parameters' gradients by the parameters' own names (a
BatchNorm2d's dgamma and dbeta are "layers.<i>.weight" and ".bias", as in PyTorch).

Scales. As in mnist.reference.mlp, the parameters' gradients (dW, db, dgamma, dbeta) are gradients
of the batch mean J, while dZ and dA are the seed's scaled quantities (dZ of the last layer = A - Y),
m dJ/dZ: autograd's gradients of intermediates times the batch size m. Without batch norm, row n of
dZ is example n's own dL_n/dZ_n. Batch norm couples the examples (each one's output depends on the
whole batch's mean and variance), so below it that reading no longer holds; the definition m dJ/dZ
does, and batch norm's input gradient, linear in dZ, has the same formula in either scale.
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from mnist.reference import cnn, mlp
from mnist.reference.cnn import Pair, pair

# ---- layer specs ---------------------------------------------------------------------------


class Layer:
    """One entry of a network description: the formulas of one layer, on arrays.

    `forward(A_prev, params)` gives the layer's output; `input_gradient(d_out, A_prev, out, params)`
    the gradient of its input from that of its output; `parameter_gradients(d_out, A_prev)` the
    gradients of its parameters, keyed as `parameter_shapes()` keys them ("weight", "bias"). `params`
    maps those names to arrays."""
    output_name: ClassVar[str] = "A"

    def output_shape(self, input_shape: tuple) -> tuple:
        raise NotImplementedError

    def parameter_shapes(self) -> dict:
        return {}

    def forward(self, A_prev, params: dict):
        raise NotImplementedError

    def input_gradient(self, d_out, A_prev, out, params: dict):
        raise NotImplementedError

    def parameter_gradients(self, d_out, A_prev) -> dict:
        return {}


def _expect_images(layer: Layer, input_shape: tuple) -> None:
    if len(input_shape) != 4:
        raise ValueError(f"{layer} expects images (N, C, H, W), got shape {input_shape}")


@dataclass(frozen=True)
class Conv2d(Layer):
    """PyTorch's Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation, bias), groups=1.
    bias=False: no "bias" parameter (a batch norm's shift after it does that job)."""
    in_channels: int
    out_channels: int
    kernel_size: int | Pair
    stride: int | Pair = 1
    padding: int | Pair = 0
    dilation: int | Pair = 1
    bias: bool = True
    output_name: ClassVar[str] = "Z"

    def __post_init__(self):
        for name in ("kernel_size", "stride", "padding", "dilation"):
            value = pair(getattr(self, name))
            if min(value) < (0 if name == "padding" else 1):
                raise ValueError(f"Conv2d {name} must be {'>= 0' if name == 'padding' else '>= 1'}, got {value}")
            object.__setattr__(self, name, value)

    def output_shape(self, input_shape):
        _expect_images(self, input_shape)
        if input_shape[1] != self.in_channels:
            raise ValueError(f"{self} expects {self.in_channels} input channels, got shape {input_shape}")
        sides = zip(input_shape[2:], self.kernel_size, self.stride, self.padding, self.dilation, strict=True)
        out_hw = tuple(cnn.output_size(*side) for side in sides)
        if min(out_hw) < 1:
            raise ValueError(f"{self}: the dilated kernel is larger than the padded input {input_shape[2:]}")
        return (input_shape[0], self.out_channels, *out_hw)

    def parameter_shapes(self):
        weight = {"weight": (self.out_channels, self.in_channels, *self.kernel_size)}
        return {**weight, "bias": (self.out_channels,)} if self.bias else weight

    def forward(self, A_prev, params):
        return cnn.conv2d(A_prev, params["weight"], params.get("bias"), self.stride, self.padding, self.dilation)

    def input_gradient(self, d_out, A_prev, out, params):
        return cnn.conv2d_input_gradient(d_out, params["weight"], A_prev.shape[2:], self.stride, self.padding,
                                     self.dilation)

    def parameter_gradients(self, d_out, A_prev):
        dW = cnn.conv2d_weight_gradient(A_prev, d_out, self.kernel_size, self.stride, self.padding, self.dilation)
        return {"weight": dW, "bias": cnn.conv2d_bias_gradient(d_out)} if self.bias else {"weight": dW}


@dataclass(frozen=True)
class BatchNorm2d(Layer):
    """PyTorch's BatchNorm2d(num_features, eps) in training mode: each channel normalized by the
    batch's mean and biased variance, then scaled by "weight" (gamma, ones at first) and shifted by
    "bias" (beta, zeros). No running statistics: training mode does not read them."""
    num_features: int
    eps: float = 1e-5
    output_name: ClassVar[str] = "Z"

    def output_shape(self, input_shape):
        _expect_images(self, input_shape)
        if input_shape[1] != self.num_features:
            raise ValueError(f"{self} expects {self.num_features} channels, got shape {input_shape}")
        if input_shape[0] * input_shape[2] * input_shape[3] < 2:
            raise ValueError(f"{self} needs more than one value per channel for the batch's variance, "
                             f"got shape {input_shape}")
        return input_shape

    def parameter_shapes(self):
        return {"weight": (self.num_features,), "bias": (self.num_features,)}

    def forward(self, A_prev, params):
        return cnn.batch_norm(A_prev, params["weight"], params["bias"], self.eps)

    def input_gradient(self, d_out, A_prev, out, params):
        return cnn.batch_norm_input_gradient(d_out, A_prev, params["weight"], self.eps)

    def parameter_gradients(self, d_out, A_prev):
        X_hat, _ = cnn.normalize(A_prev, self.eps)
        return {"weight": cnn.batch_norm_weight_gradient(d_out, X_hat), "bias": cnn.conv2d_bias_gradient(d_out)}


@dataclass(frozen=True)
class _Pool(Layer):
    """A pooling window of kernel_size, moved by stride (default: kernel_size), no padding."""
    kernel_size: int | Pair
    stride: int | Pair | None = None

    def __post_init__(self):
        kernel = pair(self.kernel_size)
        stride = kernel if self.stride is None else pair(self.stride)
        if min(kernel + stride) < 1:
            raise ValueError(f"{type(self).__name__} kernel_size and stride must be >= 1, got {kernel}, {stride}")
        object.__setattr__(self, "kernel_size", kernel)
        object.__setattr__(self, "stride", stride)

    def output_shape(self, input_shape):
        _expect_images(self, input_shape)
        out_hw = tuple(cnn.output_size(size, k, s)
                       for size, k, s in zip(input_shape[2:], self.kernel_size, self.stride, strict=True))
        if min(out_hw) < 1:
            raise ValueError(f"{self}: the window is larger than the input {input_shape[2:]}")
        return (*input_shape[:2], *out_hw)


class MaxPool2d(_Pool):
    def forward(self, A_prev, params):
        return cnn.max_pool2d(A_prev, self.kernel_size, self.stride)

    def input_gradient(self, d_out, A_prev, out, params):
        return cnn.max_pool2d_backward(d_out, A_prev, out, self.kernel_size, self.stride)


class AvgPool2d(_Pool):
    def forward(self, A_prev, params):
        return cnn.avg_pool2d(A_prev, self.kernel_size, self.stride)

    def input_gradient(self, d_out, A_prev, out, params):
        return cnn.avg_pool2d_backward(d_out, A_prev.shape, self.kernel_size, self.stride)


@dataclass(frozen=True)
class _Activation(Layer):
    """A = g(A_prev) elementwise; dA_prev = dA * g'(A_prev), mnist.reference.mlp's hidden_delta."""
    activation: ClassVar[str]

    def output_shape(self, input_shape):
        return input_shape

    def forward(self, A_prev, params):
        return mlp.ACTIVATIONS[self.activation][0](A_prev)

    def input_gradient(self, d_out, A_prev, out, params):
        return mlp.hidden_delta(d_out, A_prev, self.activation)


class ReLU(_Activation):
    activation: ClassVar[str] = "relu"


class Sigmoid(_Activation):
    activation: ClassVar[str] = "sigmoid"


ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid}


@dataclass(frozen=True)
class Identity(Layer):
    """Dropout in eval mode, where `compare` runs it: A = A_prev, dA_prev = dA. (In training mode it
    is A = A_prev ⊙ mask / (1 - p), dA_prev = dA ⊙ mask / (1 - p): elementwise, with a random mask.)"""

    def output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, A_prev, params):
        return A_prev

    def input_gradient(self, d_out, A_prev, out, params):
        return d_out


@dataclass(frozen=True)
class Flatten(Layer):
    """torch.nn.Flatten(): (N, C, H, W) to (N, C H W)."""

    def output_shape(self, input_shape):
        return (input_shape[0], int(np.prod(input_shape[1:])))

    def forward(self, A_prev, params):
        return cnn.flatten(A_prev)

    def input_gradient(self, d_out, A_prev, out, params):
        return cnn.unflatten(d_out, A_prev.shape)


@dataclass(frozen=True)
class Linear(Layer):
    """Z = A_prev W + b with W (in_features, out_features): the MLP's formulas from mnist.reference.mlp."""
    in_features: int
    out_features: int
    output_name: ClassVar[str] = "Z"

    def output_shape(self, input_shape):
        if len(input_shape) != 2 or input_shape[1] != self.in_features:
            raise ValueError(f"{self} expects (N, {self.in_features}), got shape {input_shape}")
        return (input_shape[0], self.out_features)

    def parameter_shapes(self):
        return {"weight": (self.in_features, self.out_features), "bias": (self.out_features,)}

    def forward(self, A_prev, params):
        return mlp.linear(A_prev, params["weight"], params["bias"])

    def input_gradient(self, d_out, A_prev, out, params):
        return mlp.previous_activation_gradient(d_out, params["weight"])

    def parameter_gradients(self, d_out, A_prev):
        return {"weight": mlp.weight_gradient(A_prev, d_out), "bias": mlp.bias_gradient(d_out)}


# The app's default CNN (mnist.models.cnn): each convolution's bias is left to the batch norm's shift
# after it; its dropout is the identity here, as in eval mode, where `compare` runs it.
DEFAULT_CNN = (Conv2d(1, 32, 5, bias=False), BatchNorm2d(32), ReLU(), MaxPool2d(2),
               Conv2d(32, 64, 5, bias=False), BatchNorm2d(64), ReLU(), MaxPool2d(2), Flatten(),
               Linear(1024, 256), ReLU(), Identity(), Linear(256, 10))


def dense_layers(layer_sizes, activations) -> list:
    """The specs of mnist.models.mlp.MLP without dropout: Linear, activation, ..., Linear."""
    names = mlp.hidden_activations(activations, len(layer_sizes) - 2)
    specs: list[Layer] = []
    for index, (fan_in, fan_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:], strict=True)):
        specs.append(Linear(fan_in, fan_out))
        if index < len(names):
            specs.append(ACTIVATIONS[names[index]]())
    return specs


# ---- names -------------------------------------------------------------------------------


def output_key(index: int, specs) -> str:
    """The cache name of layer `index`'s output ("X" for index -1, the input)."""
    return "X" if index < 0 else f"layers.{index}.{specs[index].output_name}"


def gradient_key(key: str) -> str:
    """The gradient's name of a cache entry: a d before the last part ("layers.3.Z" -> "layers.3.dZ")."""
    head, dot, last = key.rpartition(".")
    return f"{head}{dot}d{last}"


def layer_params(params: dict, index: int, spec: Layer) -> dict:
    """Layer `index`'s entries of the network's params, keyed "weight"/"bias"."""
    return {name: params[f"layers.{index}.{name}"] for name in spec.parameter_shapes()}


def check_network(params: dict, specs, input_shape: tuple, start: int = 0) -> tuple:
    """The output shape of layers start.. on `input_shape`; a ValueError names the first layer whose
    input or parameters do not fit, and any parameter no layer has."""
    expected = {}
    shape = tuple(input_shape)
    for index, spec in enumerate(specs):
        if index >= start:
            try:
                shape = spec.output_shape(shape)
            except ValueError as error:
                raise ValueError(f"layers.{index}: {error}") from None
        expected.update({f"layers.{index}.{name}": value for name, value in spec.parameter_shapes().items()})
    for name, value in expected.items():
        if name not in params:
            raise ValueError(f"parameter {name} of shape {value} is missing")
        if params[name].shape != value:
            raise ValueError(f"parameter {name} has shape {params[name].shape}, expected {value}")
    unknown = sorted(set(params) - set(expected))
    if unknown:
        raise ValueError(f"parameters {unknown} belong to no layer")
    if len(shape) != 2:
        raise ValueError(f"the last layer gives shape {shape}; the softmax needs (N, classes)")
    return shape


# ---- the whole network -------------------------------------------------------------------


def forward(params: dict, specs, X, Y, start: int = 0) -> tuple[float, dict]:
    """(J, cache): the loss and every layer's output (names in the module docstring).

    X is cast to the parameters' dtype. With `start` > 0, X is the output of layer start - 1 and
    only layers start.. run: the loss as a function of an intermediate."""
    dtype = next(iter(params.values())).dtype if params else np.result_type(X, np.float32)
    A = np.asarray(X, dtype=dtype)
    check_network(params, specs, A.shape, start)
    cache = {output_key(start - 1, specs): A}
    for index in range(start, len(specs)):
        A = specs[index].forward(A, layer_params(params, index, specs[index]))
        cache[output_key(index, specs)] = A
    Y = np.asarray(Y, dtype=dtype)
    if Y.shape != A.shape:
        raise ValueError(f"one-hot labels of shape {Y.shape} for outputs of shape {A.shape}")
    cache["probabilities"] = mlp.softmax(A)
    return float(mlp.cross_entropy(cache["probabilities"], Y)), cache


def backward(params: dict, specs, cache: dict, Y, input_gradient: bool = False) -> dict:
    """dW and db of every layer (keyed by parameter name), and dZ or dA of every layer's output,
    from the last layer down; dX too when `input_gradient` (training does not need it)."""
    grads = {}
    delta = mlp.output_delta(cache["probabilities"], np.asarray(Y, dtype=cache["probabilities"].dtype))
    for index in range(len(specs) - 1, -1, -1):
        spec, weights = specs[index], layer_params(params, index, specs[index])
        grads[gradient_key(output_key(index, specs))] = delta
        A_prev = cache[output_key(index - 1, specs)]
        grads.update({f"layers.{index}.{name}": value
                      for name, value in spec.parameter_gradients(delta, A_prev).items()})
        if index > 0 or input_gradient:
            delta = spec.input_gradient(delta, A_prev, cache[output_key(index, specs)], weights)
    if input_gradient:
        grads[gradient_key("X")] = delta
    return grads


def sgd_update(params: dict, grads: dict, lr: float) -> None:
    """W -= alpha dW, b -= alpha db for every parameter, in place."""
    for name, value in params.items():
        value -= lr * grads[name]


def train_step(params: dict, specs, X, Y, lr: float) -> float:
    """One step of gradient descent on the batch (X, one-hot Y); returns the loss before it."""
    loss, cache = forward(params, specs, X, Y)
    sgd_update(params, backward(params, specs, cache, Y), lr)
    return loss


def _relu_follows(specs, index: int) -> bool:
    """Whether a ReLU reads layer `index`'s output, directly or through batch norms."""
    after = [spec for spec in specs[index + 1:] if not isinstance(spec, BatchNorm2d)]
    return bool(after) and isinstance(after[0], ReLU)


def init_params(specs, seed: int = 0, dtype=np.float32) -> dict:
    """He weights where a ReLU follows (through a batch norm too), Xavier elsewhere (the MLP's rule),
    zero biases; a batch norm's gamma ones and beta zeros; drawn in float64, then cast. Keys are the
    autograd model's parameter names (its state_dict has batch norm's running statistics too)."""
    rng = np.random.default_rng(seed)
    params = {}
    for index, spec in enumerate(specs):
        shapes = spec.parameter_shapes()
        if isinstance(spec, BatchNorm2d):
            initial = {"weight": np.ones(shapes["weight"]), "bias": np.zeros(shapes["bias"])}
        elif shapes:
            initializer = mlp.he_normal if _relu_follows(specs, index) else mlp.xavier_normal
            if isinstance(spec, Linear):
                W = initializer(spec.in_features, spec.out_features, rng)
            else:  # a Conv2d: (fan_in, out) columns, one per output channel, reshaped into kernels
                fan_in = int(np.prod(shapes["weight"][1:]))
                W = initializer(fan_in, shapes["weight"][0], rng).T.reshape(shapes["weight"])
            initial = {"weight": W, **({"bias": np.zeros(shapes["bias"])} if "bias" in shapes else {})}
        else:
            continue
        params.update({f"layers.{index}.{name}": value.astype(dtype) for name, value in initial.items()})
    return params


def rounding_tolerance(dtype, specs, input_shape: tuple) -> float:
    """N eps, the CNN's counterpart of mnist.commands.compare.rounding_tolerance: the relative
    difference two evaluations of the same formulas may show from rounding alone.

    N counts the terms of the sums on the longest chain to any gradient: forward, C kH kW per
    convolution, kH kW per average pool, in_features per Linear, the classes in the softmax;
    backward, out_channels kH kW per convolution's dA_prev, kH kW per pool (overlapping windows
    add up), out_features per Linear's dA_prev; and the longest sum over the batch for a dW or
    db, m H_out W_out for a convolution, m for a Linear. A batch norm over M = m H W values per
    channel adds 2 M forward (the mean, then the variance around it), M backward (its two sums,
    side by side) and M over the batch (dgamma, dbeta)."""
    shape, forward_terms, backward_terms, reduction = tuple(input_shape), 0, 0, 0
    for spec in specs:
        out = spec.output_shape(shape)
        if isinstance(spec, Conv2d):
            forward_terms += spec.in_channels * int(np.prod(spec.kernel_size))
            backward_terms += spec.out_channels * int(np.prod(spec.kernel_size))
            reduction = max(reduction, out[0] * out[2] * out[3])
        elif isinstance(spec, _Pool):
            forward_terms += int(np.prod(spec.kernel_size))
            backward_terms += int(np.prod(spec.kernel_size))
        elif isinstance(spec, BatchNorm2d):
            values = out[0] * out[2] * out[3]
            forward_terms += 2 * values
            backward_terms += values
            reduction = max(reduction, values)
        elif isinstance(spec, Linear):
            forward_terms += spec.in_features
            backward_terms += spec.out_features
            reduction = max(reduction, out[0])
        shape = out
    return float(forward_terms + shape[1] + backward_terms + reduction) * float(np.finfo(dtype).eps)
