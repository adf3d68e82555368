"""Stateless neural-network functions, as in torch.nn.functional: layers' maths, activations, losses."""
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


def linear(x, weight: Tensor, bias: Tensor = None) -> Tensor:
    """x @ weight + bias as one graph node (see ops.matmul.Linear); x may be an array."""
    x = lift(x, weight)
    return Linear.apply(x, weight) if bias is None else Linear.apply(x, weight, bias)


def relu(x: Tensor) -> Tensor: return x.relu()
def sigmoid(x: Tensor) -> Tensor: return x.sigmoid()
def tanh(x: Tensor) -> Tensor: return x.tanh()
def softmax(x: Tensor, axis: int = -1) -> Tensor: return x.softmax(axis)
def log_softmax(x: Tensor, axis: int = -1) -> Tensor: return x.log_softmax(axis)
