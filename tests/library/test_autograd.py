"""The walk as a generator (`autograd.backprop`) and the two things built on it: `backward` into
`.grad` and `autograd.grad`, which returns gradients and touches no `.grad`."""
import numpy as np
import pytest
from hypothesis import given, settings
from op_table import graphs, run_program

from tinygrad_np import Tensor, autograd, no_grad
from tinygrad_np.autograd import Step, backprop

FEWER_EXAMPLES = settings(max_examples=max(5, settings.default.max_examples // 2))


def random_graph(graph):
    """(leaf tensors, every value of the graph, output) for a `graphs()` draw."""
    program, leaves = graph
    tensors = [Tensor(leaf, requires_grad=True) for leaf in leaves]
    values = run_program(program, tensors)
    return tensors, values, values[-1]


def numeric_gradient(fn, array, weights, eps=1e-6):
    """d sum(weights * fn(array)) / d array by central differences, element by element."""
    gradient = np.zeros(array.shape)
    for index in np.ndindex(*array.shape):
        shifted = [array.copy(), array.copy()]
        shifted[0][index] += eps
        shifted[1][index] -= eps
        above, below = (np.sum(weights * fn(x)) for x in shifted)
        gradient[index] = (above - below) / (2 * eps)
    return gradient


# ---- the walk ---------------------------------------------------------------------------------
@given(graphs())
def test_the_walks_leaf_steps_hold_what_backward_stores(graph):
    tensors, _, out = random_graph(graph)
    seed = np.random.default_rng(0).standard_normal(out.shape)
    from_walk = {step.tensor: step.grad for step in backprop([out], [seed]) if step.fn is None}
    out.backward(seed)
    for tensor in tensors:
        if tensor.grad is None:
            assert tensor not in from_walk
        else:
            np.testing.assert_array_equal(from_walk[tensor], tensor.grad.data)


@given(graphs())
def test_each_step_comes_after_all_its_consumers_and_hands_one_gradient_per_input(graph):
    _, _, out = random_graph(graph)
    handed_to, seen = {}, set()
    for step in backprop([out], [np.ones(out.shape)]):
        assert isinstance(step, Step) and step.tensor not in seen
        seen.add(step.tensor)
        expected = sum(handed_to.pop(step.tensor, [])) if step.tensor is not out else np.ones(out.shape)
        np.testing.assert_allclose(step.grad, expected, rtol=1e-12)  # every consumer had handed on
        assert len(step.input_grads) == len(step.inputs)
        for tensor, grad in zip(step.inputs, step.input_grads, strict=True):
            if grad is not None:
                assert grad.shape == tensor.shape and tensor not in seen
                handed_to.setdefault(tensor, []).append(grad)
    assert not handed_to  # every gradient handed on reached a step


def test_a_step_shows_the_op_its_params_inputs_output_and_both_gradients():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    total = x.sum(axis=1, keepdims=True)
    out = (total * 2).sum()
    steps = list(backprop([out], [np.ones(())]))
    assert [step.label for step in steps] == ["sum", "mul", "sum axis=1, keepdims=True", "leaf"]
    summed = steps[2]
    assert summed.tensor is total and summed.inputs == (x,) and summed.fn.params == {"axis": 1, "keepdims": True}
    np.testing.assert_array_equal(summed.grad, [[2.0], [2.0]])
    np.testing.assert_array_equal(summed.input_grads[0], np.full((2, 3), 2.0))
    assert steps[3].tensor is x and steps[3].fn is None and steps[3].input_grads == ()
    assert x.grad is None  # the walk itself stores nothing


def test_walking_with_create_graph_hands_on_tensors_with_graphs():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    out = (x * x).sum()
    steps = list(backprop([out], [Tensor(np.ones(()))], create_graph=True))
    leaf_grad = steps[-1].grad
    assert isinstance(leaf_grad, Tensor) and leaf_grad.grad_fn is not None
    np.testing.assert_array_equal(leaf_grad.data, 2 * x.data)


# ---- autograd.grad ------------------------------------------------------------------------------
@given(graphs())
def test_grad_equals_backward_and_touches_no_grad(graph):
    tensors, _, out = random_graph(graph)
    seed = np.random.default_rng(1).standard_normal(out.shape)
    grads = autograd.grad(out, tensors, grad_outputs=seed, allow_unused=True)
    assert all(tensor.grad is None for tensor in tensors)
    out.backward(seed)
    for tensor, grad in zip(tensors, grads, strict=True):
        if tensor.grad is None:
            assert grad is None
        else:
            np.testing.assert_array_equal(grad.data, tensor.grad.data)


@FEWER_EXAMPLES
@given(graphs(max_leaves=2, max_steps=6))
def test_grad_matches_finite_differences(graph):
    program, leaves = graph
    tensors = [Tensor(leaf, requires_grad=True) for leaf in leaves]
    out = run_program(program, tensors)[-1]
    weights = np.random.default_rng(2).standard_normal(out.shape)
    grads = autograd.grad(out, tensors, grad_outputs=weights, allow_unused=True)
    for position, (leaf, grad) in enumerate(zip(leaves, grads, strict=True)):
        def output_of(value, position=position):
            arrays = list(leaves)
            arrays[position] = value
            return run_program(program, arrays, library=False)[-1]
        numeric = numeric_gradient(output_of, leaf, weights)
        analytic = np.zeros(leaf.shape) if grad is None else grad.data
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6)


def test_grad_of_an_intermediate_tensor():
    """d/d(hidden) of sum(hidden^2) where hidden = 3x: 2 hidden, whatever made hidden."""
    x = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    hidden = x * 3
    out = (hidden * hidden).sum()
    (grad_hidden, grad_x) = autograd.grad(out, [hidden, x])
    np.testing.assert_array_equal(grad_hidden.data, 2 * hidden.data)
    np.testing.assert_array_equal(grad_x.data, 18 * x.data)
    assert hidden.grad is None and x.grad is None


def test_grad_of_several_outputs_adds_their_weighted_gradients():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (grad,) = autograd.grad([x * x, x * 3], [x], grad_outputs=[np.ones(2), np.array([1.0, -1.0])])
    np.testing.assert_array_equal(grad.data, 2 * x.data + [3.0, -3.0])


def test_grads_are_separate_buffers_from_each_other_and_the_seed():
    x, y = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    seed = np.arange(3.0)
    grad_x, grad_y = autograd.grad(x + y, [x, y], grad_outputs=seed)
    grad_x.data *= 10
    np.testing.assert_array_equal(grad_y.data, seed)
    assert not np.shares_memory(grad_y.data, seed)


def test_second_derivatives_with_create_graph():
    """d/dx x^3 = 3x^2, then d/dx of that = 6x; no .grad is used at any point."""
    x = Tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    (first,) = autograd.grad((x ** 3).sum(), x, create_graph=True)
    np.testing.assert_allclose(first.data, 3 * x.data ** 2)
    (second,) = autograd.grad(first.sum(), x)
    np.testing.assert_allclose(second.data, 6 * x.data)
    assert x.grad is None


def test_a_seed_with_a_graph_is_differentiated_too():
    """The double-vjp trick: u^T J is linear in u, so d(u^T J v)/du = J v (here J = A)."""
    a = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    u = Tensor(np.zeros(3), requires_grad=True)
    (vjp,) = autograd.grad(Tensor(a) @ x, x, grad_outputs=u, create_graph=True)
    v = np.array([1.0, 2.0])
    (jvp,) = autograd.grad((vjp * v).sum(), u)
    np.testing.assert_allclose(jvp.data, a @ v)


def test_unused_inputs_raise_unless_allowed():
    x, unused = Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(2), requires_grad=True)
    out = (x * 2).sum()
    with pytest.raises(RuntimeError, match=r"input 1 \(shape \(2,\)\) is not used.*allow_unused=True"):
        autograd.grad(out, [x, unused])
    grad_x, grad_unused = autograd.grad(out, [x, unused], allow_unused=True)
    assert grad_unused is None and np.array_equal(grad_x.data, [2.0, 2.0])


@pytest.mark.parametrize("attempt, error, message", [
    (lambda x: autograd.grad((x * 2).sum(), Tensor(np.ones(2))), RuntimeError, "input 0 .* does not require grad"),
    (lambda x: autograd.grad(x * 2, x), RuntimeError, "one-element"),
    (lambda x: autograd.grad(x * 2, x, grad_outputs=np.ones(3)), ValueError, r"\(3,\).*\(2,\)"),
    (lambda x: autograd.grad([x * 2, x * 3], x, grad_outputs=[np.ones(2)]), ValueError, "1 gradients for 2 outputs"),
    (lambda x: autograd.grad(x * 2, "x"), TypeError, "Tensor"),
])
def test_grad_misuse_is_refused_with_a_reason(attempt, error, message):
    with pytest.raises(error, match=message):
        attempt(Tensor(np.ones(2), requires_grad=True))


def test_autograd_backward_takes_several_outputs_like_torch():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    autograd.backward([(x * x).sum(), (x * 3).sum()])
    np.testing.assert_array_equal(x.grad.data, 2 * x.data + 3)


@pytest.mark.parametrize("make, label", [
    (lambda x: x.sum(), "sum"),
    (lambda x: x.max(axis=0, keepdims=True), "max axis=0, keepdims=True"),
    (lambda x: x.reshape(3, 2), "reshape shape=(3, 2)"),
    (lambda x: x.permute(1, 0), "permute dims=(1, 0)"),
    (lambda x: x.transpose(0, 1), "transpose dim0=0, dim1=1"),
    (lambda x: x.clip(-1.0, 1.0), "clip low=-1.0, high=1.0"),
    (lambda x: x[..., ::-1], "getitem index=[..., ::-1]"),
    (lambda x: x[1:, 0], "getitem index=[1:, 0]"),
    (lambda x: x[np.array([0, 0])], "getitem index=int64[2]"),
    (lambda x: x.softmax(axis=1), "softmax axis=1"),
])
def test_every_op_records_its_params_and_its_label_shows_them(make, label):
    out = make(Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True))
    assert out.grad_fn.describe() == label
    assert next(iter(backprop([out], [np.ones(out.shape)]))).label == label


def test_create_graph_records_the_gradient_even_inside_no_grad():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    out = (x ** 3).sum()
    with no_grad():
        (first,) = autograd.grad(out, x, create_graph=True)
        out.backward(create_graph=True)
    assert first.grad_fn is not None and x.grad.grad_fn is not None
    (second,) = autograd.grad(first.sum(), x)
    np.testing.assert_allclose(second.data, 6 * x.data)
