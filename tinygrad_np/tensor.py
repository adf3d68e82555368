"""Tensor: an ndarray plus the node of the reverse-mode graph that produced it.

Conventions (tested in tests/test_conventions.py):
- dtype: float arrays keep their precision; Python lists and scalars, ints and bools become float32.
  A Python number in an op takes the tensor's dtype; NumPy promotion decides between two arrays
  (float32 with float64 gives float64). Non-real dtypes (strings, objects, complex) are refused.
- `Tensor(ndarray)` copies, so optimizers updating `.data` in place never touch the caller's array.
- Comparisons (`<`, `<=`, `>`, `>=`) return boolean ndarrays: masks carry no gradient.
  `==` stays identity, so tensors can be dictionary keys.
"""
from typing import Optional

import numpy as np

from tinygrad_np.dims import dim_alias

_INTEGER_KINDS = "iub"  # ints, unsigned ints and bools become float32


def _float_array(data, dtype) -> np.ndarray:
    array = np.asarray(data)
    if array.dtype.kind not in "f" + _INTEGER_KINDS:
        raise TypeError(f"Tensor needs real numbers, got data of dtype {array.dtype}")
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Tensor dtype must be a floating dtype, got {dtype}")
    elif array.dtype.kind == "f" and isinstance(data, (np.ndarray, np.generic)):
        dtype = array.dtype
    else:
        dtype = np.float32
    return np.array(array, dtype=dtype)  # always a copy, also of an ndarray


def _values(x):
    """The numbers of a Tensor, or x itself: comparisons give plain boolean masks."""
    return x.data if isinstance(x, Tensor) else x


def _plain_index(index):
    """An index with each Tensor inside it replaced by its integer values."""
    if isinstance(index, tuple):
        return tuple(_plain_index(part) for part in index)
    return index.data.astype(np.intp) if isinstance(index, Tensor) else index


def lift(value, like: Optional["Tensor"] = None) -> "Tensor":
    """An operand as a Tensor: Tensors as they are; a Python number in `like`'s dtype (float32
    without one), so `float32 * 0.1` stays float32; a float array as it is (NumPy promotion then
    decides); anything else (lists, int arrays) as `Tensor(value)` makes it. The one place where
    ops and free functions turn their operands into Tensors."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (int, float)):
        return _new_tensor(np.asarray(value, dtype=np.float32 if like is None else like.data.dtype), None)
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return _new_tensor(value, None)
    return _new_tensor(_float_array(value, None), None)


_object_new = object.__new__


def _new_tensor(data, ctx, cls=None) -> "Tensor":
    """The fast path for op outputs and constants: no checks, no copy. `ctx` is the Function
    that made it (None for a constant)."""
    tensor = _object_new(cls or Tensor)
    tensor.data = data if isinstance(data, np.ndarray) else np.asarray(data)
    tensor.grad = None
    tensor.requires_grad = ctx is not None
    tensor._ctx = ctx
    return tensor


class Tensor:
    __slots__ = ("data", "grad", "requires_grad", "_ctx", "__weakref__")
    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected operator
    data: np.ndarray
    grad: Optional["Tensor"]
    requires_grad: bool

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = _float_array(data.data if isinstance(data, Tensor) else data, dtype)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._ctx = None

    @classmethod
    def from_numpy(cls, array: np.ndarray) -> "Tensor":
        """Wrap a float ndarray without copying (like torch.from_numpy): for input batches."""
        if not (isinstance(array, np.ndarray) and array.dtype.kind == "f"):
            raise TypeError(f"from_numpy needs a float ndarray, got {type(array).__name__} "
                            f"of dtype {getattr(array, 'dtype', None)}")
        return _new_tensor(array, None, cls)

    # ---- attributes -------------------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    is_leaf = property(lambda self: self._ctx is None)
    grad_fn = property(lambda self: self._ctx)
    _parents = property(lambda self: self._ctx.inputs if self._ctx is not None else ())  # the op's inputs

    def __len__(self):
        return len(self.data)

    def numpy(self) -> np.ndarray:
        return self.data

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """The data itself for np.asarray(tensor) (no copy), or a copy when asked for one."""
        if copy is False and dtype is not None and np.dtype(dtype) != self.data.dtype:
            raise ValueError(f"cannot convert a {self.data.dtype} tensor to {np.dtype(dtype)} without a copy")
        array = self.data if dtype is None else self.data.astype(dtype, copy=False)
        return array.copy() if copy and array is self.data else array

    def item(self) -> float:
        return self._one_value("item")

    def __float__(self) -> float:
        return float(self._one_value("float"))

    def __int__(self) -> int:
        return int(self._one_value("int"))  # truncates toward zero, as int(3.7) and PyTorch do

    def __bool__(self) -> bool:
        return bool(self._one_value("bool"))

    def _one_value(self, asked: str) -> float:
        """The single value as a Python number; a tensor of more (or no) values is ambiguous."""
        if self.data.size != 1:
            raise ValueError(f"{asked}() needs a one-element tensor, this one has shape {self.shape}")
        return self.data.item()

    def tolist(self):
        """The values as nested Python lists (a Python number for a 0-d tensor)."""
        return self.data.tolist()

    def __iter__(self):
        """The entries along the first axis, each a Tensor in the graph (as torch.Tensor)."""
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    def detach(self) -> "Tensor":
        """The same values, cut from the graph (shares memory, like PyTorch)."""
        return _new_tensor(self.data, None)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if not self.is_leaf:
            raise RuntimeError("requires_grad can only be changed on leaf tensors")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> "Tensor":
        """Keep `.grad` of this non-leaf after backward (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        if self._ctx is not None:  # a leaf keeps its .grad anyway
            self._ctx.retains_grad = True
        return self

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = f", grad_fn=<{self._ctx.name}>" if self._ctx else (", requires_grad=True" if self.requires_grad else "")
        return f"Tensor({body}, dtype={self.data.dtype}{extra})"

    def backward(self, grad=None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad` that requires grad.

        The seed `grad` defaults to ones only for one-element tensors (a scalar loss).
        Gradients add up across calls until reset (`t.grad = None`, `optimizer.zero_grad()`).
        With `create_graph=True` the gradients are themselves graph nodes, for second derivatives.
        """
        autograd.backward([self], [grad], create_graph=create_graph)

    # ---- arithmetic -------------------------------------------------------------------------
    def __add__(self, other): return elementwise.Add.apply(self, lift(other, self))
    def __radd__(self, other): return elementwise.Add.apply(lift(other, self), self)
    def __sub__(self, other): return elementwise.Sub.apply(self, lift(other, self))
    def __rsub__(self, other): return elementwise.Sub.apply(lift(other, self), self)
    def __mul__(self, other): return elementwise.Mul.apply(self, lift(other, self))
    def __rmul__(self, other): return elementwise.Mul.apply(lift(other, self), self)
    def __truediv__(self, other): return elementwise.Div.apply(self, lift(other, self))
    def __rtruediv__(self, other): return elementwise.Div.apply(lift(other, self), self)
    def __pow__(self, other): return elementwise.Pow.apply(self, lift(other, self))
    def __rpow__(self, other): return elementwise.Pow.apply(lift(other, self), self)
    def __neg__(self): return elementwise.Neg.apply(self)
    def __matmul__(self, other): return matmul.MatMul.apply(self, lift(other, self))
    def __rmatmul__(self, other): return matmul.MatMul.apply(lift(other, self), self)

    def __lt__(self, other): return self.data < _values(other)
    def __le__(self, other): return self.data <= _values(other)
    def __gt__(self, other): return self.data > _values(other)
    def __ge__(self, other): return self.data >= _values(other)
    __hash__ = object.__hash__

    def matmul(self, other): return self @ other

    # ---- elementwise functions --------------------------------------------------------------
    def exp(self): return elementwise.Exp.apply(self)
    def log(self): return elementwise.Log.apply(self)
    def sqrt(self): return self ** 0.5
    def relu(self): return elementwise.ReLU.apply(self)
    def sigmoid(self): return elementwise.Sigmoid.apply(self)
    def tanh(self): return elementwise.Tanh.apply(self)
    def abs(self): return elementwise.Abs.apply(self)
    def clip(self, low=None, high=None): return elementwise.Clip.apply(self, low=low, high=high)
    def maximum(self, other): return elementwise.Maximum.apply(self, lift(other, self))
    def minimum(self, other): return functional.minimum(self, other)

    # ---- reductions -------------------------------------------------------------------------
    @dim_alias
    def sum(self, axis=None, keepdims=False): return reduce.Sum.apply(self, axis=axis, keepdims=keepdims)
    def max(self, axis=None, keepdims=False): return reduce.Max.apply(self, axis=axis, keepdims=keepdims)
    def min(self, axis=None, keepdims=False): return -((-self).max(axis=axis, keepdims=keepdims))

    @dim_alias
    def mean(self, axis=None, keepdims=False):
        """Sum divided by the number of elements reduced over (all of them for axis=None)."""
        total = self.sum(axis=axis, keepdims=keepdims)
        return total * (total.size / self.size if self.size else np.nan)

    # ---- movement ---------------------------------------------------------------------------
    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return movement.Reshape.apply(self, shape=tuple(shape))

    def permute(self, *dims):
        """The axes in the order `dims` (a full permutation, as torch.permute and np.transpose)."""
        dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        return movement.Permute.apply(self, dims=tuple(dims))

    def transpose(self, dim0, dim1):
        """Swap two axes, as torch.transpose (NumPy's transpose(axes) is `permute`)."""
        return movement.Transpose.apply(self, dim0=dim0, dim1=dim1)

    swapaxes = transpose  # PyTorch's and NumPy's alias
    T = property(lambda self: self.permute(tuple(reversed(range(self.ndim)))))  # every axis reversed
    mT = property(lambda self: self.transpose(-2, -1))  # the last two swapped: a batch of matrices

    def flatten(self, start_dim=0, end_dim=-1):
        shape = self.shape
        start, end = start_dim % max(self.ndim, 1), end_dim % max(self.ndim, 1)
        return self.reshape(shape[:start] + (-1,) + shape[end + 1:]) if self.ndim else self.reshape(1)

    def broadcast_to(self, shape): return movement.BroadcastTo.apply(self, shape=tuple(shape))
    def __getitem__(self, index): return movement.GetItem.apply(self, index=_plain_index(index))

    # ---- softmax family ---------------------------------------------------------------------
    @dim_alias
    def softmax(self, axis=-1): return softmax.Softmax.apply(self, axis=axis)
    @dim_alias
    def log_softmax(self, axis=-1): return softmax.LogSoftmax.apply(self, axis=axis)

    # ---- PyTorch's everyday methods (issue 15) ------------------------------------------------
    # Compositions live in shapes.py, statistics.py and activations.py; primitives in ops/.
    view = reshape  # a reshape: arrays here have no strides to share or refuse
    def unsqueeze(self, dim): return shapes.unsqueeze(self, dim)
    def squeeze(self, dim=None): return shapes.squeeze(self, dim)
    def expand(self, *sizes): return shapes.expand(self, *sizes)
    def split(self, split_size_or_sections, dim=0): return shapes.split(self, split_size_or_sections, dim)
    def chunk(self, chunks, dim=0): return shapes.chunk(self, chunks, dim)
    def repeat(self, *sizes): return shapes.repeat(self, *sizes)
    def flip(self, *dims): return shapes.flip(self, *dims)
    def gather(self, dim, index): return shapes.gather(self, dim, index)
    def masked_fill(self, mask, value): return shapes.masked_fill(self, mask, value)
    def tril(self, diagonal=0): return shapes.tril(self, diagonal)
    def triu(self, diagonal=0): return shapes.triu(self, diagonal)

    def sin(self): return special.Sin.apply(self)
    def cos(self): return special.Cos.apply(self)
    def log1p(self): return special.Log1p.apply(self)
    def expm1(self): return special.Expm1.apply(self)
    def erf(self): return special.Erf.apply(self)
    def sign(self): return special.Sign.apply(self)
    def rsqrt(self): return self ** -0.5
    def square(self): return self * self

    @dim_alias
    def prod(self, axis=None, keepdims=False): return reduce.Prod.apply(self, axis=axis, keepdims=keepdims)
    @dim_alias
    def cumsum(self, axis): return scan.Cumsum.apply(self, axis=axis)
    @dim_alias
    def var(self, axis=None, *, correction=1, keepdims=False): return statistics.var(self, axis, correction, keepdims)
    @dim_alias
    def std(self, axis=None, *, correction=1, keepdims=False): return statistics.std(self, axis, correction, keepdims)
    @dim_alias
    def logsumexp(self, axis=None, keepdims=False): return statistics.logsumexp(self, axis, keepdims)
    @dim_alias
    def norm(self, p=2, axis=None, keepdims=False): return statistics.norm(self, p, axis, keepdims)
    @dim_alias
    def argmax(self, axis=None, keepdims=False): return statistics.argmax(self, axis, keepdims)
    @dim_alias
    def argmin(self, axis=None, keepdims=False): return statistics.argmin(self, axis, keepdims)
    @dim_alias
    def topk(self, k, axis=-1, largest=True, sorted=True): return statistics.topk(self, k, axis, largest, sorted)

    def leaky_relu(self, negative_slope=0.01): return activations.leaky_relu(self, negative_slope)
    def elu(self, alpha=1.0): return activations.elu(self, alpha)
    def gelu(self, approximate="none"): return activations.gelu(self, approximate)
    def silu(self): return activations.silu(self)
    def softplus(self, beta=1.0, threshold=20.0): return activations.softplus(self, beta, threshold)
    def relu6(self): return activations.relu6(self)
    def hardtanh(self, min_val=-1.0, max_val=1.0): return activations.hardtanh(self, min_val, max_val)
    def hardswish(self): return activations.hardswish(self)
    def mish(self): return activations.mish(self)
    def logsigmoid(self): return activations.logsigmoid(self)


from tinygrad_np import activations, autograd, functional, shapes, statistics  # noqa: E402
from tinygrad_np.ops import elementwise, matmul, movement, reduce, scan, softmax, special  # noqa: E402
