"""tinygrad_np: a NumPy-only reverse-mode autograd library with PyTorch's names and NumPy's axes."""
import importlib.metadata

# Tensor first: the modules below and tensor.py import each other, and only this order resolves.
from tinygrad_np.tensor import Tensor  # isort: skip

# The subpackages are imported so that they are reachable as attributes (tinygrad_np.nn, ...).
from tinygrad_np import autograd, data, nn, optim, random
from tinygrad_np.creation import arange, eye, full, full_like, ones, ones_like, rand, randn, zeros, zeros_like
from tinygrad_np.errors import ArgumentError, ShapeError
from tinygrad_np.functional import cat, concatenate, einsum, maximum, minimum, stack, where
from tinygrad_np.grad_mode import enable_grad, is_grad_enabled, no_grad
from tinygrad_np.gradcheck import GradcheckError, gradcheck
from tinygrad_np.random import manual_seed

__all__ = ["Tensor", "ShapeError", "ArgumentError", "no_grad", "enable_grad", "is_grad_enabled",
           "maximum", "minimum", "where", "concatenate", "stack", "gradcheck", "GradcheckError",
           "zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "arange", "eye", "randn", "rand",
           "manual_seed", "cat", "einsum", "autograd", "data", "nn", "optim", "random", "viz"]

try:
    __version__ = importlib.metadata.version("tinygrad-np")
except importlib.metadata.PackageNotFoundError:  # a checkout that was never installed
    __version__ = "0+unknown"


def __getattr__(name: str):
    """`tinygrad_np.viz` on first use: it imports graphviz, a tenth of a second not every script needs."""
    if name == "viz":
        import importlib
        return importlib.import_module("tinygrad_np.viz")
    raise AttributeError(f"module 'tinygrad_np' has no attribute {name!r}")
