"""backward(create_graph=True): second (and third) derivatives, and Hessian-vector products.

The second derivative of every op is checked by gradcheck applied to the op's gradient: the
gradient, built as a graph, is differentiated once more and compared with finite differences of
the gradient itself. The gradient is taken of sum(w * out^2) rather than sum(w * out), so even
linear ops (reshape, indexing, sums) have a gradient that depends on their input and their
create_graph backward (scatter_add, sum_to, ...) is exercised.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_table import OPS, graphs, run_program

import tinygrad_np.nn.functional as F
from tinygrad_np import Tensor, concatenate, enable_grad, gradcheck

# Each example runs the gradient ~10 times per input; a third of the profile's examples suffice.
FEWER_EXAMPLES = settings(max_examples=max(5, settings.default.max_examples // 3))
PROJECTIONS = 3  # random directions per input: a wrong Hessian shows up in almost every one


def gradient_of(fn):
    """inputs -> d/d(inputs) of sum(w * fn(*inputs)^2), flattened into one Tensor with a graph.

    The inputs' own `.grad` is left as it was, so gradcheck can read what it accumulates there.
    """
    def gradient(*inputs):
        saved = [tensor.grad for tensor in inputs]
        with enable_grad():  # gradcheck evaluates under no_grad(); this needs a graph
            out = fn(*inputs)
            weights = np.random.default_rng(1).standard_normal(out.shape)
            (out * out * weights).sum().backward(create_graph=True)
        grads = [tensor.grad for tensor in inputs]
        for tensor, grad in zip(inputs, saved, strict=True):
            tensor.grad = grad
        return concatenate([grad.reshape(-1) for grad in grads if grad is not None])  # unused: None
    return gradient


@FEWER_EXAMPLES
@pytest.mark.parametrize("op", OPS, ids=str)
@given(data=st.data())
def test_second_derivatives_match_finite_differences_of_the_gradient(op, data):
    inputs, params = data.draw(op.inputs, label="inputs, params")
    second = gradient_of(lambda *tensors: op.apply(*tensors, **params))
    assert gradcheck(second, *inputs, projections=PROJECTIONS)


@FEWER_EXAMPLES
@given(graphs(max_steps=6))
def test_second_derivatives_of_random_graphs(graph):
    program, leaves = graph
    second = gradient_of(lambda *tensors: run_program(program, tensors)[-1])
    assert gradcheck(second, *leaves, projections=PROJECTIONS)


def test_gradients_under_create_graph_are_graph_nodes():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.grad_fn is not None
    np.testing.assert_allclose(x.grad.data, 3 * x.data ** 2)


def test_third_derivative_of_x_to_the_fourth():
    """d/dx x^4 = 4x^3, then 12x^2, then 24x: at x = 2 that is 32, 48, 48."""
    x = Tensor(np.float64(2.0), requires_grad=True)
    answers = []
    out = x ** 4
    for create_graph in (True, True, False):
        out.backward(create_graph=create_graph)
        out, x.grad = x.grad, None
        answers.append(out.item())
    assert answers == [32.0, 48.0, 48.0]


# ---- Hessian-vector product of a small MLP ---------------------------------------------------
ACTIVATIONS = {"tanh": Tensor.tanh, "sigmoid": Tensor.sigmoid, "relu": Tensor.relu}


def mlp_loss(params, inputs, targets, activation, loss):
    first_weight, first_bias, second_weight, second_bias = params
    hidden = ACTIVATIONS[activation](inputs @ first_weight + first_bias)
    logits = hidden @ second_weight + second_bias
    if loss == "cross_entropy":
        return F.cross_entropy(logits, targets)
    return ((logits - np.eye(logits.shape[1])[targets]) ** 2).mean()


def mlp_problem(seed=0, batch=5, features=4, hidden=6, classes=3):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(shape) * 0.7 for shape in
              [(features, hidden), (hidden,), (hidden, classes), (classes,)]]
    return params, rng.standard_normal((batch, features)), rng.integers(0, classes, batch)


def mlp_gradients(params, *problem):
    tensors = [Tensor(p, requires_grad=True) for p in params]
    mlp_loss(tensors, *problem).backward()
    return [t.grad.data for t in tensors]


def mlp_hessian_vector_product(params, vector, *problem):
    """H v as d/d(params) of (gradient . v): one backward with create_graph, then one more."""
    tensors = [Tensor(p, requires_grad=True) for p in params]
    mlp_loss(tensors, *problem).backward(create_graph=True)
    grads = [t.grad for t in tensors]
    for t in tensors:
        t.grad = None
    sum((grad * v).sum() for grad, v in zip(grads, vector, strict=True)).backward()
    return [t.grad.data for t in tensors]


@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error"])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_mlp_hessian_vector_product_matches_finite_differences(activation, loss):
    params, inputs, labels = mlp_problem()
    problem = (Tensor(inputs), labels, activation, loss)
    vector = [np.random.default_rng(7).standard_normal(p.shape) for p in params]
    eps = 1e-5
    above = mlp_gradients([p + eps * v for p, v in zip(params, vector, strict=True)], *problem)
    below = mlp_gradients([p - eps * v for p, v in zip(params, vector, strict=True)], *problem)
    analytic = mlp_hessian_vector_product(params, vector, *problem)
    for hv, plus, minus in zip(analytic, above, below, strict=True):
        np.testing.assert_allclose(hv, (plus - minus) / (2 * eps), rtol=1e-5, atol=1e-7)
    assert any(np.abs(hv).max() > 1e-3 for hv in analytic)  # a real curvature, not zeros
