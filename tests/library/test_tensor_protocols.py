"""Tensor as PyTorch users expect it: transpose swaps two axes, NumPy and Python conversions work."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, shapes

from tinygrad_np import ShapeError, Tensor

try:
    import torch
except ImportError:
    torch = None


# ---- transpose, permute, .T, .mT --------------------------------------------------------------
def test_transpose_of_a_matrix_swaps_its_two_axes():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.transpose(0, 1).data, [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]])
    np.testing.assert_array_equal(x.transpose(1, 0).data, x.data.T)
    np.testing.assert_array_equal(x.transpose(0, 0).data, x.data)


@given(st.data())
def test_transpose_swaps_exactly_the_two_axes_named(data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    dim0, dim1 = (data.draw(st.integers(-len(shape), len(shape) - 1)) for _ in range(2))
    x = np.arange(float(np.prod(shape))).reshape(shape)
    out = Tensor(x).transpose(dim0, dim1)
    expected_shape = list(shape)
    expected_shape[dim0], expected_shape[dim1] = shape[dim1], shape[dim0]
    assert out.shape == tuple(expected_shape)
    np.testing.assert_array_equal(out.data, np.swapaxes(x, dim0, dim1))
    np.testing.assert_array_equal(Tensor(x).swapaxes(dim0, dim1).data, out.data)


@given(st.data())
def test_permute_T_and_mT_follow_numpy(data):
    x = data.draw(arrays(shapes(min_dims=2)), label="x")
    dims = data.draw(st.permutations(range(x.ndim)), label="dims")
    np.testing.assert_array_equal(Tensor(x).permute(*dims).data, np.transpose(x, dims))
    np.testing.assert_array_equal(Tensor(x).permute(dims).data, np.transpose(x, dims))
    np.testing.assert_array_equal(Tensor(x).T.data, x.T)  # all axes reversed, as torch's .T did
    np.testing.assert_array_equal(Tensor(x).mT.data, np.swapaxes(x, -1, -2))


@pytest.mark.skipif(torch is None, reason="PyTorch is an optional oracle")
def test_transpose_permute_and_mT_agree_with_pytorch():
    x = np.arange(24.0).reshape(2, 3, 4)
    ours, theirs = Tensor(x), torch.from_numpy(x)
    np.testing.assert_array_equal(ours.transpose(0, 2).data, theirs.transpose(0, 2).numpy())
    np.testing.assert_array_equal(ours.permute(2, 0, 1).data, theirs.permute(2, 0, 1).numpy())
    np.testing.assert_array_equal(ours.mT.data, theirs.mT.numpy())


def test_transpose_gradient_swaps_back():
    x = Tensor(np.arange(6.0).reshape(1, 2, 3), requires_grad=True)
    weights = np.arange(6.0).reshape(3, 2, 1)
    (x.transpose(0, 2) * weights).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.swapaxes(weights, 0, 2))


@pytest.mark.parametrize("attempt, op, named", [
    (lambda x: x.swapaxes(0, 7), "transpose", "(2, 3)"),
    (lambda x: x.transpose(0, -3), "transpose", "(2, 3)"),
    (lambda x: x.permute(0, 1, 2), "permute", "(2, 3)"),
    (lambda x: x.permute(0, 0), "permute", "(2, 3)"),
    (lambda x: x[5], "getitem", "(2, 3)"),
    (lambda x: x[0, 0, 0], "getitem", "(2, 3)"),
    (lambda x: x[np.array([0, 2])], "getitem", "(2, 3)"),
    (lambda x: x[0].mT, "transpose", "(3,)"),
])
def test_bad_axes_and_indices_raise_shape_errors_naming_the_op_and_shape(attempt, op, named):
    with pytest.raises(ShapeError) as caught:
        attempt(Tensor(np.ones((2, 3)), requires_grad=True))
    message = str(caught.value)
    assert message.startswith(op + ":") and named in message, message


# ---- NumPy and Python conversions ---------------------------------------------------------------
def test_asarray_gives_the_data_itself_without_a_copy():
    x = Tensor(np.arange(3.0))
    assert np.asarray(x) is x.data
    assert np.asarray(x, dtype=np.float64) is x.data
    assert np.array(x, copy=False) is x.data


def test_asarray_copies_or_converts_when_asked():
    x = Tensor(np.arange(3.0))
    copied = np.array(x)  # np.array copies by default
    assert not np.shares_memory(copied, x.data)
    np.testing.assert_array_equal(copied, x.data)
    converted = np.asarray(x, dtype=np.float32)
    assert converted.dtype == np.float32 and not np.shares_memory(converted, x.data)
    with pytest.raises(ValueError, match="without a copy"):
        np.array(x, dtype=np.float32, copy=False)


def test_a_list_of_tensors_becomes_a_float_array():
    rows = [Tensor(np.array([1.0, 2.0])), Tensor(np.array([3.0, 4.0]))]
    stacked = np.asarray(rows)
    assert stacked.dtype == np.float64 and stacked.shape == (2, 2)


@pytest.mark.parametrize("shape", [(), (1,), (1, 1, 1)])
def test_one_element_tensors_convert_to_python_numbers(shape):
    x = Tensor(np.full(shape, -2.75))
    assert float(x) == -2.75 and isinstance(float(x), float)
    assert int(x) == -2 and isinstance(int(x), int)  # toward zero, as int(-2.75)
    assert bool(x) is True and bool(Tensor(np.zeros(shape))) is False
    assert x.item() == -2.75


@pytest.mark.parametrize("convert", [float, int, bool, Tensor.item])
@pytest.mark.parametrize("shape", [(2,), (0,), (2, 3)])
def test_conversions_of_several_values_are_refused_with_the_shape(convert, shape):
    with pytest.raises(ValueError, match=r"one-element tensor.*" + str(shape).replace("(", r"\(").replace(")", r"\)")):
        convert(Tensor(np.ones(shape)))


@given(arrays())
def test_tolist_matches_numpy(x):
    assert Tensor(x).tolist() == x.tolist()


def test_iteration_yields_rows_that_stay_in_the_graph():
    x = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    rows = list(x)
    assert len(rows) == 3 and all(row.shape == (2,) for row in rows)
    (rows[0] * 2 + rows[2]).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[2.0, 2.0], [0.0, 0.0], [1.0, 1.0]])
    with pytest.raises(TypeError, match="0-d"):
        iter(Tensor(1.0))
