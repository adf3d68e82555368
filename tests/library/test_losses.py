"""Losses: gradients against finite differences for every option, values against plain-NumPy
formulas and known answers, PyTorch as an oracle where installed, the fused cross-entropy kept for
the plain case, stability, errors, and the module forms."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, class_index_inputs, class_weights, probability_targets, shapes

import tinygrad_np.nn.functional as F
from tinygrad_np import ArgumentError, ShapeError, Tensor, gradcheck, nn
from tinygrad_np.ops.softmax import CrossEntropy

REDUCTIONS = ["mean", "sum", "none"]


# ---- plain-NumPy references, one position at a time ---------------------------------------------
def np_log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def np_reduce(losses, reduction, denominator=None):
    if reduction == "none":
        return losses
    total = np.sum(losses)
    return total / (losses.size if denominator is None else denominator) if reduction == "mean" else total


def np_cross_entropy(logits, target, weight=None, ignore_index=-100, reduction="mean", smoothing=0.0,
                     log_probs=None):
    """PyTorch's definition: at each position, -sum_c w_c q_c log p_c with q the (smoothed) target
    distribution; for class indices "mean" divides by the summed w of the labels kept. A (C,)
    input is a batch of one whose batch axis is dropped again."""
    if logits.ndim == 1:
        value = np_cross_entropy(logits[None], np.asarray(target)[None], weight, ignore_index, reduction, smoothing,
                                 None if log_probs is None else log_probs[None])
        return value.reshape(()) if reduction == "none" else value
    classes = logits.shape[1]
    weight = np.ones(classes) if weight is None else weight
    log_probs = np_log_softmax(logits, 1) if log_probs is None else log_probs
    batch_shape = logits.shape[:1] + logits.shape[2:]
    losses, denominator = np.zeros(batch_shape), 0.0
    for position in np.ndindex(batch_shape):
        along_classes = position[:1] + (slice(None),) + position[1:]
        if target.shape == logits.shape:
            q, kept_weight = target[along_classes], 1.0
        elif target[position] != ignore_index:
            q, kept_weight = np.eye(classes)[target[position]], weight[target[position]]
        else:
            continue
        q = q * (1 - smoothing) + smoothing / classes
        losses[position] = -np.sum(weight * q * log_probs[along_classes])
        denominator += kept_weight
    return np_reduce(losses, reduction, denominator)


def np_nll_loss(log_probs, target, weight=None, ignore_index=-100, reduction="mean"):
    return np_cross_entropy(log_probs, target, weight, ignore_index, reduction, log_probs=log_probs)


def np_softplus(x):
    return np.logaddexp(0, x)


def np_bce(x, t, weight=None, reduction="mean"):
    loss = -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log(1 - x), -100))
    return np_reduce(loss * (1 if weight is None else weight), reduction)


def np_bce_with_logits(x, t, weight=None, reduction="mean", pos_weight=None):
    positive = 1 if pos_weight is None else pos_weight
    loss = -(positive * t * -np_softplus(-x) + (1 - t) * -np_softplus(x))  # log sigmoid(x) = -softplus(-x)
    return np_reduce(loss * (1 if weight is None else weight), reduction)


def np_kl_div(log_q, target, reduction="mean", log_target=False):
    p = np.exp(target) if log_target else target
    log_p = target if log_target else np.log(np.where(p > 0, p, 1))
    loss = np.where(p > 0, p * (log_p - log_q), 0.0)
    if reduction == "batchmean":
        return loss.sum() / log_q.shape[0]
    return np_reduce(loss, reduction)


def np_huber(d, delta):
    return np.where(np.abs(d) < delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))


# ---- cross_entropy and nll_loss: every option -----------------------------------------------------
CE_OPTIONS = [(reduction, weighted, smoothing, kind) for reduction in REDUCTIONS for weighted in (False, True)
              for smoothing in (0.0, 0.3) for kind in ("indices", "probabilities")]


@st.composite
def cross_entropy_cases(draw, weighted, kind):
    logits, labels = draw(class_index_inputs())
    classes = logits.shape[1] if logits.ndim > 1 else logits.shape[0]
    target = labels if kind == "indices" else draw(probability_targets(logits.shape))
    return logits, target, draw(class_weights(classes)) if weighted else None


@pytest.mark.parametrize("reduction, weighted, smoothing, kind", CE_OPTIONS)
@given(data=st.data())
def test_cross_entropy_gradients_and_values_for_every_option(reduction, weighted, smoothing, kind, data):
    logits, target, weight = data.draw(cross_entropy_cases(weighted, kind))

    def loss(logits, *target_if_probabilities):
        return F.cross_entropy(logits, target_if_probabilities[0] if target_if_probabilities else target, weight,
                               reduction=reduction, label_smoothing=smoothing)

    # probabilities are differentiable targets: gradcheck checks their gradient too
    assert gradcheck(loss, logits, *([target] if kind == "probabilities" else []))
    expected = np_cross_entropy(logits, target, weight, reduction=reduction, smoothing=smoothing)
    np.testing.assert_allclose(loss(Tensor(logits)).data, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@given(data=st.data())
def test_nll_loss_gradients_and_values(reduction, weighted, data):
    logits, labels = data.draw(class_index_inputs())
    log_probs = np_log_softmax(logits, 1 if logits.ndim > 1 else 0)
    weight = data.draw(class_weights(log_probs.shape[1] if log_probs.ndim > 1 else log_probs.shape[0])) \
        if weighted else None
    assert gradcheck(lambda x: F.nll_loss(x, labels, weight, reduction=reduction), log_probs)
    np.testing.assert_allclose(F.nll_loss(Tensor(log_probs), labels, weight, reduction=reduction).data,
                               np_nll_loss(log_probs, labels, weight, reduction=reduction), rtol=1e-10, atol=1e-12)


def test_cross_entropy_known_answers():
    logits = Tensor(np.array([[0.0, np.log(3.0)]]))  # softmax [1/4, 3/4]
    assert F.cross_entropy(logits, np.array([1])).item() == pytest.approx(-np.log(0.75))
    smoothed = -(0.25 * np.log(0.25) + 0.75 * np.log(0.75))  # target (1 - 0.5) [0, 1] + 0.5 / 2
    assert F.cross_entropy(logits, np.array([1]), label_smoothing=0.5).item() == pytest.approx(smoothed)
    # weights: the weighted losses over the weights of the labels present
    two = Tensor(np.zeros((2, 2)))
    assert F.cross_entropy(two, np.array([0, 1]), weight=np.array([1.0, 3.0])).item() == pytest.approx(np.log(2))
    rows = Tensor(np.array([[0.0, 0.0], [0.0, np.log(3.0)]]))
    weighted = (1 * np.log(2) + 3 * -np.log(0.75)) / 4
    assert F.cross_entropy(rows, np.array([0, 1]), weight=np.array([1.0, 3.0])).item() == pytest.approx(weighted)
    # ignored labels add nothing and are not counted; all ignored gives 0 / 0 as in PyTorch
    assert F.cross_entropy(rows, np.array([-100, 1])).item() == pytest.approx(-np.log(0.75))
    assert F.cross_entropy(rows, np.array([7, 1]), ignore_index=7, reduction="none").data.tolist() == \
        pytest.approx([0.0, -np.log(0.75)])
    with np.errstate(invalid="ignore"):
        assert np.isnan(F.cross_entropy(rows, np.array([-100, -100])).item())


def test_cross_entropy_on_class_axis_1_of_a_sequence_batch():
    """(N, C, T) logits with (N, T) labels, as a sequence model gives them, equal the flattened (N*T, C) loss."""
    logits = np.random.default_rng(0).standard_normal((2, 4, 3))
    labels = np.array([[0, 3, 1], [2, 2, 0]])
    flat = F.cross_entropy(Tensor(logits.transpose(0, 2, 1).reshape(6, 4)), labels.reshape(6))
    assert F.cross_entropy(Tensor(logits), labels).item() == pytest.approx(flat.item(), rel=1e-12)
    assert F.cross_entropy(Tensor(logits), labels, reduction="none").shape == (2, 3)


def test_whole_number_float_labels_are_class_indices():
    """Tensors hold floats, so labels that come as a Tensor are accepted when they are whole numbers."""
    logits = Tensor(np.random.default_rng(1).standard_normal((3, 4)))
    integer = F.cross_entropy(logits, np.array([0, 3, 1]), reduction="sum")
    assert F.cross_entropy(logits, Tensor([0, 3, 1]), reduction="sum").item() == integer.item()
    with pytest.raises(ArgumentError, match="whole numbers"):
        F.cross_entropy(logits, np.array([0.5, 3, 1]))


# ---- the plain case stays the fused op --------------------------------------------------------
def test_plain_cross_entropy_is_the_fused_op_bit_for_bit():
    rng = np.random.default_rng(2)
    logits = Tensor(rng.standard_normal((8, 10)).astype(np.float32), requires_grad=True)
    labels = rng.integers(0, 10, 8)
    loss = F.cross_entropy(logits, labels)
    assert isinstance(loss.grad_fn, CrossEntropy)
    direct = CrossEntropy.apply(logits, targets=labels)
    assert loss.data.tobytes() == direct.data.tobytes()
    probabilities = np.eye(10, dtype=np.float32)[labels]
    assert isinstance(F.cross_entropy(logits, probabilities).grad_fn, CrossEntropy)


@given(batch=st.integers(1, 70), seed=st.integers(0, 2**16))
def test_cross_entropy_gradient_rounds_as_a_over_m_minus_y_over_m(batch, seed):
    """The rounding a seed's MNIST run depends on (README's accuracy, to the digit): A/m - Y/m, not
    (A - Y)/m (they differ when m is no power of two), in the softmax's (classes, batch) memory
    order, so a Linear's bias gradient sums each class's batch along contiguous memory."""
    rng = np.random.default_rng(seed)
    layer = nn.Linear(6, 10, rng=rng)
    logits = layer(Tensor(rng.standard_normal((batch, 6)).astype(np.float32) * 4))
    logits.retain_grad()
    labels = rng.integers(0, 10, batch)
    F.cross_entropy(logits, labels).backward()
    by_class = np.ascontiguousarray(logits.data.T)  # (classes, batch) in memory, as kernels.softmax has it
    exps = np.exp(by_class - by_class.max(axis=0))
    probabilities = exps / exps.sum(axis=0)
    scale = np.float32(1) / np.float32(batch)
    expected = probabilities * scale
    expected[labels, np.arange(batch)] -= scale
    assert np.array_equal(logits.grad.data, expected.T)
    assert np.array_equal(layer.bias.grad.data, expected.sum(axis=1))


@pytest.mark.parametrize("options", [dict(reduction="sum"), dict(weight=np.ones(10)), dict(label_smoothing=0.1),
                                     dict(ignore_index=3)])
def test_options_leave_the_fused_op_and_agree_with_it_where_they_should(options):
    rng = np.random.default_rng(3)
    logits = Tensor(rng.standard_normal((6, 10)), requires_grad=True)
    labels = np.array([3, 1, 4, 1, 5, 9])
    loss = F.cross_entropy(logits, labels, **options)
    assert not isinstance(loss.grad_fn, CrossEntropy)
    if "weight" in options:  # all-ones weights: the plain mean
        assert loss.item() == pytest.approx(F.cross_entropy(logits, labels).item(), rel=1e-12)
    if "reduction" in options:
        assert loss.item() == pytest.approx(6 * F.cross_entropy(logits, labels).item(), rel=1e-12)


# ---- the other losses: every option -----------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_regression_losses_gradients_and_values(reduction, data):
    shape = data.draw(shapes(), label="shape")
    x, y = data.draw(arrays(shape)), data.draw(arrays(shape))
    size = data.draw(st.sampled_from([0.5, 1.0, 2.0]), label="beta/delta")
    away_from_zero = np.all(np.abs(x - y) > 1e-3)  # where |d| has its kink, a finite difference would straddle it
    cases = [  # (loss, options, elementwise value, kink at d = 0)
        (F.mse_loss, {}, (x - y) ** 2, False),
        (F.l1_loss, {}, np.abs(x - y), True),
        (F.huber_loss, {"delta": size}, np_huber(x - y, size), False),
        (F.smooth_l1_loss, {"beta": size}, np_huber(x - y, size) / size, False),
        (F.smooth_l1_loss, {"beta": 0.0}, np.abs(x - y), True),
    ]
    for loss, options, elementwise, kink in cases:
        value = loss(Tensor(x), Tensor(y), reduction=reduction, **options)
        np.testing.assert_allclose(value.data, np_reduce(elementwise, reduction), rtol=1e-12, atol=1e-12)
        if away_from_zero or not kink:
            assert gradcheck(lambda x, y, loss=loss, options=options: loss(x, y, reduction=reduction, **options), x, y)


def test_regression_known_answers():
    x, zero = Tensor(np.array([1.0, -2.0])), np.zeros(2)
    assert F.mse_loss(x, zero).item() == 2.5
    assert F.l1_loss(x, zero, reduction="sum").item() == 3.0
    assert F.huber_loss(Tensor(np.array([0.5, 3.0])), zero, reduction="none").data.tolist() == [0.125, 2.5]
    assert F.smooth_l1_loss(Tensor(np.array([1.0, 3.0])), zero, reduction="none", beta=2.0).data.tolist() == [0.25, 2.0]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@given(data=st.data())
def test_binary_cross_entropy_gradients_and_values(reduction, weighted, data):
    shape = data.draw(shapes(), label="shape")
    x, t = data.draw(arrays(shape, low=0.05, high=0.95)), data.draw(arrays(shape, low=0.0, high=1.0))
    weight = data.draw(arrays(shape, low=0.2, high=2.0)) if weighted else None
    assert gradcheck(lambda x, t: F.binary_cross_entropy(x, t, weight, reduction=reduction), x, t)
    np.testing.assert_allclose(F.binary_cross_entropy(Tensor(x), t, weight, reduction=reduction).data,
                               np_bce(x, t, weight, reduction), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted, pos_weighted", [(False, False), (True, False), (False, True), (True, True)])
@given(data=st.data())
def test_binary_cross_entropy_with_logits_gradients_and_values(reduction, weighted, pos_weighted, data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    x, t = data.draw(arrays(shape, low=-6.0, high=6.0)), data.draw(arrays(shape, low=0.0, high=1.0))
    weight = data.draw(arrays(shape, low=0.2, high=2.0)) if weighted else None
    pos_weight = data.draw(arrays(shape[-1:], low=0.2, high=3.0)) if pos_weighted else None

    def loss(x, t):
        return F.binary_cross_entropy_with_logits(x, t, weight, reduction=reduction, pos_weight=pos_weight)

    assert gradcheck(loss, x, t)
    np.testing.assert_allclose(loss(Tensor(x), t).data, np_bce_with_logits(x, t, weight, reduction, pos_weight),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
@given(data=st.data())
def test_kl_div_gradients_and_values(reduction, log_target, data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    log_q = data.draw(arrays(shape, low=-4.0, high=0.0))
    target = data.draw(arrays(shape, low=-4.0, high=0.0) if log_target else arrays(shape, low=0.05, high=1.0))
    assert gradcheck(lambda x, t: F.kl_div(x, t, reduction=reduction, log_target=log_target), log_q, target)
    np.testing.assert_allclose(F.kl_div(Tensor(log_q), target, reduction=reduction, log_target=log_target).data,
                               np_kl_div(log_q, target, reduction, log_target), rtol=1e-12, atol=1e-12)


def test_kl_div_counts_zero_target_probability_as_zero():
    log_q = Tensor(np.log(np.array([[0.5, 0.5]])), requires_grad=True)
    loss = F.kl_div(log_q, np.array([[1.0, 0.0]]), reduction="sum")
    assert loss.item() == pytest.approx(np.log(2))
    loss.backward()
    assert log_q.grad.data.tolist() == [[-1.0, 0.0]]


# ---- stability and PyTorch's clamps ---------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_cross_entropy_with_logits_is_finite_at_plus_minus_1e3(dtype):
    logits = Tensor(np.array([1e3, -1e3, 1e3, -1e3, 0.0], dtype), requires_grad=True)
    target = np.array([0.0, 1.0, 1.0, 0.0, 1.0], dtype)
    loss = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    np.testing.assert_allclose(loss.data, [1e3, 1e3, 0.0, 0.0, np.log(2)], rtol=1e-6)
    loss.sum().backward()  # d/dx = sigmoid(x) - t
    np.testing.assert_allclose(logits.grad.data, [1.0, -1.0, 0.0, 0.0, -0.5], atol=1e-7)
    assert loss.dtype == dtype and logits.grad.dtype == dtype


def test_binary_cross_entropy_clamps_each_log_at_minus_100():
    x = Tensor(np.array([0.0, 1.0, 0.5]), requires_grad=True)
    loss = F.binary_cross_entropy(x, np.array([1.0, 0.0, 1.0]), reduction="none")
    np.testing.assert_allclose(loss.data, [100.0, 100.0, np.log(2)])
    loss.sum().backward()
    assert np.all(np.isfinite(x.grad.data))  # the clamped logs are constants: gradient 0 there


def test_one_hot():
    assert F.one_hot(np.array([2, 0])).data.tolist() == [[0, 0, 1], [1, 0, 0]]
    encoded = F.one_hot(np.array([[1], [3]]), num_classes=5)
    assert encoded.shape == (2, 1, 5) and encoded.dtype == np.float32 and not encoded.requires_grad
    with pytest.raises(ArgumentError, match=r"one_hot: labels must lie in \[0, 3\), got 0..3"):
        F.one_hot(np.array([0, 3]), num_classes=3)


# ---- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize("attempt, error, message", [
    (lambda: F.mse_loss(Tensor(np.ones((4, 1))), np.ones(4)), ShapeError, r"^mse_loss: .*\(4,\).*\(4, 1\)"),
    (lambda: F.l1_loss(Tensor(np.ones(3)), np.ones(2)), ShapeError, r"^l1_loss: .*\(2,\).*\(3,\)"),
    (lambda: F.binary_cross_entropy_with_logits(Tensor(np.ones(3)), np.ones(2)), ShapeError, r"\(2,\).*\(3,\)"),
    (lambda: F.cross_entropy(Tensor(np.ones((2, 3, 4))), np.zeros((2, 3), int)), ShapeError,
     r"^cross_entropy: .*\(2, 3\).*\(2, 3, 4\).*\(2, 4\)"),
    (lambda: F.cross_entropy(Tensor(np.ones((2, 3))), np.zeros(2, int), weight=np.ones(4)), ShapeError,
     r"^cross_entropy: weight of shape \(4,\) for 3 classes"),
    (lambda: F.nll_loss(Tensor(np.ones((2, 3))), np.array([0, 5])), ArgumentError, r"^nll_loss: labels .*got 0..5"),
    (lambda: F.cross_entropy(Tensor(np.ones((2, 3))), np.array([0, 1]), reduction="avg"), ArgumentError,
     r"^cross_entropy: reduction must be 'mean', 'sum' or 'none', got 'avg'"),
    (lambda: F.cross_entropy(Tensor(np.ones((2, 3))), np.array([0, 1]), label_smoothing=1.5), ArgumentError,
     "label_smoothing"),
    (lambda: F.binary_cross_entropy(Tensor(np.array([1.5])), np.ones(1)), ArgumentError, r"\[0, 1\]"),
    (lambda: F.huber_loss(Tensor(np.ones(1)), np.ones(1), delta=0.0), ArgumentError, "delta"),
    (lambda: nn.MSELoss(reduction="avg"), ArgumentError, "^MSELoss: reduction"),
    (lambda: F.cross_entropy(Tensor(np.array(1.0)), np.array(0)), ShapeError, r"^cross_entropy: input of shape \(\)"),
])
def test_bad_arguments_are_named(attempt, error, message):
    with pytest.raises(error, match=message):
        attempt()


# ---- modules --------------------------------------------------------------------------------------
def module_cases(rng):
    logits, labels = rng.standard_normal((4, 3)), np.array([0, 2, 1, -100])
    x, y = rng.standard_normal((4, 3)), rng.uniform(size=(4, 3))
    weight = rng.uniform(0.5, 2, 3)
    return [
        (nn.CrossEntropyLoss(weight=weight, reduction="sum", label_smoothing=0.1), logits, labels,
         lambda a, b: F.cross_entropy(a, b, weight, reduction="sum", label_smoothing=0.1)),
        (nn.NLLLoss(weight=weight, ignore_index=2), logits, np.array([0, 2, 1, 1]),
         lambda a, b: F.nll_loss(a, b, weight, 2)),
        (nn.MSELoss(reduction="none"), x, y, lambda a, b: F.mse_loss(a, b, "none")),
        (nn.L1Loss(), x, y, F.l1_loss),
        (nn.SmoothL1Loss(beta=0.5), x, y, lambda a, b: F.smooth_l1_loss(a, b, beta=0.5)),
        (nn.HuberLoss(delta=0.5), x, y, lambda a, b: F.huber_loss(a, b, delta=0.5)),
        (nn.BCELoss(weight=weight), y, y[::-1], lambda a, b: F.binary_cross_entropy(a, b, weight)),
        (nn.BCEWithLogitsLoss(pos_weight=weight), x, y, lambda a, b: F.binary_cross_entropy_with_logits(
            a, b, pos_weight=weight)),
        (nn.KLDivLoss(reduction="batchmean", log_target=True), x, np.log(y),
         lambda a, b: F.kl_div(a, b, "batchmean", True)),
    ]


def test_loss_modules_call_their_function_with_their_options():
    for module, input, target, function in module_cases(np.random.default_rng(4)):
        assert module(Tensor(input), target).data.tolist() == function(Tensor(input), target).data.tolist(), module


def test_class_weights_are_buffers_of_the_loss_module():
    weight = np.array([1.0, 2.0, 3.0])
    loss = nn.CrossEntropyLoss(weight=weight)
    assert list(loss.state_dict()) == ["weight"] and loss.parameters() == []
    np.testing.assert_array_equal(loss.state_dict()["weight"], weight)
    assert list(nn.BCEWithLogitsLoss(pos_weight=weight).state_dict()) == ["pos_weight"]
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"


# ---- PyTorch as an oracle ---------------------------------------------------------------------------
def torch_cases():
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((3, 4, 2))
    labels = np.array([[0, 3], [-100, 1], [2, 2]])
    probabilities = np.exp(np_log_softmax(rng.standard_normal((3, 4, 2)), 1))
    weight = rng.uniform(0.5, 2, 4)
    x, y = rng.standard_normal((3, 4)) * 2, rng.uniform(size=(3, 4))
    y_reversed = y[::-1].copy()
    cases = []
    for reduction in REDUCTIONS:
        for options in [{}, {"weight": weight}, {"label_smoothing": 0.2}, {"weight": weight, "label_smoothing": 0.2}]:
            cases.append(("cross_entropy", (logits, labels), dict(reduction=reduction, **options)))
            cases.append(("cross_entropy", (logits, probabilities), dict(reduction=reduction, **options)))
        cases += [
            ("cross_entropy", (logits[:, :, 0], labels[:, 1]), dict(reduction=reduction)),
            ("cross_entropy", (logits[0, :, 0], labels[0, 1]), dict(reduction=reduction, label_smoothing=0.1)),
            ("nll_loss", (np_log_softmax(logits, 1), labels), dict(reduction=reduction, weight=weight)),
            ("nll_loss", (np_log_softmax(logits, 1), np.where(labels < 0, 3, labels)),
             dict(reduction=reduction, ignore_index=3)),
            ("mse_loss", (x, y), dict(reduction=reduction)),
            ("l1_loss", (x, y), dict(reduction=reduction)),
            ("smooth_l1_loss", (x, y), dict(reduction=reduction, beta=0.7)),
            ("huber_loss", (x, y), dict(reduction=reduction, delta=0.7)),
            ("binary_cross_entropy", (y, y_reversed), dict(reduction=reduction, weight=np.abs(x))),
            ("binary_cross_entropy_with_logits", (x * 300, y),
             dict(reduction=reduction, weight=np.abs(x), pos_weight=weight)),
            ("kl_div", (np.log(y), y_reversed), dict(reduction=reduction)),
            ("kl_div", (np.log(y), np.log(y_reversed)), dict(reduction=reduction, log_target=True)),
        ]
    cases.append(("kl_div", (np.log(y), y_reversed), dict(reduction="batchmean")))
    return cases


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch's kl_div(reduction="mean") warning
@pytest.mark.parametrize("name, arrays_in, options", torch_cases(),
                         ids=lambda value: value if isinstance(value, str) else None)
def test_losses_match_pytorch(name, arrays_in, options):
    torch = pytest.importorskip("torch")
    input, target = arrays_in
    ours_input = Tensor(input, requires_grad=True)
    theirs_input = torch.tensor(input, requires_grad=True)
    float_target = target.dtype.kind == "f"
    ours_target = Tensor(target, requires_grad=True) if float_target else target
    theirs_target = torch.tensor(target, requires_grad=float_target)
    theirs_options = {key: torch.tensor(value) if isinstance(value, np.ndarray) else value
                      for key, value in options.items()}
    ours = getattr(F, name)(ours_input, ours_target, **options)
    theirs = getattr(torch.nn.functional, name)(theirs_input, theirs_target, **theirs_options)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    seed = np.random.default_rng(6).standard_normal(ours.shape)
    ours.backward(seed)
    theirs.backward(torch.tensor(seed))
    np.testing.assert_allclose(ours_input.grad.data, theirs_input.grad.numpy(), rtol=1e-9, atol=1e-12)
    if float_target:
        np.testing.assert_allclose(ours_target.grad.data, theirs_target.grad.numpy(), rtol=1e-9, atol=1e-12)
