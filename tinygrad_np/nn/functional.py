"""Stateless neural-network functions, as in torch.nn.functional."""
from tinygrad_np.nn.convolution import avg_pool2d, conv2d, fold, max_pool2d, pad, unfold  # noqa: F401  (re-exported)
from tinygrad_np.ops.matmul import linear  # noqa: F401  (re-exported)
from tinygrad_np.ops.softmax import cross_entropy  # noqa: F401  (re-exported)


def relu(x): return x.relu()
def sigmoid(x): return x.sigmoid()
def tanh(x): return x.tanh()
def softmax(x, axis=-1): return x.softmax(axis)
def log_softmax(x, axis=-1): return x.log_softmax(axis)
