"""tinygrad_np: a NumPy-only reverse-mode autograd library with PyTorch's names and NumPy's axes."""
import importlib.metadata

from tinygrad_np.tensor import Tensor
from tinygrad_np.errors import ArgumentError, ShapeError
from tinygrad_np.grad_mode import enable_grad, is_grad_enabled, no_grad
from tinygrad_np.functional import concatenate, maximum, minimum, stack, where
from tinygrad_np.gradcheck import GradcheckError, gradcheck

__all__ = ["Tensor", "ShapeError", "ArgumentError", "no_grad", "enable_grad", "is_grad_enabled",
           "maximum", "minimum", "where", "concatenate", "stack", "gradcheck", "GradcheckError"]

try:
    __version__ = importlib.metadata.version("tinygrad-np")
except importlib.metadata.PackageNotFoundError:  # a checkout that was never installed
    __version__ = "0+unknown"

# issue 15: tensors from scratch, one seed, PyTorch's names; the subpackages reachable as attributes
from tinygrad_np import autograd, data, nn, optim, random  # noqa: E402
from tinygrad_np.creation import arange, eye, full, full_like, ones, ones_like, rand, randn, zeros, zeros_like  # noqa: E402
from tinygrad_np.functional import cat, einsum  # noqa: E402
from tinygrad_np.random import manual_seed  # noqa: E402

__all__ += ["zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "arange", "eye", "randn", "rand",
            "manual_seed", "cat", "einsum", "autograd", "data", "nn", "optim", "random", "viz"]


def __getattr__(name: str):
    """`tinygrad_np.viz` on first use: it imports graphviz, a tenth of a second not every script needs."""
    if name == "viz":
        import importlib
        return importlib.import_module("tinygrad_np.viz")
    raise AttributeError(f"module 'tinygrad_np' has no attribute {name!r}")
