"""conv2d, pooling, pad, unfold and fold: gradients against finite differences (first and second
order), forward against loops written from the definitions, the max-pool tie rule, dtypes,
no_grad, the layers, and the errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import conv2d_inputs, distinct_arrays, images_and_windows, pad_inputs, pool_inputs
from test_errors import test_shape_errors_name_the_op_and_the_shapes as shape_error_names_op_and_shapes
from test_higher_order import PROJECTIONS, gradient_of

import tinygrad_np.nn.functional as F
from tinygrad_np import ArgumentError, ShapeError, Tensor, gradcheck, kernels, nn, no_grad
from tinygrad_np.kernels import window

FEWER_EXAMPLES = settings(max_examples=max(5, settings.default.max_examples // 3))


def tensors(*arrays, dtype=None):
    return [None if a is None else Tensor(a, requires_grad=True, dtype=dtype) for a in arrays]


def naive_conv2d(x, weight, bias, stride, padding, dilation, groups):
    """One dot product per output entry, from the definition of cross-correlation."""
    batch, channels, height, width = x.shape
    out_channels, group_channels, kernel_h, kernel_w = weight.shape
    padded = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    out_h = (height + 2 * padding[0] - dilation[0] * (kernel_h - 1) - 1) // stride[0] + 1
    out_w = (width + 2 * padding[1] - dilation[1] * (kernel_w - 1) - 1) // stride[1] + 1
    out = np.zeros((batch, out_channels, out_h, out_w))
    per_group = out_channels // groups
    for n, o, p, q in np.ndindex(*out.shape):
        first = (o // per_group) * group_channels
        rows = p * stride[0] + dilation[0] * np.arange(kernel_h)
        columns = q * stride[1] + dilation[1] * np.arange(kernel_w)
        patch = padded[n, first:first + group_channels][:, rows][:, :, columns]
        out[n, o, p, q] = np.sum(patch * weight[o]) + (0 if bias is None else bias[o])
    return out


def naive_pool(x, kernel_size, stride, padding, dilation, reduce, pad_value):
    batch, channels, height, width = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2), constant_values=pad_value)
    out_h = (height + 2 * padding[0] - dilation[0] * (kernel_size[0] - 1) - 1) // stride[0] + 1
    out_w = (width + 2 * padding[1] - dilation[1] * (kernel_size[1] - 1) - 1) // stride[1] + 1
    out = np.zeros((batch, channels, out_h, out_w))
    for n, c, p, q in np.ndindex(*out.shape):
        rows = p * stride[0] + dilation[0] * np.arange(kernel_size[0])
        columns = q * stride[1] + dilation[1] * np.arange(kernel_size[1])
        out[n, c, p, q] = reduce(padded[n, c][rows][:, columns])
    return out


def without_dilation(geometry):
    return {key: value for key, value in geometry.items() if key != "dilation"}


@st.composite
def avg_pool_inputs(draw):
    x, geometry = draw(pool_inputs())
    geometry["dilation"] = (1, 1)  # avg_pool2d has none; the padding bound stays valid
    return x, geometry, draw(st.booleans())


# ---- first derivatives ----------------------------------------------------------------------------
@given(conv2d_inputs())
def test_conv2d_gradients_match_finite_differences(case):
    x, weight, bias, params = case
    inputs = (x, weight) if bias is None else (x, weight, bias)
    assert gradcheck(lambda *t: F.conv2d(*t, **params), *inputs)


@given(pool_inputs(distinct=True))
def test_max_pool2d_gradient_matches_finite_differences(case):
    x, geometry = case
    assert gradcheck(lambda t: F.max_pool2d(t, **geometry), x)


@given(avg_pool_inputs())
def test_avg_pool2d_gradient_matches_finite_differences(case):
    x, geometry, count_include_pad = case
    assert gradcheck(lambda t: F.avg_pool2d(t, **without_dilation(geometry), count_include_pad=count_include_pad), x)


def naive_pad(x, pad, mode, value):
    axes = len(pad) // 2
    widths = [(0, 0)] * (x.ndim - axes) + [(pad[2 * k], pad[2 * k + 1]) for k in reversed(range(axes))]
    if mode == "constant":
        grown = np.pad(x, [(max(b, 0), max(a, 0)) for b, a in widths], constant_values=value)
        return grown[tuple(slice(max(-b, 0), grown.shape[i] - max(-a, 0)) for i, (b, a) in enumerate(widths))]
    return np.pad(x, widths, mode={"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode])


@given(pad_inputs())
def test_pad_matches_numpy_and_finite_differences(case):
    x, pad, mode, value = case
    np.testing.assert_array_equal(F.pad(Tensor(x), pad, mode, value).data, naive_pad(x, pad, mode, value))
    assert gradcheck(lambda t: F.pad(t, pad, mode, value), x)


@given(images_and_windows())
def test_unfold_and_fold_gradients_match_finite_differences(case):
    x, geometry = case
    columns = F.unfold(Tensor(x), **geometry).data
    assert gradcheck(lambda t: F.unfold(t, **geometry), x)
    assert gradcheck(lambda t: F.fold(t, x.shape[2:], **geometry), columns)


# ---- second derivatives ---------------------------------------------------------------------------
@FEWER_EXAMPLES
@given(conv2d_inputs())
def test_conv2d_second_derivatives_match_finite_differences_of_the_gradient(case):
    x, weight, bias, params = case
    inputs = (x, weight) if bias is None else (x, weight, bias)
    assert gradcheck(gradient_of(lambda *t: F.conv2d(*t, **params)), *inputs, projections=PROJECTIONS)


@FEWER_EXAMPLES
@given(pool_inputs(distinct=True), avg_pool_inputs(), images_and_windows())
def test_pool_and_fold_second_derivatives_match_finite_differences(max_case, avg_case, fold_case):
    x, geometry = max_case
    assert gradcheck(gradient_of(lambda t: F.max_pool2d(t, **geometry)), x, projections=PROJECTIONS)
    x, geometry, count_include_pad = avg_case
    average = gradient_of(lambda t: F.avg_pool2d(t, **without_dilation(geometry), count_include_pad=count_include_pad))
    assert gradcheck(average, x, projections=PROJECTIONS)
    x, geometry = fold_case
    columns = F.unfold(Tensor(x), **geometry).data
    assert gradcheck(gradient_of(lambda t: F.fold(t, x.shape[2:], **geometry)), columns, projections=PROJECTIONS)


@FEWER_EXAMPLES
@given(pad_inputs())
def test_pad_second_derivatives_match_finite_differences_of_the_gradient(case):
    x, pad, mode, value = case
    assert gradcheck(gradient_of(lambda t: F.pad(t, pad, mode, value)), x, projections=PROJECTIONS)


def test_a_hessian_vector_product_through_two_convolutions():
    """d/dw of (grad_w(loss) . v), by create_graph, against a central difference of the gradient."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 2, 7, 7))
    first, second = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal((2, 3, 2, 2))
    vector = rng.standard_normal(first.shape)

    def loss(weight):
        hidden = F.conv2d(x, weight, padding=1).tanh()
        return F.max_pool2d(F.conv2d(hidden, Tensor(second), stride=2), 2).sum() ** 2

    def gradient(weight_values):
        weight = Tensor(weight_values, requires_grad=True)
        loss(weight).backward()
        return weight.grad.data

    weight = Tensor(first, requires_grad=True)
    loss(weight).backward(create_graph=True)
    grad, weight.grad = weight.grad, None
    (grad * vector).sum().backward()
    eps = 1e-6
    numeric = (gradient(first + eps * vector) - gradient(first - eps * vector)) / (2 * eps)
    np.testing.assert_allclose(weight.grad.data, numeric, rtol=1e-5, atol=1e-6)
    assert np.abs(numeric).max() > 1e-2


# ---- forward, dtypes, no_grad ---------------------------------------------------------------------
@given(conv2d_inputs(), st.sampled_from([np.float64, np.float32]))
def test_conv2d_forward_matches_the_definition_in_the_inputs_dtype(case, dtype):
    x, weight, bias, params = case
    inputs = [None if a is None else a.astype(dtype) for a in (x, weight, bias)]
    originals = [None if a is None else a.copy() for a in inputs]
    leaves = [None if a is None else Tensor.from_numpy(a).requires_grad_() for a in inputs]
    out = F.conv2d(*leaves, **params)
    expected = naive_conv2d(x, weight, bias, **params)
    assert out.dtype == dtype and out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, **({"rtol": 1e-12, "atol": 1e-12} if dtype == np.float64
                                                      else {"rtol": 1e-4, "atol": 1e-4}))
    out.backward(np.ones(out.shape))
    for leaf, array, original in zip(leaves, inputs, originals, strict=True):
        if leaf is not None:
            np.testing.assert_array_equal(array, original)
            assert leaf.grad.dtype == dtype and leaf.grad.shape == leaf.shape


@given(pool_inputs(), st.sampled_from([np.float64, np.float32]))
def test_pools_match_the_definition_in_the_inputs_dtype(case, dtype):
    x, geometry = case
    x = x.astype(dtype)
    out = F.max_pool2d(Tensor(x), **geometry)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.data, naive_pool(x, **geometry, reduce=np.max, pad_value=-np.inf))
    flat = dict(geometry, dilation=(1, 1))
    expected = naive_pool(x, **flat, reduce=lambda w: w.sum() / w.size, pad_value=0.0)
    out = F.avg_pool2d(Tensor(x), **without_dilation(flat))
    assert out.dtype == dtype
    np.testing.assert_allclose(out.data, expected, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)


def test_no_grad_records_nothing_and_gives_the_same_values():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((2, 3, 6, 6)), requires_grad=True)
    weight = nn.Parameter(rng.standard_normal((4, 3, 3, 3)))
    recorded = F.max_pool2d(F.conv2d(x, weight, padding=1), 2)
    with no_grad():
        plain = F.max_pool2d(F.conv2d(x, weight, padding=1), 2)
    assert recorded.requires_grad and not plain.requires_grad and plain.grad_fn is None
    np.testing.assert_array_equal(plain.data, recorded.data)


# ---- conventions ---------------------------------------------------------------------------------
def test_max_pool_splits_a_window_gradient_equally_among_tied_maxima():
    """Two tied maxima get 1/2 each, four get 1/4 (the library's tie rule, as for max)."""
    x = Tensor(np.array([[[[3.0, 3.0, 0.0, 0.0],
                           [1.0, 2.0, 0.0, 0.0]]]]), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[[[0.5, 0.5, 0.25, 0.25],
                                                  [0.0, 0.0, 0.25, 0.25]]]])


def test_overlapping_max_pool_windows_add_their_shares():
    """Kernel 3, stride 1 over [0, 5, 1, 5, 0]: windows [0 5 1] [5 1 5] [1 5 0] give 1, 1/2 + 1/2, 1."""
    x = Tensor(np.array([0.0, 5.0, 1.0, 5.0, 0.0]).reshape(1, 1, 1, 5), requires_grad=True)
    F.max_pool2d(x, (1, 3), stride=1).sum().backward()
    np.testing.assert_array_equal(x.grad.data.ravel(), [0.0, 1.5, 0.0, 1.5, 0.0])


@pytest.mark.parametrize("size", [8, 9])  # 9: a last row and column that no window covers
def test_non_overlapping_max_pool_gradient_equals_the_general_path(size, monkeypatch):
    """stride = kernel folds the gradient with fold_tiles (a reshape); the general path, the
    slice-add loop over kernel offsets, must give the same gradient, ties included."""
    rng = np.random.default_rng(1)
    x = np.maximum(rng.standard_normal((3, 2, size, size)), 0)  # ReLU-like: windows of tied zeros
    weights = rng.standard_normal((3, 2, size // 2, size // 2))

    def gradient():
        tensor = Tensor(x, requires_grad=True)
        (F.max_pool2d(tensor, 2) * weights).sum().backward()
        return tensor.grad.data

    fast = gradient()
    monkeypatch.setattr(window, "fold_tiles", lambda *args: pytest.fail("the general path took fold_tiles"))
    general_fold = lambda windows, size, **geometry: window.fold_by_offsets(windows, size, **geometry)  # noqa: E731
    monkeypatch.setattr(kernels, "fold", general_fold)  # the namespace a plain backward gets
    np.testing.assert_array_equal(fast, gradient())
    assert np.count_nonzero(fast) > 0


# ---- layers -----------------------------------------------------------------------------------------
def test_conv2d_layer_has_pytorch_weight_layout_and_he_initialisation():
    layer = nn.Conv2d(16, 48, (3, 5), groups=4, rng=np.random.default_rng(0))
    assert layer.weight.shape == (48, 4, 3, 5) and layer.bias.shape == (48,)
    assert layer.weight.dtype == np.float32 and not layer.bias.data.any()
    fan_in = 16 // 4 * 3 * 5
    assert abs(layer.weight.data.std() / np.sqrt(2 / fan_in) - 1) < 0.05  # 2,880 draws
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    same = nn.Conv2d(16, 48, (3, 5), groups=4, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(same.weight.data, layer.weight.data)
    assert nn.Conv2d(1, 2, 3, bias=False).bias is None
    assert repr(nn.Conv2d(1, 2, 3, padding=1, bias=False)) == \
        "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)"


def test_the_default_cnn_runs_forward_and_backward():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Conv2d(1, 32, 5, rng=rng), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 5, rng=rng),
                          nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1024, 10, rng=rng))
    images = Tensor(rng.random((3, 1, 28, 28), dtype=np.float32))
    loss = F.cross_entropy(model(images), np.array([1, 2, 3]))
    loss.backward()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias"]
    for parameter in model.parameters():
        assert parameter.grad.shape == parameter.shape and parameter.grad.dtype == np.float32
        assert np.abs(parameter.grad.data).max() > 0


def test_a_frozen_conv_passes_the_input_gradient_on_and_gives_itself_none():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((2, 3, 6, 5)), requires_grad=True)
    weight, bias = Tensor(rng.standard_normal((4, 3, 3, 2))), Tensor(rng.standard_normal(4), requires_grad=True)
    (F.conv2d(x, weight, bias, padding=1) ** 2).sum().backward()
    assert weight.grad is None and x.grad is not None and bias.grad is not None
    unfrozen = Tensor(weight.data, requires_grad=True)
    x2, bias2 = Tensor(x.data, requires_grad=True), Tensor(bias.data, requires_grad=True)
    (F.conv2d(x2, unfrozen, bias2, padding=1) ** 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, x2.grad.data)
    np.testing.assert_array_equal(bias.grad.data, bias2.grad.data)


def test_window_op_labels_show_every_geometry_value_but_its_default():
    x = Tensor(np.ones((1, 2, 6, 6)), requires_grad=True)
    assert F.conv2d(x, Tensor(np.ones((2, 1, 3, 3))), padding=1, groups=2).grad_fn.describe() == \
        "conv2d padding=(1, 1) groups=2"
    assert F.conv2d(x, Tensor(np.ones((2, 2, 3, 3)))).grad_fn.describe() == "conv2d"
    assert F.max_pool2d(x, 1, padding=0).grad_fn.describe() == "max_pool2d kernel_size=(1, 1)"


def test_pool_and_flatten_layers_call_their_functions():
    x = Tensor(np.arange(2 * 3 * 4 * 4, dtype=np.float32).reshape(2, 3, 4, 4))
    np.testing.assert_array_equal(nn.MaxPool2d(2)(x).data, F.max_pool2d(x, 2).data)
    np.testing.assert_array_equal(nn.AvgPool2d(3, 1, 1, count_include_pad=False)(x).data,
                                  F.avg_pool2d(x, 3, 1, 1, count_include_pad=False).data)
    assert nn.Flatten()(x).shape == (2, 48) and nn.Flatten(0, 1)(x).shape == (6, 4, 4)


# ---- errors -----------------------------------------------------------------------------------------
def ones(*shape):
    return Tensor(np.ones(shape), requires_grad=True)


@pytest.mark.parametrize("name, attempt, named", [
    ("conv2d", lambda: F.conv2d(ones(2, 3, 8, 8), ones(4, 2, 3, 3)), ["(2, 3, 8, 8)", "(4, 2, 3, 3)", "3 channels"]),
    ("conv2d", lambda: F.conv2d(ones(2, 4, 4, 4), ones(4, 4, 5, 5), padding=0), ["(2, 4, 4, 4)", "spans 5"]),
    ("conv2d", lambda: F.conv2d(ones(2, 4, 4, 4), ones(4, 4, 3, 3), dilation=2), ["(2, 4, 4, 4)", "dilation (2, 2)"]),
    ("conv2d", lambda: F.conv2d(ones(1, 4, 6, 6), ones(6, 2, 3, 3), groups=3),
     ["groups=3", "(1, 4, 6, 6)", "(6, 2, 3, 3)"]),
    ("conv2d", lambda: F.conv2d(ones(4, 6, 6), ones(2, 4, 3, 3)), ["4-D", "(4, 6, 6)"]),
    ("conv2d", lambda: F.conv2d(ones(1, 4, 6, 6), ones(2, 4, 3)), ["weight", "(2, 4, 3)"]),
    ("conv2d", lambda: F.conv2d(ones(1, 4, 6, 6), ones(2, 4, 3, 3), ones(3)), ["bias", "(3,)", "(2,)"]),
    ("max_pool2d", lambda: F.max_pool2d(ones(3, 8, 8), 2), ["4-D", "(3, 8, 8)"]),
    ("max_pool2d", lambda: F.max_pool2d(ones(1, 1, 2, 8), 3), ["(1, 1, 2, 8)", "spans 3"]),
    ("avg_pool2d", lambda: F.avg_pool2d(ones(8, 8), 2), ["4-D", "(8, 8)"]),
    ("unfold", lambda: F.unfold(ones(1, 1, 2, 2), 3), ["(1, 1, 2, 2)", "spans 3"]),
    ("fold", lambda: F.fold(ones(1, 9, 5), (4, 4), 3), ["(1, 9, 5)", "(4, 4)"]),
    ("pad", lambda: F.pad(ones(2, 3), (1, 1, 1, 1, 1, 1)), ["(2, 3)", "(1, 1, 1, 1, 1, 1)"]),
    ("pad", lambda: F.pad(ones(2, 3), (1,)), ["(2, 3)", "(1,)"]),
])
def test_shape_errors_name_the_op_and_the_shapes(name, attempt, named):
    shape_error_names_op_and_shapes(name, attempt, named)  # the check of test_errors.py, on these ops


@pytest.mark.parametrize("attempt, message", [
    (lambda: F.conv2d(ones(1, 1, 4, 4), ones(1, 1, 2, 2), stride=0), r"^stride must be .* got 0$"),
    (lambda: F.conv2d(ones(1, 1, 4, 4), ones(1, 1, 2, 2), padding=(1, -1)),
     r"^padding must be .* >= 0, got \(1, -1\)$"),
    (lambda: F.max_pool2d(ones(1, 1, 4, 4), 2, padding=2), r"^max_pool2d: padding \(2, 2\) must be at most half"),
    (lambda: F.pad(ones(1, 3), (1, 1), mode="wrap"), r"^pad: mode must be one of constant, reflect"),
    (lambda: F.pad(ones(1, 3), (3, 0), mode="reflect"),
     r"^pad: reflect padding \(3, 0\) .* size 3 must lie in \[0, 2\]$"),
    (lambda: nn.Conv2d(4, 6, 3, groups=4), r"^Conv2d needs positive channels divisible by groups"),
])
def test_bad_arguments_are_argument_errors(attempt, message):
    with pytest.raises(ArgumentError, match=message) as caught:
        attempt()
    assert not isinstance(caught.value, ShapeError)


def test_distinct_arrays_never_tie():
    @given(distinct_arrays((2, 3, 4, 5)))
    def check(x):
        assert len(np.unique(x)) == x.size
    check()
