"""Stateless neural-network functions, as in torch.nn.functional: layers' maths, activations, losses."""
from typing import Optional

import numpy as np

from tinygrad_np import random
from tinygrad_np.activations import (  # noqa: F401  (re-exported as nn.functional's)
    elu,
    gelu,
    hardswish,
    hardtanh,
    leaky_relu,
    logsigmoid,
    mish,
    relu6,
    silu,
    softplus,
)
from tinygrad_np.errors import ArgumentError
from tinygrad_np.nn.convolution import avg_pool2d, conv2d, fold, max_pool2d, pad, unfold  # noqa: F401  (re-exported)

# Losses (nn/losses.py) and normalization (nn/normalization.py) live in files of their own, next to
# their modules (nn.CrossEntropyLoss, nn.BatchNorm2d, ...); re-exported here.
from tinygrad_np.nn.losses import (  # noqa: F401
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    one_hot,
    smooth_l1_loss,
)
from tinygrad_np.nn.normalization import batch_norm, layer_norm  # noqa: F401
from tinygrad_np.ops.matmul import Linear
from tinygrad_np.tensor import Tensor, lift


def linear(x, weight: Tensor, bias: Optional[Tensor] = None) -> Tensor:
    """x @ weight + bias as one graph node (see ops.matmul.Linear); x may be an array."""
    x = lift(x, weight)
    return Linear.apply(x, weight) if bias is None else Linear.apply(x, weight, bias)


def relu(x: Tensor) -> Tensor: return x.relu()
def sigmoid(x: Tensor) -> Tensor: return x.sigmoid()
def tanh(x: Tensor) -> Tensor: return x.tanh()
def softmax(x: Tensor, axis: int = -1) -> Tensor: return x.softmax(axis)
def log_softmax(x: Tensor, axis: int = -1) -> Tensor: return x.log_softmax(axis)


# ---- dropout and embedding (issue 15) ----------------------------------------------------------
def check_dropout_probability(p: float) -> float:
    if not 0 <= p < 1:
        raise ValueError(f"Dropout probability must be in [0, 1), got {p}")
    return p


def dropout(x, p: float = 0.5, training: bool = True, rng: Optional[np.random.Generator] = None) -> Tensor:
    """Inverted dropout: in training, zero each entry with probability p and scale the rest by
    1/(1-p), so evaluation needs no rescaling. The mask is drawn from `rng`, else from the
    default generator (`tinygrad_np.manual_seed`); it is a constant of the graph."""
    check_dropout_probability(p)
    x = lift(x)
    if not training or p == 0:
        return x
    keep = random.generator(rng).random(x.shape) >= p
    return x * (keep / (1 - p)).astype(x.dtype)


def embedding(input, weight: Tensor) -> Tensor:
    """The rows of `weight` (num_embeddings, embedding_dim) picked by the integer `input` (any
    shape): out[..., :] = weight[input[...], :]. Rows picked twice add up their gradients."""
    indices = np.asarray(input.data if isinstance(input, Tensor) else input)
    if indices.dtype.kind == "f" and np.all(np.mod(indices, 1) == 0):
        indices = indices.astype(np.intp)  # a Tensor holds floats: whole numbers are indices
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: input must hold integers, got dtype {indices.dtype}")
    if indices.size and (indices.min() < 0 or indices.max() >= weight.shape[0]):
        raise ArgumentError(f"embedding: indices {indices.min()}..{indices.max()} outside [0, {weight.shape[0]}) "
                            f"for a weight of shape {weight.shape}")
    return weight[indices]
