"""Issue 15's everyday API by known answers: creation, the default generator, shapes, the
conventions of the new ops (kinks, var's correction, prod at zeros, norm at zero), dim=, the
layers, and clear errors. The gradients themselves are checked over the op table
(tests/test_ops_gradients.py, tests/test_higher_order.py) and against PyTorch (test_torch_parity.py)."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import arrays, grid_arrays, shapes

import tinygrad_np as tg
import tinygrad_np.nn.functional as F
from tinygrad_np import ArgumentError, ShapeError, Tensor, gradcheck, nn


def grad_of(fn, values):
    """The gradient of sum(fn(x)) at `values` (float64)."""
    x = Tensor(np.array(values, dtype=np.float64), requires_grad=True)
    fn(x).sum().backward()
    return x.grad.data


# ---- creation ---------------------------------------------------------------------------------
@pytest.mark.parametrize("make, expected", [
    (lambda: tg.zeros(2, 3), np.zeros((2, 3))),
    (lambda: tg.zeros((2, 3)), np.zeros((2, 3))),
    (lambda: tg.ones([4]), np.ones(4)),
    (lambda: tg.full((2, 2), 7.5), np.full((2, 2), 7.5)),
    (lambda: tg.arange(4), np.array([0.0, 1.0, 2.0, 3.0])),
    (lambda: tg.arange(1, 2, 0.25), np.array([1.0, 1.25, 1.5, 1.75])),
    (lambda: tg.eye(2, 3), np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])),
    (lambda: tg.eye(2), np.eye(2)),
    (lambda: tg.zeros(), np.zeros(())),
])
def test_creation_functions_give_float32_leaves_with_the_values_asked_for(make, expected):
    tensor = make()
    assert tensor.dtype == np.float32 and tensor.is_leaf and not tensor.requires_grad
    np.testing.assert_array_equal(tensor.data, expected)


def test_creation_takes_dtype_and_requires_grad():
    tensor = tg.ones(2, dtype=np.float64, requires_grad=True)
    assert tensor.dtype == np.float64 and tensor.requires_grad
    (tensor * 3).sum().backward()
    np.testing.assert_array_equal(tensor.grad.data, [3.0, 3.0])
    with pytest.raises(TypeError, match="floating"):
        tg.zeros(2, dtype=np.int64)


def test_like_functions_copy_shape_and_float_dtype():
    source = Tensor(np.arange(6.0).reshape(2, 3))
    for make, value in [(tg.zeros_like, 0.0), (tg.ones_like, 1.0)]:
        made = make(source)
        assert made.shape == (2, 3) and made.dtype == np.float64
        np.testing.assert_array_equal(made.data, np.full((2, 3), value))
    assert tg.zeros_like(np.zeros(3, dtype=np.int64)).dtype == np.float32  # ints become float32
    assert tg.ones_like(source, dtype=np.float32).dtype == np.float32


def test_creation_refuses_bad_sizes_and_steps():
    for bad in [(-1,), (2.5,), (True,)]:
        with pytest.raises(ValueError, match="non-negative integers"):
            tg.zeros(*bad)
    with pytest.raises(ValueError, match="step"):
        tg.arange(0, 3, 0)


# ---- the default generator --------------------------------------------------------------------
def test_manual_seed_makes_randn_rand_linear_embedding_and_dropout_repeat():
    def draw_everything():
        tg.manual_seed(7)
        x = tg.ones(50)
        return [tg.randn(3, 2).data, tg.rand(4).data, nn.Linear(3, 2).weight.data, nn.Embedding(4, 2).weight.data,
                nn.Dropout(0.5)(x).data, F.dropout(x, 0.5).data]
    first, second = draw_everything(), draw_everything()
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[-1], first[-2])  # the stream moves on between draws


def test_manual_seed_draws_what_numpy_s_default_rng_of_that_seed_draws():
    tg.manual_seed(3)
    np.testing.assert_array_equal(tg.randn(5, dtype=np.float64).data, np.random.default_rng(3).standard_normal(5))
    assert tg.manual_seed(3) is tg.random.default_generator()


def test_manual_seed_reseeds_in_place_so_layers_built_before_it_follow():
    dropout, x = nn.Dropout(0.5), tg.ones(40)
    tg.manual_seed(11)
    first = dropout(x).data
    tg.manual_seed(11)
    np.testing.assert_array_equal(dropout(x).data, first)


def test_an_explicit_rng_wins_over_the_default_generator():
    tg.manual_seed(0)
    layer = nn.Linear(4, 3, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(layer.weight.data, nn.Linear(4, 3, rng=np.random.default_rng(5)).weight.data)
    np.testing.assert_array_equal(tg.randn(3, rng=np.random.default_rng(5), dtype=np.float64).data,
                                  np.random.default_rng(5).standard_normal(3))
    before = tg.random.default_generator().bit_generator.state
    nn.Dropout(0.5, rng=np.random.default_rng(1))(tg.ones(10))
    assert tg.random.default_generator().bit_generator.state == before  # the default was not touched


@pytest.mark.parametrize("bad", [-1, 1.5, "0", None])
def test_manual_seed_refuses_what_is_not_a_non_negative_integer(bad):
    with pytest.raises(ValueError, match="manual_seed"):
        tg.manual_seed(bad)


# ---- shapes -----------------------------------------------------------------------------------
def test_squeeze_removes_size_one_axes_and_leaves_others_named_in_dim():
    x = Tensor(np.zeros((1, 3, 1)))
    assert x.squeeze().shape == (3,)
    assert x.squeeze(0).shape == (3, 1)
    assert x.squeeze(1).shape == (1, 3, 1)  # not size 1: unchanged, as in PyTorch
    assert x.squeeze((0, -1)).shape == (3,)
    assert x.unsqueeze(-1).shape == (1, 3, 1, 1) and x.unsqueeze(0).shape == (1, 1, 3, 1)


def test_split_and_chunk_follow_pytorch_s_piece_sizes():
    x = Tensor(np.arange(10.0))
    assert [piece.shape[0] for piece in x.split(4)] == [4, 4, 2]
    assert [piece.shape[0] for piece in x.split([3, 7])] == [3, 7]
    assert [piece.shape[0] for piece in x.chunk(3)] == [4, 4, 2]
    assert [piece.shape[0] for piece in Tensor(np.arange(6.0)).chunk(4)] == [2, 2, 2]  # fewer than asked
    with pytest.raises(ShapeError, match="add up"):
        x.split([3, 3])


def test_expand_repeat_flip_tril_triu_by_example():
    x = Tensor(np.array([[1.0], [2.0]]))
    np.testing.assert_array_equal(x.expand(3, -1, 2).data, np.broadcast_to(x.data, (3, 2, 2)))
    np.testing.assert_array_equal(x.repeat(1, 3).data, [[1, 1, 1], [2, 2, 2]])
    np.testing.assert_array_equal(Tensor(np.arange(3.0)).flip(0).data, [2, 1, 0])
    square = Tensor(np.arange(1.0, 10.0).reshape(3, 3))
    np.testing.assert_array_equal(square.tril().data, [[1, 0, 0], [4, 5, 0], [7, 8, 9]])
    np.testing.assert_array_equal(square.triu(1).data, [[0, 2, 3], [0, 0, 6], [0, 0, 0]])
    assert square.view(9).shape == (9,) and square.view(-1, 1).shape == (9, 1)


def test_tril_keeps_infinities_it_drops_out_of_the_values():
    x = Tensor(np.array([[1.0, np.inf], [2.0, 3.0]]))
    np.testing.assert_array_equal(x.tril().data, [[1.0, 0.0], [2.0, 3.0]])  # a mask product would give nan


def test_gather_picks_along_dim_and_repeated_indices_add_their_gradients():
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    index = np.array([[0, 0], [1, 0]])
    out = x.gather(1, index)
    np.testing.assert_array_equal(out.data, [[1.0, 1.0], [4.0, 3.0]])
    assert out.grad_fn.describe() == "getitem index=[int64[2, 1], int64[2, 2]]"  # a label, not the arrays' text
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[2.0, 0.0], [1.0, 1.0]])


def test_masked_fill_puts_the_value_where_the_mask_holds_and_passes_no_gradient_there():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    out = x.masked_fill(np.array([True, False, True]), -np.inf)
    np.testing.assert_array_equal(out.data, [-np.inf, 2.0, -np.inf])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 0.0])


def test_cat_is_concatenate_with_pytorch_s_dim():
    a, b = Tensor(np.zeros((2, 1))), Tensor(np.ones((2, 2)))
    assert tg.cat([a, b], dim=1).shape == (2, 3) and tg.cat([a, b], 1).shape == (2, 3)
    assert tg.stack([a, a], dim=0).shape == (2, 2, 1)


@pytest.mark.parametrize("call, message", [
    (lambda x: x.unsqueeze(3), "unsqueeze: dim 3 is out of range"),
    (lambda x: x.squeeze(2), "squeeze: dim 2"),
    (lambda x: x.flip(5), "flip: dim 5"),
    (lambda x: x.expand(3), "expand: 1 sizes"),
    (lambda x: x.expand(-1, 2, 3), r"expand: -1 in \(-1, 2, 3\)"),
    (lambda x: x.repeat(2), "repeat: 1 sizes"),
    (lambda x: x.gather(0, np.zeros((2,), dtype=int)), "same number of axes"),
    (lambda x: x.gather(0, np.zeros((2, 4), dtype=int)), "larger than"),
    (lambda x: x.tril()[0].tril(), "tril: needs at least two axes"),
    (lambda x: x.topk(4), "topk: k=4"),
    (lambda x: x.cumsum(axis=2), "cumsum"),
])
def test_bad_shape_arguments_name_the_op_and_the_problem(call, message):
    with pytest.raises((ShapeError, ArgumentError), match=message):
        call(Tensor(np.zeros((2, 3))))


def test_gather_refuses_out_of_range_and_non_integer_indices():
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(IndexError, match=r"gather: index values 0..3 outside \[0, 3\)"):
        x.gather(1, np.array([[0, 3]]))
    with pytest.raises(TypeError, match="integers"):
        x.gather(1, np.array([[0.5]]))


# ---- math conventions -------------------------------------------------------------------------
def test_sign_has_gradient_zero_even_under_an_infinite_incoming_gradient():
    np.testing.assert_array_equal(grad_of(Tensor.sign, [-2.0, 0.0, 3.0]), [0.0, 0.0, 0.0])
    x = Tensor(np.array([1.0, -1.0]), requires_grad=True)
    x.sign().backward(np.array([np.inf, 1.0]))
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])


def test_log1p_and_expm1_keep_tiny_values_exact():
    tiny = np.array([1e-18, -3e-17])
    np.testing.assert_array_equal(Tensor(tiny).log1p().data, tiny)
    np.testing.assert_array_equal(Tensor(tiny).expm1().data, tiny)
    np.testing.assert_array_equal(grad_of(Tensor.expm1, [-50.0]), [np.exp(-50.0)])  # not (out + 1) = 0


@given(arrays(low=-6.0, high=6.0))
def test_erf_is_math_erf_in_float64_and_rounds_once_in_float32(values):
    expected = np.vectorize(math.erf, otypes=[np.float64])(values)
    np.testing.assert_array_equal(Tensor(values).erf().data, expected)
    as_float32 = Tensor(values.astype(np.float32)).erf()
    assert as_float32.dtype == np.float32
    np.testing.assert_array_equal(as_float32.data, np.vectorize(math.erf)(values.astype(np.float32)).astype(np.float32))


# ---- activation conventions -------------------------------------------------------------------
@pytest.mark.parametrize("fn, at, expected", [
    (lambda x: x.leaky_relu(0.1), [0.0], [0.1]),
    (lambda x: x.elu(alpha=0.5), [0.0], [0.5]),
    (Tensor.relu6, [0.0, 6.0, 3.0, -1.0, 7.0], [0.0, 0.0, 1.0, 0.0, 0.0]),
    (lambda x: x.hardtanh(-2.0, 2.0), [-2.0, 2.0, 0.0], [0.0, 0.0, 1.0]),
    (Tensor.hardswish, [-3.0, 3.0, 0.0], [0.0, 1.0, 0.5]),
    (lambda x: x.clip(-2.0, 2.0), [-2.0, 2.0], [1.0, 1.0]),  # clip, unlike hardtanh, includes its bounds
])
def test_gradients_at_the_kinks(fn, at, expected):
    np.testing.assert_allclose(grad_of(fn, at), expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", ["softplus", "logsigmoid", "mish", "silu", "gelu", "elu", "leaky_relu"])
def test_activations_stay_finite_with_finite_gradients_for_huge_inputs(name):
    values = np.array([-1e3, -1e2, 1e2, 1e3], dtype=np.float32)
    x = Tensor(values, requires_grad=True)
    out = getattr(x, name)()
    out.sum().backward()
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(x.grad.data))


def test_softplus_is_x_above_the_threshold_and_logsigmoid_is_stable():
    np.testing.assert_array_equal(Tensor(np.array([30.0])).softplus().data, [30.0])
    np.testing.assert_allclose(Tensor(np.array([2.0])).softplus(beta=2.0, threshold=3.0).data, [2.0])
    np.testing.assert_allclose(Tensor(np.array([-1e3, 0.0])).logsigmoid().data, [-1e3, -math.log(2)])
    with pytest.raises(ArgumentError, match="approximate"):
        Tensor(np.zeros(1)).gelu(approximate="erf")
    with pytest.raises(ArgumentError, match="below max_val"):
        Tensor(np.zeros(1)).hardtanh(1.0, -1.0)


def test_activation_modules_and_functions_and_methods_agree():
    x = Tensor(np.linspace(-4, 4, 9))
    cases = [(nn.LeakyReLU(0.2), F.leaky_relu(x, 0.2)), (nn.ELU(0.5), F.elu(x, alpha=0.5)),
             (nn.GELU("tanh"), F.gelu(x, approximate="tanh")), (nn.SiLU(), x.silu()),
             (nn.Softplus(2.0, 5.0), F.softplus(x, 2.0, 5.0)), (nn.ReLU6(), x.relu6()),
             (nn.Hardtanh(-0.5, 0.5), x.hardtanh(-0.5, 0.5)), (nn.Hardswish(), x.hardswish()),
             (nn.Mish(), x.mish()), (nn.LogSigmoid(), x.logsigmoid()), (nn.Identity(3, key=1), x)]
    for module, expected in cases:
        np.testing.assert_array_equal(module(x).data, expected.data)
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    assert repr(nn.GELU()) == "GELU(approximate='none')" and repr(nn.ReLU6()) == "ReLU6()"
    assert nn.LeakyReLU().negative_slope == 0.01


# ---- reductions -------------------------------------------------------------------------------
def test_var_divides_by_n_minus_correction():
    x = Tensor(np.array([1.0, 2.0, 3.0, 6.0]))  # squared deviations add up to 14
    assert x.var().item() == pytest.approx(14 / 3)
    assert x.var(correction=0).item() == pytest.approx(14 / 4)
    assert x.var(correction=2).item() == pytest.approx(14 / 2)
    assert x.std().item() == pytest.approx(math.sqrt(14 / 3))
    assert x.var(correction=4).item() == math.inf  # N - correction <= 0, as in PyTorch
    with np.errstate(invalid="ignore"):
        assert math.isnan(Tensor(np.array([5.0])).var().item())


def test_prod_gradient_at_zeros_is_the_product_of_the_others():
    np.testing.assert_array_equal(grad_of(Tensor.prod, [0.0, 2.0, 3.0]), [6.0, 0.0, 0.0])
    np.testing.assert_array_equal(grad_of(Tensor.prod, [0.0, 2.0, 0.0]), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(grad_of(lambda x: x.prod(axis=1), [[0.0, 4.0], [2.0, 5.0]]),
                                  [[4.0, 0.0], [5.0, 2.0]])


@given(st.data())
def test_prod_gradient_matches_finite_differences_with_zeros_drawn_in(data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)), label="axis")
    values = data.draw(grid_arrays(shape, spacing=1.0).map(lambda x: np.clip(x, -2, 2)), label="values")
    assert gradcheck(lambda x: x.prod(axis=axis), values)


def test_prod_second_derivative_with_one_zero_in_a_slice():
    x = Tensor(np.array([0.0, 2.0, 3.0, -1.5]), requires_grad=True)
    (gradient,) = tg.autograd.grad(x.prod(), x, create_graph=True)
    hessian = np.stack([tg.autograd.grad(gradient[i], x, allow_unused=True)[0].data for i in range(4)])
    values = x.data
    expected = np.array([[0.0 if i == j else np.prod(np.delete(values, [i, j])) for j in range(4)] for i in range(4)])
    np.testing.assert_allclose(hessian, expected, rtol=1e-12)


def test_norm_of_a_zero_vector_has_gradient_zero_and_p_refused_when_unknown():
    for p in (2, 3, "fro"):
        np.testing.assert_array_equal(grad_of(lambda x, p=p: x.norm(p), [0.0, 0.0]), [0.0, 0.0])
    x = Tensor(np.array([[3.0, -4.0], [1.0, 0.0]]))
    np.testing.assert_allclose(x.norm(axis=1).data, [5.0, 1.0])
    np.testing.assert_allclose(x.norm(math.inf).data, 4.0)
    np.testing.assert_allclose(x.norm(1, dim=0).data, [4.0, 4.0])
    with pytest.raises(ArgumentError, match="norm: p"):
        x.norm("nuc")


def test_logsumexp_is_stable_and_keeps_minus_infinity_slices():
    x = Tensor(np.array([[1e3, 1e3], [-np.inf, -np.inf]]))
    with np.errstate(divide="ignore"):  # log(0) for the row of -inf
        np.testing.assert_allclose(x.logsumexp(axis=1).data, [1e3 + math.log(2), -np.inf])


def test_argmax_argmin_topk_return_integer_positions():
    x = Tensor(np.array([[1.0, 5.0, 5.0, 2.0], [0.0, -1.0, 3.0, 3.5]]), requires_grad=True)
    np.testing.assert_array_equal(x.argmax(axis=1), [1, 3])
    np.testing.assert_array_equal(x.argmin(dim=1, keepdim=True), [[0], [1]])
    assert x.argmax() == 1 and x.argmax().dtype.kind == "i"
    values, indices = x.topk(2)
    np.testing.assert_array_equal(indices, [[1, 2], [3, 2]])  # ties: the earlier position first
    np.testing.assert_array_equal(values.data, [[5.0, 5.0], [3.5, 3.0]])
    _, smallest = x.topk(1, dim=0, largest=False)
    np.testing.assert_array_equal(smallest, [[1, 1, 1, 0]])
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 1, 1, 0], [0, 0, 1, 1]])


def test_cumsum_by_example():
    x = Tensor(np.array([[1.0, 2.0, 3.0]]), requires_grad=True)
    np.testing.assert_array_equal(x.cumsum(1).data, [[1.0, 3.0, 6.0]])
    x.cumsum(dim=1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[3.0, 2.0, 1.0]])


# ---- dim= and keepdim= ----------------------------------------------------------------------------
@given(st.data())
def test_dim_and_keepdim_are_axis_and_keepdims(data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    x = Tensor(data.draw(arrays(shape), label="x"))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    keep = data.draw(st.booleans(), label="keepdims")
    for name in ["sum", "mean", "prod", "logsumexp", "var", "std", "norm", "argmax", "argmin"]:
        with np.errstate(all="ignore"):
            expected = getattr(x, name)(axis=axis, keepdims=keep)
            got = getattr(x, name)(dim=axis, keepdim=keep)
        np.testing.assert_array_equal(np.asarray(got), np.asarray(expected), err_msg=name)
    for name in ["softmax", "log_softmax", "cumsum"]:
        np.testing.assert_array_equal(getattr(x, name)(dim=axis).data, getattr(x, name)(axis=axis).data)


def test_axis_and_dim_together_are_refused_and_max_keeps_numpy_s_meaning():
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="both axis= and dim="):
        x.sum(axis=0, dim=1)
    with pytest.raises(TypeError, match="dim"):
        x.max(dim=1)  # PyTorch's max(dim) returns (values, indices): refused rather than half-copied


# ---- einsum -----------------------------------------------------------------------------------
@pytest.mark.parametrize("equation, message", [
    ("ii->i", "repeat an index"),
    ("ij,jk->ik", "2 operand subscripts"),
    ("ijk->i", "has 2 axes"),
    ("...i->i", "not in the output"),
    ("i1->i", "letters"),
])
def test_einsum_refuses_what_it_cannot_differentiate_or_read(equation, message):
    with pytest.raises(ArgumentError, match=message):
        tg.einsum(equation, Tensor(np.zeros((2, 2))))


def test_einsum_takes_operands_as_a_list_and_matches_matmul():
    a, b = Tensor(np.arange(6.0).reshape(2, 3)), Tensor(np.arange(12.0).reshape(3, 4))
    np.testing.assert_array_equal(tg.einsum("ij,jk->ik", [a, b]).data, a.data @ b.data)
    np.testing.assert_array_equal(tg.einsum("ij, jk", a, b).data, a.data @ b.data)


# ---- embedding, dropout, identity ---------------------------------------------------------------
def test_embedding_looks_up_rows_and_adds_the_gradients_of_repeats():
    layer = nn.Embedding(4, 2, rng=np.random.default_rng(0), dtype=np.float64)
    assert layer.weight.shape == (4, 2) and repr(layer) == "Embedding(4, 2)"
    indices = np.array([[1, 3], [1, 1]])
    out = layer(indices)
    np.testing.assert_array_equal(out.data, layer.weight.data[indices])
    out.sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.data[:, 0], [0.0, 3.0, 0.0, 1.0])
    np.testing.assert_array_equal(layer(Tensor([0.0, 2.0])).data, layer.weight.data[[0, 2]])


@pytest.mark.parametrize("indices, error, message", [
    (np.array([4]), ArgumentError, r"indices 4..4 outside \[0, 4\)"),
    (np.array([-1]), ArgumentError, "outside"),
    (np.array([0.5]), TypeError, "integers"),
])
def test_embedding_refuses_bad_indices(indices, error, message):
    with pytest.raises(error, match=message):
        F.embedding(indices, Tensor(np.zeros((4, 2))))


@given(hnp.arrays(np.float64, shapes(), elements=st.floats(0.5, 2.0)), st.floats(0.1, 0.9))
def test_functional_dropout_is_the_module_s_mask_and_identity_when_not_training(values, p):
    x = Tensor(values)
    np.testing.assert_array_equal(F.dropout(x, p, rng=np.random.default_rng(4)).data,
                                  nn.Dropout(p, rng=np.random.default_rng(4))(x).data)
    np.testing.assert_array_equal(F.dropout(x, p, training=False).data, values)
    with pytest.raises(ValueError, match="Dropout probability"):
        F.dropout(x, 1.0)


# ---- the package --------------------------------------------------------------------------------
def test_import_tinygrad_np_reaches_the_subpackages():
    import subprocess
    import sys
    code = ("import tinygrad_np as tg; print(tg.nn.Linear.__name__, tg.optim.SGD.__name__, "
            "tg.autograd.grad.__name__, tg.viz.draw_graph.__name__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["Linear", "SGD", "grad", "draw_graph"]
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        tg.nonexistent  # noqa: B018
