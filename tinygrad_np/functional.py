"""Free functions on tensors, as torch's top-level ones (`tinygrad_np.where`, `tinygrad_np.stack`).

Each takes Tensors, arrays or Python numbers (lifted by `tensor.lift`) and calls a primitive
op, or is a composition of them (`minimum`, `stack`). Network-level functions (losses,
activations, `linear`) live in `tinygrad_np.nn.functional` instead.
"""
import numpy as np

from tinygrad_np.dims import dim_alias
from tinygrad_np.errors import ShapeError
from tinygrad_np.ops.einsum import Einsum, parse_subscripts
from tinygrad_np.ops.elementwise import Maximum, Where
from tinygrad_np.ops.movement import Concatenate
from tinygrad_np.tensor import Tensor, lift


def _operands(x, y) -> tuple:
    """Both as Tensors; a Python number takes the other operand's dtype, as in `x * 0.1`."""
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        x = lift(x)
    like = x if isinstance(x, Tensor) else y
    return lift(x, like), lift(y, like)


def where(condition, x, y) -> Tensor:
    """Pick from x where `condition` holds, else from y (numbers, arrays or Tensors)."""
    condition = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    return Where.apply(*_operands(x, y), condition=condition)


def maximum(x, y) -> Tensor:
    """Elementwise max; ties split the gradient (see ops.elementwise.Maximum)."""
    return Maximum.apply(*_operands(x, y))


def minimum(x, y) -> Tensor:
    """Elementwise min, as -maximum(-x, -y)."""
    x, y = _operands(x, y)
    return -Maximum.apply(-x, -y)


@dim_alias
def concatenate(tensors, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (NumPy's concatenate)."""
    tensors = [lift(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate needs at least one tensor")
    return Concatenate.apply(*tensors, axis=axis)


@dim_alias
def stack(tensors, axis: int = 0) -> Tensor:
    """Join tensors along a new axis: each gets a size-1 axis, then they are concatenated."""
    tensors = [lift(t) for t in tensors]
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ShapeError(f"stack: all tensors need one shape, got {sorted(shapes)}")
    position = axis % (tensors[0].ndim + 1)
    return concatenate([t.reshape(t.shape[:position] + (1,) + t.shape[position:]) for t in tensors], axis=position)


# ---- PyTorch's names (issue 15) ----------------------------------------------------------------
cat = concatenate  # torch.cat(tensors, dim=0)


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation, as torch.einsum and np.einsum: `einsum('ij,jk->ik', a, b)` is a @ b,
    `einsum('bij,bjk->bik', a, b)` a batch of them, `einsum('i,i->', a, b)` a dot product.

    Letters and '...' (broadcast axes), any number of operands (also as one list); without '->'
    the output takes the indices used once, sorted. An index repeated within one operand (a
    diagonal or trace, 'ii->i') is refused: its gradient is not an einsum."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    tensors = [lift(operand) for operand in operands]
    subscripts = parse_subscripts(equation, [tensor.ndim for tensor in tensors])
    return Einsum.apply(*tensors, subscripts=subscripts)
