"""conv2d, the pools, pad, unfold and fold against torch.nn.functional with the same arguments:
values and gradients (skipped when PyTorch, an optional oracle, is not installed)."""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from lowerings import lowering
from strategies import conv2d_inputs, images_and_windows, pad_inputs, pool_inputs

import tinygrad_np.nn.functional as F
from tinygrad_np import Tensor

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def compare(ours, theirs, *inputs):
    """Run both on float64 copies of `inputs` (None stays None), with one random output
    gradient; assert equal values and equal input gradients."""
    leaves = [None if a is None else Tensor(a, requires_grad=True) for a in inputs]
    their_leaves = [None if a is None else torch.tensor(a, requires_grad=True) for a in inputs]
    out, expected = ours(*leaves), theirs(*their_leaves)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    seed = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(seed)
    expected.backward(torch.tensor(seed))
    for leaf, their_leaf in zip(leaves, their_leaves, strict=True):
        if leaf is not None:
            np.testing.assert_allclose(leaf.grad.data, their_leaf.grad.numpy(), rtol=1e-10, atol=1e-12)


@given(conv2d_inputs(max_group_channels=3, max_groups=3))
def test_conv2d_matches_torch(case):
    x, weight, bias, params = case
    compare(lambda *t: F.conv2d(*t, **params), lambda *t: TF.conv2d(*t, **params), x, weight, bias)


@given(conv2d_inputs(max_group_channels=3, max_groups=1, max_stride=1, max_kernel=4))
def test_spectral_conv2d_matches_torch(case):
    x, weight, bias, params = case
    with lowering("spectral"):
        compare(lambda *t: F.conv2d(*t, **params), lambda *t: TF.conv2d(*t, **params), x, weight, bias)


@given(pool_inputs(max_channels=3, distinct=True))
def test_max_pool2d_matches_torch(case):
    x, geometry = case
    compare(lambda t: F.max_pool2d(t, **geometry), lambda t: TF.max_pool2d(t, **geometry), x)


@given(pool_inputs(max_channels=3), st.booleans())
def test_avg_pool2d_matches_torch(case, count_include_pad):
    x, geometry = case
    del geometry["dilation"]
    compare(lambda t: F.avg_pool2d(t, **geometry, count_include_pad=count_include_pad),
            lambda t: TF.avg_pool2d(t, **geometry, count_include_pad=count_include_pad), x)


@given(pad_inputs())
def test_pad_matches_torch(case):
    x, pad, mode, value = case
    axes = len(pad) // 2
    if mode != "constant":  # PyTorch pads by index the last 1-3 axes of an input with one more axis
        assume(axes <= 3)
        x = x.reshape((-1,) + x.shape[x.ndim - axes:])
    kwargs = dict(mode=mode, value=value) if mode == "constant" else dict(mode=mode)
    compare(lambda t: F.pad(t, pad, **kwargs), lambda t: TF.pad(t, pad, **kwargs), x)


@given(images_and_windows())
def test_unfold_and_fold_match_torch(case):
    x, geometry = case
    compare(lambda t: F.unfold(t, **geometry), lambda t: TF.unfold(t, **geometry), x)
    columns = TF.unfold(torch.tensor(x), **geometry).numpy()
    compare(lambda t: F.fold(t, x.shape[2:], **geometry), lambda t: TF.fold(t, x.shape[2:], **geometry), columns)
