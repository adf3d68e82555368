"""Autograd against the seed's closed-form backprop (mnist.reference.mlp), on drawn networks.

Each case draws a dtype (float64, or float32), a batch size m of 1..64, 1..4 hidden layers of
1..64 units with a ReLU or sigmoid each (all ReLU, all sigmoid, or mixed), weights, biases, inputs
and labels. Both networks hold the same weights; the autograd MLP is run layer by layer
(`autograd_pass`) so every Z and A keeps its gradient.

Tolerances come from the dtype, not from trial and error: `rounding_tolerance` is N eps, with N
the number of roundings on the longest chain of the computation (see its docstring), and a
difference is measured against E(q), the magnitude that rounding errors in q scale with
(`error_scales`, a first-order running error analysis). That bound holds elementwise even where
a gradient cancels to about zero, a bias gradient summing to ~0 over the batch, where a plain
relative error would blow up; and it is tight enough that a formula off by 1e-9 fails.
"""
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mnist.commands.compare import autograd_pass, lockstep, rounding_tolerance
from mnist.models.mlp import MLP
from mnist.reference import mlp as reference
from mnist.reference import network as reference_network
from tinygrad_np import nn

ACTIVATION_NAMES = sorted(reference.ACTIVATIONS)


@st.composite
def networks(draw, dtypes=(np.float64, np.float32)):
    """(model, params, X, Y, activations): an autograd MLP and reference params with the same weights."""
    dtype = draw(st.sampled_from(dtypes))
    m = draw(st.integers(1, 64))
    hidden = draw(st.lists(st.integers(1, 64), min_size=1, max_size=4))
    sizes = [draw(st.integers(1, 64)), *hidden, draw(st.integers(2, 10))]
    activations = draw(st.one_of(
        st.sampled_from(ACTIVATION_NAMES).map(lambda name: [name] * len(hidden)),
        st.lists(st.sampled_from(ACTIVATION_NAMES), min_size=len(hidden), max_size=len(hidden))))
    seed = draw(st.integers(0, 2**32 - 1))
    input_scale = draw(st.sampled_from([0.0, 0.1, 1.0, 3.0]))
    weight_scale = draw(st.sampled_from([0.5, 1.0, 2.0]))  # times He / Xavier
    bias_scale = draw(st.sampled_from([0.0, 0.1, 1.0]))
    rng = np.random.default_rng(seed)
    params = reference.init_params(sizes, activations, seed=seed, dtype=dtype)
    for W, b in params:
        W *= weight_scale
        b += (bias_scale * rng.standard_normal(b.shape)).astype(dtype)
    X = (input_scale * rng.standard_normal((m, sizes[0]))).astype(dtype)
    Y = np.eye(sizes[-1], dtype=dtype)[rng.integers(0, sizes[-1], m)]
    # The seed's J takes log a: it is inf once a true class's probability underflows to 0 (a
    # logit gap beyond ~87 in float32, ~745 in float64), where autograd's log-softmax is finite.
    with np.errstate(divide="ignore"):
        assume(np.isfinite(reference.cross_entropy(reference.forward(params, X, activations).A[-1], Y)))
    model = MLP(sizes, activations, seed=seed, dtype=dtype)
    reference.load_into_model(params, model)
    return model, params, X, Y, activations


class ErrorScales(NamedTuple):
    """E(q) for every quantity q: two evaluations of q differ by at most N eps E(q) elementwise."""
    Z: list
    A: list
    loss: float
    grads: reference.Gradients


def error_scales(params, cache, Y, activations) -> ErrorScales:
    """Running error analysis of the network, to first order (Higham's componentwise bounds).

    A rounding error is relative to the magnitudes of the terms, not of the result, and errors
    carried in by the operands propagate: for a product, |d(ab)| <= c (|a| + E(a)) (|b| + E(b))
    with c = (operations on the chain) u, so with E(W) = E(X) = 0:
        Z = A_prev W + b           E(Z) = (|A_prev| + E(A_prev)) |W| + |b|
        A = relu(Z)                E(A) = E(Z)                     (1-Lipschitz, no rounding)
        A = sigmoid(Z)             E(A) = |A| + E(Z) / 4           (sigmoid' <= 1/4)
        A = softmax(Z)             E(A) = A (1 + 2 max_row E(Z))   (|d a_i| <= 2 a_i max |d z|)
        sigmoid' = s (1 - s)       E = (|s| + E(s)) (1 + |s| + E(s))  (1 - s cancels as s -> 1)
        relu' = [Z > 0]            E = 1 / c where |Z| < c E(Z): the kink may lie either side
        J = -1/m sum y log a       E(J) = 1/m sum y (|log a| + E(a) / a)
    and the backward pass is the same on |values| + E. An exp may underflow, which adds an
    absolute error below the dtype's smallest normal number `tiny` to the softmax and sigmoid.
    """
    c = rounding_tolerance(cache.A[0].dtype, [cache.A[0].shape[1]] + [W.shape[1] for W, _ in params], len(Y))
    L, m, tiny = len(params), len(Y), np.finfo(cache.A[0].dtype).tiny
    E_Z, E_A = [], [np.zeros_like(cache.A[0])]
    for l, (W, b) in enumerate(params, start=1):
        A_prev, A = cache.A[l - 1], cache.A[l]
        E_Z.append((np.abs(A_prev) + E_A[-1]) @ np.abs(W) + np.abs(b))
        if l == L:
            E_A.append(A * (1 + 2 * E_Z[-1].max(axis=1, keepdims=True)) + tiny)
        elif activations[l - 1] == "relu":
            E_A.append(E_Z[-1])
        else:
            E_A.append(np.abs(A) + E_Z[-1] / 4 + tiny)
    log_A = np.log(np.where(Y > 0, cache.A[L], 1))
    E_loss = float(np.sum(Y * (np.abs(log_A) + E_A[L] / np.where(Y > 0, cache.A[L], 1))) / m)

    def derivative_scale(l):
        Z, A = cache.Z[l - 1], cache.A[l]
        if activations[l - 1] == "relu":
            return (Z > 0) + (np.abs(Z) < c * E_Z[l - 1]) / c
        s = np.abs(A) + E_A[l]
        return s * (1 + s)

    dZ, dW, db, dA_prev = [None] * L, [None] * L, [None] * L, [None] * L
    delta = np.abs(cache.A[L]) + E_A[L] + np.abs(Y)
    for l in range(L, 0, -1):
        if l < L:
            delta = dA_prev[l] * derivative_scale(l)
        dZ[l - 1] = delta
        dW[l - 1] = (np.abs(cache.A[l - 1]) + E_A[l - 1]).T @ delta / m
        db[l - 1] = delta.sum(axis=0) / m
        dA_prev[l - 1] = delta @ np.abs(params[l - 1][0]).T
    return ErrorScales(E_Z, E_A, E_loss, reference.Gradients(dZ, dW, db, dA_prev))


class Pass(NamedTuple):
    loss: float
    forward: reference.Forward
    grads: reference.Gradients


class Comparison(NamedTuple):
    autograd: Pass
    hand: Pass
    scales: ErrorScales
    tolerance: float


def seed_form(loss, cache, grads, model) -> Pass:
    """autograd's named quantities (as mnist.reference.network names them) in the seed's per-layer
    lists: Z^[l], A^[l], dZ^[l], dW^[l], db^[l], dA^[l-1] for the Linear layers l = 1..L."""
    linear = [int(name) for name, module in model.layers.named_children() if isinstance(module, nn.Linear)]
    hidden = [index + 1 for index in linear[:-1]]  # the activation after each hidden Linear
    forward = reference.Forward(
        Z=[cache[f"layers.{index}.Z"] for index in linear],
        A=[cache["X"], *(cache[f"layers.{index}.A"] for index in hidden), cache["probabilities"]])
    gradients = reference.Gradients(dZ=[grads[f"layers.{index}.dZ"] for index in linear],
                                    dW=[grads[f"layers.{index}.weight"] for index in linear],
                                    db=[grads[f"layers.{index}.bias"] for index in linear],
                                    dA_prev=[grads["dX"], *(grads[f"layers.{index}.dA"] for index in hidden)])
    return Pass(loss, forward, gradients)


def compare(network) -> Comparison:
    """Both networks' forward and backward on the batch, dZ and dA in the seed's convention."""
    model, params, X, Y, activations = network
    autograd = seed_form(*autograd_pass(model, X, Y), model)
    cache = reference.forward(params, X, activations)
    hand = Pass(reference.cross_entropy(cache.A[-1], Y), cache,
                reference.backward(params, cache, Y, activations, input_gradient=True))
    sizes = [X.shape[1]] + [W.shape[1] for W, _ in params]
    return Comparison(autograd, hand, error_scales(params, cache, Y, activations),
                      rounding_tolerance(X.dtype, sizes, len(X)))


def assert_within_rounding(actual, expected, scale, tolerance, what):
    """|actual - expected| <= tolerance * scale, elementwise."""
    assert actual.shape == expected.shape, what
    error, bound = np.abs(actual - expected), tolerance * scale
    worst = np.unravel_index(np.argmax(error - bound), error.shape)
    assert np.all(error <= bound), (f"{what}: |difference| {error[worst]:.3e} > bound {bound[worst]:.3e} "
                                    f"at {worst} (tolerance {tolerance:.1e})")


@given(networks())
def test_output_delta_is_softmax_minus_labels(network):
    """d J / d Z^[L] = (A - Y) / m: the seed's dZ^[L] = A - Y is the gradient of m J."""
    _, _, X, Y, _ = network
    autograd, hand, scales, tolerance = compare(network)
    m = len(X)
    assert_within_rounding(autograd.grads.dZ[-1] / m, (hand.forward.A[-1] - Y) / m,
                           scales.grads.dZ[-1] / m, tolerance, "dZ^[L]")


@given(networks())
def test_hidden_delta_is_dA_times_activation_derivative(network):
    """dZ^[l] = dA^[l] * g'(Z^[l]) in each hidden layer, from autograd's own Z and dA, and equal
    to the closed-form chain's dZ^[l]."""
    activations = network[-1]
    autograd, hand, scales, tolerance = compare(network)
    for l in range(1, len(activations) + 1):
        g_prime = reference.ACTIVATIONS[activations[l - 1]][1]
        formula = autograd.grads.dA_prev[l] * g_prime(autograd.forward.Z[l - 1])
        for expected in (formula, hand.grads.dZ[l - 1]):
            assert_within_rounding(autograd.grads.dZ[l - 1], expected, scales.grads.dZ[l - 1], tolerance,
                                   f"dZ^[{l}]")


@given(networks())
def test_weight_bias_and_input_gradients_match_closed_form(network):
    """dW = 1/m A_prev^T dZ, db = 1/m sum_i dZ_i, dA_prev = dZ W^T, in every layer."""
    autograd, hand, scales, tolerance = compare(network)
    for l in range(1, len(hand.grads.dW) + 1):
        for quantity in ("dW", "db", "dA_prev"):
            assert_within_rounding(getattr(autograd.grads, quantity)[l - 1], getattr(hand.grads, quantity)[l - 1],
                                   getattr(scales.grads, quantity)[l - 1], tolerance, f"{quantity}^[{l}]")


@given(networks())
def test_forward_and_loss_match_closed_form_and_softmax_rows_sum_to_one(network):
    autograd, hand, scales, tolerance = compare(network)
    for l, (Z, A) in enumerate(zip(autograd.forward.Z, autograd.forward.A[1:], strict=True), start=1):
        assert_within_rounding(Z, hand.forward.Z[l - 1], scales.Z[l - 1], tolerance, f"Z^[{l}]")
        assert_within_rounding(A, hand.forward.A[l], scales.A[l], tolerance, f"A^[{l}]")
    assert abs(autograd.loss - hand.loss) <= tolerance * scales.loss
    # Each of the C probabilities has a relative error of a few units of roundoff, and the sum
    # adds one per term: |sum - 1| <= (C + 2) eps.
    dtype, classes = hand.forward.A[-1].dtype, hand.forward.A[-1].shape[1]
    for probabilities in (autograd.forward.A[-1], hand.forward.A[-1]):
        assert np.all(probabilities >= 0)
        assert np.all(np.abs(probabilities.sum(axis=1) - 1) <= (classes + 2) * np.finfo(dtype).eps)


@given(networks(dtypes=(np.float64,)), st.integers(1, 5), st.sampled_from([0.01, 0.1, 0.5]))
def test_lockstep_sgd_keeps_identical_parameters(network, steps, lr):
    """After k steps of W -= lr dW from identical weights, both hold the same parameters."""
    model, params, X, Y, activations = network
    sizes = [X.shape[1]] + [W.shape[1] for W, _ in params]
    named = reference.state_dict_from_params(params, model.state_dict().keys())
    specs = reference_network.dense_layers(sizes, activations)
    divergence = lockstep(model, named, specs, [(X, Y)] * steps, lr)
    assert max(divergence) < 1e-9


def test_lockstep_counts_a_bias_that_cancels_to_zero_as_rounding():
    """Zero inputs and balanced labels: the output bias's gradient is a sum of +-a that is exactly
    0 by hand and 1e-19 in autograd's order; the divergence is that over the largest parameter."""
    sizes, activations = [32, 24, 2], ["relu"]
    params = reference.init_params(sizes, activations, seed=1, dtype=np.float64)
    model = MLP(sizes, activations, seed=1, dtype=np.float64)
    reference.load_into_model(params, model)
    X, Y = np.zeros((6, 32)), np.eye(2)[[0, 0, 0, 1, 1, 1]]
    named = reference.state_dict_from_params(params, model.state_dict().keys())
    assert max(lockstep(model, named, reference_network.dense_layers(sizes, activations), [(X, Y)], lr=0.01)) < 1e-9


@pytest.mark.parametrize("activation, variance_numerator", [("relu", 2.0), ("sigmoid", 1.0)])
@given(fan_in=st.integers(1, 1000), seed=st.integers(0, 2**32 - 1))
def test_he_and_xavier_init_have_the_seeds_std(activation, variance_numerator, fan_in, seed):
    """std(W) = sqrt(2 / n) for ReLU layers (He), sqrt(1 / n) for sigmoid and softmax (Xavier).

    The sample std s of N normal draws has standard error sigma / sqrt(2 (N - 1)); six of them
    make a false alarm a one-in-a-billion event. Same for the sample mean, sigma / sqrt(N)."""
    width = 200_000 // fan_in + 1  # at least 200,000 draws per layer
    classes = 200_000 // width + 1
    sizes = [fan_in, width, classes]
    params = reference.init_params(sizes, [activation], seed=seed, dtype=np.float64)
    model = MLP(sizes, activation, seed=seed, dtype=np.float64)
    expected = [np.sqrt(variance_numerator / fan_in), np.sqrt(1 / width)]  # the softmax layer: Xavier
    for weights in ([W for W, _ in params], [layer.weight.data for layer in model.linear_layers()]):
        for W, sigma in zip(weights, expected, strict=True):
            n = W.size
            assert abs(W.std() - sigma) <= 6 * sigma / np.sqrt(2 * (n - 1))
            assert abs(W.mean()) <= 6 * sigma / np.sqrt(n)


# ---- the reference network's own contract ------------------------------------------------


def test_float32_stays_float32_through_a_training_step():
    sizes, activations = [6, 5, 4, 3], ["relu", "sigmoid"]
    params = reference.init_params(sizes, activations, seed=1, dtype=np.float32)
    X = np.random.default_rng(0).random((8, 6))  # float64 input: cast to the parameters' dtype
    Y = np.eye(3)[[0, 1, 2, 0, 1, 2, 0, 1]]
    cache = reference.forward(params, X, activations)
    grads = reference.backward(params, cache, Y, activations, input_gradient=True)
    loss = reference.train_step(params, X, Y, activations, lr=0.1)
    arrays = [*cache.Z, *cache.A, *grads.dZ, *grads.dW, *grads.db, *grads.dA_prev,
              *[array for pair in params for array in pair]]
    assert {array.dtype for array in arrays} == {np.dtype(np.float32)}
    assert isinstance(loss, float) and np.isfinite(loss)


def test_parameters_round_trip_through_the_autograd_mlp():
    model = MLP([5, 4, 3], "sigmoid", seed=3, dtype=np.float64)
    params = reference.params_from_model(model)
    for W, b in params:
        W *= 2  # copies: the model keeps its own values
        b += 1
    assert not np.array_equal(params[0][0], model.linear_layers()[0].weight.data)
    reference.load_into_model(params, model)
    for (W, b), layer in zip(params, model.linear_layers(), strict=True):
        np.testing.assert_array_equal(layer.weight.data, W)
        np.testing.assert_array_equal(layer.bias.data, b)


def test_train_step_lowers_the_loss_on_a_fixed_batch():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((32, 10)), np.eye(3)[rng.integers(0, 3, 32)]
    params = reference.init_params([10, 16, 3], ["relu"], seed=0, dtype=np.float64)
    losses = [reference.train_step(params, X, Y, ["relu"], lr=0.5) for _ in range(50)]
    assert losses[-1] < losses[0] / 2


def test_relu_derivative_at_zero_is_zero():
    np.testing.assert_array_equal(reference.relu_prime(np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 1.0])


def test_sigmoid_saturates_without_overflow_warnings():
    with np.errstate(over="raise"):
        np.testing.assert_array_equal(reference.sigmoid(np.array([-1000.0, 1000.0])), [0.0, 1.0])


@pytest.mark.parametrize("activation, hidden, message", [
    (["relu"], 2, "1 activations for 2 hidden layers"),
    ("tanh", 1, "unknown activation 'tanh'"),
])
def test_activation_lists_are_checked(activation, hidden, message):
    with pytest.raises(ValueError, match=message):
        reference.hidden_activations(activation, hidden)
