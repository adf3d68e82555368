"""tinygrad_np.optim.schedules: known values at the boundaries, monotonic where they should be."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_np import Tensor, nn
from tinygrad_np.optim import SGD, CosineAnnealing, StepDecay

base_rates = st.floats(1e-4, 10.0)
warmups = st.integers(0, 20)


def values(schedule, count):
    return np.array([schedule(index) for index in range(count)])


# ---- warm-up ------------------------------------------------------------------------------------

@pytest.mark.parametrize("schedule", [StepDecay(0.4, step_size=3, warmup=4),
                                      CosineAnnealing(0.4, total=10, warmup=4)])
def test_warmup_ramps_linearly_from_base_over_w_to_base(schedule):
    # W = 4: indices 0..3 get 0.1, 0.2, 0.3, 0.4; index 4 starts the schedule at base_lr
    np.testing.assert_allclose(values(schedule, 5), [0.1, 0.2, 0.3, 0.4, 0.4], rtol=1e-12)


@given(base_rates, st.integers(1, 20), st.integers(1, 5), st.floats(0.1, 1.0))
def test_step_decay_warmup_is_increasing_and_ends_at_base(base_lr, warmup, step_size, gamma):
    schedule = StepDecay(base_lr, step_size=step_size, gamma=gamma, warmup=warmup)
    ramp = values(schedule, warmup)
    assert np.all(np.diff(ramp) > 0)
    assert ramp[0] == pytest.approx(base_lr / warmup) and ramp[-1] == pytest.approx(base_lr)
    assert schedule(warmup) == pytest.approx(base_lr)


# ---- step decay -----------------------------------------------------------------------------------

def test_step_decay_known_values():
    schedule = StepDecay(1.0, step_size=10, gamma=0.1)
    expected = {0: 1.0, 9: 1.0, 10: 0.1, 19: 0.1, 20: 0.01, 35: 0.001}
    for index, lr in expected.items():
        assert schedule(index) == pytest.approx(lr, rel=1e-12), index


def test_step_decay_counts_its_steps_from_the_end_of_warmup():
    schedule = StepDecay(1.0, step_size=10, gamma=0.5, warmup=3)
    assert schedule(12) == 1.0 and schedule(13) == 0.5 and schedule(23) == 0.25


@given(base_rates, st.integers(1, 10), st.floats(0.01, 1.0), warmups)
def test_step_decay_is_base_times_gamma_to_the_number_of_whole_steps(base_lr, step_size, gamma, warmup):
    schedule = StepDecay(base_lr, step_size=step_size, gamma=gamma, warmup=warmup)
    after = values(schedule, warmup + 5 * step_size)[warmup:]
    expected = [base_lr * gamma ** (index // step_size) for index in range(len(after))]
    np.testing.assert_allclose(after, expected, rtol=1e-12)
    assert np.all(np.diff(after) <= 0)


# ---- cosine annealing ----------------------------------------------------------------------------

def test_cosine_known_values():
    schedule = CosineAnnealing(1.0, total=10, min_lr=0.1)
    assert schedule(0) == 1.0
    assert schedule(5) == pytest.approx(0.55, rel=1e-12)  # midway: (base + min) / 2
    # a quarter of the way: min + (base - min) * (1 + cos(pi / 4)) / 2
    assert CosineAnnealing(1.0, total=8, min_lr=0.1)(2) == pytest.approx(0.1 + 0.9 * (1 + math.sqrt(0.5)) / 2)
    assert schedule(10) == 0.1 and schedule(11) == 0.1 and schedule(1000) == 0.1


@given(base_rates, st.floats(0.0, 1.0), st.integers(1, 50), warmups)
def test_cosine_falls_from_base_to_min_after_warmup(base_lr, min_fraction, length, warmup):
    min_lr = base_lr * min_fraction
    schedule = CosineAnnealing(base_lr, total=warmup + length, min_lr=min_lr, warmup=warmup)
    after = values(schedule, warmup + length + 3)[warmup:]
    assert after[0] == pytest.approx(base_lr)
    assert np.all(after[length:] == min_lr)  # exactly the minimum at `total` and after it
    assert np.all(np.diff(after) <= 1e-12 * base_lr)
    assert np.all((after >= min_lr) & (after <= base_lr * (1 + 1e-12)))
    if length % 2 == 0:
        assert after[length // 2] == pytest.approx((base_lr + min_lr) / 2)


@given(base_rates, st.integers(2, 40))
def test_cosine_is_symmetric_about_its_midpoint(base_lr, total):
    # cos(pi - x) = -cos(x): lr(i) - mid = mid - lr(total - i)
    schedule = CosineAnnealing(base_lr, total=total)
    mid = base_lr / 2
    for index in range(total + 1):
        assert schedule(index) - mid == pytest.approx(mid - schedule(total - index), abs=1e-12 * base_lr)


# ---- applying and validating ----------------------------------------------------------------------

def test_setting_optimizer_lr_from_a_schedule_changes_the_step():
    p = nn.Parameter(np.zeros(1))
    optimizer = SGD([p], lr=0.0)
    schedule = StepDecay(1.0, step_size=1, gamma=0.5)
    for index in range(3):
        optimizer.lr = schedule(index)
        p.grad = Tensor(np.ones(1))
        optimizer.step()
    np.testing.assert_allclose(p.data, [-(1.0 + 0.5 + 0.25)])


@pytest.mark.parametrize("make", [
    lambda: StepDecay(-1.0, step_size=1),
    lambda: StepDecay(1.0, step_size=0),
    lambda: StepDecay(1.0, step_size=1.5),
    lambda: StepDecay(1.0, step_size=1, gamma=0.0),
    lambda: StepDecay(1.0, step_size=1, warmup=-1),
    lambda: CosineAnnealing(1.0, total=5, warmup=5),
    lambda: CosineAnnealing(1.0, total=5, min_lr=2.0),
    lambda: CosineAnnealing(1.0, total=5, min_lr=-0.1),
])
def test_bad_settings_are_refused(make):
    with pytest.raises(ValueError):
        make()


def test_negative_index_is_refused():
    with pytest.raises(ValueError, match="index"):
        CosineAnnealing(1.0, total=5)(-1)
