"""PyTorch's shape and selection methods, each a composition of reshape, broadcast, indexing and
where (so their gradients, and second derivatives, come from those ops). `Tensor` exposes them
as methods with PyTorch's signatures and `dim` arguments: `x.unsqueeze(0)`, `x.gather(1, index)`.
"""
import math

import numpy as np

from tinygrad_np.dims import check_dim
from tinygrad_np.errors import ShapeError
from tinygrad_np.functional import where
from tinygrad_np.tensor import Tensor


def _sizes(sizes: tuple) -> tuple:
    """`(2, 3)` from `f(2, 3)` and from `f((2, 3))`."""
    return tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else tuple(sizes)


def _along(dim: int, part) -> tuple:
    """An index that applies `part` (a slice, an array) to axis `dim` and keeps the others whole."""
    return (slice(None),) * dim + (part,)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """A size-1 axis inserted at `dim` (-1 appends one)."""
    position = check_dim("unsqueeze", dim, x.ndim + 1)
    return x.reshape(x.shape[:position] + (1,) + x.shape[position:])


def squeeze(x: Tensor, dim=None) -> Tensor:
    """Size-1 axes removed: all of them, or those among `dim` (an int or a tuple); an axis of
    another size named in `dim` stays, as in PyTorch."""
    named = range(x.ndim) if dim is None else dim if isinstance(dim, (tuple, list)) else (dim,)
    dims = {check_dim("squeeze", d, max(x.ndim, 1)) for d in named}  # a 0-d tensor takes dim 0 or -1
    dropped = {d for d in dims if d < x.ndim and x.shape[d] == 1}
    return x.reshape(tuple(size for d, size in enumerate(x.shape) if d not in dropped))


def expand(x: Tensor, *sizes) -> Tensor:
    """A broadcast view to `sizes`; -1 keeps an axis's size; new axes may be added in front."""
    sizes = _sizes(sizes)
    new = len(sizes) - x.ndim
    if new < 0:
        raise ShapeError(f"expand: {len(sizes)} sizes {sizes} for a tensor of shape {x.shape}")
    if -1 in sizes[:new]:
        raise ShapeError(f"expand: -1 in {sizes} for an axis the tensor of shape {x.shape} does not have")
    return x.broadcast_to(tuple(x.shape[i - new] if size == -1 else size for i, size in enumerate(sizes)))


def split(x: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces along `dim`: of `split_size_or_sections` entries each (the last may be shorter), or
    of the sizes in a list (which must add up to the axis's length)."""
    dim = check_dim("split", dim, x.ndim)
    length = x.shape[dim]
    if isinstance(split_size_or_sections, (int, np.integer)):
        step = int(split_size_or_sections)
        if step < 1:
            raise ValueError(f"split: the size of a piece must be positive, got {step}")
        sections = [min(step, length - start) for start in range(0, length, step)] or [0]
    else:
        sections = [int(size) for size in split_size_or_sections]
        if sum(sections) != length or any(size < 0 for size in sections):
            raise ShapeError(f"split: sections {sections} do not add up to the length {length} of axis {dim} "
                             f"of shape {x.shape}")
    starts = np.cumsum([0] + sections[:-1])
    return tuple(x[_along(dim, slice(start, start + size))] for start, size in zip(starts, sections, strict=True))


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """`chunks` pieces of equal length along `dim` (the last may be shorter, and there may be
    fewer pieces, as in PyTorch)."""
    if chunks < 1:
        raise ValueError(f"chunk: the number of chunks must be positive, got {chunks}")
    length = x.shape[check_dim("chunk", dim, x.ndim)]
    return split(x, max(math.ceil(length / chunks), 1), dim)


def repeat(x: Tensor, *sizes) -> Tensor:
    """The tensor tiled `sizes[i]` times along axis i (as np.tile and torch.repeat); more sizes
    than axes add leading axes."""
    sizes = _sizes(sizes)
    if len(sizes) < x.ndim:
        raise ShapeError(f"repeat: {len(sizes)} sizes {sizes} for a tensor of shape {x.shape}: give one per axis")
    shape = (1,) * (len(sizes) - x.ndim) + x.shape
    # (a, b) repeated (r, s): a view (1, a, 1, b) broadcast to (r, a, s, b), read as (r*a, s*b)
    spread = x.reshape(tuple(side for size in shape for side in (1, size)))
    tiled = spread.broadcast_to(tuple(side for pair in zip(sizes, shape, strict=True) for side in pair))
    return tiled.reshape(tuple(count * size for count, size in zip(sizes, shape, strict=True)))


def flip(x: Tensor, *dims) -> Tensor:
    """The entries in reverse order along every axis in `dims`."""
    flipped = {check_dim("flip", dim, x.ndim) for dim in _sizes(dims)}
    return x[tuple(slice(None, None, -1) if d in flipped else slice(None) for d in range(x.ndim))]


def gather(x: Tensor, dim: int, index) -> Tensor:
    """out[i][j][k] = x[index[i][j][k]][j][k] for dim=0 (likewise for the other dims), as
    torch.gather: `index` has x's number of axes and sizes no larger than x's off `dim`.

    Indexing with the index along `dim` and the positions along the others, so the gradient is
    indexing's adjoint: repeated indices add up."""
    index = np.asarray(index.data if isinstance(index, Tensor) else index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"gather: index must hold integers, got dtype {index.dtype}")
    if index.ndim != x.ndim or x.ndim == 0:
        raise ShapeError(f"gather: index of shape {index.shape} for a tensor of shape {x.shape}: "
                         "they need the same number of axes (at least one)")
    dim = check_dim("gather", dim, x.ndim)
    if any(index.shape[d] > x.shape[d] for d in range(x.ndim) if d != dim):
        raise ShapeError(f"gather: index of shape {index.shape} is larger than the tensor's {x.shape} off dim {dim}")
    if index.size and (index.min() < 0 or index.max() >= x.shape[dim]):
        raise IndexError(f"gather: index values {index.min()}..{index.max()} outside [0, {x.shape[dim]}) "
                         f"along dim {dim} of shape {x.shape}")
    positions = list(np.ogrid[tuple(slice(size) for size in index.shape)])
    positions[dim] = index
    return x[tuple(positions)]


def masked_fill(x: Tensor, mask, value) -> Tensor:
    """`value` where `mask` holds, x elsewhere (mask broadcasts against x)."""
    return where(mask, value, x)


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two axes, on and below the `diagonal`-th diagonal; zeros above."""
    return where(_triangle("tril", x, diagonal), x, 0.0)


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two axes, on and above the `diagonal`-th diagonal; zeros below."""
    return where(~_triangle("triu", x, diagonal - 1), x, 0.0)


def _triangle(op: str, x: Tensor, diagonal: int) -> np.ndarray:
    """True on and below the `diagonal`-th diagonal of x's last two axes."""
    if x.ndim < 2:
        raise ShapeError(f"{op}: needs at least two axes, got shape {x.shape}")
    rows, columns = x.shape[-2:]
    return np.tri(rows, columns, k=diagonal, dtype=np.bool_)
