"""tinygrad_np.optim: SGD and Adam/AdamW against the update formulas, state_dict resume, in-place steps.

The references below are written from the formulas (PyTorch's documented algorithms) in float64,
with fresh arrays each step, independently of the optimizers' in-place code.
"""
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import arrays, shapes

from tinygrad_np import Tensor, nn
from tinygrad_np.function import Function
from tinygrad_np.nn import functional as F
from tinygrad_np.optim import SGD, Adam, AdamW, Optimizer
from tinygrad_np.optim import axpy as axpy_module

learning_rates = st.floats(1e-4, 1.0)
sgd_settings = st.fixed_dictionaries({
    "lr": learning_rates, "momentum": st.sampled_from([0.0, 0.5, 0.9]),
    "nesterov": st.booleans(), "weight_decay": st.sampled_from([0.0, 1e-2, 0.5]),
}).filter(lambda s: s["momentum"] > 0 or not s["nesterov"])
adam_settings = st.fixed_dictionaries({
    "lr": learning_rates, "betas": st.tuples(st.sampled_from([0.0, 0.5, 0.9]), st.sampled_from([0.9, 0.999])),
    "eps": st.sampled_from([1e-8, 1e-3]), "weight_decay": st.sampled_from([0.0, 1e-2, 0.5]),
    "decoupled_weight_decay": st.booleans(),
})


@st.composite
def trajectories(draw, steps=3):
    """A float64 starting value and `steps` gradients of the same shape."""
    shape = draw(shapes())
    start, *grads = [draw(arrays(shape, low=-10.0, high=10.0)) for _ in range(steps + 1)]
    return start, grads


def run(optimizer_class, start, grads, **settings):
    """The parameter's value after one optimizer step per gradient."""
    p = nn.Parameter(start)
    optimizer = optimizer_class([p], **settings)
    for grad in grads:
        p.grad = Tensor(grad)
        optimizer.step()
    return p.data


# ---- references from the formulas ----------------------------------------------------------------

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
        v = beta2 * v + (1 - beta2) * g * g
        m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


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


def test_adamw_defaults():
    optimizer = AdamW([nn.Parameter(np.zeros(2))])
    assert (optimizer.lr, optimizer.betas, optimizer.eps) == (1e-3, (0.9, 0.999), 1e-8)
    assert optimizer.weight_decay == 1e-2 and optimizer.decoupled_weight_decay


# ---- the formulas over drawn values --------------------------------------------------------------

@given(trajectories(), sgd_settings)
def test_sgd_matches_the_formulas(trajectory, settings):
    start, grads = trajectory
    np.testing.assert_allclose(run(SGD, start, grads, **settings), sgd_reference(start, grads, **settings),
                               rtol=1e-10, atol=1e-10)


@given(sgd_settings, st.integers(0, 2**32 - 1))
@settings(max_examples=20)
def test_sgd_matches_the_formulas_on_a_parameter_large_enough_for_blas(config, seed):
    rng = np.random.default_rng(seed)
    start, *grads = rng.uniform(-10, 10, size=(4, 64, axpy_module.MIN_BLAS_SIZE // 32))  # the one-pass BLAS update
    np.testing.assert_allclose(run(SGD, start, grads, **config), sgd_reference(start, grads, **config),
                               rtol=1e-10, atol=1e-10)


@given(trajectories(), adam_settings)
def test_adam_matches_the_formulas(trajectory, settings):
    start, grads = trajectory
    np.testing.assert_allclose(run(Adam, start, grads, **settings), adam_reference(start, grads, **settings),
                               rtol=1e-10, atol=1e-10)


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


# ---- in place, dtype, no graph, gradients left alone ---------------------------------------------

OPTIMIZERS = [
    (SGD, {"lr": 0.1}),
    (SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    (Adam, {"lr": 0.1, "weight_decay": 0.1}),
    (AdamW, {"lr": 0.1}),
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

@pytest.mark.parametrize("optimizer_class", [SGD, Adam, AdamW])
def test_no_parameters_is_an_error(optimizer_class):
    with pytest.raises(ValueError, match="optimizer got no parameters"):
        optimizer_class([], lr=0.1)
    with pytest.raises(ValueError, match="optimizer got no parameters"):
        optimizer_class(iter([]), lr=0.1)


def test_parameters_may_be_any_iterable():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    optimizer = SGD((p for p in model.parameters()), lr=0.1)
    assert optimizer.params == model.parameters()


@pytest.mark.parametrize("make", [
    lambda p: SGD([p], lr=-0.1),
    lambda p: SGD([p], lr=0.1, nesterov=True),
    lambda p: SGD([p], lr=0.1, momentum=-0.5),
    lambda p: SGD([p, p], lr=0.1),
    lambda p: Adam([p], betas=(0.9, 1.0)),
    lambda p: Adam([p], eps=-1.0),
])
def test_bad_settings_are_refused(make):
    with pytest.raises(ValueError):
        make(nn.Parameter(np.zeros(2)))


def test_non_tensor_parameters_are_refused():
    with pytest.raises(TypeError):
        SGD([np.zeros(2)], lr=0.1)


def test_the_base_class_has_no_step():
    with pytest.raises(NotImplementedError):
        Optimizer([nn.Parameter(np.zeros(1))], lr=0.1).step()


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
    for (name, expected), actual in zip(uninterrupted.state_dict().items(), resumed.state_dict().values()):
        np.testing.assert_array_equal(actual, expected, err_msg=name)


def test_state_dict_holds_plain_values_and_copies():
    p = nn.Parameter(np.ones(2))
    optimizer = Adam([p], lr=0.1, betas=(0.8, 0.9))
    p.grad = Tensor(np.ones(2))
    optimizer.step()
    state = optimizer.state_dict()
    assert state == {**state, "lr": 0.1, "betas": (0.8, 0.9), "eps": 1e-8, "weight_decay": 0.0,
                     "decoupled_weight_decay": False, "state.0.step": 1}
    assert set(state) == {"lr", "betas", "eps", "weight_decay", "decoupled_weight_decay",
                          "state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq"}
    state["state.0.exp_avg"][...] = 99.0
    assert not np.any(optimizer.state_dict()["state.0.exp_avg"] == 99.0)


def test_state_dict_restores_numbers_saved_as_arrays():
    p = nn.Parameter(np.ones(2))
    optimizer = Adam([p], betas=(0.8, 0.9))
    p.grad = Tensor(np.ones(2))
    optimizer.step()
    restored = Adam([nn.Parameter(np.ones(2))])
    restored.load_state_dict(through_npz(optimizer.state_dict()))
    assert restored.betas == (0.8, 0.9) and isinstance(restored.betas, tuple)
    assert restored.state[0]["step"] == 1 and isinstance(restored.state[0]["step"], int)


def test_load_state_dict_names_missing_and_unexpected_keys():
    optimizer = SGD([nn.Parameter(np.zeros(2))], lr=0.1, momentum=0.9)
    state = optimizer.state_dict()
    del state["state.0.momentum_buffer"]
    state["state.1.momentum_buffer"] = np.zeros(2)
    with pytest.raises(KeyError, match=r"missing keys \['state.0.momentum_buffer'\].*unexpected keys "
                                       r"\['state.1.momentum_buffer'\]"):
        optimizer.load_state_dict(state)


@pytest.mark.parametrize("bad_buffer", [np.zeros(3), np.zeros(2, dtype=np.float32)])
def test_load_state_dict_refuses_another_shape_or_dtype_and_changes_nothing(bad_buffer):
    optimizer = SGD([nn.Parameter(np.zeros(2))], lr=0.1, momentum=0.9)
    state = {**optimizer.state_dict(), "lr": 0.5, "state.0.momentum_buffer": bad_buffer}
    with pytest.raises(ValueError, match="state.0.momentum_buffer"):
        optimizer.load_state_dict(state)
    assert optimizer.lr == 0.1


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
    for (key, expected), actual in zip(optimizer.state_dict().items(), restored.state_dict().values()):
        np.testing.assert_array_equal(actual, expected, err_msg=key)


# ---- optional cross-check against PyTorch ---------------------------------------------------------

@pytest.mark.parametrize("optimizer_class, settings", OPTIMIZERS)
def test_matches_torch_optim(optimizer_class, settings):
    torch = pytest.importorskip("torch")
    torch_class = {SGD: torch.optim.SGD, Adam: torch.optim.Adam, AdamW: torch.optim.AdamW}[optimizer_class]
    rng = np.random.default_rng(0)
    start, grads = rng.standard_normal((3, 2)), [rng.standard_normal((3, 2)) for _ in range(3)]
    torch_p = torch.tensor(start, requires_grad=True)
    torch_optimizer = torch_class([torch_p], **settings)
    for grad in grads:
        torch_p.grad = torch.tensor(grad)
        torch_optimizer.step()
    np.testing.assert_allclose(run(optimizer_class, start, grads, **settings), torch_p.detach().numpy(),
                               rtol=1e-12, atol=1e-12)
