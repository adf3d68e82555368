"""conv2d's spectral lowering (kernels/spectral.py): every stage the exact transpose of its
forward, values and gradients equal to im2col's and to finite differences (first and second
order), float32 as close to the definition as im2col, and the cost model's choices."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lowerings import LOWERINGS, lowering
from strategies import arrays, conv2d_inputs
from test_higher_order import PROJECTIONS, gradient_of

import tinygrad_np.nn.functional as F
from tinygrad_np import Tensor, gradcheck
from tinygrad_np.kernels import spectral

FITTING = conv2d_inputs(max_stride=1, max_groups=1, max_group_channels=3, max_kernel=4)


def run(lowering_name, x, weight, bias, params):
    """conv2d's output, its node's saved state and the gradients of (x, weight, bias) for a fixed
    output gradient, by one lowering."""
    leaves = [None if a is None else Tensor(a, requires_grad=True) for a in (x, weight, bias)]
    with lowering(lowering_name):
        out = F.conv2d(*leaves, **params)
        seed = np.cos(np.arange(out.size)).reshape(out.shape)
        out.backward(seed)
    return out, out.grad_fn.saved, [None if leaf is None else leaf.grad.data for leaf in leaves]


@given(FITTING)
def test_spectral_values_and_gradients_equal_im2col(case):
    spectral_out, saved, spectral_grads = run("spectral", *case)
    im2col_out, columns, im2col_grads = run("im2col", *case)
    assert isinstance(saved, spectral.Saved) and isinstance(columns, np.ndarray)
    np.testing.assert_allclose(spectral_out.data, im2col_out.data, rtol=1e-10, atol=1e-10)
    for ours, theirs in zip(spectral_grads, im2col_grads, strict=True):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


@given(FITTING)
def test_spectral_gradients_match_finite_differences(case):
    x, weight, bias, params = case
    inputs = (x, weight) if bias is None else (x, weight, bias)
    with lowering("spectral"):
        assert gradcheck(lambda *t: F.conv2d(*t, **params), *inputs)


@settings(max_examples=max(5, settings.default.max_examples // 3))
@given(FITTING)
def test_second_derivatives_through_a_spectral_forward_match_finite_differences(case):
    x, weight, bias, params = case
    inputs = (x, weight) if bias is None else (x, weight, bias)
    with lowering("spectral"):
        assert gradcheck(gradient_of(lambda *t: F.conv2d(*t, **params)), *inputs, projections=PROJECTIONS)


@st.composite
def stage_operands(draw):
    """A geometry's matrices and random operands for each stage and for its transpose."""
    x, weight, _, params = draw(FITTING)
    matrices = spectral.transforms(x.shape[2:], weight.shape[2:], params["padding"], params["dilation"],
                                   np.dtype(np.float64))
    x_spectrum = spectral.spectrum(x, matrices)
    out_spectrum_shape = x_spectrum.shape[:3] + (weight.shape[0], x.shape[0])
    out_h, out_w = matrices.from_h.shape[0], matrices.from_w.shape[1]
    grads = {"spectrum": draw(arrays(x_spectrum.shape)), "blocks": draw(arrays(out_spectrum_shape)),
             "image": draw(arrays((x.shape[0], weight.shape[0], out_h, out_w)))}
    return x, weight, matrices, grads


def inner(a, b) -> float:
    return float(np.vdot(np.asarray(a), np.asarray(b)))


@given(stage_operands())
def test_each_backward_stage_is_the_transpose_of_its_forward(operands):
    """<g, A v> = <Aᵀ g, v> for the input's transform, the kernel's, the per-frequency product
    (in both factors) and the inverse transform."""
    x, weight, matrices, grads = operands
    x_spectrum, blocks = spectral.spectrum(x, matrices), spectral.kernel_blocks(weight, matrices)
    out_spectrum = spectral.correlate(x_spectrum, blocks)
    image = spectral.image(out_spectrum, matrices)  # (oH, oW, O, N)
    height, width = x.shape[2:]

    spectrum_back = spectral.spectrum_adjoint(grads["spectrum"], matrices, height, width)
    assert np.isclose(inner(grads["spectrum"], x_spectrum), inner(spectrum_back, x))
    grad_x_spectrum, grad_blocks = spectral.correlate_adjoints(grads["blocks"], x_spectrum, blocks)
    assert np.isclose(inner(grads["blocks"], out_spectrum), inner(grad_x_spectrum, x_spectrum))
    assert np.isclose(inner(grads["blocks"], out_spectrum), inner(grad_blocks, blocks))
    assert np.isclose(inner(grad_blocks, blocks),
                      inner(spectral.kernel_blocks_adjoint(grad_blocks, matrices, weight.shape), weight))
    image_back = spectral.image_adjoint(grads["image"], matrices)
    assert np.isclose(inner(grads["image"], image.transpose(3, 2, 0, 1)), inner(image_back, out_spectrum))


@pytest.mark.parametrize("name", LOWERINGS)
def test_float32_is_as_close_to_the_definition_by_either_lowering(name):
    """The default CNN's second conv in float32: within 1e-5 of the float64 result, relative to
    its largest value, whichever lowering computes it."""
    rng = np.random.default_rng(0)
    x, weight, bias = rng.standard_normal((4, 32, 12, 12)), rng.standard_normal((64, 32, 5, 5)), rng.standard_normal(64)
    exact, _, _ = run("im2col", x, weight, bias, dict(stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1))
    with lowering(name):
        single = F.conv2d(*(Tensor(a.astype(np.float32)) for a in (x, weight, bias)))
    assert single.dtype == np.float32
    assert np.abs(single.data - exact.data).max() <= 1e-5 * np.abs(exact.data).max()


@pytest.mark.parametrize("input_shape, weight_shape, stride, padding, groups, expected", [
    ((64, 32, 12, 12), (64, 32, 5, 5), (1, 1), (0, 0), 1, True),   # the default CNN's second conv
    ((64, 1, 28, 28), (32, 1, 5, 5), (1, 1), (0, 0), 1, False),    # its first: one input channel
    ((64, 32, 28, 28), (32, 32, 3, 3), (1, 1), (1, 1), 1, False),  # 3x3 on 28x28: transforms outweigh
    ((64, 32, 12, 12), (64, 32, 5, 5), (2, 2), (0, 0), 1, False),  # strided: does not fit
    ((64, 32, 12, 12), (64, 16, 5, 5), (1, 1), (0, 0), 2, False),  # grouped: does not fit
])
def test_the_spectral_lowering_is_taken_only_where_it_pays(input_shape, weight_shape, stride, padding, groups,
                                                          expected):
    assert spectral.pays(input_shape, weight_shape, stride, padding, (1, 1), groups) is expected


def test_a_geometrys_matrices_are_built_once_per_dtype():
    key = ((9, 7), (3, 2), (1, 0), (2, 1))
    first = spectral.transforms(*key, np.dtype(np.float32))
    assert spectral.transforms(*key, np.dtype(np.float32)) is first
    assert first.to_h.dtype == np.float32
    assert spectral.transforms(*key, np.dtype(np.float64)).to_h.dtype == np.float64


def test_forced_overrides_the_cost_model_only_where_the_scheme_fits_and_nests():
    second_conv, first_conv = ((64, 32, 12, 12), (64, 32, 5, 5)), ((64, 1, 28, 28), (32, 1, 5, 5))
    plain = dict(stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1)
    with spectral.forced(True):
        assert spectral.pays(*first_conv, **plain)
        assert not spectral.pays(*second_conv, **dict(plain, stride=(2, 2)))  # strided never fits
        with pytest.raises(RuntimeError), spectral.forced(False):
            assert not spectral.pays(*second_conv, **plain)
            raise RuntimeError
        assert spectral.pays(*first_conv, **plain)  # the inner block's choice ended with it
    assert spectral.pays(*second_conv, **plain) and not spectral.pays(*first_conv, **plain)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_an_inf_or_nan_stays_in_its_windows_as_with_im2col(bad):
    """A transform would spread it over the whole output: such inputs and gradients take im2col,
    so the NaN and inf entries of the results are those of im2col's, and the rest equal."""
    rng = np.random.default_rng(1)
    x, weight, bias = rng.standard_normal((2, 3, 9, 9)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    params = dict(stride=(1, 1), padding=(1, 1), dilation=(1, 1), groups=1)
    poisoned = x.copy()
    poisoned[1, 2, 0, 0] = bad
    out, saved, grads = run("spectral", poisoned, weight, bias, params)
    expected, _, expected_grads = run("im2col", poisoned, weight, bias, params)
    assert not isinstance(saved, spectral.Saved)
    np.testing.assert_allclose(out.data, expected.data, rtol=1e-12)  # equal_nan: NaN where im2col has NaN
    assert np.isfinite(out.data[0]).all()  # the other image is untouched
    for ours, theirs in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)

    leaves = [Tensor(a, requires_grad=True) for a in (x, weight, bias)]
    with lowering("spectral"):
        result = F.conv2d(*leaves, **params)
        assert isinstance(result.grad_fn.saved, spectral.Saved)
        seed = np.ones(result.shape)
        seed[0, 1, 4, 4] = bad
        result.backward(seed)
    im2col_leaves = [Tensor(a, requires_grad=True) for a in (x, weight, bias)]
    with lowering("im2col"):
        F.conv2d(*im2col_leaves, **params).backward(seed)
    assert np.isfinite(leaves[0].grad.data[1]).all()  # the other image's gradient is untouched
    for ours, theirs in zip(leaves, im2col_leaves, strict=True):
        np.testing.assert_allclose(ours.grad.data, theirs.grad.data, rtol=1e-12)
