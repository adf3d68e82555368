"""Every differentiable op once: how to draw its inputs, how to call it, and NumPy's own answer.

The gradient tests (first and second order) run over this table, so a new op needs one row.
`inputs` draws `(arrays, params)`: the float64 arrays are the differentiable inputs, `params` the
fixed arguments (axis, index, targets...). `apply(*tensors, **params)` calls the library and
`reference(*arrays, **params)` is the same computation written in plain NumPy.
"""
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import (
    arrays,
    axes,
    axes_and_keepdims,
    basic_indices,
    boolean_masks,
    broadcast_targets,
    broadcastable_shapes,
    cross_entropy_inputs,
    floats,
    grid_arrays,
    integer_array_indices,
    matmul_shapes,
    programs,
    reshape_targets,
    shapes,
    transpose_axes,
)

import tinygrad_np as tg
import tinygrad_np.nn.functional as F

POSITIVE = dict(low=0.5, high=3.0)
NONZERO = dict(avoid=(0.0,), margin=0.5)  # divisors


@dataclass(frozen=True)
class Op:
    name: str
    inputs: st.SearchStrategy
    apply: Callable
    reference: Callable

    def __str__(self):
        return self.name


# ---- input builders ---------------------------------------------------------------------------
def unary(**value_range):
    return st.tuples(st.tuples(arrays(**value_range)), st.just({}))


@st.composite
def binary(draw, x=arrays, y=arrays):
    """Two arrays of broadcast-compatible shapes; `x` and `y` map a shape to a value strategy."""
    x_shape, y_shape = draw(broadcastable_shapes(2)).input_shapes
    return (draw(x(x_shape)), draw(y(y_shape))), {}


def with_params(values, params_for_shape, shape_strategy=None):
    """One array from `values(shape)` and the params drawn for its shape."""
    @st.composite
    def build(draw):
        shape = draw(shapes() if shape_strategy is None else shape_strategy)
        return (draw(values(shape)),), draw(params_for_shape(shape))
    return build()


def reduction(values=arrays):
    return with_params(values, lambda shape: axes_and_keepdims(len(shape)).map(
        lambda pair: {"axis": pair[0], "keepdims": pair[1]}))


def along_one_axis(values=arrays):
    """For softmax and log-softmax: an array of at least one axis and one int axis."""
    return with_params(values, lambda shape: axes(len(shape), allow_none=False, allow_tuple=False).map(
        lambda axis: {"axis": axis}), shapes(min_dims=1))


def indexed(index_strategy, min_dims=0):
    return with_params(arrays, lambda shape: index_strategy(shape).map(lambda index: {"index": index}),
                       shapes(min_dims=min_dims))


def distinct(shape):
    return grid_arrays(shape, unique=True)


def interleaved(shape):
    """Half a grid step off `distinct`'s and `grid_arrays`' values: never a tie with them."""
    return grid_arrays(shape, offset=0.25)


@st.composite
def matmul_inputs(draw):
    x_shape, y_shape = draw(matmul_shapes())
    return (draw(arrays(x_shape)), draw(arrays(y_shape))), {}


@st.composite
def linear_inputs(draw):
    """x of shape (..., k) with up to two batch axes (none: a 1-D x), W (k, n), b (n,)."""
    batch, k, n = draw(shapes(max_dims=2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (draw(arrays(batch + (k,))), draw(arrays((k, n))), draw(arrays((n,)))), {}


@st.composite
def where_inputs(draw):
    condition_shape, x_shape, y_shape = draw(broadcastable_shapes(3)).input_shapes
    condition = draw(arrays(condition_shape)) > 0
    return (draw(arrays(x_shape)), draw(arrays(y_shape))), {"condition": condition}


@st.composite
def concatenate_inputs(draw):
    base = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(base), len(base) - 1))
    lengths = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    parts = []
    for length in lengths:
        shape = list(base)
        shape[axis] = length
        parts.append(draw(arrays(tuple(shape))))
    return tuple(parts), {"axis": axis}


@st.composite
def stack_inputs(draw):
    shape = draw(shapes(max_dims=2))
    count = draw(st.integers(1, 3))
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    return tuple(draw(arrays(shape)) for _ in range(count)), {"axis": axis}


@st.composite
def flatten_inputs(draw):
    shape = draw(shapes())
    params = {}
    if shape:
        start = draw(st.integers(0, len(shape) - 1))
        end = draw(st.integers(start, len(shape) - 1))
        params = {"start_dim": start - len(shape) * draw(st.booleans()),
                  "end_dim": end - len(shape) * draw(st.booleans())}
    return (draw(arrays(shape)),), params


@st.composite
def swapaxes_inputs(draw):
    shape = draw(shapes(min_dims=1))
    axis = st.integers(-len(shape), len(shape) - 1)
    return (draw(arrays(shape)),), {"axis1": draw(axis), "axis2": draw(axis)}


CLIP_BOUNDS = [(-1.0, 1.0), (None, 0.5), (-0.5, None)]


# ---- NumPy references -------------------------------------------------------------------------
def np_softmax(x, axis):
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def np_cross_entropy(logits, target):
    rows = np.eye(logits.shape[1])[target] if target.ndim == 1 else target
    return -np.sum(rows * np.log(np_softmax(logits, -1))) / logits.shape[0]


def np_flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return x.reshape(1)
    start, end = start_dim % x.ndim, end_dim % x.ndim
    return x.reshape(x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:])


OPS = [
    # elementwise, two inputs, broadcast
    Op("add", binary(), lambda x, y: x + y, np.add),
    Op("sub", binary(), lambda x, y: x - y, np.subtract),
    Op("mul", binary(), lambda x, y: x * y, np.multiply),
    Op("div", binary(y=lambda s: arrays(s, **NONZERO)), lambda x, y: x / y, np.divide),
    Op("pow", binary(x=lambda s: arrays(s, **POSITIVE), y=lambda s: arrays(s, low=-2.0, high=2.0)),
       lambda x, y: x ** y, np.power),
    Op("maximum", binary(x=grid_arrays, y=interleaved), tg.maximum, np.maximum),
    Op("Tensor.maximum", binary(x=grid_arrays, y=interleaved), lambda x, y: x.maximum(y), np.maximum),
    Op("minimum", binary(x=grid_arrays, y=interleaved), tg.minimum, np.minimum),
    Op("Tensor.minimum", binary(x=grid_arrays, y=interleaved), lambda x, y: x.minimum(y), np.minimum),
    Op("where", where_inputs(), lambda x, y, condition: tg.where(condition, x, y),
       lambda x, y, condition: np.where(condition, x, y)),
    Op("matmul", matmul_inputs(), lambda x, y: x @ y, np.matmul),
    Op("Tensor.matmul", matmul_inputs(), lambda x, y: x.matmul(y), np.matmul),
    Op("linear", linear_inputs(), F.linear, lambda x, weight, bias: x @ weight + bias),
    Op("linear without bias", linear_inputs().map(lambda drawn: (drawn[0][:2], drawn[1])), F.linear, np.matmul),
    # elementwise, one input
    Op("neg", unary(), lambda x: -x, np.negative),
    Op("exp", unary(), lambda x: x.exp(), np.exp),
    Op("log", unary(**POSITIVE), lambda x: x.log(), np.log),
    Op("sqrt", unary(**POSITIVE), lambda x: x.sqrt(), np.sqrt),
    Op("pow number", with_params(lambda s: arrays(s, **POSITIVE), lambda s: st.fixed_dictionaries(
        {"exponent": st.sampled_from([-1.5, -1, 0.5, 2.0, 3])})),
        lambda x, exponent: x ** exponent, lambda x, exponent: x ** exponent),
    Op("square of any sign", unary(), lambda x: x ** 2, np.square),
    Op("number ** x", with_params(arrays, lambda s: st.fixed_dictionaries(
        {"base": st.sampled_from([0.5, 2.0, 3])})),
        lambda x, base: base ** x, lambda x, base: base ** x),
    Op("relu", unary(avoid=(0.0,)), lambda x: x.relu(), lambda x: np.maximum(x, 0)),
    Op("sigmoid", unary(low=-6.0, high=6.0), lambda x: x.sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    Op("tanh", unary(), lambda x: x.tanh(), np.tanh),
    Op("abs", unary(avoid=(0.0,)), lambda x: x.abs(), np.abs),
    Op("clip", with_params(lambda s: arrays(s, avoid=(-1.0, -0.5, 0.5, 1.0)), lambda s: st.sampled_from(
        CLIP_BOUNDS).map(lambda bounds: {"low": bounds[0], "high": bounds[1]})),
        lambda x, low, high: x.clip(low, high), lambda x, low, high: np.clip(x, low, high)),
    # reductions
    Op("sum", reduction(), lambda x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims), np.sum),
    Op("mean", reduction(), lambda x, axis, keepdims: x.mean(axis=axis, keepdims=keepdims), np.mean),
    Op("max", reduction(distinct), lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims), np.max),
    Op("min", reduction(distinct), lambda x, axis, keepdims: x.min(axis=axis, keepdims=keepdims), np.min),
    Op("softmax", along_one_axis(), lambda x, axis: x.softmax(axis), np_softmax),
    Op("log_softmax", along_one_axis(), lambda x, axis: x.log_softmax(axis),
       lambda x, axis: np.log(np_softmax(x, axis))),
    Op("cross_entropy", cross_entropy_inputs().map(lambda pair: ((pair[0],), {"target": pair[1]})),
       F.cross_entropy, np_cross_entropy),
    # movement
    Op("reshape", with_params(arrays, lambda s: reshape_targets(s).map(lambda shape: {"shape": shape})),
       lambda x, shape: x.reshape(shape), np.reshape),
    Op("reshape(*sizes)", with_params(arrays, lambda s: reshape_targets(s).map(lambda shape: {"shape": shape})),
       lambda x, shape: x.reshape(*shape), np.reshape),
    Op("permute", with_params(arrays, lambda s: transpose_axes(len(s)).map(lambda axes: {"axes": axes})),
       lambda x, axes: x.permute(*axes), np.transpose),
    Op("permute(tuple)", with_params(arrays, lambda s: transpose_axes(len(s)).map(lambda axes: {"axes": axes})),
       lambda x, axes: x.permute(axes), np.transpose),
    Op("transpose", swapaxes_inputs(), lambda x, axis1, axis2: x.transpose(axis1, axis2), np.swapaxes),
    Op("swapaxes", swapaxes_inputs(), lambda x, axis1, axis2: x.swapaxes(axis1, axis2), np.swapaxes),
    Op(".T", unary(), lambda x: x.T, np.transpose),
    Op(".mT", st.tuples(st.tuples(arrays(shapes(min_dims=2))), st.just({})), lambda x: x.mT,
       lambda x: np.swapaxes(x, -1, -2)),
    Op("flatten", flatten_inputs(), lambda x, **dims: x.flatten(**dims), np_flatten),
    Op("broadcast_to", broadcast_targets().flatmap(lambda pair: st.tuples(
        st.tuples(arrays(pair[0])), st.just({"shape": pair[1]}))),
        lambda x, shape: x.broadcast_to(shape), np.broadcast_to),
    Op("getitem basic", indexed(basic_indices), lambda x, index: x[index], lambda x, index: x[index]),
    Op("getitem integer arrays", indexed(integer_array_indices, min_dims=1),
       lambda x, index: x[index], lambda x, index: x[index]),
    Op("getitem boolean mask", indexed(boolean_masks, min_dims=1),
       lambda x, index: x[index], lambda x, index: x[index]),
    Op("concatenate", concatenate_inputs(), lambda *xs, axis: tg.concatenate(xs, axis=axis),
       lambda *xs, axis: np.concatenate(xs, axis=axis)),
    Op("stack", stack_inputs(), lambda *xs, axis: tg.stack(xs, axis=axis),
       lambda *xs, axis: np.stack(xs, axis=axis)),
]


# ---- issue 15: PyTorch's everyday ops -------------------------------------------------------------
def with_drawn(build):
    """An input strategy from `build(draw) -> (arrays, params)`."""
    return st.composite(lambda draw: build(draw))()


def unary_outside(points, low=-3.0, high=3.0):
    """One array with values in [low, high] at least 0.05 from each kink in `points`."""
    return unary(low=low, high=high, avoid=points)


def distinct_magnitudes(shape):
    """Values 0.25 + 0.5 k (distinct k >= 0) with random signs: no zero and no two equal |x|."""
    steps = hnp.arrays(np.int64, shape, elements=st.integers(0, 40), unique=True)
    signs = hnp.arrays(np.bool_, shape)
    return st.tuples(steps, signs).map(lambda pair: np.asarray((0.25 + 0.5 * pair[0]) * np.where(pair[1], 1, -1.0)))


def softplus_inputs(draw):
    beta, threshold = draw(st.sampled_from([0.5, 1.0, 2.0])), draw(st.sampled_from([1.0, 20.0]))
    x = draw(arrays(draw(shapes()), avoid=(threshold / beta,)))  # no straddling the switch to x
    return (x,), {"beta": beta, "threshold": threshold}


def hardtanh_inputs(draw):
    low, high = draw(st.sampled_from([(-1.0, 1.0), (-0.5, 2.0)]))
    return (draw(arrays(draw(shapes()), avoid=(low, high))),), {"min_val": low, "max_val": high}


def variance_inputs(draw, min_count=1):
    """(x, axis, keepdims, correction) with more entries reduced over than the correction."""
    shape = draw(shapes())
    axis, keepdims = draw(axes_and_keepdims(len(shape)))
    correction = draw(st.sampled_from([0, 1]))
    reduced = range(len(shape)) if axis is None else (axis,) if isinstance(axis, int) else axis
    assume(math.prod(shape[a] for a in reduced) > max(correction, min_count - 1))
    return (draw(distinct(shape)),), {"axis": axis, "keepdims": keepdims, "correction": correction}


def norm_inputs(draw):
    shape = draw(shapes())
    p = draw(st.sampled_from([2, "fro", 1, 3, math.inf, -math.inf]))
    axis, keepdims = draw(axes_and_keepdims(len(shape)))
    values = draw(distinct_magnitudes(shape) if p in (math.inf, -math.inf) else arrays(shape, avoid=(0.0,)))
    return (values,), {"p": p, "axis": axis, "keepdims": keepdims}


def np_norm(x, p, axis, keepdims):
    magnitudes = np.abs(x)
    if p in (math.inf, -math.inf):
        return (np.max if p > 0 else np.min)(magnitudes, axis=axis, keepdims=keepdims)
    p = 2 if p == "fro" else p
    return np.sum(magnitudes ** p, axis=axis, keepdims=keepdims) ** (1 / p)


def one_axis(draw, min_dims=1, values=arrays):
    shape = draw(shapes(min_dims=min_dims))
    return shape, draw(st.integers(-len(shape), len(shape) - 1)), draw(values(shape))


def topk_inputs(draw):
    shape, axis, x = one_axis(draw, values=distinct)
    return (x,), {"k": draw(st.integers(0, shape[axis])), "axis": axis}


def np_topk(x, k, axis):
    return np.take(-np.sort(-x, axis=axis), np.arange(k), axis=axis)


def gather_inputs(draw):
    shape, dim, x = one_axis(draw)
    index_shape = tuple(draw(st.integers(1, 3)) if d == dim else draw(st.integers(1, size))
                        for d, size in enumerate(shape))
    index = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, shape[dim] - 1)))
    return (x,), {"dim": dim, "index": index}


def np_gather(x, dim, index):
    out = np.empty(index.shape)
    for position in np.ndindex(*index.shape):
        source = list(position)
        source[dim] = index[position]
        out[position] = x[tuple(source)]
    return out


def masked_fill_inputs(draw):
    x_shape, mask_shape = draw(broadcastable_shapes(2)).input_shapes
    assume(np.broadcast_shapes(x_shape, mask_shape) == x_shape)  # the mask broadcasts to x, not x to it
    mask = draw(hnp.arrays(np.bool_, mask_shape))
    return (draw(arrays(x_shape)),), {"mask": mask, "value": draw(floats())}


def triangle_inputs(draw):
    return (draw(arrays(shapes(min_dims=2))),), {"diagonal": draw(st.integers(-2, 2))}


def unsqueeze_inputs(draw):
    shape = draw(shapes())
    return (draw(arrays(shape)),), {"dim": draw(st.integers(-len(shape) - 1, len(shape)))}


def squeeze_inputs(draw):
    shape = draw(shapes())
    dims = st.integers(-len(shape), len(shape) - 1) if shape else st.sampled_from([0, -1])
    dim = draw(st.one_of(st.none(), dims, st.lists(dims, max_size=3).map(tuple)))
    return (draw(arrays(shape)),), {"dim": dim}


def np_squeeze(x, dim):
    dims = range(x.ndim) if dim is None else {d % max(x.ndim, 1) for d in np.atleast_1d(dim)}
    return x.reshape(tuple(size for d, size in enumerate(x.shape) if not (d in dims and size == 1)))


def expand_inputs(draw):
    shape, target = draw(broadcast_targets())
    new = len(target) - len(shape)
    sizes = tuple(-1 if i >= new and target[i] == shape[i - new] and draw(st.booleans()) else size
                  for i, size in enumerate(target))
    return (draw(arrays(shape)),), {"sizes": sizes, "target": target}


def split_inputs(draw):
    shape, dim, x = one_axis(draw)
    return (x,), {"size": draw(st.integers(1, 4)), "dim": dim}


def pieces_weighted(pieces, join):
    """The pieces joined back with piece i scaled by i + 1, so each piece's gradient differs."""
    return join([piece * (i + 1) for i, piece in enumerate(pieces)])


def np_split(x, size, dim):
    return np.split(x, range(size, x.shape[dim], size), axis=dim)


def repeat_inputs(draw):
    shape = draw(shapes(max_dims=2))
    sizes = tuple(draw(st.lists(st.integers(1, 3), min_size=len(shape), max_size=len(shape) + 1)))
    return (draw(arrays(shape)),), {"sizes": sizes}


def flip_inputs(draw):
    shape = draw(shapes(min_dims=1))
    dims = draw(st.lists(st.integers(-len(shape), len(shape) - 1), max_size=len(shape),
                         unique_by=lambda d: d % len(shape)))
    return (draw(arrays(shape)),), {"dims": tuple(dims)}


EINSUM_PATTERNS = {  # equation -> one shape per operand (letters' sizes: i 2, j 3, k 2, b 2, h 1, q 2, d 3)
    "ij,jk->ik": [(2, 3), (3, 2)],
    "bij,bjk->bik": [(2, 2, 3), (2, 3, 2)],
    "i,i->": [(3,), (3,)],
    "i,j->ij": [(2,), (3,)],
    "ij,j->i": [(2, 3), (3,)],
    "ij->ji": [(2, 3)],
    "ij->i": [(2, 3)],
    "ij,ij->ij": [(2, 3), (2, 3)],
    "ijk->": [(2, 3, 2)],
    "i,jk->ij": [(2,), (3, 2)],
    "bhqd,bhkd->bhqk": [(2, 1, 2, 3), (2, 1, 2, 3)],
    "...ij,...jk->...ik": [(2, 2, 3), (1, 3, 2)],
    "...i,...i->...": [(2, 1, 3), (2, 3)],
    "ij,jk": [(2, 3), (3, 2)],
    "ij,jk,kl->il": [(2, 3), (3, 2), (2, 2)],
}


def einsum_inputs(draw):
    equation = draw(st.sampled_from(sorted(EINSUM_PATTERNS)))
    return tuple(draw(arrays(shape)) for shape in EINSUM_PATTERNS[equation]), {"equation": equation}


def embedding_inputs(draw):
    rows, width = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    indices = draw(hnp.arrays(np.int64, shapes(max_dims=2), elements=st.integers(0, rows - 1)))
    return (draw(arrays((rows, width))),), {"indices": indices}


def method(name, **fixed):
    """x.<name>(**params) as an apply function."""
    return lambda x, **params: getattr(x, name)(**fixed, **params)


def np_unary(function):
    return lambda x, **params: function(x)


np_erf = np.vectorize(math.erf, otypes=[np.float64])


def np_softplus(x, beta, threshold):
    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


OPS += [
    # math
    Op("sin", unary(), method("sin"), np.sin),
    Op("cos", unary(), method("cos"), np.cos),
    Op("log1p", unary(low=-0.5, high=3.0), method("log1p"), np.log1p),
    Op("expm1", unary(), method("expm1"), np.expm1),
    Op("erf", unary(), method("erf"), np_erf),
    Op("sign", unary_outside((0.0,)), method("sign"), np.sign),
    Op("rsqrt", unary(**POSITIVE), method("rsqrt"), lambda x: 1 / np.sqrt(x)),
    Op("square", unary(), method("square"), np.square),
    Op("einsum", with_drawn(einsum_inputs), lambda *xs, equation: tg.einsum(equation, *xs),
       lambda *xs, equation: np.einsum(equation, *xs)),
    # activations
    Op("leaky_relu", with_params(lambda s: arrays(s, avoid=(0.0,)), lambda s: st.fixed_dictionaries(
        {"negative_slope": st.sampled_from([0.01, 0.2, -0.5])})), F.leaky_relu,
       lambda x, negative_slope: np.where(x > 0, x, negative_slope * x)),
    Op("elu", with_params(lambda s: arrays(s, avoid=(0.0,)), lambda s: st.fixed_dictionaries(
        {"alpha": st.sampled_from([1.0, 0.5])})), F.elu, lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(x))),
    Op("gelu", unary(), F.gelu, lambda x: x * (1 + np_erf(x / math.sqrt(2))) / 2),
    Op("gelu tanh", unary(), lambda x: F.gelu(x, approximate="tanh"),
       lambda x: x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))) / 2),
    Op("silu", unary(), F.silu, lambda x: x * np_sigmoid(x)),
    Op("softplus", with_drawn(softplus_inputs), F.softplus, np_softplus),
    Op("hardtanh", with_drawn(hardtanh_inputs), F.hardtanh,
       lambda x, min_val, max_val: np.clip(x, min_val, max_val)),
    Op("relu6", unary_outside((0.0, 6.0), low=-2.0, high=8.0), F.relu6, lambda x: np.clip(x, 0, 6)),
    Op("hardswish", unary_outside((-3.0, 3.0), low=-5.0, high=5.0), F.hardswish,
       lambda x: x * np.clip(x + 3, 0, 6) / 6),
    Op("mish", unary(low=-6.0, high=6.0), F.mish, lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    Op("logsigmoid", unary(low=-6.0, high=6.0), F.logsigmoid, lambda x: np.log(np_sigmoid(x))),
    # reductions
    Op("var", with_drawn(variance_inputs), method("var"),
       lambda x, axis, keepdims, correction: np.var(x, axis=axis, keepdims=keepdims, ddof=correction)),
    Op("std", with_drawn(lambda draw: variance_inputs(draw, min_count=2)), method("std"),
       lambda x, axis, keepdims, correction: np.std(x, axis=axis, keepdims=keepdims, ddof=correction)),
    Op("logsumexp", reduction(), method("logsumexp"),
       lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))),
    Op("prod", reduction(lambda s: arrays(s, avoid=(0.0,))), method("prod"), np.prod),  # zeros: test_pytorch_api
    Op("cumsum", with_drawn(lambda draw: (lambda shape, axis, x: ((x,), {"axis": axis}))(*one_axis(draw))),
       method("cumsum"), np.cumsum),
    Op("norm", with_drawn(norm_inputs), method("norm"), np_norm),
    Op("topk values", with_drawn(topk_inputs), lambda x, k, axis: x.topk(k, axis=axis).values, np_topk),
    # shape and selection
    Op("unsqueeze", with_drawn(unsqueeze_inputs), method("unsqueeze"), lambda x, dim: np.expand_dims(x, dim)),
    Op("squeeze", with_drawn(squeeze_inputs), method("squeeze"), np_squeeze),
    Op("expand", with_drawn(expand_inputs), lambda x, sizes, target: x.expand(*sizes),
       lambda x, sizes, target: np.broadcast_to(x, target)),
    Op("view", with_params(arrays, lambda s: reshape_targets(s).map(lambda shape: {"shape": shape})),
       lambda x, shape: x.view(*shape), np.reshape),
    Op("split", with_drawn(split_inputs),
       lambda x, size, dim: pieces_weighted(x.split(size, dim), lambda ps: tg.cat(ps, dim=dim)),
       lambda x, size, dim: pieces_weighted(np_split(x, size, dim), lambda ps: np.concatenate(ps, axis=dim))),
    Op("chunk", with_drawn(split_inputs),
       lambda x, size, dim: pieces_weighted(x.chunk(size, dim), lambda ps: tg.cat(ps, dim=dim)),
       lambda x, size, dim: pieces_weighted(np_split(x, -(-x.shape[dim] // size), dim),
                                            lambda ps: np.concatenate(ps, axis=dim))),
    Op("repeat", with_drawn(repeat_inputs), lambda x, sizes: x.repeat(*sizes), lambda x, sizes: np.tile(x, sizes)),
    Op("flip", with_drawn(flip_inputs), lambda x, dims: x.flip(dims), lambda x, dims: np.flip(x, axis=dims)),
    Op("gather", with_drawn(gather_inputs), method("gather"), np_gather),
    Op("masked_fill", with_drawn(masked_fill_inputs), method("masked_fill"),
       lambda x, mask, value: np.where(mask, value, x)),
    Op("tril", with_drawn(triangle_inputs), method("tril"), lambda x, diagonal: np.tril(x, diagonal)),
    Op("triu", with_drawn(triangle_inputs), method("triu"), lambda x, diagonal: np.triu(x, diagonal)),
    Op("cat(dim=)", concatenate_inputs(), lambda *xs, axis: tg.cat(xs, dim=axis),
       lambda *xs, axis: np.concatenate(xs, axis=axis)),
    Op("embedding", with_drawn(embedding_inputs), lambda weight, indices: F.embedding(indices, weight),
       lambda weight, indices: weight[indices]),
]


# ---- smooth ops for random expression graphs ----------------------------------------------------
# name -> (library function, NumPy function). Every one keeps its operands' broadcast shape (or
# makes axes size 1), so any two values of a graph can meet; none has a kink or a pole.
def _last_axis(reduce):
    return lambda x: reduce(x) if x.ndim else x


GRAPH_UNARY = {
    "neg": (lambda x: -x, np.negative),
    "tanh": (lambda x: x.tanh(), np.tanh),
    "sigmoid": (lambda x: x.sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    "square": (lambda x: x ** 2, np.square),
    "log(1 + x^2)": (lambda x: (1 + x * x).log(), lambda x: np.log1p(x * x)),
    "sqrt(1 + x^2)": (lambda x: (x * x + 1).sqrt(), lambda x: np.sqrt(x * x + 1)),
    "halve": (lambda x: x / 2, lambda x: x / 2),
    "1.5 - x": (lambda x: 1.5 - x, lambda x: 1.5 - x),
    "softmax": (_last_axis(lambda x: x.softmax(-1)), _last_axis(lambda x: np_softmax(x, -1))),
    "sum keepdims": (_last_axis(lambda x: x.sum(axis=-1, keepdims=True)),
                     _last_axis(lambda x: x.sum(axis=-1, keepdims=True))),
    "mean keepdims": (_last_axis(lambda x: x.mean(axis=0, keepdims=True)),
                      _last_axis(lambda x: x.mean(axis=0, keepdims=True))),
    "reversed": (_last_axis(lambda x: x[..., ::-1]), _last_axis(lambda x: x[..., ::-1])),
}
GRAPH_BINARY = {
    "add": (lambda x, y: x + y, np.add),
    "sub": (lambda x, y: x - y, np.subtract),
    "mul": (lambda x, y: x * y, np.multiply),
    "x / (1 + y^2)": (lambda x, y: x / (1 + y * y), lambda x, y: x / (1 + y * y)),
}


def run_program(program, leaves, library=True):
    """Every value of a `strategies.programs` graph, leaves first; the last one is the output."""
    values = list(leaves)
    for name, operands in program:
        table = GRAPH_UNARY if len(operands) == 1 else GRAPH_BINARY
        values.append(table[name][0 if library else 1](*(values[i] for i in operands)))
    return values


# Values stay moderate: with |f| near 1e12, rounding in f alone moves a finite difference by 1e-4.
LARGEST_VALUE = 1e3


@st.composite
def graphs(draw, max_leaves=3, max_steps=8):
    """(program, leaves): leaves of broadcast-compatible shapes with values in [-1.5, 1.5]."""
    num_leaves = draw(st.integers(1, max_leaves))
    leaf_shapes = draw(broadcastable_shapes(num_leaves)).input_shapes
    leaves = [draw(arrays(shape, low=-1.5, high=1.5)) for shape in leaf_shapes]
    program = draw(programs(num_leaves, sorted(GRAPH_UNARY), sorted(GRAPH_BINARY), max_steps=max_steps))
    expected = run_program(program, leaves, library=False)
    assume(all(np.all(np.abs(value) < LARGEST_VALUE) for value in expected))
    return program, leaves
