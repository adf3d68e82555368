"""Every op in the table: backward against finite differences, forward against NumPy, no mutation."""
import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from op_table import NONZERO, OPS, POSITIVE
from strategies import arrays, broadcastable_shapes, floats, matmul_shapes

from tinygrad_np import Tensor, gradcheck

TOLERANCE = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-5, atol=1e-6)}


@pytest.mark.parametrize("op", OPS, ids=str)
@given(data=st.data())
def test_backward_matches_finite_differences(op, data):
    inputs, params = data.draw(op.inputs, label="inputs, params")
    assert gradcheck(lambda *tensors: op.apply(*tensors, **params), *inputs)


@pytest.mark.parametrize("op", OPS, ids=str)
@given(data=st.data())
def test_forward_matches_numpy_and_leaves_inputs_alone(op, data):
    inputs, params = data.draw(op.inputs, label="inputs, params")
    dtype = data.draw(st.sampled_from([np.float64, np.float32]), label="dtype")
    inputs = [array.astype(dtype) for array in inputs]
    originals = [array.copy() for array in inputs]
    tensors = [Tensor.from_numpy(array).requires_grad_() for array in inputs]  # shares memory

    out = op.apply(*tensors, **params)
    expected = op.reference(*inputs, **params)
    assert out.dtype == dtype
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, **TOLERANCE[dtype])

    out.backward(np.ones(out.shape))
    for tensor, array, original in zip(tensors, inputs, originals, strict=True):
        np.testing.assert_array_equal(array, original)
        assert tensor.grad.shape == tensor.shape
        assert tensor.grad.dtype == dtype


# ---- Python numbers and ndarrays on either side of an operator --------------------------------
OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
             "**": operator.pow, "@": operator.matmul}
SIDES = [("tensor", "tensor"), ("tensor", "number"), ("number", "tensor"),
         ("tensor", "ndarray"), ("ndarray", "tensor")]
CASES = [(symbol, left, right) for symbol in OPERATORS for left, right in SIDES
         if not (symbol == "@" and "number" in (left, right))]


@st.composite
def operands(draw, symbol, left, right):
    """Values for `left <symbol> right`: positive bases for **, divisors away from zero."""
    left_range = POSITIVE if symbol == "**" else {}
    right_range = NONZERO if symbol == "/" else dict(low=-2.0, high=2.0) if symbol == "**" else {}
    shapes = draw(matmul_shapes() if symbol == "@" else broadcastable_shapes(2).map(lambda b: b.input_shapes))
    values = []
    for kind, shape, value_range in zip((left, right), shapes, (left_range, right_range), strict=True):
        values.append(draw(floats(**value_range)) if kind == "number" else draw(arrays(shape, **value_range)))
    return values


@pytest.mark.parametrize("symbol, left, right", CASES)
@given(data=st.data())
def test_operators_take_numbers_and_arrays_on_either_side(symbol, left, right, data):
    values = data.draw(operands(symbol, left, right), label="operands")
    differentiable = [value for value, kind in zip(values, (left, right), strict=True) if kind == "tensor"]

    def apply(*tensors):
        supply = iter(tensors)
        return OPERATORS[symbol](*(next(supply) if kind == "tensor" else value
                                   for value, kind in zip(values, (left, right), strict=True)))

    out = apply(*(Tensor(value) for value in differentiable))
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.data, OPERATORS[symbol](*values), rtol=1e-12, atol=1e-12)
    assert gradcheck(apply, *differentiable)
