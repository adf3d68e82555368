"""The two namespaces a backward gets as `ops`: pure-NumPy kernels and their differentiable twins."""
import ast
from pathlib import Path

import numpy as np
import pytest
from lowerings import lowering

from tinygrad_np import Tensor, kernels
from tinygrad_np.autograd import differentiable
from tinygrad_np.kernels import conv as conv_kernels
from tinygrad_np.kernels import elementwise as elementwise_kernels
from tinygrad_np.kernels import normalization as normalization_kernels
from tinygrad_np.kernels import spectral
from tinygrad_np.kernels import window as window_kernels

KERNELS_DIR = Path(kernels.__file__).parent

# the 2x2 windows of a (2, 1, 4, 4) image with ties, as the (C, kH, kW, oH, oW, N) view max pooling gets
_POOL_WINDOWS = window_kernels.unfold(np.array([1.0, 2.0, 2.0, 0.0] * 8).reshape(2, 1, 4, 4),
                                      (2, 2), (2, 2), (0, 0), (1, 1))
# name -> (positional inputs, extra arguments); the first input is the differentiable one.
CALLS = {
    "values": ((np.arange(6.0).reshape(2, 3),), ()),
    "exp": ((np.linspace(-2, 2, 6).reshape(2, 3),), ()),
    "log": ((np.linspace(0.5, 3, 6).reshape(2, 3),), ()),
    "broadcast_to": ((np.arange(3.0),), ((2, 3),)),
    "sum_to": ((np.arange(6.0).reshape(2, 3),), ((1, 3),)),
    "scatter_add": ((np.array([1.0, 2.0, 3.0]),), (np.array([0, 2, 0]), (4,))),
    "permute": ((np.arange(24.0).reshape(2, 3, 4),), ((2, 0, 1),)),
    "softmax": ((np.array([[1.0, 2.0, 3.0], [1e3, 0.0, -1e3]]),), (1,)),
    "log_softmax": ((np.array([[1.0, 2.0, 3.0], [1e3, 0.0, -1e3]]),), (1,)),
    "unfold": ((np.arange(2 * 3 * 5 * 4.0).reshape(2, 3, 5, 4),), ((2, 3), (1, 2), (1, 0), (2, 1))),
    "fold": ((np.arange(3 * 2 * 3 * 2 * 2 * 2.0).reshape(3, 2, 3, 2, 2, 2),), ((3, 4), (2, 3), (1, 1), (0, 0), (1, 1))),
    "pad": ((np.arange(6.0).reshape(2, 3),), (((1, 0), (-1, 2)),)),
    "route_to_maxima": ((np.arange(1.0, 9.0).reshape(2, 1, 2, 2),), (_POOL_WINDOWS, _POOL_WINDOWS.max(axis=(1, 2)))),
    "sin": ((np.linspace(-4, 4, 6).reshape(2, 3),), ()),
    "cos": ((np.linspace(-4, 4, 6).reshape(2, 3),), ()),
    "expm1": ((np.array([-1e-10, 1e-12, 0.5, -2.0]),), ()),
    "erf": ((np.array([-3.0, -0.5, 0.0, 1e-9, 2.0]),), ()),
    "prod": ((np.array([[1.0, -2.0, 0.0], [0.5, 3.0, 2.0]]),), (1, True)),
    "cumsum": ((np.arange(6.0).reshape(2, 3),), (1,)),
}


def test_both_namespaces_expose_the_same_names():
    assert sorted(kernels.__all__) == sorted(differentiable.__all__) == sorted(
        [*CALLS, "einsum", "where", "conv_grads", "batch_norm_grads"])
    for name in kernels.__all__:
        assert callable(getattr(kernels, name)) and callable(getattr(differentiable, name))


@pytest.mark.parametrize("name", sorted(CALLS))
def test_the_twin_computes_what_the_kernel_computes_and_records_a_node(name):
    (x,), extra = CALLS[name]
    expected = getattr(kernels, name)(x, *extra)
    tensor = Tensor(x, requires_grad=True)
    result = getattr(differentiable, name)(tensor, *extra)
    if name == "values":
        assert result is tensor.data
        return
    assert isinstance(result, Tensor) and result.grad_fn is not None
    np.testing.assert_allclose(result.data, expected, rtol=1e-12)


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("name, geometry", [
    ("im2col", dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)),
    ("spectral", dict(stride=(1, 1), padding=(1, 0), dilation=(1, 2), groups=1)),
])
def test_the_conv_gradient_twin_computes_what_either_lowering_computes(bias, name, geometry):
    rng = np.random.default_rng(0)
    groups = geometry["groups"]
    x, weight = rng.standard_normal((2, 4, 6, 5)), rng.standard_normal((6, 4 // groups, 3, 2))
    with lowering(name):
        out, saved = conv_kernels.forward(x, weight, rng.standard_normal(6) if bias else None, **geometry)
    assert isinstance(saved, spectral.Saved) == (name == "spectral")
    g = rng.standard_normal(out.shape)
    needs = (True, True, bias)
    expected = kernels.conv_grads(g, x, weight, saved, **geometry, needs=needs)

    grads = differentiable.conv_grads(Tensor(g, requires_grad=True), Tensor(x), Tensor(weight), saved, **geometry,
                                      needs=needs)
    assert all(grad.grad_fn is not None for grad in grads if grad is not None)
    assert (grads[2] is None) == (expected[2] is None) == (not bias)
    for grad, value in zip(grads, expected, strict=True):
        if value is not None:
            np.testing.assert_allclose(grad.data, value, rtol=1e-10, atol=1e-12)
    if bias:
        np.testing.assert_allclose(expected[2], g.sum(axis=(0, 2, 3)), rtol=1e-10)


@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("batch_minor", [False, True])
def test_the_batch_norm_gradient_twin_computes_what_the_kernel_computes(affine, batch_minor):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3, 4, 2))
    if batch_minor:  # (C, H, W, N) memory, as the activations of a CNN lie
        x = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    weight = rng.standard_normal(3) if affine else None
    _, saved = normalization_kernels.batch_norm(x, weight, None, 1e-5)
    g = rng.standard_normal(x.shape)
    needs = (True, affine, True)
    expected = kernels.batch_norm_grads(g, x, weight, saved, 1e-5, needs)
    grads = differentiable.batch_norm_grads(Tensor(g, requires_grad=True), Tensor(x, requires_grad=True),
                                            None if weight is None else Tensor(weight), saved, 1e-5, needs)
    assert (grads[1] is None) == (expected[1] is None) == (not affine)
    for grad, value in zip(grads, expected, strict=True):
        if value is not None:
            assert grad.grad_fn is not None
            np.testing.assert_allclose(grad.data, value, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(expected[2], g.sum(axis=(0, 2, 3)), rtol=1e-12)


def test_where_takes_a_mask_and_two_operands_in_both():
    mask = np.array([True, False, True])
    x, y = np.array([1.0, 2.0, 3.0]), np.array([-1.0, -2.0, -3.0])
    expected = kernels.where(mask, x, y)
    np.testing.assert_array_equal(expected, [1.0, -2.0, 3.0])
    result = differentiable.where(mask, Tensor(x, requires_grad=True), y)
    assert result.grad_fn is not None
    np.testing.assert_array_equal(result.data, expected)


def test_einsum_takes_its_subscripts_by_keyword_and_constant_operands_in_the_twin():
    x, y = np.arange(6.0).reshape(2, 3), np.arange(3.0)
    expected = kernels.einsum(x, y, subscripts="ij,j->i")
    np.testing.assert_array_equal(expected, x @ y)
    result = differentiable.einsum(Tensor(x, requires_grad=True), y, subscripts="ij,j->i")
    assert result.grad_fn is not None
    np.testing.assert_array_equal(result.data, expected)


def test_sum_to_and_broadcast_to_are_adjoint():
    """<broadcast_to(x), y> = <x, sum_to(y)> for any x, y: the pair the walk relies on."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, 1)), rng.standard_normal((2, 3, 4))
    assert np.isclose(np.sum(kernels.broadcast_to(x, y.shape) * y), np.sum(x * kernels.sum_to(y, x.shape)))


def test_scatter_add_is_the_adjoint_of_indexing():
    rng = np.random.default_rng(1)
    x, index = rng.standard_normal(5), np.array([4, 0, 4, 2])
    y = rng.standard_normal(4)
    assert np.isclose(np.sum(x[index] * y), np.sum(x * kernels.scatter_add(y, index, x.shape)))


def test_the_kernels_import_nothing_of_the_library():
    for path in KERNELS_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            modules = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                       else [node.module] if isinstance(node, ast.ImportFrom) else [])
            for module in modules:
                assert not module.startswith("tinygrad_np") or module.startswith("tinygrad_np.kernels"), \
                    f"{path.name} imports {module}"


def test_relu_kernel_is_numpys_maximum_with_zero_and_keeps_the_layout():
    x = np.array([[-2.0, -0.0, 0.0, 3.5], [np.nan, -np.inf, np.inf, 1e-45]], np.float32).T  # transposed layout
    out = elementwise_kernels.relu(x)
    np.testing.assert_array_equal(out, np.maximum(x, 0))  # NaN stays NaN, -inf becomes 0
    assert out.dtype == np.float32 and out.strides == x.strides and not np.shares_memory(out, x)
