"""Clear errors: shapes named with the op, refused dtypes, misused backward, and gradcheck's report."""
import re

import numpy as np
import pytest

import tinygrad_np as tg
import tinygrad_np.nn.functional as F
from tinygrad_np import GradcheckError, ShapeError, Tensor, gradcheck
from tinygrad_np.function import Function


def ones(*shape):
    return Tensor(np.ones(shape), requires_grad=True)


# ---- shapes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, attempt, named", [
    ("add", lambda: ones(2, 3) + ones(4), ["(2, 3)", "(4,)"]),
    ("mul", lambda: ones(2, 3) * np.ones((3, 2)), ["(2, 3)", "(3, 2)"]),
    ("matmul", lambda: ones(2, 3) @ ones(4, 5), ["(2, 3)", "(4, 5)"]),
    ("matmul", lambda: ones(3) @ ones(2), ["(3,)", "(2,)"]),
    ("matmul", lambda: ones() @ ones(2), ["()", "(2,)"]),
    ("reshape", lambda: ones(2, 3).reshape(4), ["(2, 3)", "(4,)"]),
    ("reshape", lambda: ones(2, 3).reshape(4, -1), ["(2, 3)", "(4, -1)"]),
    ("maximum", lambda: tg.maximum(ones(2), ones(3)), ["(2,)", "(3,)"]),
    ("where", lambda: tg.where(np.ones(2, dtype=bool), ones(3), ones(3)), ["(3,)", "(2,)"]),
    ("broadcast_to", lambda: ones(2, 3).broadcast_to((3, 3)), ["(2, 3)", "(3, 3)"]),
    ("concatenate", lambda: tg.concatenate([ones(2, 3), ones(2, 4)], axis=0), ["(2, 3)", "(2, 4)"]),
    ("stack", lambda: tg.stack([ones(2), ones(3)]), ["(2,)", "(3,)"]),
    ("cross_entropy", lambda: F.cross_entropy(ones(2, 3), np.array([0, 1, 2])), ["(2, 3)", "3 labels"]),
    ("getitem", lambda: ones(2, 3)[5], ["(2, 3)", "index=5"]),
    ("getitem", lambda: ones(2, 3)[0, 0, 0], ["(2, 3)", "too many indices"]),
    ("getitem", lambda: ones(2, 3)[np.array([7])], ["(2, 3)", "index 7"]),
    ("getitem", lambda: ones(2, 3)[:, np.ones(4, dtype=bool)], ["(2, 3)", "boolean index"]),
    ("transpose", lambda: ones(2, 3).swapaxes(0, 7), ["(2, 3)", "dim0=0, dim1=7"]),
    ("transpose", lambda: ones(2, 3).swapaxes(-3, 1), ["(2, 3)", "dim0=-3, dim1=1"]),
])
def test_shape_errors_name_the_op_and_the_shapes(name, attempt, named):
    with pytest.raises(ShapeError) as caught:
        attempt()
    message = str(caught.value)
    assert message.startswith(name + ":"), message
    for shape in named:
        assert shape in message, message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("attempt, message", [
    (lambda: F.cross_entropy(ones(2, 3), np.array([0, 3])), r"^cross_entropy: labels must lie in \[0, 3\), got 0..3$"),
    (lambda: F.cross_entropy(ones(2, 3), np.array([-1, 2], np.int8)), r"^cross_entropy: labels .* got -1..2$"),
    (lambda: F.cross_entropy(ones(2, 3), np.array([1, 2**63 + 1], np.uint64)),
     r"^cross_entropy: labels .* got 1..9223"),
    (lambda: F.cross_entropy(ones(2, 3), np.array([1, 2**64 - 1], np.uint64)),
     r"^cross_entropy: labels .* got 1..1844"),
    (lambda: ones(2, 3).clip(), r"^clip needs low, high or both$"),
])
def test_bad_values_that_are_not_shape_problems_are_argument_errors(attempt, message):
    with pytest.raises(tg.ArgumentError, match=message) as caught:
        attempt()
    assert not isinstance(caught.value, ShapeError)


# ---- dtypes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("data, dtype", [
    ("abc", None),
    (np.array(["a", "b"]), None),
    ([object()], None),
    (np.array([1 + 2j]), None),
    ([1 + 2j], None),
    (np.array([1 + 2j]), np.float64),   # an explicit dtype must not drop the imaginary part
    (["1.5"], np.float32),              # nor parse strings
    ([1, 2], np.int32),                 # tensors hold floats
    (1.0, complex),
])
def test_non_real_data_or_dtype_is_refused_at_construction(data, dtype):
    with pytest.raises(TypeError):
        Tensor(data, dtype=dtype)


def test_an_op_with_a_string_operand_is_refused():
    with pytest.raises(TypeError):
        ones(2) + np.array(["a", "b"])


# ---- backward misuse --------------------------------------------------------------------------
def test_backward_without_grad_needs_a_one_element_tensor():
    with pytest.raises(RuntimeError, match=r"one-element.*\(2, 3\)"):
        (ones(2, 3) * 2).backward()


def test_backward_on_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.ones(1)).backward()
    with tg.no_grad():
        out = (ones(1) * 2).sum()
    with pytest.raises(RuntimeError, match="does not require grad"):
        out.backward()


def test_backward_with_a_grad_of_the_wrong_shape():
    with pytest.raises(ShapeError, match=r"\(3,\).*\(2,\)"):
        (ones(2) * 2).backward(np.ones(3))


def test_retain_grad_and_requires_grad_misuse():
    with pytest.raises(RuntimeError):
        Tensor(np.ones(2)).retain_grad()
    with pytest.raises(RuntimeError):
        (ones(2) * 2).requires_grad_(False)


# ---- gradcheck --------------------------------------------------------------------------------
class HalfSquare(Function):
    """x^2 with a deliberately wrong backward: x instead of 2x."""
    name = "half_square"
    def forward(self, x): return x * x
    def backward(self, ops, g, out, x): return g * x


REPORT = re.compile(r"input (\d+), element \(([\d, ]*)\): analytic (\S+) vs numeric (\S+)")


def read_report(error):
    found = REPORT.search(str(error))
    assert found, str(error)
    position, element, analytic, numeric = found.groups()
    return int(position), tuple(int(i) for i in element.split(",") if i.strip()), float(analytic), float(numeric)


def test_gradcheck_names_the_input_the_worst_element_and_both_values():
    # Only one entry is non-zero, so the wrong derivative shows at exactly that element.
    wrong = np.zeros((2, 3))
    wrong[1, 2] = 5.0
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda a, b: a * b + HalfSquare.apply(b), np.full((2, 3), 0.5), wrong)
    position, element, analytic, numeric = read_report(caught.value)
    assert (position, element) == (1, (1, 2))
    # d/db (a b + b^2) at that element is u (0.5 + 10), the wrong backward gives u (0.5 + 5)
    assert numeric != 0 and numeric == pytest.approx(analytic * 10.5 / 5.5, rel=1e-6)
    assert isinstance(caught.value, AssertionError)


def test_gradcheck_projection_mode_also_catches_a_wrong_backward():
    with pytest.raises(GradcheckError, match=r"input 0, projection \d+: analytic .* vs numeric"):
        gradcheck(HalfSquare.apply, np.linspace(1.0, 2.0, 6), projections=2)


def test_gradcheck_passes_a_right_backward_and_leaves_its_inputs_alone():
    x = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    original = x.copy()
    assert gradcheck(lambda t: (t * t).tanh(), x) is True
    assert gradcheck(lambda t: (t * t).tanh(), x, projections=2) is True
    np.testing.assert_array_equal(x, original)


def test_gradcheck_works_in_float64_whatever_the_input_dtype():
    """At float32 precision an eps of 1e-6 would be noise; gradcheck promotes to float64."""
    assert gradcheck(lambda t: t.exp(), np.linspace(-1.0, 1.0, 5).astype(np.float32))


def test_gradcheck_needs_something_to_check():
    with pytest.raises(ValueError, match="no input to check"):
        gradcheck(lambda t: t * 2, Tensor(np.ones(2)))
