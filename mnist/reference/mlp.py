"""The seed's MLP by hand: plain NumPy, one function per closed-form formula, no autograd.

It exists to check tinygrad_np against gradients derived on paper. Layer l (1-based, as in the
seed) maps A^[l-1] to Z^[l] = A^[l-1] . W^[l] + b^[l] and A^[l] = g(Z^[l]); the output layer
uses softmax. Shapes are (batch, features), so W^[l] is (n_{l-1}, n_l), as in mnist.models.mlp.MLP.

    params = init_params([784, 128, 10], ["relu"], seed=0)
    loss = train_step(params, X, Y, ["relu"], lr=0.1)    # forward, backward, W -= lr dW

`params` is a list of (W, b) pairs, params[l - 1] = (W^[l], b^[l]); every array keeps the
parameters' dtype (float32 stays float32).
"""
from typing import NamedTuple

import numpy as np

# ---- forward -----------------------------------------------------------------------------


def linear(A_prev, W, b):
    """Z^[l] = A^[l-1] . W^[l] + b^[l]"""
    return A_prev @ W + b


def relu(Z):
    """ReLU(z) = max(z, 0)"""
    return np.maximum(Z, 0)


def sigmoid(Z):
    """s(z) = 1 / (1 + e^-z)"""
    with np.errstate(over="ignore"):  # e^-z = inf for very negative z gives 1 / inf = 0, the limit
        return 1 / (1 + np.exp(-Z))


def softmax(Z):
    """a_ij = e^z_ij / sum_k e^z_ik, shifted by the row's max so e^z cannot overflow."""
    exps = np.exp(Z - Z.max(axis=1, keepdims=True))
    return exps / exps.sum(axis=1, keepdims=True)


# ---- loss --------------------------------------------------------------------------------


def cross_entropy(A, Y):
    """J = -1/m sum_i sum_j y_ij log a_ij (with 0 log 0 = 0, for the classes a label rules out)."""
    m = A.shape[0]
    return -np.sum(Y * np.log(np.where(Y > 0, A, 1))) / m


# ---- backward ----------------------------------------------------------------------------


def relu_prime(Z):
    """ReLU'(z) = 1 if z > 0 else 0"""
    return (Z > 0).astype(Z.dtype)


def sigmoid_prime(Z):
    """sigmoid'(z) = s(z) (1 - s(z))"""
    s = sigmoid(Z)
    return s * (1 - s)


def output_delta(A, Y):
    """dZ^[L] = A^[L] - Y (softmax followed by cross-entropy, per example)"""
    return A - Y


def hidden_delta(dA, Z, activation: str):
    """dZ^[l] = dA^[l] * g'(Z^[l])"""
    return dA * ACTIVATIONS[activation][1](Z)


def weight_gradient(A_prev, dZ):
    """dW^[l] = 1/m A^[l-1]^T . dZ^[l]"""
    return A_prev.T @ dZ / dZ.shape[0]


def bias_gradient(dZ):
    """db^[l] = 1/m sum_i dZ^[l]_i"""
    return dZ.sum(axis=0) / dZ.shape[0]


def previous_activation_gradient(dZ, W):
    """dA^[l-1] = dZ^[l] . W^[l]^T"""
    return dZ @ W.T


# ---- update and init ---------------------------------------------------------------------


def sgd_update(params, gradients, lr: float) -> None:
    """W -= alpha dW, b -= alpha db, in place."""
    for (W, b), dW, db in zip(params, gradients.dW, gradients.db, strict=True):
        W -= lr * dW
        b -= lr * db


def he_normal(fan_in: int, fan_out: int, rng: np.random.Generator):
    """W ~ N(0, 2 / n_{l-1}): for ReLU layers."""
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)


def xavier_normal(fan_in: int, fan_out: int, rng: np.random.Generator):
    """W ~ N(0, 1 / n_{l-1}): for sigmoid layers and the softmax output."""
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(1 / fan_in)


ACTIVATIONS = {"relu": (relu, relu_prime), "sigmoid": (sigmoid, sigmoid_prime)}
INITIALIZERS = {"relu": he_normal, "sigmoid": xavier_normal, "softmax": xavier_normal}


def hidden_activations(activation, hidden: int) -> list:
    """One activation name per hidden layer: a single name is repeated, a list is checked."""
    names = [activation] * hidden if isinstance(activation, str) else list(activation)
    if len(names) != hidden:
        raise ValueError(f"{len(names)} activations for {hidden} hidden layers")
    unknown = [name for name in names if name not in ACTIVATIONS]
    if unknown:
        raise ValueError(f"unknown activation {unknown[0]!r}; choose from {sorted(ACTIVATIONS)}")
    return names


def init_params(layer_sizes, activations, seed: int = 0, dtype=np.float32) -> list:
    """He or Xavier weights by each layer's activation, zero biases; drawn in float64, then cast."""
    names = hidden_activations(activations, len(layer_sizes) - 2) + ["softmax"]
    rng = np.random.default_rng(seed)
    return [(INITIALIZERS[name](fan_in, fan_out, rng).astype(dtype), np.zeros(fan_out, dtype=dtype))
            for name, fan_in, fan_out in zip(names, layer_sizes[:-1], layer_sizes[1:], strict=True)]


# ---- the whole network -------------------------------------------------------------------


class Forward(NamedTuple):
    """Z[l - 1] = Z^[l] for l = 1..L; A[l] = A^[l] for l = 0..L (A[0] = X, A[L] the softmax)."""
    Z: list
    A: list


class Gradients(NamedTuple):
    """Per layer l = 1..L at index l - 1: dZ^[l], dW^[l], db^[l], dA^[l-1] (dA_prev[0] is None
    unless asked for: nothing needs the gradient of the input when training)."""
    dZ: list
    dW: list
    db: list
    dA_prev: list


def forward(params, X, activations) -> Forward:
    """All layers' Z and A; X is cast to the parameters' dtype."""
    names = hidden_activations(activations, len(params) - 1)
    A = [np.asarray(X, dtype=params[0][0].dtype)]
    Z = []
    for l, (W, b) in enumerate(params, start=1):
        Z.append(linear(A[-1], W, b))
        g = softmax if l == len(params) else ACTIVATIONS[names[l - 1]][0]
        A.append(g(Z[-1]))
    return Forward(Z, A)


def backward(params, cache: Forward, Y, activations, input_gradient: bool = False) -> Gradients:
    """dZ, dW, db and dA_prev of every layer, from the output layer down."""
    names = hidden_activations(activations, len(params) - 1)
    L = len(params)
    dZ, dW, db, dA_prev = [None] * L, [None] * L, [None] * L, [None] * L
    delta = output_delta(cache.A[L], np.asarray(Y, dtype=cache.A[L].dtype))
    for l in range(L, 0, -1):
        if l < L:
            delta = hidden_delta(dA_prev[l], cache.Z[l - 1], names[l - 1])
        W = params[l - 1][0]
        dZ[l - 1] = delta
        dW[l - 1] = weight_gradient(cache.A[l - 1], delta)
        db[l - 1] = bias_gradient(delta)
        if l > 1 or input_gradient:
            dA_prev[l - 1] = previous_activation_gradient(delta, W)
    return Gradients(dZ, dW, db, dA_prev)


def train_step(params, X, Y, activations, lr: float) -> float:
    """One step of gradient descent on the batch (X, one-hot Y); returns the loss before it."""
    cache = forward(params, X, activations)
    Y = np.asarray(Y, dtype=cache.A[-1].dtype)
    loss = cross_entropy(cache.A[-1], Y)
    sgd_update(params, backward(params, cache, Y, activations), lr)
    return float(loss)


# ---- exchange with the autograd MLP ------------------------------------------------------


def params_from_state_dict(state) -> list:
    """Copies of (W, b) per layer from mnist.models.mlp.MLP's state_dict() (keys `*.weight`, `*.bias`)."""
    weights = [value for name, value in state.items() if name.endswith(".weight")]
    biases = [value for name, value in state.items() if name.endswith(".bias")]
    return [(np.array(W), np.array(b)) for W, b in zip(weights, biases, strict=True)]


def state_dict_from_params(params, names) -> dict:
    """The inverse: `names` are the model's state_dict keys (weight, bias of each layer in order)."""
    values = [array for pair in params for array in pair]
    return dict(zip(names, values, strict=True))


def params_from_model(model) -> list:
    """The autograd MLP's parameters as reference params (copies)."""
    return params_from_state_dict(model.state_dict())


def load_into_model(params, model) -> None:
    """Copy reference params into the autograd MLP, so both hold identical weights."""
    model.load_state_dict(state_dict_from_params(params, model.state_dict().keys()))
