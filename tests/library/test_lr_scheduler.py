"""tinygrad_np.optim.lr_scheduler: known values by hand, the chainable form against the closed
forms, state_dict resume, errors, and PyTorch's schedulers (equal to the last bit) where installed."""
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_np import Tensor, nn
from tinygrad_np.optim import SGD, Adagrad, Adam, RMSprop
from tinygrad_np.optim import lr_scheduler as schedulers


def optimizer_with_groups(lrs=(1.0,), optimizer_class=SGD, **settings):
    return optimizer_class([{"params": [nn.Parameter(np.zeros(1))], "lr": lr} for lr in lrs], **settings)


def learning_rates(scheduler, steps: int) -> list:
    """get_last_lr() after construction and after each of `steps` steps."""
    rates = [scheduler.get_last_lr()]
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
        rates.append(scheduler.get_last_lr())
    return rates


def first_group(rates: list) -> list:
    return [group_rates[0] for group_rates in rates]


# ---- known values -----------------------------------------------------------------------------------

def cosine(base, eta_min, epoch, period):
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * epoch / period)) / 2


@pytest.mark.parametrize("make, expected", [
    (lambda opt: schedulers.StepLR(opt, step_size=2, gamma=0.5), [1, 1, 0.5, 0.5, 0.25, 0.25]),
    # a milestone given twice applies gamma twice
    (lambda opt: schedulers.MultiStepLR(opt, milestones=[4, 2, 4], gamma=0.1), [1, 1, 0.1, 0.1, 1e-3, 1e-3]),
    (lambda opt: schedulers.ExponentialLR(opt, gamma=0.5), [1, 0.5, 0.25, 0.125, 0.0625, 0.03125]),
    (lambda opt: schedulers.LinearLR(opt, start_factor=0.25, total_iters=3), [0.25, 0.5, 0.75, 1, 1, 1]),
    (lambda opt: schedulers.LinearLR(opt, start_factor=1.0, end_factor=0.5, total_iters=2),
     [1, 0.75, 0.5, 0.5, 0.5, 0.5]),
    (lambda opt: schedulers.LambdaLR(opt, lambda epoch: 1 / (epoch + 1)), [1, 1 / 2, 1 / 3, 1 / 4, 1 / 5, 1 / 6]),
    # down to eta_min at T_max = 4, then (as PyTorch's) back up along the same cosine
    (lambda opt: schedulers.CosineAnnealingLR(opt, T_max=4, eta_min=0.1),
     [cosine(1, 0.1, epoch, 4) for epoch in range(6)]),
    # a 2-epoch linear warm-up from 0.5, then exponential decay restarted at its epoch 0
    (lambda opt: schedulers.SequentialLR(opt, [schedulers.LinearLR(opt, start_factor=0.5, total_iters=2),
                                               schedulers.ExponentialLR(opt, gamma=0.5)], milestones=[2]),
     [0.5, 0.75, 1, 0.5, 0.25, 0.125]),
])
def test_known_values(make, expected):
    np.testing.assert_allclose(first_group(learning_rates(make(optimizer_with_groups()), 5)), expected, rtol=1e-12)


def test_one_cycle_known_values_with_momentum():
    # max_lr 1, total 10 steps, 30% rising (to step 0.3 * 10 - 1 = 2) from 1/25, then down to
    # 1/25/1e4 at step 9; the momentum goes 0.95 -> 0.85 -> 0.95 the other way
    optimizer = optimizer_with_groups(momentum=0.9)
    scheduler = schedulers.OneCycleLR(optimizer, max_lr=1.0, total_steps=10, anneal_strategy="linear")
    lrs, momenta = [optimizer.param_groups[0]["lr"]], [optimizer.param_groups[0]["momentum"]]
    for _ in range(9):
        scheduler.step()
        lrs.append(optimizer.param_groups[0]["lr"])
        momenta.append(optimizer.param_groups[0]["momentum"])
    floor = 0.04 / 1e4
    np.testing.assert_allclose(lrs, [0.04, 0.52, 1.0] + [1.0 + (floor - 1.0) * k / 7 for k in range(1, 8)], rtol=1e-12)
    np.testing.assert_allclose(momenta, [0.95, 0.9, 0.85] + [0.85 + 0.1 * k / 7 for k in range(1, 8)], rtol=1e-12)
    scheduler.step()  # step 10: PyTorch allows one past the last
    with pytest.raises(ValueError, match="stepped 11 times, past its total_steps=10"):
        scheduler.step()


def test_one_cycle_cycles_adams_beta1():
    optimizer = optimizer_with_groups(optimizer_class=Adam, betas=(0.9, 0.99))
    schedulers.OneCycleLR(optimizer, max_lr=0.1, epochs=2, steps_per_epoch=5)
    assert optimizer.param_groups[0]["betas"] == (0.95, 0.99)


def test_every_group_gets_its_own_schedule():
    scheduler = schedulers.StepLR(optimizer_with_groups((1.0, 0.1)), step_size=1, gamma=0.5)
    np.testing.assert_allclose(learning_rates(scheduler, 2), [[1.0, 0.1], [0.5, 0.05], [0.25, 0.025]], rtol=1e-12)


def test_the_optimizer_steps_with_the_scheduled_learning_rate():
    p = nn.Parameter(np.array([0.0]))
    optimizer = SGD([p], lr=1.0)
    scheduler = schedulers.StepLR(optimizer, step_size=1, gamma=0.1)
    for _ in range(3):
        p.grad = Tensor(np.array([1.0]))
        optimizer.step()
        scheduler.step()
    np.testing.assert_allclose(p.data, [-(1.0 + 0.1 + 0.01)], rtol=1e-12)
    assert optimizer.param_groups[0]["initial_lr"] == 1.0


# ---- the chainable form equals the closed form --------------------------------------------------------

closed_forms = st.one_of(
    st.builds(lambda step, gamma: (lambda opt: schedulers.StepLR(opt, step, gamma),
                                   lambda base, epoch: base * gamma ** (epoch // step)),
              st.integers(1, 5), st.floats(0.1, 0.9)),
    st.builds(lambda gamma: (lambda opt: schedulers.ExponentialLR(opt, gamma),
                             lambda base, epoch: base * gamma ** epoch),
              st.floats(0.5, 0.99)),
    st.builds(lambda period, eta_min: (lambda opt: schedulers.CosineAnnealingLR(opt, period, eta_min),
                                       lambda base, epoch: cosine(base, eta_min, epoch, period)),
              st.integers(1, 10), st.floats(0.0, 0.05)),
    st.builds(lambda start, end, total: (lambda opt: schedulers.LinearLR(opt, start, end, total),
                                         lambda base, epoch: base * (start + (end - start) * min(epoch, total)
                                                                     / total)),
              st.floats(0.05, 1.0), st.floats(0.0, 1.0), st.integers(1, 10)),
)


@settings(max_examples=30)
@given(closed_forms, st.floats(0.1, 1.0))
def test_the_chainable_form_follows_the_closed_form(pair, base_lr):
    make, closed_form = pair
    rates = first_group(learning_rates(make(optimizer_with_groups((base_lr,))), 25))
    np.testing.assert_allclose(rates, [closed_form(base_lr, epoch) for epoch in range(26)], rtol=1e-9, atol=1e-12)


# ---- state_dict ---------------------------------------------------------------------------------------

def sequential(opt):
    return schedulers.SequentialLR(opt, [schedulers.LinearLR(opt, 0.1, total_iters=3),
                                         schedulers.CosineAnnealingLR(opt, T_max=6)], milestones=[3])


RESUMABLE = [
    lambda opt: schedulers.StepLR(opt, 2),
    lambda opt: schedulers.MultiStepLR(opt, [1, 3]),
    lambda opt: schedulers.CosineAnnealingLR(opt, T_max=5),
    lambda opt: schedulers.LambdaLR(opt, lambda epoch: 0.9 ** epoch),
    lambda opt: schedulers.OneCycleLR(opt, max_lr=2.0, total_steps=9),
    sequential,
]


@pytest.mark.parametrize("make", RESUMABLE)
def test_resuming_from_state_dicts_continues_the_schedule(make):
    uninterrupted = learning_rates(make(optimizer_with_groups((1.0, 0.5), momentum=0.9)), 8)

    optimizer = optimizer_with_groups((1.0, 0.5), momentum=0.9)
    scheduler = make(optimizer)
    learning_rates(scheduler, 3)
    # through JSON, as a checkpoint's record keeps them
    saved_optimizer, saved_scheduler = optimizer.state_dict(), json.loads(json.dumps(scheduler.state_dict()))

    optimizer = optimizer_with_groups((7.0, 7.0), momentum=0.9)
    scheduler = make(optimizer)
    optimizer.load_state_dict(saved_optimizer)
    scheduler.load_state_dict(saved_scheduler)
    assert scheduler.get_last_lr() == uninterrupted[3]
    assert learning_rates(scheduler, 5) == uninterrupted[3:]


def test_lambda_lr_saves_callable_objects_but_not_functions():
    class Decay:
        def __init__(self):
            self.rate = 0.5

        def __call__(self, epoch):
            return self.rate ** epoch

    decay = Decay()
    scheduler = schedulers.LambdaLR(optimizer_with_groups((1.0, 1.0)), [decay, lambda epoch: 1.0])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.5}, None]
    decay.rate = 0.1
    scheduler.load_state_dict(state)
    assert decay.rate == 0.5


def test_resuming_at_a_last_epoch_needs_initial_lr():
    with pytest.raises(KeyError, match=r"param_groups\[0\] has no 'initial_lr'"):
        schedulers.StepLR(optimizer_with_groups(), step_size=1, last_epoch=3)


# ---- errors -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, error, message", [
    (lambda opt: schedulers.StepLR(opt, step_size=0), ValueError, "step_size"),
    (lambda opt: schedulers.LinearLR(opt, start_factor=0.0), ValueError, "start_factor"),
    (lambda opt: schedulers.LinearLR(opt, end_factor=1.5), ValueError, "end_factor"),
    (lambda opt: schedulers.CosineAnnealingLR(opt, T_max=0), ValueError, "T_max"),
    (lambda opt: schedulers.LambdaLR(opt, [lambda e: 1.0] * 2), ValueError, "expected 1 lr_lambdas"),
    (lambda opt: schedulers.LambdaLR(opt, 0.5), TypeError, "lr_lambda must be a function"),
    (lambda opt: schedulers.OneCycleLR(opt, max_lr=1.0), ValueError, "total_steps, or epochs and steps_per_epoch"),
    (lambda opt: schedulers.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=1.5), ValueError, "pct_start"),
    (lambda opt: schedulers.OneCycleLR(opt, max_lr=[1.0, 2.0], total_steps=10), ValueError, "max_lr has 2 values"),
    (lambda opt: schedulers.OneCycleLR(opt, 1.0, 10, anneal_strategy="exp"), ValueError, "anneal_strategy"),
    (lambda opt: schedulers.SequentialLR(opt, [schedulers.StepLR(opt, 1)], milestones=[3]), ValueError,
     "one milestone fewer"),
    (lambda opt: schedulers.SequentialLR(opt, [schedulers.StepLR(optimizer_with_groups(), 1)], []), ValueError,
     "another optimizer"),
    (lambda opt: schedulers.StepLR("sgd", step_size=1), TypeError, "str is not an Optimizer"),
])
def test_bad_settings_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make(optimizer_with_groups())


def test_one_cycle_momentum_needs_an_optimizer_with_momentum():
    with pytest.raises(ValueError, match="cycle_momentum needs an optimizer with momentum or betas, not Adagrad"):
        schedulers.OneCycleLR(optimizer_with_groups(optimizer_class=Adagrad), max_lr=1.0, total_steps=5)
    schedulers.OneCycleLR(optimizer_with_groups(optimizer_class=Adagrad), 1.0, 5, cycle_momentum=False)


# ---- against PyTorch ----------------------------------------------------------------------------------

PAIRS = {  # name: (ours, PyTorch's), each a function of (the scheduler module, optimizer)
    "StepLR": lambda S, opt: S.StepLR(opt, step_size=3, gamma=0.7),
    "MultiStepLR": lambda S, opt: S.MultiStepLR(opt, milestones=[2, 5, 5, 11], gamma=0.3),
    "ExponentialLR": lambda S, opt: S.ExponentialLR(opt, gamma=0.93),
    "CosineAnnealingLR": lambda S, opt: S.CosineAnnealingLR(opt, T_max=7, eta_min=1e-3),
    "LinearLR": lambda S, opt: S.LinearLR(opt, start_factor=0.1, end_factor=0.8, total_iters=6),
    "LambdaLR": lambda S, opt: S.LambdaLR(opt, lambda epoch: 1 / math.sqrt(epoch + 1)),
    "OneCycleLR": lambda S, opt: S.OneCycleLR(opt, max_lr=[0.5, 2.0], total_steps=20),
    "OneCycleLR three-phase linear": lambda S, opt: S.OneCycleLR(opt, max_lr=1.0, total_steps=20, pct_start=0.25,
                                                                 three_phase=True, anneal_strategy="linear"),
    "SequentialLR": lambda S, opt: S.SequentialLR(opt, [S.LinearLR(opt, 0.2, total_iters=4),
                                                        S.ExponentialLR(opt, 0.9), S.CosineAnnealingLR(opt, 5)],
                                                  milestones=[4, 9]),
}


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("optimizer_name", ["SGD", "Adam", "RMSprop"])
def test_equals_torch_to_the_last_bit(name, optimizer_name):
    torch = pytest.importorskip("torch")
    settings = {"SGD": {"momentum": 0.9}, "Adam": {}, "RMSprop": {"momentum": 0.5}}[optimizer_name]
    ours = {"SGD": SGD, "Adam": Adam, "RMSprop": RMSprop}[optimizer_name]
    optimizer = ours([{"params": [nn.Parameter(np.zeros(1))], "lr": lr} for lr in (0.1, 0.03)], **settings)
    torch_optimizer = getattr(torch.optim, optimizer_name)(
        [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in (0.1, 0.03)], **settings)
    scheduler, torch_scheduler = PAIRS[name](schedulers, optimizer), PAIRS[name](torch.optim.lr_scheduler,
                                                                                  torch_optimizer)
    momentum = "betas" if optimizer_name == "Adam" else "momentum"
    for _ in range(20):
        assert scheduler.get_last_lr() == torch_scheduler.get_last_lr()
        assert ([tuple(np.atleast_1d(group[momentum])) for group in optimizer.param_groups]
                == [tuple(np.atleast_1d(group[momentum])) for group in torch_optimizer.param_groups])
        optimizer.step()
        torch_optimizer.step()
        scheduler.step()
        torch_scheduler.step()
