"""autograd.functional: vjp, jvp, jacobian, hessian, vhp, hvp against finite differences over
hypothesis-drawn shapes, against torch.autograd.functional where installed, PyTorch's forms of
inputs and results, strict mode, create_graph, and no `.grad` touched."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays

from tinygrad_np import ShapeError, Tensor, enable_grad, no_grad
from tinygrad_np.autograd import functional as AF
from tinygrad_np.autograd import grad


# ---- functions to differentiate, and their Jacobians by central differences --------------------
def two_outputs(x, y):
    """(sum over rows of (tanh(x) @ y)^2, exp(x) * x): two outputs of two inputs."""
    return ((x.tanh() @ y) ** 2).sum(axis=0), x.exp() * x


def scalar(x, y):
    """A one-element function of two inputs with every kind of second derivative."""
    return ((x.tanh() @ y) ** 3).sum() + (x * x).sum() * y.sum()


def numeric_jacobian(func, inputs, output_index=None, eps=1e-6):
    """d output / d input for every input, each block of shape output.shape + input.shape: one
    central difference per unit direction of each input, on shifted copies (the inputs stay as
    they are). Written apart from gradcheck's, which differentiates one scalar, so as not to
    check autograd.functional with the code it is compared with."""
    def output_at(values):
        with no_grad():
            result = func(*(Tensor(value) for value in values))
        return (result if output_index is None else result[output_index]).data

    def shifted(position, step):
        return output_at([value + step if i == position else value for i, value in enumerate(inputs)])

    blocks = []
    for position, value in enumerate(inputs):
        units = np.eye(value.size).reshape((value.size,) + value.shape)
        slopes = [(shifted(position, eps * unit) - shifted(position, -eps * unit)) / (2 * eps) for unit in units]
        blocks.append(np.stack(slopes, axis=-1).reshape(slopes[0].shape + value.shape))
    return blocks


def numeric_hessian(func, inputs, eps=1e-5):
    """Blocks [i][j] = d^2 f / d input_i d input_j, as central differences of the exact gradient."""
    def gradient(*tensors):
        leaves = [t.detach().requires_grad_() for t in tensors]
        with enable_grad():  # numeric_jacobian evaluates under no_grad
            return grad(func(*leaves), leaves)

    return [numeric_jacobian(lambda *t, i=i: gradient(*t)[i], inputs, eps=eps) for i in range(len(inputs))]


@st.composite
def matrix_pairs(draw):
    """(x (a, b), y (b, c)) with sides 1..3, values in [-1.5, 1.5]."""
    a, b, c = (draw(st.integers(1, 3)) for _ in range(3))
    return draw(arrays((a, b), low=-1.5, high=1.5)), draw(arrays((b, c), low=-1.5, high=1.5))


CLOSE = dict(rtol=1e-5, atol=1e-7)


# ---- against finite differences ----------------------------------------------------------------
@given(pair=matrix_pairs())
def test_jacobian_blocks_match_finite_differences(pair):
    x, y = pair
    blocks = AF.jacobian(two_outputs, (Tensor(x), Tensor(y)))
    for output_index, row in enumerate(blocks):
        for block, expected in zip(row, numeric_jacobian(two_outputs, [x, y], output_index), strict=True):
            np.testing.assert_allclose(block.data, expected, **CLOSE)


@given(pair=matrix_pairs(), data=st.data())
def test_vjp_and_jvp_are_the_jacobian_products(pair, data):
    x, y = pair
    inputs = (Tensor(x), Tensor(y))
    outputs = two_outputs(*inputs)
    u = [data.draw(arrays(output.shape)) for output in outputs]
    v = [data.draw(arrays(value.shape)) for value in (x, y)]
    jacobians = [numeric_jacobian(two_outputs, [x, y], k) for k in range(2)]

    values, products = AF.vjp(two_outputs, inputs, tuple(Tensor(w) for w in u))
    for j, product in enumerate(products):  # sum_k u_k^T J_kj
        expected = sum(np.tensordot(u[k], jacobians[k][j], axes=u[k].ndim) for k in range(2))
        np.testing.assert_allclose(product.data, expected, **CLOSE)
    for value, output in zip(values, outputs, strict=True):
        np.testing.assert_array_equal(value.data, output.data)

    _, products = AF.jvp(two_outputs, inputs, tuple(Tensor(w) for w in v))
    for k, product in enumerate(products):  # sum_j J_kj v_j
        expected = sum(np.tensordot(jacobians[k][j], v[j], axes=v[j].ndim) for j in range(2))
        np.testing.assert_allclose(product.data, expected, **CLOSE)


@given(pair=matrix_pairs(), data=st.data())
def test_hessian_hvp_and_vhp_match_finite_differences(pair, data):
    x, y = pair
    inputs = (Tensor(x), Tensor(y))
    expected = numeric_hessian(scalar, [x, y])
    blocks = AF.hessian(scalar, inputs)
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(blocks[i][j].data, expected[i][j], **CLOSE)

    v = [data.draw(arrays(value.shape)) for value in (x, y)]
    hv = [sum(np.tensordot(expected[i][j], v[j], axes=v[j].ndim) for j in range(2)) for i in range(2)]
    vh = [sum(np.tensordot(v[i], expected[i][j], axes=v[i].ndim) for i in range(2)) for j in range(2)]
    value, products = AF.hvp(scalar, inputs, tuple(Tensor(w) for w in v))
    assert value.item() == pytest.approx(scalar(*inputs).item(), rel=1e-12)
    for product, wanted in zip(products, hv, strict=True):
        np.testing.assert_allclose(product.data, wanted, **CLOSE)
    _, products = AF.vhp(scalar, inputs, tuple(Tensor(w) for w in v))
    for product, wanted in zip(products, vh, strict=True):
        np.testing.assert_allclose(product.data, wanted, **CLOSE)


# ---- known answers and PyTorch's forms ----------------------------------------------------------
def test_one_input_gives_tensors_and_a_tuple_gives_tuples():
    x = Tensor(np.array([1.0, 2.0]))
    jacobian = AF.jacobian(lambda x: x ** 2, x)
    np.testing.assert_allclose(jacobian.data, np.diag([2.0, 4.0]))
    hessian = AF.hessian(lambda x: (x ** 3).sum(), x)
    np.testing.assert_allclose(hessian.data, np.diag([6.0, 12.0]))
    (row,) = AF.jacobian(lambda x: x ** 2, (x,))
    assert isinstance(row, Tensor) and row.shape == (2, 2)
    ((block,),) = AF.hessian(lambda x: (x ** 3).sum(), (x,))
    assert block.shape == (2, 2)
    per_output = AF.jacobian(lambda x: (x.sum(), x * 3), x)
    assert isinstance(per_output, tuple) and [b.shape for b in per_output] == [(2,), (2, 2)]
    value, product = AF.vjp(lambda x: (x ** 2).sum(), x)  # v may be None for a one-element output
    assert value.item() == 5.0 and product.data.tolist() == [2.0, 4.0]
    value, product = AF.jvp(lambda x: x * 2, Tensor(np.array(3.0)))  # and for a one-element input
    assert product.item() == 2.0


def test_an_input_no_output_depends_on_gets_zeros_or_in_strict_mode_an_error():
    x, y = Tensor(np.ones(2)), Tensor(np.ones(3))
    blocks = AF.jacobian(lambda x, y: x * 2, (x, y))
    assert blocks[1].shape == (2, 3) and not blocks[1].data.any()
    _, (_, unused) = AF.vjp(lambda x, y: (x * 2).sum(), (x, y))
    assert unused.data.tolist() == [0.0, 0.0, 0.0]
    _, product = AF.jvp(lambda x, y: x * 0 + 1, (x, y), (Tensor(np.ones(2)), Tensor(np.ones(3))))
    assert product.data.tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="output 0 of the function is independent of input 1"):
        AF.jacobian(lambda x, y: x * 2, (x, y), strict=True)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.vjp(lambda x, y: (x * 2).sum(), (x, y), strict=True)


def test_results_are_cut_from_the_graph_and_no_grad_is_touched():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    for result in [AF.jacobian(lambda x: x ** 2, x), AF.hessian(lambda x: (x ** 3).sum(), x),
                   AF.hvp(lambda x: (x ** 3).sum(), x, Tensor(np.ones(2)))[1]]:
        assert not result.requires_grad
    assert x.grad is None


def test_create_graph_keeps_the_results_differentiable_back_to_the_inputs():
    """d/dx of (H v) for f = sum x^3 with v = 1: H v = 6x, so the derivative of its sum is 6 each."""
    x = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    _, product = AF.hvp(lambda x: (x ** 3).sum(), x, Tensor(np.ones(2)), create_graph=True)
    np.testing.assert_allclose(product.data, [6.0, -12.0])
    (third,) = grad(product.sum(), x)
    np.testing.assert_allclose(third.data, [6.0, 6.0])
    hessian = AF.hessian(lambda x: (x ** 3).sum(), x, create_graph=True)
    (through,) = grad(hessian.sum(), x)
    np.testing.assert_allclose(through.data, [6.0, 6.0])


def test_works_inside_no_grad():
    with no_grad():
        jacobian = AF.jacobian(lambda x: x.exp(), Tensor(np.zeros(2)))
    np.testing.assert_allclose(jacobian.data, np.eye(2))


@pytest.mark.parametrize("attempt, error, message", [
    (lambda: AF.vjp(lambda x: x * 2, Tensor(np.ones(2))), RuntimeError, "v may be None only"),
    (lambda: AF.jvp(lambda x: x * 2, Tensor(np.ones(2))), RuntimeError, "v may be None only"),
    (lambda: AF.vjp(lambda x: x * 2, Tensor(np.ones(2)), Tensor(np.ones(3))), ShapeError,
     r"vjp: v\[0\] has shape \(3,\), output 0 has shape \(2,\)"),
    (lambda: AF.hvp(lambda x: x * 2, Tensor(np.ones(2)), Tensor(np.ones(2))), RuntimeError,
     r"hvp: the function must return a single Tensor with one element, got \(2,\)"),
    (lambda: AF.jacobian(lambda x: x, np.ones(2)), TypeError, "jacobian: inputs must be a Tensor"),
    (lambda: AF.jacobian(lambda x: x.data, Tensor(np.ones(2))), TypeError, "must return a Tensor"),
])
def test_misuse_is_named(attempt, error, message):
    with pytest.raises(error, match=message):
        attempt()


# ---- PyTorch as an oracle ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"])
@pytest.mark.parametrize("tupled", [False, True])
def test_matches_torch_autograd_functional(name, tupled):
    """The same functions (two_outputs and scalar use only methods both libraries have) on the same
    inputs; one input (a Tensor, the other input held fixed) or a tuple of two."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
    func = scalar if name in ("hessian", "vhp", "hvp") else two_outputs

    def call(library, as_tensor):
        fixed_y = as_tensor(y)
        inputs = (as_tensor(x), fixed_y) if tupled else as_tensor(x)
        function = func if tupled else lambda x: func(x, fixed_y)
        vectors = []
        if name in ("jvp", "vhp", "hvp"):
            vectors = [rng_vectors[shape] for shape in ([x.shape, y.shape] if tupled else [x.shape])]
        elif name == "vjp":
            vectors = [rng_vectors[shape] for shape in [(2,), (2, 3)]]
        extra = [tuple(as_tensor(v) for v in vectors) if len(vectors) > 1 else as_tensor(vectors[0])] if vectors else []
        return getattr(library, name)(function, inputs, *extra)

    rng_vectors = {shape: rng.standard_normal(shape) for shape in [(2,), (2, 3), (3, 2)]}
    assert_same_structure(call(AF, Tensor), call(torch.autograd.functional, torch.tensor))


def assert_same_structure(ours, theirs):
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for mine, reference in zip(ours, theirs, strict=True):
            assert_same_structure(mine, reference)
    else:
        assert isinstance(ours, Tensor) and ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
