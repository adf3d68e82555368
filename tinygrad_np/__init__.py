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
