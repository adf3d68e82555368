"""tinygrad_np.nn.utils: clip_grad_norm_ and clip_grad_value_ by hand, over drawn gradients, and
against torch.nn.utils where it is installed."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, shapes

from tinygrad_np import Tensor, nn
from tinygrad_np.nn.utils import clip_grad_norm_, clip_grad_value_

norm_types = st.sampled_from([1.0, 2.0, 3.0, math.inf])


def with_grads(*grads, dtype=np.float64):
    params = []
    for grad in grads:
        p = nn.Parameter(np.zeros(np.shape(grad)), dtype=dtype)
        p.grad = Tensor(grad, dtype=dtype)
        params.append(p)
    return params


def test_clip_grad_norm_by_hand():
    # gradients (3, 4) and (12,): total 2-norm sqrt(9 + 16 + 144) = 13, scaled to norm 1
    params = with_grads(np.array([3.0, 4.0]), np.array([12.0]))
    total = clip_grad_norm_(params, max_norm=1.0)
    assert isinstance(total, Tensor) and total.shape == () and total.item() == 13.0
    scale = 1.0 / (13.0 + 1e-6)
    np.testing.assert_allclose([*params[0].grad.data, *params[1].grad.data], [3 * scale, 4 * scale, 12 * scale],
                               rtol=1e-15)


def test_clip_grad_norm_inf_and_1_norms_by_hand():
    assert clip_grad_norm_(with_grads(np.array([3.0, -4.0]), np.array([-12.0])), 100.0, norm_type="inf").item() == 12
    assert clip_grad_norm_(with_grads(np.array([3.0, -4.0]), np.array([-12.0])), 100.0, norm_type=1).item() == 19


@given(st.lists(arrays(shapes(min_dims=1), low=-5.0, high=5.0), min_size=1, max_size=3), norm_types,
       st.floats(0.01, 10.0))
def test_clip_grad_norm_scales_to_at_most_max_norm(grads, norm_type, max_norm):
    params = with_grads(*grads)
    everything = np.concatenate([grad.ravel() for grad in grads])
    expected_total = np.linalg.norm(everything, ord=norm_type)
    total = clip_grad_norm_(params, max_norm, norm_type)
    np.testing.assert_allclose(total.item(), expected_total, rtol=1e-12)
    scale = min(max_norm / (expected_total + 1e-6), 1.0)
    for p, grad in zip(params, grads, strict=True):
        np.testing.assert_allclose(p.grad.data, grad * scale, rtol=1e-12)
    clipped = np.concatenate([p.grad.data.ravel() for p in params])
    assert np.linalg.norm(clipped, ord=norm_type) <= max(max_norm, 0) * (1 + 1e-12) or scale == 1.0


def test_parameters_without_grad_are_skipped_and_a_single_tensor_works():
    clipped, untouched = with_grads(np.array([6.0, 8.0]))[0], nn.Parameter(np.ones(2))
    assert clip_grad_norm_([untouched, clipped], 5.0).item() == 10.0
    assert untouched.grad is None
    np.testing.assert_allclose(clipped.grad.data, [3.0, 4.0], rtol=1e-6)
    assert clip_grad_norm_(clipped, 100.0).item() == pytest.approx(5.0, rel=1e-6)
    assert clip_grad_norm_([untouched], 1.0).item() == 0.0


def test_clip_grad_norm_keeps_float32():
    params = with_grads(np.array([3.0, 4.0]), dtype=np.float32)
    total = clip_grad_norm_(params, 1.0)
    assert total.dtype == np.float32 and params[0].grad.dtype == np.float32


def test_a_nonfinite_norm_raises_only_when_asked():
    with pytest.raises(RuntimeError, match="total norm of order 2.0 of the gradients is nan"):
        clip_grad_norm_(with_grads(np.array([np.nan, 1.0])), 1.0, error_if_nonfinite=True)
    with np.errstate(invalid="ignore"):  # as PyTorch, scales by the norm anyway: inf * 0 is NaN
        assert math.isinf(clip_grad_norm_(with_grads(np.array([np.inf, 1.0])), 1.0).item())


@given(st.lists(arrays(shapes(min_dims=1), low=-5.0, high=5.0), min_size=1, max_size=3), st.floats(0.0, 4.0))
def test_clip_grad_value(grads, clip_value):
    params = with_grads(*grads)
    assert clip_grad_value_(params, clip_value) is None
    for p, grad in zip(params, grads, strict=True):
        np.testing.assert_array_equal(p.grad.data, np.clip(grad, -clip_value, clip_value))


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.5, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    ours = with_grads(*grads)
    theirs = [torch.zeros(grad.shape, dtype=torch.float64, requires_grad=True) for grad in grads]
    for p, grad in zip(theirs, grads, strict=True):
        p.grad = torch.tensor(grad)
    np.testing.assert_allclose(clip_grad_norm_(ours, max_norm, norm_type).item(),
                               torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type).item(), rtol=1e-12)
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-12)
    clip_grad_value_(ours, 0.3)
    torch.nn.utils.clip_grad_value_(theirs, 0.3)
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(p.grad.data, q.grad.numpy())
