"""Hypothesis strategies for the whole test suite: one place, reused by every test file.

    from strategies import arrays, shapes, broadcastable_shapes, axes_and_keepdims

(pyproject.toml puts tests/ on sys.path for pytest, so tests in tests/library and tests/app import it.)

Arrays are float64 and small: at most MAX_SIDE ** MAX_DIMS = 27 elements, so an element-by-element
finite-difference check stays cheap. Shapes include 0-d arrays and size-1 axes, the cases that
broadcasting and reductions get wrong. Values stay inside an op's domain (`low=0.5` for log and
sqrt) and away from its kinks (`avoid=(0.0,)` for relu and abs, `grid_arrays(unique=True)` for the
ties of max): a finite difference that straddles a kink measures neither side's derivative.

Strategies that depend on a shape (axes, indices, reshape targets) take the concrete shape; draw it
first with `st.data()` or `.flatmap`.
"""
import math

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mnist.reference import network

MAX_DIMS = 3
MAX_SIDE = 3


# ---- shapes -----------------------------------------------------------------------------------
def shapes(min_dims=0, max_dims=MAX_DIMS, min_side=1, max_side=MAX_SIDE):
    """Array shapes, 0-d `()` and size-1 axes included (min_side=0 adds empty arrays)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=MAX_DIMS, max_side=MAX_SIDE):
    """`num_shapes` shapes that broadcast together: `.input_shapes` and their `.result_shape`."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims,
                                             max_dims=max_dims, max_side=max_side)


def matmul_shapes(max_batch_dims=1, max_side=MAX_SIDE):
    """(x_shape, y_shape) pairs valid for NumPy's matmul: 1-D operands, 2-D, and batched
    with broadcast batch axes (np.matmul's signature `(n?,k),(k,m?)->(n?,m?)`)."""
    return hnp.mutually_broadcastable_shapes(
        signature=np.matmul.signature, max_dims=max_batch_dims, max_side=max_side,
    ).map(lambda shapes: shapes.input_shapes)


@st.composite
def broadcast_targets(draw, max_dims=MAX_DIMS, max_side=MAX_SIDE):
    """(shape, target): `np.broadcast_to(x_of_shape, target)` is valid (new axes, stretched 1s)."""
    pair = draw(broadcastable_shapes(2, max_dims=max_dims, max_side=max_side))
    return pair.input_shapes[0], pair.result_shape


@st.composite
def reshape_targets(draw, shape):
    """A shape with as many elements as `shape`, sometimes with one -1 for NumPy to infer."""
    size = math.prod(shape)
    target, rest = [], size
    while rest > 1 and draw(st.booleans()):
        factor = draw(st.sampled_from([d for d in range(2, rest + 1) if rest % d == 0]))
        target.append(factor)
        rest //= factor
    target.append(rest)
    target += [1] * draw(st.integers(0, 2))
    target = draw(st.permutations(target))
    if size and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return tuple(target)


@st.composite
def transpose_axes(draw, ndim):
    """A permutation of range(ndim), some entries written as negative axes."""
    permutation = draw(st.permutations(range(ndim)))
    return tuple(axis - ndim if draw(st.booleans()) else axis for axis in permutation)


# ---- axes -------------------------------------------------------------------------------------
def axes(ndim, allow_none=True, allow_tuple=True):
    """A valid `axis` for an array of `ndim` axes: None, an int (negatives too), or a tuple."""
    options = []
    if allow_none:
        options.append(st.none())
    if ndim:
        options.append(st.integers(-ndim, ndim - 1))
    if allow_tuple:
        options.append(hnp.valid_tuple_axes(ndim))
    return st.one_of(options)


def axes_and_keepdims(ndim):
    """(axis, keepdims) for a reduction over an array of `ndim` axes."""
    return st.tuples(axes(ndim), st.booleans())


# ---- values -----------------------------------------------------------------------------------
def floats(low=-3.0, high=3.0, avoid=(), margin=0.05):
    """Finite floats in [low, high], at least `margin` away from every point in `avoid`."""
    values = st.floats(low, high, allow_nan=False, allow_infinity=False)
    if avoid:
        values = values.filter(lambda v: all(abs(v - point) >= margin for point in avoid))
    return values


def arrays(shape=None, low=-3.0, high=3.0, avoid=(), margin=0.05, dtype=np.float64):
    """Arrays of `shape` (a tuple or a strategy; default `shapes()`) with values from `floats`."""
    return hnp.arrays(dtype, shapes() if shape is None else shape,
                      elements=floats(low, high, avoid, margin))


def grid_arrays(shape=None, spacing=0.5, offset=0.0, unique=False):
    """Values offset + spacing * k for integers |k| <= 20.

    unique=True: no two entries closer than `spacing`, so max/min have no ties to straddle.
    Two draws with offsets 0 and spacing/2 are never closer than spacing/2 anywhere, so
    maximum(x, y) has no ties between them either.
    """
    steps = hnp.arrays(np.int64, shapes() if shape is None else shape,
                       elements=st.integers(-20, 20), unique=unique)
    return steps.map(lambda k: np.asarray(offset + spacing * k, dtype=np.float64))  # 0-d stays an array


@st.composite
def probability_rows(draw, batch, classes):
    """(batch, classes) rows of non-negative numbers summing to 1: one-hot rows, or mixed ones."""
    labels = draw(hnp.arrays(np.int64, batch, elements=st.integers(0, classes - 1)))
    if draw(st.booleans()):
        return np.eye(classes)[labels]
    weights = draw(arrays((batch, classes), low=0.0, high=1.0))
    weights[np.arange(batch), labels] += 0.1  # no row of zeros
    return weights / weights.sum(axis=1, keepdims=True)


@st.composite
def cross_entropy_inputs(draw, max_batch=4, max_classes=4, low=-5.0, high=5.0):
    """(logits (m, C), targets): targets are integer labels (m,) or probability rows (m, C)."""
    batch, classes = draw(st.integers(1, max_batch)), draw(st.integers(1, max_classes))
    logits = draw(arrays((batch, classes), low=low, high=high))
    if draw(st.booleans()):
        targets = draw(hnp.arrays(np.int64, batch, elements=st.integers(0, classes - 1)))
    else:
        targets = draw(probability_rows(batch, classes))
    return logits, targets


# ---- indices ----------------------------------------------------------------------------------
def basic_indices(shape):
    """Ints, slices with steps (negative too), None and Ellipsis, alone or in a tuple."""
    return hnp.basic_indices(shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True)


@st.composite
def integer_array_indices(draw, shape):
    """Integer arrays with repeated (and negative) entries, for one axis or for several at once.

    Needs ndim >= 1 and no empty axis. Repeats are the point: their gradients must add up.
    """
    axis = draw(st.integers(0, len(shape) - 1))
    size = shape[axis]
    picks = draw(hnp.arrays(np.intp, st.integers(1, 5), elements=st.integers(-size, size - 1)))
    if draw(st.booleans()):
        return (slice(None),) * axis + (picks,)
    return draw(hnp.integer_array_indices(shape))


@st.composite
def boolean_masks(draw, shape):
    """A boolean mask over the leading axes of `shape` (all of them, or only some). Needs ndim >= 1."""
    covered = draw(st.integers(1, len(shape)))
    return draw(hnp.arrays(np.bool_, shape[:covered]))


# ---- random expression graphs -----------------------------------------------------------------
@st.composite
def programs(draw, num_leaves, unary_names, binary_names, min_steps=1, max_steps=8):
    """A random expression graph as a list of steps `(op_name, operand_positions)`.

    Values are numbered leaves first, then one per step; each step's operands are any earlier
    values, so subexpressions are shared (diamonds) and a value may meet itself (x * x).
    The last step is the output.
    """
    steps = []
    for step in range(draw(st.integers(min_steps, max_steps))):
        available = num_leaves + step
        operand = st.integers(0, available - 1)
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(unary_names)), (draw(operand),)))
        else:
            steps.append((draw(st.sampled_from(binary_names)), (draw(operand), draw(operand))))
    return steps


# ---- small CNNs for the closed-form reference (mnist.reference.cnn) ----------------------------
def _side_pairs(low, high):
    """A kernel or stride side as PyTorch takes it: an int, or an (h, w) pair."""
    return st.one_of(st.integers(low, high), st.tuples(st.integers(low, high), st.integers(low, high)))


def _smallest_input(specs, axis):
    """The smallest input side (axis 0: height, 1: width) for which every layer's output is >= 1."""
    side = 1
    for spec in reversed(specs):
        kernel, stride = spec.kernel_size[axis], spec.stride[axis]
        if isinstance(spec, network.Conv2d):
            reach = spec.dilation[axis] * (kernel - 1) + 1
            side = max(1, stride * (side - 1) + reach - 2 * spec.padding[axis])
        else:
            side = stride * (side - 1) + kernel
    return side


@st.composite
def cnn_specs(draw, max_blocks=2, max_batch=4):
    """(specs, input_shape): 1..max_blocks blocks of Conv2d (kernel 1-5, stride 1-2, padding 0-2,
    dilation 1-2, 1-3 channels, with or without bias), a BatchNorm2d or not, ReLU or Sigmoid, and a
    max pool, an average pool or none; then Flatten and Linear to 2-4 classes. The input is just
    large enough, plus 0-3 rows and columns; a batch of 2 or more where a batch norm needs a variance."""
    channels = draw(st.integers(1, 3))
    specs, in_channels = [], channels
    for _ in range(draw(st.integers(1, max_blocks))):
        out_channels = draw(st.integers(1, 3))
        specs.append(network.Conv2d(in_channels, out_channels, draw(_side_pairs(1, 5)), stride=draw(_side_pairs(1, 2)),
                                padding=draw(st.integers(0, 2)), dilation=draw(st.integers(1, 2)),
                                bias=draw(st.booleans())))
        if draw(st.booleans()):
            specs.append(network.BatchNorm2d(out_channels))
        specs.append(draw(st.sampled_from([network.ReLU(), network.Sigmoid()])))
        pool = draw(st.sampled_from([network.MaxPool2d, network.AvgPool2d, None]))
        if pool is not None:
            specs.append(pool(draw(st.integers(1, 3)), stride=draw(st.integers(1, 2))))
        in_channels = out_channels
    windows = [spec for spec in specs if isinstance(spec, (network.Conv2d, network.MaxPool2d, network.AvgPool2d))]
    batch_norm = any(isinstance(spec, network.BatchNorm2d) for spec in specs)
    input_shape = (draw(st.integers(2 if batch_norm else 1, max(max_batch, 2))), channels,
                   _smallest_input(windows, 0) + draw(st.integers(0, 3)),
                   _smallest_input(windows, 1) + draw(st.integers(0, 3)))
    shape = input_shape
    for spec in specs:
        shape = spec.output_shape(shape)
    specs += [network.Flatten(), network.Linear(int(np.prod(shape[1:])), draw(st.integers(2, 4)))]
    return specs, input_shape


@st.composite
def cnns(draw, dtype=np.float64, max_blocks=2, max_batch=4):
    """(specs, params, X, Y): a `cnn_specs` network with He/Xavier weights times 0.5-2, biases of
    scale 0-1, batch norm scales of 0.5-2 plus N(0, 0.5^2) noise (one per channel, so a channel mixed
    up shows), inputs N(0, 1) and one-hot labels, all drawn from one seed."""
    specs, input_shape = draw(cnn_specs(max_blocks, max_batch))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    weight_scale, bias_scale = draw(st.sampled_from([0.5, 1.0, 2.0])), draw(st.sampled_from([0.0, 0.1, 1.0]))
    params = network.init_params(specs, seed=int(rng.integers(2**32)), dtype=np.float64)
    batch_norm_scales = {f"layers.{index}.weight" for index, spec in enumerate(specs)
                         if isinstance(spec, network.BatchNorm2d)}
    for name, value in params.items():
        value *= weight_scale
        if name.endswith(".bias"):
            value += bias_scale * rng.standard_normal(value.shape)
        elif name in batch_norm_scales:
            value += 0.5 * rng.standard_normal(value.shape)
    classes = specs[-1].out_features
    X, Y = rng.standard_normal(input_shape), np.eye(classes)[rng.integers(0, classes, input_shape[0])]
    return specs, {name: value.astype(dtype) for name, value in params.items()}, X.astype(dtype), Y.astype(dtype)

# ---- sliding windows (convolution, pooling) ---------------------------------------------------
@st.composite
def window_geometries(draw, max_kernel=3, max_stride=2, max_padding=2, max_dilation=2, max_extra=2,
                      pooling=False):
    """(input_size, geometry) for one sliding window along H and W: `geometry` holds kernel_size,
    stride, padding and dilation as pairs, and input_size (H, W) fits at least one window.
    pooling=True keeps padding at most half the dilated kernel, as PyTorch's pooling requires."""
    geometry = {name: (draw(st.integers(low, high)), draw(st.integers(low, high))) for name, low, high in
                [("kernel_size", 1, max_kernel), ("stride", 1, max_stride), ("padding", 0, max_padding),
                 ("dilation", 1, max_dilation)]}
    spans = [d * (k - 1) + 1 for k, d in zip(geometry["kernel_size"], geometry["dilation"], strict=True)]
    if pooling:
        geometry["padding"] = tuple(min(pad, span // 2) for pad, span in zip(geometry["padding"], spans, strict=True))
    input_size = tuple(max(1, span - 2 * pad) + draw(st.integers(0, max_extra))
                       for span, pad in zip(spans, geometry["padding"], strict=True))
    if pooling:  # a dilated window can skip a small input entirely: its max is -inf, PyTorch's too
        windows = (geometry[key] for key in ("kernel_size", "stride", "padding", "dilation"))
        assume(all(_every_window_meets_the_input(size, *params)
                   for size, *params in zip(input_size, *windows, strict=True)))
    return input_size, geometry


def _every_window_meets_the_input(size, kernel, stride, padding, dilation) -> bool:
    windows = (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    return all(any(padding <= start * stride + i * dilation < padding + size for i in range(kernel))
               for start in range(windows))


@st.composite
def conv2d_inputs(draw, max_batch=2, max_group_channels=2, max_groups=2, max_stride=2, max_kernel=3):
    """(x, weight, bias or None, params) for conv2d: params holds stride, padding, dilation, groups.
    max_stride=1 and max_groups=1 draw the convs the spectral lowering computes."""
    input_size, geometry = draw(window_geometries(max_kernel=max_kernel, max_stride=max_stride))
    groups = draw(st.integers(1, max_groups))
    in_channels = groups * draw(st.integers(1, max_group_channels))
    out_channels = groups * draw(st.integers(1, max_group_channels))
    x = draw(arrays((draw(st.integers(1, max_batch)), in_channels) + input_size))
    weight = draw(arrays((out_channels, in_channels // groups) + geometry.pop("kernel_size")))
    bias = draw(st.none() | arrays((out_channels,)))
    return x, weight, bias, dict(geometry, groups=groups)


@st.composite
def pool_inputs(draw, max_batch=2, max_channels=2, distinct=False):
    """(x, geometry) for max_pool2d / avg_pool2d. distinct=True: no two entries tie (a tie is
    max pooling's kink, where a finite difference measures neither side)."""
    input_size, geometry = draw(window_geometries(max_stride=3, max_padding=1, pooling=True))
    shape = (draw(st.integers(1, max_batch)), draw(st.integers(1, max_channels))) + input_size
    return draw(distinct_arrays(shape) if distinct else arrays(shape)), geometry


def distinct_arrays(shape, spacing=0.25):
    """The values spacing * (0, 1, ..., size - 1) - 3 in a random order: no two entries tie, however
    many there are (grid_arrays(unique=True) has only 41 values to choose from)."""
    size = math.prod(shape)
    return st.permutations(range(size)).map(lambda order: np.asarray(order, np.float64).reshape(shape) * spacing - 3)


@st.composite
def images_and_windows(draw, max_batch=2, max_channels=3):
    """(x, geometry): an (N, C, H, W) array and a window geometry that fits it."""
    input_size, geometry = draw(window_geometries())
    shape = (draw(st.integers(1, max_batch)), draw(st.integers(1, max_channels))) + input_size
    return draw(arrays(shape)), geometry


@st.composite
def pad_inputs(draw):
    """(x, pad tuple, mode, value): widths valid for the mode (constant may crop)."""
    x = draw(arrays(st.tuples(*[st.integers(1, 3)] * draw(st.integers(1, 4)))))
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    axes = draw(st.integers(1, x.ndim))
    widths = []
    for size in reversed(x.shape[x.ndim - axes:]):  # last axis first, as PyTorch's pad tuple
        limit = {"constant": 3, "reflect": size - 1, "replicate": 3, "circular": size}[mode]
        low = -((size - 1) // 2) if mode == "constant" else 0  # two crops leave at least one entry
        widths += [draw(st.integers(low, limit)), draw(st.integers(low, limit))]
    return x, tuple(widths), mode, draw(st.floats(-2, 2))


# ---- losses and normalization -----------------------------------------------------------------
@st.composite
def class_index_inputs(draw, ignore_index=-100, max_side=MAX_SIDE):
    """(logits, labels): logits (C,), (N, C) or (N, C, d1) with classes on axis 1, as PyTorch
    lays them out; integer labels of the logits' shape without the class axis, some equal to
    `ignore_index` (never all, so a mean has something to divide by)."""
    side = st.integers(1, max_side)
    classes = draw(side)
    logits_shape = draw(st.sampled_from([(classes,), (draw(side), classes), (draw(side), classes, draw(side))]))
    label_shape = logits_shape[:1] + logits_shape[2:] if len(logits_shape) > 1 else ()
    labels = draw(hnp.arrays(np.int64, label_shape, elements=st.integers(0, classes - 1)))
    ignored = draw(hnp.arrays(np.bool_, label_shape))
    if not ignored.all():
        labels = np.where(ignored, ignore_index, labels)
    return draw(arrays(logits_shape)), labels


@st.composite
def probability_targets(draw, logits_shape):
    """Probabilities of `logits_shape` that sum to 1 along the class axis (axis 1, or 0 for (C,))."""
    axis = 1 if len(logits_shape) > 1 else 0
    weights = draw(arrays(logits_shape, low=0.05, high=1.0))
    return weights / weights.sum(axis=axis, keepdims=True)


def class_weights(classes):
    """Positive per-class weights (C,), as `weight=` takes them."""
    return arrays((classes,), low=0.2, high=2.0)


def normalization_shapes(min_dims=2, max_dims=4, max_side=MAX_SIDE):
    """Input shapes (N, C, ...) with at least two values per channel, so a batch variance exists."""
    return shapes(min_dims=min_dims, max_dims=max_dims, max_side=max_side).filter(
        lambda shape: math.prod(shape) // shape[1] >= 2)
