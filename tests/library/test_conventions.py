"""Known answers for the library's conventions: kinks, ties, dtypes, accumulation, graph lifetime."""
import gc
import weakref

import numpy as np
import pytest

import tinygrad_np as tg
import tinygrad_np.nn.functional as F
from tinygrad_np import Tensor


def grad_of(fn, values, dtype=np.float64):
    """The gradient of sum(fn(x)) at `values`."""
    x = Tensor(np.array(values, dtype=dtype), requires_grad=True)
    fn(x).sum().backward()
    return x.grad.data


# ---- derivatives at kinks and ties ------------------------------------------------------------
def test_relu_derivative_at_zero_is_zero():
    np.testing.assert_array_equal(grad_of(Tensor.relu, [-1.0, 0.0, 2.0]), [0.0, 0.0, 1.0])


def test_abs_derivative_at_zero_is_zero():
    np.testing.assert_array_equal(grad_of(Tensor.abs, [-2.0, 0.0, 3.0]), [-1.0, 0.0, 1.0])


def test_clip_passes_the_gradient_on_its_bounds():
    np.testing.assert_array_equal(grad_of(lambda x: x.clip(-1.0, 1.0), [-3.0, -1.0, 0.0, 1.0, 2.0]),
                                  [0.0, 1.0, 1.0, 1.0, 0.0])


def test_max_splits_the_gradient_equally_among_ties():
    np.testing.assert_array_equal(grad_of(Tensor.max, [1.0, 3.0, 3.0, 2.0]), [0.0, 0.5, 0.5, 0.0])
    np.testing.assert_allclose(grad_of(Tensor.max, [2.0, 2.0, 2.0]), [1 / 3, 1 / 3, 1 / 3])
    np.testing.assert_array_equal(grad_of(lambda x: x.max(axis=1), [[1.0, 1.0], [2.0, 0.0]]),
                                  [[0.5, 0.5], [1.0, 0.0]])


def test_min_splits_the_gradient_equally_among_ties():
    np.testing.assert_array_equal(grad_of(Tensor.min, [2.0, 1.0, 1.0]), [0.0, 0.5, 0.5])


@pytest.mark.parametrize("pick", [tg.maximum, tg.minimum])
def test_maximum_and_minimum_split_ties_between_the_two_sides(pick):
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = Tensor(np.array([1.0, 5.0 if pick is tg.maximum else -5.0]), requires_grad=True)
    pick(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.5, 0.0])
    np.testing.assert_array_equal(y.grad.data, [0.5, 1.0])


def test_mean_divides_by_the_number_of_elements_reduced():
    np.testing.assert_array_equal(grad_of(Tensor.mean, np.ones((2, 3))), np.full((2, 3), 1 / 6))
    np.testing.assert_array_equal(grad_of(lambda x: x.mean(axis=1), np.ones((2, 3))), np.full((2, 3), 1 / 3))
    np.testing.assert_array_equal(grad_of(lambda x: x.mean(axis=(0, 1)), np.ones((2, 3))), np.full((2, 3), 1 / 6))


def test_reduction_axis_may_be_a_numpy_integer():
    np.testing.assert_array_equal(grad_of(lambda x: x.max(axis=np.int64(1)), [[1.0, 2.0]]), [[0.0, 1.0]])


# ---- dtypes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("data, dtype", [
    (np.array([1.0, 2.0]), np.float64),           # float arrays keep their precision
    (np.array([1.0], dtype=np.float32), np.float32),
    (np.float64(2.0), np.float64),
    ([1.0, 2.0], np.float32),                     # Python lists and numbers: float32
    (2.5, np.float32),
    (3, np.float32),                              # ints and bools: float32
    (np.array([1, 2]), np.float32),
    (np.array([True, False]), np.float32),
])
def test_construction_dtype(data, dtype):
    assert Tensor(data).dtype == dtype


def test_explicit_dtype_wins():
    assert Tensor([1.0, 2.0], dtype=np.float64).dtype == np.float64
    assert Tensor(np.ones(2), dtype="float32").dtype == np.float32


def test_python_numbers_take_the_tensor_dtype():
    x = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    for out in (x * 0.1, 0.1 + x, x / 3, 2 ** x, x ** 2, x - 1e-3, tg.maximum(0.1, x), tg.where(x > 0, x, 0.1)):
        assert out.dtype == np.float32
    exact = Tensor(np.array([0.0, 0.2]))
    assert tg.maximum(0.1, exact).data[0] == 0.1 and tg.minimum(exact, 0.1).data[1] == 0.1


def test_python_lists_in_an_op_become_float32_as_in_the_constructor():
    x = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    for out in (x + [0.1, 0.2], [0.1, 0.2] * x, tg.maximum(x, [0.1, 0.2]), tg.concatenate([x, [0.1]])):
        assert out.dtype == np.float32
    assert (Tensor(np.ones(2)) + [0.1, 0.2]).dtype == np.float64  # float64 tensors stay float64


def test_arrays_and_tensors_promote_as_numpy_and_gradients_keep_the_input_dtype():
    x = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    y = Tensor(np.ones(2), requires_grad=True)
    assert (x * np.full(2, 0.5)).dtype == np.float64
    out = x * y
    assert out.dtype == np.float64
    out.sum().backward()
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float64


def test_tensor_from_an_ndarray_copies_it():
    array = np.array([1.0, 2.0])
    x = Tensor(array)
    array[0] = 99.0
    assert x.data[0] == 1.0


def test_comparisons_return_boolean_arrays_and_equality_is_identity():
    x = Tensor(np.array([-1.0, 2.0]), requires_grad=True)
    mask = x > 0
    assert isinstance(mask, np.ndarray) and mask.dtype == bool
    np.testing.assert_array_equal(mask, [False, True])
    np.testing.assert_array_equal(x <= Tensor(np.array([0.0, 0.0])), [True, False])
    assert x == x and not (x == Tensor(np.array([-1.0, 2.0])))
    assert {x: 1}[x] == 1


# ---- attributes -------------------------------------------------------------------------------
def test_attributes_and_repr():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert (x.shape, x.dtype, x.ndim, x.size) == ((2, 3), np.float64, 2, 6)
    assert x.numpy() is x.data and Tensor(np.float64(4.0)).item() == 4.0
    assert x.grad is None and x.requires_grad and x.is_leaf
    assert repr(x) == ("Tensor([[0., 1., 2.],\n        [3., 4., 5.]], dtype=float64, requires_grad=True)")
    assert repr(x.sum()) == "Tensor(15., dtype=float64, grad_fn=<sum>)"
    assert repr(Tensor([1, 2])) == "Tensor([1., 2.], dtype=float32)"


# ---- accumulation and retained gradients ------------------------------------------------------
def test_gradients_accumulate_across_backward_calls_until_reset():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 3 + 2 * x.data)
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_a_reused_tensor_gets_the_sum_of_its_uses():
    np.testing.assert_array_equal(grad_of(lambda x: x * x, [3.0, -1.0]), [6.0, -2.0])
    np.testing.assert_array_equal(grad_of(lambda x: x + x + x, [3.0]), [3.0])


def test_a_reused_zero_dimensional_tensor_accumulates():
    x = Tensor(np.float64(2.0), requires_grad=True)
    (x * x + x * x + x).backward()  # 4x + 1
    assert x.grad.item() == 9.0 and x.grad.shape == ()


@pytest.mark.parametrize("index", [[0, 0, 2], np.array([0, 0, 2]), Tensor([0, 0, 2]), np.array([0, -3, 2])])
def test_repeated_indices_accumulate(index):
    np.testing.assert_array_equal(grad_of(lambda x: x[index], [5.0, 6.0, 7.0]), [2.0, 0.0, 1.0])


def test_backward_can_run_twice_through_a_kept_graph():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, 4 * x.data)


def test_backward_uses_the_values_forward_saw():
    """An op keeps its inputs' arrays: rebinding `.data` between forward and backward (a reload)
    leaves the gradient of the graph already built as it was, as PyTorch's saved tensors do."""
    x, w = Tensor(np.array([2.0]), requires_grad=True), Tensor(np.array([3.0]), requires_grad=True)
    product = (x * w).sum()
    w.data = np.array([100.0])
    product.backward()
    np.testing.assert_array_equal(x.grad.data, [3.0])
    np.testing.assert_array_equal(w.grad.data, [2.0])


def test_every_grad_has_its_own_memory():
    """x + y hands one gradient buffer to both; scaling x.grad in place must leave y.grad alone."""
    x, y = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    total = (x + y).reshape(3, 1)
    total.retain_grad()
    (total * np.arange(3.0).reshape(3, 1)).sum().backward()
    x.grad.data *= 10
    np.testing.assert_array_equal(y.grad.data, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(total.grad.data, [[0.0], [1.0], [2.0]])
    seed = np.ones(3)
    x.backward(seed)
    assert not np.shares_memory(x.grad.data, seed)


def test_only_retained_non_leaf_tensors_keep_their_gradient():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    hidden, kept = x * 2, x * 3
    kept.retain_grad()
    (hidden * kept).sum().backward()
    assert hidden.grad is None
    np.testing.assert_array_equal(kept.grad.data, hidden.data)
    np.testing.assert_array_equal(x.grad.data, 12 * x.data)


def test_retain_grad_on_a_leaf_changes_nothing():
    x = Tensor(np.array([1.0]), requires_grad=True).retain_grad()
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0])


def test_seed_defaults_to_one_for_one_element_tensors_and_can_be_given():
    x = Tensor(np.array([[2.0]]), requires_grad=True)
    (x * x).backward()
    np.testing.assert_array_equal(x.grad.data, [[4.0]])
    y = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (y * y).backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(y.grad.data, [2.0, 40.0])


# ---- no_grad and detach -----------------------------------------------------------------------
def assert_not_recorded(out):
    assert not out.requires_grad and out.grad_fn is None and out.is_leaf


def test_no_grad_as_a_context_manager_records_nothing():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        assert_not_recorded((x * 2).exp().sum())
        with tg.enable_grad():
            assert (x * 2).requires_grad
    assert tg.is_grad_enabled() and (x * 2).requires_grad


def test_no_grad_restores_grad_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError), tg.no_grad():
        raise ZeroDivisionError
    assert tg.is_grad_enabled()


def test_no_grad_as_a_decorator_records_nothing_even_when_recursive():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)

    @tg.no_grad()
    def evaluate(depth):
        return evaluate(depth - 1) if depth else x * 2

    assert_not_recorded(evaluate(3))
    assert tg.is_grad_enabled()  # the innermost call must not leave it off
    assert (x * 2).requires_grad


def test_detach_shares_values_and_cuts_the_graph():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 3
    frozen = y.detach()
    assert_not_recorded(frozen)
    assert np.shares_memory(frozen.data, y.data)
    (x * frozen).sum().backward()
    np.testing.assert_array_equal(x.grad.data, frozen.data)


# ---- graph size and lifetime ------------------------------------------------------------------
def test_a_chain_of_20000_ops_runs_backward_and_is_freed():
    x = Tensor(np.array([1.0]), requires_grad=True)
    out = x
    for _ in range(20000):
        out = out * 1.0001
    first = weakref.ref(out._parents[0])
    out.backward()
    np.testing.assert_allclose(x.grad.data, [1.0001 ** 20000], rtol=1e-9)
    del out
    assert first() is None  # dropping the output frees its graph (no cycle, no recursion error)


def test_the_graph_lives_as_long_as_its_output():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    hidden = x * 2
    loss = hidden.sum()
    kept = weakref.ref(hidden)
    del hidden
    gc.collect()
    assert kept() is not None
    del loss
    assert kept() is None


# ---- numerical stability ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_is_finite_and_exact_at_large_inputs(dtype):
    x = Tensor(np.array([-1e3, -30.0, 0.0, 30.0, 1e3], dtype=dtype), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = x.sigmoid()
        out.sum().backward()
    expected = np.array([0.0, np.exp(-30.0) / (1 + np.exp(-30.0)), 0.5, 1 / (1 + np.exp(-30.0)), 1.0])
    np.testing.assert_allclose(out.data, expected, rtol=1e-6)
    # out * (1 - out), as PyTorch: below the dtype's resolution next to 1 the slope reads 0
    np.testing.assert_allclose(x.grad.data, expected * (1 - expected), rtol=1e-5, atol=np.finfo(dtype).eps)
    assert out.dtype == dtype and x.grad.dtype == dtype


LARGE_LOGITS = [[1e3, -1e3, 0.0], [-1e3, -1e3, -1e3]]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_and_log_softmax_are_finite_at_large_logits(dtype):
    logits = Tensor(np.array(LARGE_LOGITS, dtype=dtype), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        probs = logits.softmax()
        log_probs = logits.log_softmax()
        (probs * np.arange(3.0) + log_probs).sum().backward()
    np.testing.assert_allclose(probs.data, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-7)
    np.testing.assert_allclose(log_probs.data, [[0, -2e3, -1e3], [-np.log(3)] * 3], rtol=1e-6)
    assert np.all(np.isfinite(logits.grad.data))


def softmax_rows(logits):
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("targets", ["labels", "probabilities"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_cross_entropy_backward_is_softmax_minus_targets_over_batch(targets, dtype, scale):
    rng = np.random.default_rng(3)
    logits = (rng.standard_normal((4, 5)) * scale).astype(dtype)
    labels = np.array([0, 4, 2, 2])
    rows = np.eye(5)[labels] if targets == "labels" else softmax_rows(rng.standard_normal((4, 5)))
    x = Tensor(logits, requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = F.cross_entropy(x, labels if targets == "labels" else rows)
        loss.backward()
    expected_grad = (softmax_rows(logits.astype(np.float64)) - rows) / 4
    tolerance = dict(rtol=1e-10, atol=1e-15) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(x.grad.data, expected_grad, **tolerance)
    assert loss.dtype == dtype and x.grad.dtype == dtype and np.isfinite(loss.item())
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    expected_loss = -np.sum(rows * (shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)))) / 4
    np.testing.assert_allclose(loss.item(), expected_loss, rtol=1e-5)


@pytest.mark.parametrize("label_dtype", [np.uint8, np.int8, np.int16, np.uint32, np.int64, np.uint64])
def test_cross_entropy_takes_labels_of_any_integer_dtype(label_dtype):
    # 40 rows of 10 classes: a label's flat position label * 40 + row overflows 8 bits
    logits = np.random.default_rng(4).standard_normal((40, 10))
    labels = np.arange(40) % 10
    x = Tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, labels.astype(label_dtype))
    loss.backward()
    np.testing.assert_allclose(x.grad.data, (softmax_rows(logits) - np.eye(10)[labels]) / 40, rtol=1e-10, atol=1e-15)
    expected_loss = -np.mean(np.log(softmax_rows(logits)[np.arange(40), labels]))
    np.testing.assert_allclose(loss.item(), expected_loss, rtol=1e-12)
