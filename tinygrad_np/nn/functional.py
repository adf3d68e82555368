"""Stateless neural-network functions, as in torch.nn.functional: layers' maths, activations, losses."""
from tinygrad_np.ops.matmul import Linear
from tinygrad_np.ops.softmax import CrossEntropy
from tinygrad_np.nn.convolution import avg_pool2d, conv2d, fold, max_pool2d, pad, unfold  # noqa: F401  (re-exported)
from tinygrad_np.tensor import Tensor, lift


def linear(x, weight: Tensor, bias: Tensor = None) -> Tensor:
    """x @ weight + bias as one graph node (see ops.matmul.Linear); x may be an array."""
    x = lift(x, weight)
    return Linear.apply(x, weight) if bias is None else Linear.apply(x, weight, bias)


def cross_entropy(logits: Tensor, targets) -> Tensor:
    """Fused, stable softmax cross-entropy averaged over the batch (see ops.softmax.CrossEntropy).
    `targets`: integer labels (batch,) or probability rows (batch, classes); no gradient."""
    return CrossEntropy.apply(logits, targets=targets.data if isinstance(targets, Tensor) else targets)


def relu(x: Tensor) -> Tensor: return x.relu()
def sigmoid(x: Tensor) -> Tensor: return x.sigmoid()
def tanh(x: Tensor) -> Tensor: return x.tanh()
def softmax(x: Tensor, axis: int = -1) -> Tensor: return x.softmax(axis)
def log_softmax(x: Tensor, axis: int = -1) -> Tensor: return x.log_softmax(axis)
