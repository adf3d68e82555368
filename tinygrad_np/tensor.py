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
    shape = property(lambda self: self.data.shape, doc="The size of each axis, a tuple.")
    dtype = property(lambda self: self.data.dtype, doc="The NumPy dtype of the values (float32 or float64).")
    ndim = property(lambda self: self.data.ndim, doc="The number of axes.")
    size = property(lambda self: self.data.size, doc="The number of elements.")
    is_leaf = property(lambda self: self._ctx is None,
                       doc="True for a tensor that no recorded op made: a parameter, an input or a constant.")
    grad_fn = property(lambda self: self._ctx,
                       doc="The op that made this tensor (None for a leaf); its inputs lead back through the graph.")
    _parents = property(lambda self: self._ctx.inputs if self._ctx is not None else ())  # the op's inputs

    def __len__(self):
        return len(self.data)

    def numpy(self) -> np.ndarray:
        """The values as an ndarray, sharing memory with the tensor (no copy)."""
        return self.data

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """The data itself for np.asarray(tensor) (no copy), or a copy when asked for one."""
        if copy is False and dtype is not None and np.dtype(dtype) != self.data.dtype:
            raise ValueError(f"cannot convert a {self.data.dtype} tensor to {np.dtype(dtype)} without a copy")
        array = self.data if dtype is None else self.data.astype(dtype, copy=False)
        return array.copy() if copy and array is self.data else array

    def item(self) -> float:
        """The value of a one-element tensor as a Python number."""
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
        """Make this leaf record gradients (or stop), in place; returns the tensor."""
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
    def __add__(self, other):
        """self + other; numbers, arrays and tensors broadcast as in NumPy."""
        return elementwise.Add.apply(self, lift(other, self))

    def __radd__(self, other):
        """other + self."""
        return lift(other, self) + self

    def __sub__(self, other):
        """self - other (broadcasting)."""
        return elementwise.Sub.apply(self, lift(other, self))

    def __rsub__(self, other):
        """other - self."""
        return lift(other, self) - self

    def __mul__(self, other):
        """self * other, elementwise (broadcasting)."""
        return elementwise.Mul.apply(self, lift(other, self))

    def __rmul__(self, other):
        """other * self."""
        return lift(other, self) * self

    def __truediv__(self, other):
        """self / other (broadcasting)."""
        return elementwise.Div.apply(self, lift(other, self))

    def __rtruediv__(self, other):
        """other / self."""
        return lift(other, self) / self

    def __pow__(self, other):
        """self ** other, elementwise (broadcasting)."""
        return elementwise.Pow.apply(self, lift(other, self))

    def __rpow__(self, other):
        """other ** self."""
        return lift(other, self) ** self

    def __neg__(self):
        """-self."""
        return elementwise.Neg.apply(self)

    def __matmul__(self, other):
        """self @ other: the matrix product, with NumPy's rules for vectors and batches."""
        return matmul.MatMul.apply(self, lift(other, self))

    def __rmatmul__(self, other):
        """other @ self."""
        return lift(other, self) @ self

    def __lt__(self, other):
        """self < other as a boolean ndarray (comparisons carry no gradient)."""
        return self.data < _values(other)

    def __le__(self, other):
        """self <= other as a boolean ndarray."""
        return self.data <= _values(other)

    def __gt__(self, other):
        """self > other as a boolean ndarray."""
        return self.data > _values(other)

    def __ge__(self, other):
        """self >= other as a boolean ndarray."""
        return self.data >= _values(other)

    __hash__ = object.__hash__

    def matmul(self, other):
        """The matrix product, as `self @ other`."""
        return self @ other

    # ---- elementwise functions --------------------------------------------------------------
    def exp(self):
        """e to the power of each element."""
        return elementwise.Exp.apply(self)

    def log(self):
        """The natural logarithm of each element."""
        return elementwise.Log.apply(self)

    def expm1(self):
        """e^x - 1 elementwise, accurate for small x."""
        return special.Expm1.apply(self)

    def log1p(self):
        """log(1 + x) elementwise, accurate for small x."""
        return special.Log1p.apply(self)

    def sqrt(self):
        """The square root of each element."""
        return self ** 0.5

    def rsqrt(self):
        """1 / sqrt(x) elementwise."""
        return self ** -0.5

    def square(self):
        """x * x elementwise."""
        return self * self

    def abs(self):
        """The absolute value of each element."""
        return elementwise.Abs.apply(self)

    def sign(self):
        """-1, 0 or 1 by the sign of each element (its gradient is zero)."""
        return special.Sign.apply(self)

    def clip(self, low=None, high=None):
        """Each element limited to [low, high]; either bound may be None (torch.clamp)."""
        return elementwise.Clip.apply(self, low=low, high=high)

    def maximum(self, other):
        """The larger of self and other, elementwise (broadcasting)."""
        return elementwise.Maximum.apply(self, lift(other, self))

    def minimum(self, other):
        """The smaller of self and other, elementwise (broadcasting)."""
        return functional.minimum(self, other)

    def sin(self):
        """The sine of each element."""
        return special.Sin.apply(self)

    def cos(self):
        """The cosine of each element."""
        return special.Cos.apply(self)

    # ---- reductions -------------------------------------------------------------------------
    # sum, max, prod (ops/reduce.py) and cumsum (ops/scan.py) are primitives; var and the statistics after it
    # are compositions (statistics.py).
    @dim_alias
    def sum(self, axis=None, keepdims=False):
        """The sum over `axis` (an int, a tuple, or None for every element)."""
        return reduce.Sum.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        """The largest value over `axis` (None: every element); tied entries share the gradient equally."""
        return reduce.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        """The smallest value over `axis` (None: every element); tied entries share the gradient equally."""
        return -((-self).max(axis=axis, keepdims=keepdims))

    @dim_alias
    def mean(self, axis=None, keepdims=False):
        """Sum divided by the number of elements reduced over (all of them for axis=None)."""
        total = self.sum(axis=axis, keepdims=keepdims)
        return total * (total.size / self.size if self.size else np.nan)

    @dim_alias
    def prod(self, axis=None, keepdims=False):
        """The product over `axis` (None: every element)."""
        return reduce.Prod.apply(self, axis=axis, keepdims=keepdims)

    @dim_alias
    def cumsum(self, axis):
        """The running sum along `axis`."""
        return scan.Cumsum.apply(self, axis=axis)

    @dim_alias
    def var(self, axis=None, *, correction=1, keepdims=False):
        """The variance over `axis`, divided by N - correction (1: the unbiased estimate, as PyTorch)."""
        return statistics.var(self, axis, correction, keepdims)

    @dim_alias
    def std(self, axis=None, *, correction=1, keepdims=False):
        """The standard deviation over `axis`: the square root of var()."""
        return statistics.std(self, axis, correction, keepdims)

    @dim_alias
    def logsumexp(self, axis=None, keepdims=False):
        """log(sum(exp(x))) over `axis`, computed without overflow."""
        return statistics.logsumexp(self, axis, keepdims)

    @dim_alias
    def norm(self, p=2, axis=None, keepdims=False):
        """The p-norm over `axis` (p=2: Euclidean; axis=None: every element)."""
        return statistics.norm(self, p, axis, keepdims)

    @dim_alias
    def argmax(self, axis=None, keepdims=False):
        """The positions of the largest entries along `axis` (the first of ties), an integer ndarray."""
        return statistics.argmax(self, axis, keepdims)

    @dim_alias
    def argmin(self, axis=None, keepdims=False):
        """The positions of the smallest entries along `axis` (the first of ties), an integer ndarray."""
        return statistics.argmin(self, axis, keepdims)

    @dim_alias
    def topk(self, k, axis=-1, largest=True, sorted=True):
        """The k largest (or smallest) entries along `axis` and their positions."""
        return statistics.topk(self, k, axis, largest, sorted)

    # ---- movement ---------------------------------------------------------------------------
    # reshape, permute, transpose, broadcast_to and indexing are primitives (ops/movement.py); unsqueeze and
    # the shape functions after it are compositions (shapes.py).
    def reshape(self, *shape):
        """The same values in a new shape, one size of which may be -1: `reshape(2, 3)` or `reshape((2, 3))`."""
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return movement.Reshape.apply(self, shape=tuple(shape))
    view = reshape  # a reshape: arrays here have no strides to share or refuse

    def permute(self, *dims):
        """The axes in the order `dims` (a full permutation, as torch.permute and np.transpose)."""
        dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        return movement.Permute.apply(self, dims=tuple(dims))

    def transpose(self, dim0, dim1):
        """Swap two axes, as torch.transpose (NumPy's transpose(axes) is `permute`)."""
        return movement.Transpose.apply(self, dim0=dim0, dim1=dim1)
    swapaxes = transpose  # PyTorch's and NumPy's alias
    T = property(lambda self: self.permute(tuple(reversed(range(self.ndim)))),
                  doc="Every axis reversed: the transpose of a matrix.")
    mT = property(lambda self: self.transpose(-2, -1),
                   doc="The last two axes swapped: the transpose of each matrix in a batch.")

    def flatten(self, start_dim=0, end_dim=-1):
        """Axes start_dim to end_dim merged into one (a 0-d tensor becomes shape (1,))."""
        shape = self.shape
        start, end = start_dim % max(self.ndim, 1), end_dim % max(self.ndim, 1)
        return self.reshape(shape[:start] + (-1,) + shape[end + 1:]) if self.ndim else self.reshape(1)

    def broadcast_to(self, shape):
        """The values repeated to `shape` by NumPy's broadcasting rules."""
        return movement.BroadcastTo.apply(self, shape=tuple(shape))

    def unsqueeze(self, dim):
        """A new axis of size 1 at position `dim`."""
        return shapes.unsqueeze(self, dim)

    def squeeze(self, dim=None):
        """The axes of size 1 removed (only `dim` when given)."""
        return shapes.squeeze(self, dim)

    def expand(self, *sizes):
        """The values broadcast to `sizes`, where -1 keeps an axis's size (torch.expand)."""
        return shapes.expand(self, *sizes)

    def split(self, split_size_or_sections, dim=0):
        """Pieces along `dim`: of `split_size_or_sections` entries each, or of the listed sizes."""
        return shapes.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        """`chunks` pieces of (nearly) equal size along `dim`."""
        return shapes.chunk(self, chunks, dim)

    def repeat(self, *sizes):
        """The tensor tiled `sizes` times along each axis (torch.repeat, NumPy's tile)."""
        return shapes.repeat(self, *sizes)

    def flip(self, *dims):
        """The order of the entries reversed along each of `dims`."""
        return shapes.flip(self, *dims)

    def gather(self, dim, index):
        """The entries along `dim` at the positions in `index` (torch.gather)."""
        return shapes.gather(self, dim, index)

    def masked_fill(self, mask, value):
        """`value` where `mask` is True, the tensor's values elsewhere."""
        return shapes.masked_fill(self, mask, value)

    def tril(self, diagonal=0):
        """The lower triangle (on and below `diagonal`), zeros above it."""
        return shapes.tril(self, diagonal)

    def triu(self, diagonal=0):
        """The upper triangle (on and above `diagonal`), zeros below it."""
        return shapes.triu(self, diagonal)

    def __getitem__(self, index):
        """Indexing and slicing as in NumPy; the gradient flows back to the selected entries."""
        return movement.GetItem.apply(self, index=_plain_index(index))

    # ---- softmax family ---------------------------------------------------------------------
    @dim_alias
    def softmax(self, axis=-1):
        """exp(x) / sum(exp(x)) along `axis`, computed without overflow."""
        return softmax.Softmax.apply(self, axis=axis)

    @dim_alias
    def log_softmax(self, axis=-1):
        """x - logsumexp(x) along `axis`: the log of softmax, without its underflow."""
        return softmax.LogSoftmax.apply(self, axis=axis)

    # ---- activations ------------------------------------------------------------------------
    # relu, sigmoid, tanh (ops/elementwise.py) and erf, which gelu is built on (ops/special.py), are primitives;
    # the others are compositions (activations.py).
    def relu(self):
        """max(x, 0) elementwise."""
        return elementwise.ReLU.apply(self)

    def relu6(self):
        """min(max(x, 0), 6) elementwise."""
        return activations.relu6(self)

    def hardtanh(self, min_val=-1.0, max_val=1.0):
        """x limited to [min_val, max_val]."""
        return activations.hardtanh(self, min_val, max_val)

    def hardswish(self):
        """x * relu6(x + 3) / 6."""
        return activations.hardswish(self)

    def leaky_relu(self, negative_slope=0.01):
        """x where x > 0, negative_slope * x elsewhere."""
        return activations.leaky_relu(self, negative_slope)

    def elu(self, alpha=1.0):
        """x where x > 0, alpha * (e^x - 1) elsewhere."""
        return activations.elu(self, alpha)

    def erf(self):
        """The Gauss error function of each element."""
        return special.Erf.apply(self)

    def gelu(self, approximate="none"):
        """x * Phi(x), Phi the standard normal CDF ('tanh': its tanh approximation)."""
        return activations.gelu(self, approximate)

    def sigmoid(self):
        """1 / (1 + e^-x) elementwise."""
        return elementwise.Sigmoid.apply(self)

    def silu(self):
        """x * sigmoid(x)."""
        return activations.silu(self)

    def logsigmoid(self):
        """log(sigmoid(x)), computed without overflow for large |x|."""
        return activations.logsigmoid(self)

    def softplus(self, beta=1.0, threshold=20.0):
        """log(1 + e^(beta x)) / beta, and x itself where beta x > threshold."""
        return activations.softplus(self, beta, threshold)

    def tanh(self):
        """The hyperbolic tangent of each element."""
        return elementwise.Tanh.apply(self)

    def mish(self):
        """x * tanh(softplus(x))."""
        return activations.mish(self)


from tinygrad_np import activations, autograd, functional, shapes, statistics  # noqa: E402
from tinygrad_np.ops import elementwise, matmul, movement, reduce, scan, softmax, special  # noqa: E402
