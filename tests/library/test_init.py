"""tinygrad_np.nn.init: fans by this library's layouts, PyTorch's gains and scales (read exactly
through a generator that reports what it is asked for), in-place fills, and Linear's weights
unchanged: the seed's He rule, bit for bit."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_np import Tensor, nn
from tinygrad_np.nn import init

seeds = st.integers(0, 2**32 - 1)


class ReportingGenerator:
    """Stands in for a np.random.Generator: every entry of a normal draw is its std, every entry of
    a uniform draw its upper bound, so a filled tensor shows exactly the scale that was asked for."""

    def normal(self, loc, scale, size):
        return np.full(size, loc + scale)

    def uniform(self, low, high, size):
        assert low == -high or low == 0.0
        return np.full(size, high)


def scale_of(fill, shape, **kwargs) -> float:
    tensor = Tensor(np.zeros(shape))
    assert fill(tensor, generator=ReportingGenerator(), **kwargs) is tensor
    assert np.all(tensor.data == tensor.data.flat[0])
    return float(tensor.data.flat[0])


# ---- fans ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, fans", [
    ((784, 256), (784, 256)),          # Linear: (in, out)
    ((32, 1, 5, 5), (25, 800)),        # Conv2d: (out, in, kH, kW), receptive field 25
    ((64, 32, 5, 5), (800, 1600)),
    ((8, 4, 3), (12, 24)),             # Conv1d
])
def test_fans_follow_this_librarys_layouts(shape, fans):
    assert init.fan_in_and_fan_out(shape) == fans


def test_explicit_fans_win_and_make_any_shape_work():
    assert init.fan_in_and_fan_out((784, 256), fan_in=256, fan_out=784) == (256, 784)
    assert init.fan_in_and_fan_out((5,), fan_in=3, fan_out=4) == (3, 4)
    with pytest.raises(ValueError, match=r"shape \(5,\) are undefined .* pass fan_in= and fan_out="):
        init.fan_in_and_fan_out((5,))


def test_fans_match_torch_on_kernels_and_are_transposed_on_matrices():
    torch = pytest.importorskip("torch")
    torch_fans = torch.nn.init._calculate_fan_in_and_fan_out
    assert init.fan_in_and_fan_out((6, 3, 5, 5)) == torch_fans(torch.empty(6, 3, 5, 5))
    # a PyTorch Linear weight is (out, in): the same layer's fans, read from the transposed layout
    assert init.fan_in_and_fan_out((784, 256)) == torch_fans(torch.empty(256, 784))


# ---- gains and scales ---------------------------------------------------------------------------

NONLINEARITIES = [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                  ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]


@pytest.mark.parametrize("nonlinearity, param, expected", [
    ("linear", None, 1.0), ("sigmoid", None, 1.0), ("conv_transpose2d", None, 1.0), ("tanh", None, 5 / 3),
    ("relu", None, math.sqrt(2)), ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("leaky_relu", 0, math.sqrt(2)), ("selu", None, 0.75)])
def test_calculate_gain(nonlinearity, param, expected):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("nonlinearity, param", NONLINEARITIES)
def test_calculate_gain_matches_torch(nonlinearity, param):
    torch = pytest.importorskip("torch")
    assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


def test_calculate_gain_refuses_unknown_input():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'softmax'"):
        init.calculate_gain("softmax")
    with pytest.raises(ValueError, match="negative_slope 'a' is not a number"):
        init.calculate_gain("leaky_relu", "a")


weight_shapes = st.sampled_from([(784, 256), (3, 7), (32, 1, 5, 5), (16, 8, 3, 3)])


@given(weight_shapes, st.sampled_from(NONLINEARITIES), st.sampled_from(["fan_in", "fan_out"]))
def test_kaiming_scales(shape, nonlinearity_and_slope, mode):
    nonlinearity, slope = nonlinearity_and_slope
    a = 0 if slope is None else slope
    fan = dict(zip(("fan_in", "fan_out"), init.fan_in_and_fan_out(shape), strict=True))[mode]
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    kwargs = {"a": a, "mode": mode, "nonlinearity": nonlinearity}
    assert scale_of(init.kaiming_normal_, shape, **kwargs) == std
    assert scale_of(init.kaiming_uniform_, shape, **kwargs) == math.sqrt(3.0) * std


@given(weight_shapes, st.floats(0.1, 3.0))
def test_xavier_scales(shape, gain):
    fan_in, fan_out = init.fan_in_and_fan_out(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    assert scale_of(init.xavier_normal_, shape, gain=gain) == std
    assert scale_of(init.xavier_uniform_, shape, gain=gain) == math.sqrt(3.0) * std


def test_kaiming_defaults_are_pytorchs():
    # a=0, mode fan_in, leaky_relu: gain sqrt(2 / (1 + 0)) = sqrt(2), std sqrt(2) / sqrt(784)
    assert scale_of(init.kaiming_normal_, (784, 10)) == math.sqrt(2.0) / math.sqrt(784)


def test_explicit_fans_set_the_scale():
    # a PyTorch-layout (out, in) matrix: pass the fans
    assert scale_of(init.kaiming_normal_, (10, 784), fan_in=784, fan_out=10) == math.sqrt(2.0) / math.sqrt(784)
    assert scale_of(init.xavier_uniform_, (3,), fan_in=4, fan_out=2) == math.sqrt(3.0) * math.sqrt(2.0 / 6)


def test_bad_mode_is_refused():
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got 'fan_avg'"):
        init.kaiming_normal_(Tensor(np.zeros((2, 2))), mode="fan_avg")


# ---- fills --------------------------------------------------------------------------------------

@given(seeds, st.sampled_from([np.float32, np.float64]))
def test_draws_are_numpys_in_the_tensors_dtype_in_place(seed, dtype):
    tensor = nn.Parameter(np.zeros((4, 3)), dtype=dtype)
    array = tensor.data
    init.normal_(tensor, mean=1.0, std=0.5, generator=np.random.default_rng(seed))
    np.testing.assert_array_equal(tensor.data, np.random.default_rng(seed).normal(1.0, 0.5, (4, 3)).astype(dtype))
    init.uniform_(tensor, -2.0, 3.0, generator=np.random.default_rng(seed))
    np.testing.assert_array_equal(tensor.data, np.random.default_rng(seed).uniform(-2.0, 3.0, (4, 3)).astype(dtype))
    assert tensor.data is array and tensor.dtype == dtype and tensor.requires_grad and tensor.grad_fn is None


def test_constant_fills():
    tensor = Tensor(np.full((2, 3), 7.0), dtype=np.float32)
    assert np.all(init.zeros_(tensor).data == 0) and tensor.dtype == np.float32
    assert np.all(init.ones_(tensor).data == 1)
    assert np.all(init.constant_(tensor, -0.5).data == -0.5)


def test_an_empty_tensor_is_left_as_it_is():
    tensor = Tensor(np.zeros((0, 3)))
    assert init.kaiming_uniform_(tensor) is tensor and init.xavier_normal_(tensor) is tensor


def test_only_tensors_are_filled():
    with pytest.raises(TypeError, match="nn.init fills a Tensor in place, got ndarray"):
        init.kaiming_normal_(np.zeros((2, 2)))


def test_a_real_draw_has_the_asked_spread():
    weight = nn.Linear(400, 300).weight
    init.kaiming_uniform_(weight, nonlinearity="relu", generator=np.random.default_rng(0))
    bound = math.sqrt(3.0) * math.sqrt(2.0) / math.sqrt(400)
    assert np.abs(weight.data).max() <= bound and np.abs(weight.data).max() > 0.99 * bound
    assert abs(weight.data.std() - bound / math.sqrt(3.0)) < 0.02 * bound


# ---- the seed's rules -----------------------------------------------------------------------------

def test_linear_weights_are_the_seeds_he_rule_bit_for_bit():
    # the MNIST app's accuracy and its resumed runs depend on these exact numbers
    layer = nn.Linear(784, 256, rng=np.random.default_rng(0))
    expected = np.random.default_rng(0).standard_normal((784, 256)) * np.sqrt(2.0 / 784)
    np.testing.assert_array_equal(layer.weight.data, expected.astype(np.float32))
    xavier = nn.Linear(128, 10, init="xavier_normal", rng=np.random.default_rng(1))
    expected = np.random.default_rng(1).standard_normal((128, 10)) * np.sqrt(1.0 / 128)
    np.testing.assert_array_equal(xavier.weight.data, expected.astype(np.float32))


@pytest.mark.parametrize("initializer, gain", [(init.he_normal, 2.0), (init.xavier_normal, 1.0)])
def test_the_seeds_rules_take_a_kernels_fan_in_and_an_explicit_one(initializer, gain):
    shape = (32, 3, 5, 5)
    draws = np.random.default_rng(0).standard_normal(shape)
    np.testing.assert_array_equal(initializer(shape, np.random.default_rng(0)), draws * np.sqrt(gain / 75))
    np.testing.assert_array_equal(initializer(shape, np.random.default_rng(0), fan_in=10), draws * np.sqrt(gain / 10))
