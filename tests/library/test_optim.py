"""tinygrad_np.optim: every optimizer against its update formula (bit for bit), parameter groups,
state_dict resume, in-place steps, and PyTorch's torch.optim where it is installed.

The references below are PyTorch's documented algorithms, written from the formulas with fresh
arrays each step and evaluated in the order PyTorch evaluates them, independently of the
optimizers' in-place code: the optimizers must equal them to the last bit, in float32 and float64,
which is how SGD, Adam and AdamW are held to the results they gave before parameter groups.
"""
import io
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import arrays, shapes

from tinygrad_np import Tensor, nn
from tinygrad_np.function import Function
from tinygrad_np.nn import functional as F
from tinygrad_np.optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from tinygrad_np.optim import axpy as axpy_module

learning_rates = st.floats(1e-4, 1.0)
weight_decays = st.sampled_from([0.0, 1e-2, 0.5])
sgd_settings = st.fixed_dictionaries({
    "lr": learning_rates, "momentum": st.sampled_from([0.0, 0.5, 0.9]),
    "nesterov": st.booleans(), "weight_decay": weight_decays,
}).filter(lambda s: s["momentum"] > 0 or not s["nesterov"])
adam_settings = st.fixed_dictionaries({
    "lr": learning_rates, "betas": st.tuples(st.sampled_from([0.0, 0.5, 0.9]), st.sampled_from([0.9, 0.999])),
    "eps": st.sampled_from([1e-8, 1e-3]), "weight_decay": weight_decays,
    "decoupled_weight_decay": st.booleans(),
})
rmsprop_settings = st.fixed_dictionaries({
    "lr": learning_rates, "alpha": st.sampled_from([0.0, 0.5, 0.99]), "eps": st.sampled_from([1e-8, 1e-3]),
    "weight_decay": weight_decays, "momentum": st.sampled_from([0.0, 0.9]), "centered": st.booleans(),
})
adagrad_settings = st.fixed_dictionaries({
    "lr": learning_rates, "lr_decay": st.sampled_from([0.0, 0.1]), "weight_decay": weight_decays,
    "initial_accumulator_value": st.sampled_from([0.0, 0.1]), "eps": st.sampled_from([1e-10, 1e-3]),
})


@st.composite
def trajectories(draw, steps=3):
    """A starting value and `steps` gradients of the same shape, all float32 or all float64."""
    shape, dtype = draw(shapes()), draw(st.sampled_from([np.float32, np.float64]))
    start, *grads = [draw(arrays(shape, low=-10.0, high=10.0)).astype(dtype) for _ in range(steps + 1)]
    return start, grads


def run(optimizer_class, start, grads, **settings):
    """The parameter's value after one optimizer step per gradient."""
    p = nn.Parameter(start, dtype=start.dtype)
    optimizer = optimizer_class([p], **settings)
    for grad in grads:
        p.grad = Tensor(grad, dtype=grad.dtype)
        optimizer.step()
    return p.data


# ---- references from the formulas, in PyTorch's order of operations ------------------------------

def sgd_reference(p, grads, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    b = None
    for g in grads:
        g = g + weight_decay * p
        if momentum:
            b = g if b is None else momentum * b + g
            g = g + momentum * b if nesterov else b
        p = p - lr * g
    return p


def adam_reference(p, grads, lr, betas, eps, weight_decay=0.0, decoupled_weight_decay=False):
    beta1, beta2 = betas
    m = v = 0.0
    for t, g in enumerate(grads, start=1):
        if decoupled_weight_decay:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * (g * g)
        denominator = np.sqrt(v) / math.sqrt(1 - beta2 ** t) + eps
        p = p - m / denominator * (lr / (1 - beta1 ** t))
    return p


def rmsprop_reference(p, grads, lr, alpha, eps, weight_decay, momentum, centered):
    v = a = b = 0.0
    for g in grads:
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * (g * g)
        if centered:
            a = alpha * a + (1 - alpha) * g
        s = (np.sqrt(v - a * a) if centered else np.sqrt(v)) + eps
        if momentum:
            b = momentum * b + g / s
            p = p - lr * b
        else:
            p = p - lr * (g / s)
    return p


def adagrad_reference(p, grads, lr, lr_decay, weight_decay, initial_accumulator_value, eps):
    s = initial_accumulator_value
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * p
        s = s + g * g  # g * g, not g ** 2: NumPy 2.1 rounds a 0-d float32's ** 2 differently (one ulp)
        p = p - lr / (1 + (t - 1) * lr_decay) * (g / (np.sqrt(s) + eps))
    return p


def assert_bit_equal(actual, expected):
    """Same values to the last bit, and the same dtype (float32 stays float32)."""
    assert actual.dtype == expected.dtype
    np.testing.assert_array_equal(actual, expected)


# ---- hand-computed steps ---------------------------------------------------------------------------

@pytest.mark.parametrize("settings, expected", [
    # p = 1, g = 1 twice, lr = 0.1: 1 - 0.1 = 0.9, 0.9 - 0.1 = 0.8
    ({}, [0.9, 0.8]),
    # b = 1, p = 0.9; b = 0.9 + 1 = 1.9, p = 0.9 - 0.19 = 0.71
    ({"momentum": 0.9}, [0.9, 0.71]),
    # b = 1, d = 1 + 0.9 = 1.9, p = 0.81; b = 1.9, d = 1 + 1.71 = 2.71, p = 0.81 - 0.271 = 0.539
    ({"momentum": 0.9, "nesterov": True}, [0.81, 0.539]),
    # g = 1 + 0.1 * 1 = 1.1, p = 0.89; g = 1 + 0.089 = 1.089, p = 0.89 - 0.1089 = 0.7811
    ({"weight_decay": 0.1}, [0.89, 0.7811]),
    # g = 1.1, b = 1.1, p = 0.89; g = 1.089, b = 0.99 + 1.089 = 2.079, p = 0.89 - 0.2079 = 0.6821
    ({"momentum": 0.9, "weight_decay": 0.1}, [0.89, 0.6821]),
])
def test_sgd_by_hand(settings, expected):
    p = nn.Parameter(np.array([1.0]))
    optimizer = SGD([p], lr=0.1, **settings)
    for value in expected:
        p.grad = Tensor(np.array([1.0]))
        optimizer.step()
        np.testing.assert_allclose(p.data, [value], rtol=1e-12)


def test_adam_by_hand_bias_correction():
    # lr = 0.1, betas (0.9, 0.999), g = 1 then -1, from p = 1:
    # t=1: m = 0.1, v = 0.001, m_hat = 1, v_hat = 1: p = 1 - 0.1 / (1 + eps)
    # t=2: m = 0.09 - 0.1 = -0.01, v = 0.000999 + 0.001 = 0.001999 = 1 - 0.999**2, so v_hat = 1,
    #      m_hat = -0.01 / (1 - 0.81) = -1/19: p = p + 0.1 / 19 / (1 + eps)
    eps = 1e-8
    p = nn.Parameter(np.array([1.0]))
    optimizer = Adam([p], lr=0.1, eps=eps)
    p.grad = Tensor(np.array([1.0]))
    optimizer.step()
    np.testing.assert_allclose(p.data, [1 - 0.1 / (1 + eps)], rtol=1e-12)
    p.grad = Tensor(np.array([-1.0]))
    optimizer.step()
    np.testing.assert_allclose(p.data, [1 - 0.1 / (1 + eps) + 0.1 / 19 / (1 + eps)], rtol=1e-12)


def test_adamw_decays_the_weight_apart_from_the_gradient():
    # lr = 0.1, weight_decay = 0.1, p = 1, g = 1. AdamW: p = 1 * (1 - 0.01) = 0.99, then the first
    # Adam step moves it by lr: 0.89. L2 Adam adds 0.1 to g, which the first step normalises away: 0.9.
    eps = 1e-8
    decoupled = run(AdamW, np.array([1.0]), [np.array([1.0])], lr=0.1, weight_decay=0.1, eps=eps)
    coupled = run(Adam, np.array([1.0]), [np.array([1.0])], lr=0.1, weight_decay=0.1, eps=eps)
    np.testing.assert_allclose(decoupled, [0.99 - 0.1 / (1 + eps)], rtol=1e-12)
    np.testing.assert_allclose(coupled, [1 - 0.1 * 1.1 / (1.1 + eps)], rtol=1e-12)


def test_rmsprop_by_hand():
    # lr = 0.01, alpha = 0.99, p = 1, g = 1: v = 0.01, s = sqrt(0.01) + eps = 0.1 + eps
    eps = 1e-8
    np.testing.assert_allclose(run(RMSprop, np.array([1.0]), [np.array([1.0])], lr=0.01, eps=eps),
                               [1 - 0.01 / (0.1 + eps)], rtol=1e-12)
    # centered, g = 1 then 3, alpha = 0.5: v = 0.5 then 0.25 + 4.5 = 4.75, a = 0.5 then 1.75,
    # s = sqrt(0.5 - 0.25) = 0.5 then sqrt(4.75 - 3.0625) = sqrt(1.6875)
    np.testing.assert_allclose(
        run(RMSprop, np.array([1.0]), [np.array([1.0]), np.array([3.0])], lr=0.1, alpha=0.5, eps=0.0, centered=True),
        [1 - 0.1 * 1 / 0.5 - 0.1 * 3 / math.sqrt(1.6875)], rtol=1e-12)


def test_adagrad_by_hand():
    # lr = 0.1, lr_decay = 0.5, g = 1 twice: s = 1, p = 1 - 0.1; s = 2, lr / (1 + 0.5) = 0.1 / 1.5
    np.testing.assert_allclose(
        run(Adagrad, np.array([1.0]), [np.array([1.0])] * 2, lr=0.1, lr_decay=0.5, eps=0.0),
        [1 - 0.1 - 0.1 / 1.5 / math.sqrt(2)], rtol=1e-12)


@pytest.mark.parametrize("optimizer_class, expected", [
    (SGD, {"lr": 1e-3, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0}),
    (AdamW, {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2, "decoupled_weight_decay": True}),
    (Adam, {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "decoupled_weight_decay": False}),
    (RMSprop, {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0, "centered": False}),
    (Adagrad, {"lr": 1e-2, "lr_decay": 0.0, "weight_decay": 0.0, "initial_accumulator_value": 0.0, "eps": 1e-10}),
])
def test_defaults_are_pytorchs(optimizer_class, expected):
    optimizer = optimizer_class([nn.Parameter(np.zeros(2))])
    assert optimizer.defaults == expected
    assert {k: v for k, v in optimizer.param_groups[0].items() if k != "params"} == expected


# ---- the formulas over drawn values, bit for bit ---------------------------------------------------

REFERENCES = [(SGD, sgd_settings, sgd_reference), (Adam, adam_settings, adam_reference),
              (RMSprop, rmsprop_settings, rmsprop_reference), (Adagrad, adagrad_settings, adagrad_reference)]


@pytest.mark.parametrize("optimizer_class, drawn_settings, reference", REFERENCES,
                         ids=[entry[0].__name__ for entry in REFERENCES])
@given(data=st.data())
def test_matches_the_formulas_bit_for_bit(optimizer_class, drawn_settings, reference, data):
    (start, grads), settings = data.draw(trajectories()), data.draw(drawn_settings)
    assert_bit_equal(run(optimizer_class, start, grads, **settings), reference(start, grads, **settings))


@given(sgd_settings, st.integers(0, 2**32 - 1))
@settings(max_examples=20)
def test_sgd_matches_the_formulas_on_a_parameter_large_enough_for_blas(config, seed):
    # OpenBLAS's axpy rounds a multiply-add once, NumPy twice: equal to rounding
    rng = np.random.default_rng(seed)
    start, *grads = rng.uniform(-10, 10, size=(4, 64, axpy_module.MIN_BLAS_SIZE // 32))
    np.testing.assert_allclose(run(SGD, start, grads, **config), sgd_reference(start, grads, **config),
                               rtol=1e-10, atol=1e-10)


def test_adamw_is_adam_with_decoupled_weight_decay():
    rng = np.random.default_rng(0)
    start, *grads = rng.standard_normal((4, 3, 5)).astype(np.float32)
    assert_bit_equal(run(AdamW, start, grads, lr=0.1, weight_decay=0.3),
                     adam_reference(start, grads, 0.1, (0.9, 0.999), 1e-8, 0.3, decoupled_weight_decay=True))


def test_a_parameter_without_grad_is_skipped_and_its_adam_step_count_waits():
    first, second = nn.Parameter(np.array([1.0])), nn.Parameter(np.array([1.0]))
    optimizer = Adam([first, second], lr=0.1, betas=(0.5, 0.5), eps=0.0)
    first.grad = Tensor(np.array([1.0]))
    optimizer.step()
    assert second.data[0] == 1.0
    second.grad = Tensor(np.array([3.0]))
    optimizer.step()
    # `second` takes its own first step: bias correction with t = 1 moves it by exactly lr
    np.testing.assert_allclose(second.data, [0.9], rtol=1e-12)


# ---- parameter groups ---------------------------------------------------------------------------

@pytest.mark.parametrize("optimizer_class, drawn_settings, reference", REFERENCES,
                         ids=[entry[0].__name__ for entry in REFERENCES])
@settings(max_examples=10)
@given(data=st.data())
def test_each_group_follows_its_own_settings(optimizer_class, drawn_settings, reference, data):
    (first_start, first_grads), (second_start, second_grads) = data.draw(trajectories()), data.draw(trajectories())
    defaults, second_settings = data.draw(drawn_settings), data.draw(drawn_settings)
    first, second = (nn.Parameter(start, dtype=start.dtype) for start in (first_start, second_start))
    optimizer = optimizer_class([{"params": [first]}, {"params": second, **second_settings}], **defaults)
    for first_grad, second_grad in zip(first_grads, second_grads, strict=True):
        first.grad, second.grad = (Tensor(grad, dtype=grad.dtype) for grad in (first_grad, second_grad))
        optimizer.step()
    assert_bit_equal(first.data, reference(first_start, first_grads, **defaults))
    assert_bit_equal(second.data, reference(second_start, second_grads, **second_settings))


def test_a_group_setting_written_between_steps_takes_effect():
    p = nn.Parameter(np.array([1.0]))
    optimizer = SGD([p], lr=0.1)
    for lr in (0.1, 0.01, 0.5):
        optimizer.param_groups[0]["lr"] = lr
        p.grad = Tensor(np.array([1.0]))
        optimizer.step()
    np.testing.assert_allclose(p.data, [1 - 0.1 - 0.01 - 0.5], rtol=1e-12)


def test_add_param_group_fills_in_the_defaults_and_updates_the_new_parameters():
    first, second = nn.Parameter(np.array([1.0])), nn.Parameter(np.array([1.0]))
    optimizer = SGD([first], lr=0.1, momentum=0.9)
    optimizer.add_param_group({"params": [second], "lr": 0.2})
    assert optimizer.param_groups[1] == {"params": [second], "lr": 0.2, "momentum": 0.9, "nesterov": False,
                                         "weight_decay": 0.0}
    first.grad, second.grad = Tensor(np.array([1.0])), Tensor(np.array([1.0]))
    optimizer.step()
    np.testing.assert_allclose([first.data[0], second.data[0]], [0.9, 0.8], rtol=1e-12)
    with pytest.raises(ValueError, match="same parameter twice"):
        optimizer.add_param_group({"params": [first]})


def test_lr_reads_and_writes_every_groups_learning_rate():
    optimizer = SGD([{"params": [nn.Parameter(np.zeros(1))]}, {"params": [nn.Parameter(np.zeros(1))]}], lr=0.1)
    assert optimizer.lr == 0.1
    optimizer.lr = 0.05
    assert [group["lr"] for group in optimizer.param_groups] == [0.05, 0.05]
    optimizer.param_groups[1]["lr"] = 0.2
    with pytest.raises(ValueError, match=r"different learning rates \[0.05, 0.2\]"):
        _ = optimizer.lr


def test_a_setting_turned_on_after_construction_gets_its_buffer():
    # OneCycleLR does this to SGD's momentum: the buffer appears at the next step and in state_dict()
    p = nn.Parameter(np.array([1.0]))
    optimizer = SGD([p], lr=0.1)
    assert "state.0.momentum_buffer" not in optimizer.state_dict()
    optimizer.param_groups[0]["momentum"] = 0.9
    assert "state.0.momentum_buffer" in optimizer.state_dict()
    for _ in range(2):
        p.grad = Tensor(np.array([1.0]))
        optimizer.step()
    np.testing.assert_allclose(p.data, sgd_reference(np.array([1.0]), [np.array([1.0])] * 2, 0.1, 0.9), rtol=1e-12)


# ---- in place, dtype, no graph, gradients left alone ---------------------------------------------

OPTIMIZERS = [
    (SGD, {"lr": 0.1}),
    (SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    (Adam, {"lr": 0.1, "weight_decay": 0.1}),
    (AdamW, {"lr": 0.1}),
    (RMSprop, {"lr": 0.01, "weight_decay": 0.1, "momentum": 0.9, "centered": True}),
    (Adagrad, {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.1}),
]


@pytest.mark.parametrize("optimizer_class, settings", OPTIMIZERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_step_updates_in_place_and_keeps_dtype(optimizer_class, settings, dtype):
    rng = np.random.default_rng(0)
    p = nn.Parameter(rng.standard_normal((3, 4)), dtype=dtype)
    array, before = p.data, p.data.copy()
    optimizer = optimizer_class([p], **settings)
    for _ in range(2):
        p.grad = Tensor(rng.standard_normal((3, 4)), dtype=dtype)
        optimizer.step()
    assert p.data is array and p.data.dtype == dtype
    assert not np.array_equal(p.data, before)
    for key, value in optimizer.state_dict().items():
        if isinstance(value, np.ndarray):
            assert value.dtype == dtype, key


@pytest.mark.parametrize("optimizer_class, settings", OPTIMIZERS)
def test_step_leaves_a_shared_gradient_array_alone(optimizer_class, settings):
    shared = np.array([0.5, -2.0, 3.0])
    first, second = nn.Parameter(np.ones(3)), nn.Parameter(np.ones(3))
    first.grad = Tensor.from_numpy(shared)
    second.grad = Tensor.from_numpy(shared)
    optimizer = optimizer_class([first, second], **settings)
    optimizer.step()
    optimizer.step()
    np.testing.assert_array_equal(shared, [0.5, -2.0, 3.0])
    np.testing.assert_array_equal(first.data, second.data)  # both saw the same gradient


@pytest.mark.parametrize("optimizer_class, settings", OPTIMIZERS)
def test_step_records_no_graph(optimizer_class, settings, monkeypatch):
    model = nn.Linear(3, 2, rng=np.random.default_rng(0))
    F.cross_entropy(model(Tensor(np.ones((4, 3)))), np.array([0, 1, 0, 1])).backward()
    optimizer = optimizer_class(model.parameters(), **settings)

    def no_ops(*args, **kwargs):
        raise AssertionError("optimizer step ran a graph op")

    monkeypatch.setattr(Function, "apply", classmethod(no_ops))
    optimizer.step()
    assert all(p.is_leaf and p.grad_fn is None and p.requires_grad for p in model.parameters())


def test_zero_grad_sets_grads_to_none_without_touching_the_arrays():
    p, q = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))
    grad = np.array([1.0, 2.0])
    p.grad = Tensor.from_numpy(grad)
    SGD([p, q], lr=0.1).zero_grad()
    assert p.grad is None and q.grad is None
    np.testing.assert_array_equal(grad, [1.0, 2.0])


# ---- construction errors ------------------------------------------------------------------------

@pytest.mark.parametrize("optimizer_class", [SGD, Adam, AdamW, RMSprop, Adagrad])
def test_no_parameters_is_an_error(optimizer_class):
    with pytest.raises(ValueError, match="optimizer got no parameters"):
        optimizer_class([], lr=0.1)
    with pytest.raises(ValueError, match="optimizer got no parameters"):
        optimizer_class(iter([]), lr=0.1)


def test_parameters_may_be_any_iterable():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    optimizer = SGD((p for p in model.parameters()), lr=0.1)
    assert optimizer.param_groups[0]["params"] == model.parameters()


@pytest.mark.parametrize("make", [
    lambda p: SGD([p], lr=-0.1),
    lambda p: SGD([p], lr=0.1, nesterov=True),
    lambda p: SGD([p], lr=0.1, momentum=-0.5),
    lambda p: SGD([p, p], lr=0.1),
    lambda p: Adam([p], betas=(0.9, 1.0)),
    lambda p: Adam([p], eps=-1.0),
    lambda p: Adam([{"params": [p], "betas": (0.9,)}]),
    lambda p: RMSprop([p], alpha=-0.1),
    lambda p: RMSprop([p], momentum=-0.9),
    lambda p: Adagrad([p], lr_decay=-1.0),
    lambda p: Adagrad([p], initial_accumulator_value=-1.0),
    lambda p: SGD([{"params": [p], "lr": -1.0}], lr=0.1),
    lambda p: SGD([{"params": [p], "nesterov": True}], lr=0.1),
    lambda p: SGD([{"lr": 0.1}], lr=0.1),
])
def test_bad_settings_are_refused(make):
    with pytest.raises(ValueError):
        make(nn.Parameter(np.zeros(2)))


def test_non_tensor_parameters_are_refused():
    with pytest.raises(TypeError):
        SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(TypeError, match="parameter group must be a dict"):
        SGD([nn.Parameter(np.zeros(2))], lr=0.1).add_param_group([nn.Parameter(np.zeros(2))])


def test_the_base_class_has_no_step():
    with pytest.raises(NotImplementedError):
        Optimizer([nn.Parameter(np.zeros(1))], {"lr": 0.1}).step()


def test_repr_shows_every_groups_settings():
    optimizer = SGD([{"params": [nn.Parameter(np.zeros(1))]}, {"params": [nn.Parameter(np.zeros(1))], "lr": 0.5}],
                    lr=0.1)
    assert repr(optimizer) == ("SGD(lr=0.1, momentum=0.0, nesterov=False, weight_decay=0.0 (1 params); "
                               "lr=0.5, momentum=0.0, nesterov=False, weight_decay=0.0 (1 params))")


# ---- state_dict ---------------------------------------------------------------------------------

def train(model, optimizer, steps, rng):
    """`steps` minibatch steps of a fixed problem; the batches come from `rng`."""
    for _ in range(steps):
        x = rng.standard_normal((8, 4)).astype(np.float32)
        optimizer.zero_grad()
        F.cross_entropy(model(Tensor(x)), (x[:, 0] > 0).astype(np.int64)).backward()
        optimizer.step()


def make_model(seed):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(4, 5, rng=rng), nn.Tanh(), nn.Linear(5, 2, init="xavier_normal", rng=rng))


def through_npz(state):
    """Save with np.savez and load back, as a checkpoint file would."""
    buffer = io.BytesIO()
    np.savez(buffer, **state)
    buffer.seek(0)
    with np.load(buffer) as loaded:
        return {key: loaded[key] for key in loaded.files}


@pytest.mark.parametrize("optimizer_class, settings", OPTIMIZERS)
def test_resuming_from_state_dicts_matches_an_uninterrupted_run(optimizer_class, settings):
    uninterrupted = make_model(seed=0)
    train(uninterrupted, optimizer_class(uninterrupted.parameters(), **settings), 5, np.random.default_rng(1))

    first = make_model(seed=0)
    optimizer = optimizer_class(first.parameters(), **settings)
    batches = np.random.default_rng(1)
    train(first, optimizer, 2, batches)
    model_state, optimizer_state = through_npz(first.state_dict()), through_npz(optimizer.state_dict())

    resumed = make_model(seed=7)
    resumed_optimizer = optimizer_class(resumed.parameters(), **{**settings, "lr": 0.5})
    resumed.load_state_dict(model_state)
    resumed_optimizer.load_state_dict(optimizer_state)
    assert resumed_optimizer.state_dict().keys() == optimizer.state_dict().keys()
    assert resumed_optimizer.lr == settings["lr"]
    train(resumed, resumed_optimizer, 3, batches)
    for (name, expected), actual in zip(uninterrupted.state_dict().items(), resumed.state_dict().values(), strict=True):
        np.testing.assert_array_equal(actual, expected, err_msg=name)


def test_resuming_with_parameter_groups_matches_an_uninterrupted_run():
    def grouped(model):
        first, *rest = model.parameters()
        return SGD([{"params": [first], "lr": 0.3, "weight_decay": 0.1}, {"params": rest}], lr=0.1, momentum=0.9)

    uninterrupted = make_model(seed=0)
    train(uninterrupted, grouped(uninterrupted), 4, np.random.default_rng(1))
    first = make_model(seed=0)
    optimizer, batches = grouped(first), np.random.default_rng(1)
    train(first, optimizer, 2, batches)
    resumed = make_model(seed=0)
    resumed.load_state_dict(first.state_dict())
    resumed_optimizer = SGD([{"params": resumed.parameters()[:1]}, {"params": resumed.parameters()[1:]}], lr=0.7,
                            momentum=0.5)
    resumed_optimizer.load_state_dict(through_npz(optimizer.state_dict()))
    assert [group["lr"] for group in resumed_optimizer.param_groups] == [0.3, 0.1]
    train(resumed, resumed_optimizer, 2, batches)
    for (name, expected), actual in zip(uninterrupted.state_dict().items(), resumed.state_dict().values(), strict=True):
        np.testing.assert_array_equal(actual, expected, err_msg=name)


def test_state_dict_holds_plain_values_and_copies():
    first, second = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))
    optimizer = Adam([{"params": [first], "betas": (0.8, 0.9)}, {"params": [second]}], lr=0.1)
    first.grad = Tensor(np.ones(2))
    optimizer.step()
    state = optimizer.state_dict()
    settings = {"lr": 0.1, "eps": 1e-8, "weight_decay": 0.0, "decoupled_weight_decay": False}
    assert state == {
        **state, **{f"param_groups.0.{name}": value for name, value in settings.items()},
        **{f"param_groups.1.{name}": value for name, value in settings.items()},
        "param_groups.0.betas": (0.8, 0.9), "param_groups.1.betas": (0.9, 0.999),
        "param_groups.0.params": [0], "param_groups.1.params": [1], "state.0.step": 1, "state.1.step": 0}
    assert {key for key in state if key.startswith("state.")} == {
        f"state.{position}.{name}" for position in (0, 1) for name in ("step", "exp_avg", "exp_avg_sq")}
    state["state.0.exp_avg"][...] = 99.0
    assert not np.any(optimizer.state_dict()["state.0.exp_avg"] == 99.0)


def test_state_dict_restores_numbers_saved_as_arrays():
    p = nn.Parameter(np.ones(2))
    optimizer = Adam([p], betas=(0.8, 0.9))
    p.grad = Tensor(np.ones(2))
    optimizer.step()
    restored_p = nn.Parameter(np.ones(2))
    restored = Adam([restored_p])
    restored.load_state_dict(through_npz(optimizer.state_dict()))
    betas = restored.param_groups[0]["betas"]
    assert betas == (0.8, 0.9) and isinstance(betas, tuple)
    assert restored.state[restored_p]["step"] == 1 and isinstance(restored.state[restored_p]["step"], int)


def test_one_group_keeps_the_format_written_before_parameter_groups():
    # what SGD(momentum=0.9).state_dict() gave before groups, and checkpoints hold
    p = nn.Parameter(np.array([1.0, 2.0]))
    optimizer = SGD([p], lr=0.5, momentum=0.1)
    assert optimizer.state_dict().keys() == {"lr", "momentum", "nesterov", "weight_decay", "state.0.momentum_buffer"}
    optimizer.load_state_dict({"lr": np.array(0.1), "momentum": np.array(0.9), "nesterov": np.array(False),
                               "weight_decay": np.array(0.0), "state.0.momentum_buffer": np.array([1.0, -1.0])})
    assert optimizer.param_groups[0] == {"params": [p], "lr": 0.1, "momentum": 0.9, "nesterov": False,
                                         "weight_decay": 0.0}
    p.grad = Tensor(np.array([1.0, 1.0]))
    optimizer.step()  # b = 0.9 * [1, -1] + 1 = [1.9, 0.1]
    np.testing.assert_allclose(p.data, [1.0 - 0.19, 2.0 - 0.01], rtol=1e-12)


def test_load_state_dict_names_missing_and_unexpected_keys():
    optimizer = SGD([nn.Parameter(np.zeros(2))], lr=0.1, momentum=0.9)
    state = optimizer.state_dict()
    del state["state.0.momentum_buffer"]
    state["state.1.momentum_buffer"] = np.zeros(2)
    with pytest.raises(KeyError, match=r"missing keys \['state.0.momentum_buffer'\].*unexpected keys "
                                       r"\['state.1.momentum_buffer'\]"):
        optimizer.load_state_dict(state)


@pytest.mark.parametrize("bad_buffer", [np.zeros(3), np.zeros(2, dtype=np.float32), np.float64(0.0)])
def test_load_state_dict_refuses_another_shape_or_dtype_and_changes_nothing(bad_buffer):
    optimizer = SGD([nn.Parameter(np.zeros(2))], lr=0.1, momentum=0.9)
    state = {**optimizer.state_dict(), "lr": 0.5, "state.0.momentum_buffer": bad_buffer}
    with pytest.raises(ValueError, match="state.0.momentum_buffer is .* needs float64\\[2\\]"):
        optimizer.load_state_dict(state)
    assert optimizer.lr == 0.1


def test_load_state_dict_refuses_another_grouping():
    params = [nn.Parameter(np.zeros(2)) for _ in range(3)]
    two_groups = SGD([{"params": params[:1]}, {"params": params[1:]}], lr=0.1)
    with pytest.raises(ValueError, match="parameter group 0 has 2 parameters, the state has 1"):
        SGD([{"params": params[:2]}, {"params": params[2:]}], lr=0.1).load_state_dict(two_groups.state_dict())
    with pytest.raises(KeyError, match=r"unexpected keys \['param_groups.1.lr'"):
        SGD([{"params": params}], lr=0.1).load_state_dict(two_groups.state_dict())
    with pytest.raises(KeyError, match=r"missing keys \['param_groups.1.lr', .*'param_groups.1.params'"):
        two_groups.load_state_dict(SGD(params, lr=0.1).state_dict())


def test_load_state_dict_refuses_another_optimizers_state():
    sgd = SGD([nn.Parameter(np.zeros(2))], lr=0.1, momentum=0.9)
    with pytest.raises(KeyError, match="missing keys"):
        Adam([nn.Parameter(np.zeros(2))]).load_state_dict(sgd.state_dict())


@settings(max_examples=20)
@given(st.integers(0, 3), learning_rates)
def test_state_dict_round_trip_through_a_fresh_optimizer(steps, lr):
    rng = np.random.default_rng(steps)
    p = nn.Parameter(rng.standard_normal(3))
    optimizer = SGD([p], lr=lr, momentum=0.9, nesterov=True)
    for _ in range(steps):
        p.grad = Tensor(rng.standard_normal(3))
        optimizer.step()
    restored = SGD([nn.Parameter(np.zeros(3))], lr=1.0, momentum=0.5)
    restored.load_state_dict(optimizer.state_dict())
    for (key, expected), actual in zip(optimizer.state_dict().items(), restored.state_dict().values(), strict=True):
        np.testing.assert_array_equal(actual, expected, err_msg=key)


# ---- optional cross-check against PyTorch ---------------------------------------------------------

@pytest.mark.parametrize("optimizer_class, settings", OPTIMIZERS)
def test_matches_torch_optim_with_two_parameter_groups(optimizer_class, settings):
    torch = pytest.importorskip("torch")
    torch_class = getattr(torch.optim, optimizer_class.__name__)
    rng = np.random.default_rng(0)
    starts = [rng.standard_normal((3, 2)), rng.standard_normal(4)]
    grads = [[rng.standard_normal(start.shape) for start in starts] for _ in range(4)]
    second_group = {"lr": settings["lr"] / 2, "weight_decay": 0.0}

    ours = [nn.Parameter(start) for start in starts]
    optimizer = optimizer_class([{"params": ours[:1]}, {"params": ours[1:], **second_group}], **settings)
    theirs = [torch.tensor(start, requires_grad=True) for start in starts]
    torch_optimizer = torch_class([{"params": theirs[:1]}, {"params": theirs[1:], **second_group}], **settings)
    for step_grads in grads:
        for p, q, grad in zip(ours, theirs, step_grads, strict=True):
            p.grad, q.grad = Tensor(grad), torch.tensor(grad)
        optimizer.step()
        torch_optimizer.step()
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("optimizer_class", [RMSprop, Adagrad])
def test_defaults_match_torchs(optimizer_class):
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.optim, optimizer_class.__name__)([torch.zeros(1, requires_grad=True)]).defaults
    ours = optimizer_class([nn.Parameter(np.zeros(1))]).defaults
    assert ours == {name: theirs[name] for name in ours}
