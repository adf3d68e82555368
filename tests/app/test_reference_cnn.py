"""The closed-form CNN (mnist.reference.cnn) against its own definitions, in float64.

No autograd here: every gradient the formulas give is checked against a central difference of
the reference's own loss along a random direction (u . dJ/dq against (J(q + h u) - J(q - h u)) / 2h),
for the parameters of every layer and for the output of every layer, on small CNNs that
hypothesis draws (strategies.cnns). The forward formulas are checked against their definitions
written out per output element.

A central difference measures a derivative only where J is smooth between q - h u and q + h u:
`assert_smooth_between` rejects the rare draw where the step crosses a ReLU's kink or changes a
pooling window's maximum. Exact kinks happen too (after a ReLU, a window of zeros ties for its
maximum; a convolution's output over padding alone is exactly b, which may be 0), and there J has
no derivative, only the library's convention (tested by known answers below): directions that
move an entry sitting on the next layer's kink are left out for that entry (`movable_entries`).
"""
import numpy as np
import pytest
from hypothesis import assume, currently_in_test_context, given
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view
from strategies import cnn_specs, cnns

from mnist.reference import cnn, network

STEP = 1e-6


# ---- the definitions, written out ----------------------------------------------------------


def conv2d_by_definition(A_prev, W, b, stride, padding, dilation):
    """Z[n, o, y, x] = b[o] + sum_{c, i, j} W[o, c, i, j] A_pad[n, c, y s + i d, x s + j d], one element at a time."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    A_pad = np.pad(A_prev, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    kh, kw = W.shape[2:]
    height = (A_pad.shape[2] - dh * (kh - 1) - 1) // sh + 1
    width = (A_pad.shape[3] - dw * (kw - 1) - 1) // sw + 1
    Z = np.empty((A_prev.shape[0], W.shape[0], height, width))
    for n, o, y, x in np.ndindex(Z.shape):
        field = A_pad[n, :, y * sh:y * sh + dh * (kh - 1) + 1:dh, x * sw:x * sw + dw * (kw - 1) + 1:dw]
        Z[n, o, y, x] = b[o] + np.sum(W[o] * field)
    return Z


def pooling_windows(A_prev, kernel, stride):
    """(N, C, H_out, W_out, kH, kW): every window of a pool, from NumPy's sliding_window_view."""
    return sliding_window_view(A_prev, kernel, axis=(2, 3))[:, :, ::stride[0], ::stride[1]]


def window_maxima(A_prev, kernel, stride):
    """True where an entry of a window equals that window's maximum."""
    windows = pooling_windows(A_prev, kernel, stride)
    return windows == windows.max(axis=(-2, -1), keepdims=True)


def tied_entries(A_prev, kernel, stride):
    """True at every entry of A_prev that ties with another for some window's maximum."""
    maxima = window_maxima(A_prev, kernel, stride)
    tied = maxima & (maxima.sum(axis=(-2, -1), keepdims=True) > 1)
    mask = np.zeros(A_prev.shape, dtype=bool)
    out_h, out_w = tied.shape[2:4]
    for i, j in np.ndindex(*kernel):
        mask[:, :, i:i + stride[0] * (out_h - 1) + 1:stride[0], j:j + stride[1] * (out_w - 1) + 1:stride[1]] |= \
            tied[:, :, :, :, i, j]
    return mask


# ---- central differences ---------------------------------------------------------------------


def kink_pattern(specs, cache) -> list:
    """Which side of every kink the network is on: the sign of each ReLU's input, and which
    entries are each max-pool window's maxima (for the layers present in the cache)."""
    pattern = []
    for index, spec in enumerate(specs):
        A_prev = cache.get(network.output_key(index - 1, specs))
        if isinstance(spec, network.ReLU) and A_prev is not None:
            pattern.append(A_prev > 0)
        elif isinstance(spec, network.MaxPool2d) and A_prev is not None:
            pattern.append(window_maxima(A_prev, spec.kernel_size, spec.stride))
    return pattern


def assert_smooth_between(specs, *caches) -> None:
    """Every cache sits on the same side of every kink: else hypothesis rejects the draw (a fixed
    network outside hypothesis fails instead)."""
    first, *others = (kink_pattern(specs, cache) for cache in caches)
    smooth = all(np.array_equal(a, b) for other in others for a, b in zip(first, other, strict=True))
    if currently_in_test_context():
        assume(smooth)
    assert smooth, "the central difference crosses a kink"


def directional_derivative(loss_and_cache, value, direction, specs):
    """(J(q + h u) - J(q - h u)) / 2h, after checking that J is smooth along the way."""
    (plus, plus_cache), (minus, minus_cache) = (loss_and_cache(value + sign * STEP * direction) for sign in (1, -1))
    assert_smooth_between(specs, loss_and_cache(value)[1], plus_cache, minus_cache)
    return (plus - minus) / (2 * STEP)


def assert_matches_central_difference(gradient, numeric, direction, what):
    """u . gradient = the directional derivative, up to the central difference's own error:
    truncation, (h^2 / 6) J''' ~ 1e-12, and rounding, eps J / h ~ 1e-9."""
    analytic = float(np.sum(gradient * direction))
    tolerance = 1e-7 + 1e-6 * float(np.linalg.norm(gradient))
    assert abs(analytic - numeric) <= tolerance, \
        f"{what}: u . gradient {analytic:.9e}, central difference {numeric:.9e}"


def random_direction(rng, shape, movable=None):
    """A unit vector of `shape`, zero where `movable` is False."""
    direction = rng.standard_normal(shape) * (True if movable is None else movable)
    norm = np.linalg.norm(direction)
    return direction / norm if norm else direction


def movable_entries(A, following):
    """Where the entries of a layer's output can move without sitting on a kink of the next layer:
    not at a ReLU's 0 (ReLU'(0) = 0 is a convention), not tied for a max pool window's maximum."""
    if isinstance(following, network.ReLU):
        return A != 0
    if isinstance(following, network.MaxPool2d):
        return ~tied_entries(A, following.kernel_size, following.stride)
    return None


def check_parameter_gradients(specs, params, X, Y, rng) -> None:
    """Every dW and db against the central difference of J along a random direction."""
    loss, cache = network.forward(params, specs, X, Y)
    grads = network.backward(params, specs, cache, Y)
    for name, value in params.items():
        direction = random_direction(rng, value.shape)
        numeric = directional_derivative(loss_of_parameter(params, specs, X, Y, name), value, direction, specs)
        assert_matches_central_difference(grads[name], numeric, direction, name)


def check_layer_output_gradients(specs, params, X, Y, rng) -> None:
    """dX and every layer's dZ or dA, over m, against the central difference of J along a random direction."""
    loss, cache = network.forward(params, specs, X, Y)
    grads = network.backward(params, specs, cache, Y, input_gradient=True)
    for index in range(-1, len(specs)):
        key = network.output_key(index, specs)
        following = specs[index + 1] if index + 1 < len(specs) else None
        direction = random_direction(rng, cache[key].shape, movable_entries(cache[key], following))
        numeric = directional_derivative(loss_of_layer_output(params, specs, Y, index), cache[key], direction, specs)
        assert_matches_central_difference(grads[network.gradient_key(key)] / len(X), numeric, direction,
                                          network.gradient_key(key))


def loss_of_parameter(params, specs, X, Y, name):
    """q -> forward with parameter `name` set to q."""
    return lambda value: network.forward({**params, name: value}, specs, X, Y)


def loss_of_layer_output(params, specs, Y, index):
    """q -> forward from layer index + 1 on, with layer `index`'s output (the input for -1) set to q."""
    return lambda value: network.forward(params, specs, value, Y, start=index + 1)


# ---- every gradient against a central difference -----------------------------------------------


@given(cnns(), st.integers(0, 2**32 - 1))
def test_every_dW_and_db_is_the_derivative_of_the_loss(network, seed):
    """dW[o, c, i, j] = 1/m sum dZ A_pad[..., y s + i d, x s + j d] and db[o] = 1/m sum dZ per
    convolution, dW = 1/m A_prev^T dZ and db = 1/m sum dZ for the Linear head: dJ/dW and dJ/db."""
    check_parameter_gradients(*network, np.random.default_rng(seed))


@given(cnns(), st.integers(0, 2**32 - 1))
def test_every_dZ_and_dA_is_m_times_the_derivative_of_the_loss(network, seed):
    """The output of every layer and the input: dZ, dA (transposed convolution, pooling, flatten,
    activations) and dX are the seed's per-example gradients, m dJ/dq."""
    check_layer_output_gradients(*network, np.random.default_rng(seed))


def _unflipped(W):
    return W.transpose(1, 0, 2, 3)


def _weight_gradient_without_dilation(A_prev, dZ, kernel, stride, padding, dilation):
    return ORIGINAL_WEIGHT_GRADIENT(A_prev, dZ, kernel, stride, padding, (1, 1))


def _average_pool_backward_without_mean(dA, input_shape, kernel, stride):
    return ORIGINAL_AVERAGE_POOL_BACKWARD(dA, input_shape, kernel, stride) * (kernel[0] * kernel[1])


def batch_norm_input_gradient_without_the_variance_term(dZ, A_prev, gamma, eps):
    """gamma / (M s) (M dZ - sum dZ): the gradient through the variance, - x_hat sum dZ x_hat, forgotten."""
    X_hat, std = cnn.normalize(A_prev, eps)
    variance_term = X_hat * (dZ * X_hat).sum(axis=cnn.CHANNEL_AXES, keepdims=True) / (dZ.size // dZ.shape[1])
    return ORIGINAL_BATCH_NORM_INPUT_GRADIENT(dZ, A_prev, gamma, eps) + gamma[:, None, None] / std * variance_term


def _batch_norm_weight_gradient_over_every_value(dZ, X_hat):
    """dgamma divided by M = m H W rather than by the batch size m."""
    return ORIGINAL_BATCH_NORM_WEIGHT_GRADIENT(dZ, X_hat) * dZ.shape[0] / (dZ.size // dZ.shape[1])


ORIGINAL_WEIGHT_GRADIENT, ORIGINAL_AVERAGE_POOL_BACKWARD = cnn.conv2d_weight_gradient, cnn.avg_pool2d_backward
ORIGINAL_BATCH_NORM_INPUT_GRADIENT = cnn.batch_norm_input_gradient
ORIGINAL_BATCH_NORM_WEIGHT_GRADIENT = cnn.batch_norm_weight_gradient


@pytest.mark.parametrize("formula, broken, check", [
    ("flip_kernel", _unflipped, check_layer_output_gradients),
    ("conv2d_weight_gradient", _weight_gradient_without_dilation, check_parameter_gradients),
    ("avg_pool2d_backward", _average_pool_backward_without_mean, check_layer_output_gradients),
    ("batch_norm_input_gradient", batch_norm_input_gradient_without_the_variance_term, check_layer_output_gradients),
    ("batch_norm_weight_gradient", _batch_norm_weight_gradient_over_every_value, check_parameter_gradients),
])
def test_a_broken_formula_fails_the_central_difference_check(monkeypatch, formula, broken, check):
    """The checks above can fail: the kernel left unflipped in dA_prev, the dilation forgotten in
    dW, the average pool's 1/(kH kW) forgotten, batch norm's gradient through the variance
    forgotten, or its dgamma averaged over every value rather than over the batch, each on a network
    where it matters."""
    specs = [network.Conv2d(2, 3, 3, stride=2, padding=1, dilation=2, bias=False), network.BatchNorm2d(3),
             network.Sigmoid(), network.AvgPool2d(2, stride=1), network.Conv2d(3, 2, 2), network.Sigmoid(),
             network.Flatten(), network.Linear(8, 3)]
    rng = np.random.default_rng(0)
    params = {name: value + 0.1 * rng.standard_normal(value.shape)
              for name, value in network.init_params(specs, seed=0, dtype=np.float64).items()}
    X, Y = rng.standard_normal((2, 2, 9, 9)), np.eye(3)[[0, 2]]
    check(specs, params, X, Y, np.random.default_rng(1))  # the formulas as they are pass
    monkeypatch.setattr(cnn, formula, broken)
    with pytest.raises(AssertionError):
        check(specs, params, X, Y, np.random.default_rng(1))


# ---- the forward formulas against their definitions ------------------------------------------


@given(cnn_specs(max_blocks=1), st.integers(0, 2**32 - 1))
def test_conv2d_is_the_sum_over_each_receptive_field(specs_and_shape, seed):
    specs, input_shape = specs_and_shape
    conv = specs[0]
    rng = np.random.default_rng(seed)
    A_prev = rng.standard_normal(input_shape)
    W, b = rng.standard_normal((conv.out_channels, conv.in_channels, *conv.kernel_size)), rng.standard_normal(
        conv.out_channels)
    expected = conv2d_by_definition(A_prev, W, b, conv.stride, conv.padding, conv.dilation)
    np.testing.assert_allclose(cnn.conv2d(A_prev, W, b, conv.stride, conv.padding, conv.dilation), expected,
                               rtol=1e-12, atol=1e-12)


@given(st.sampled_from([network.MaxPool2d, network.AvgPool2d]), st.integers(1, 3), st.integers(1, 3),
       st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_pooling_takes_the_max_or_the_mean_of_each_window(pool, kernel, stride, extra, seed):
    spec = pool(kernel, stride=stride)
    A_prev = np.random.default_rng(seed).standard_normal((2, 3, kernel + extra, kernel + extra + 1))
    windows = pooling_windows(A_prev, spec.kernel_size, spec.stride)
    if pool is network.MaxPool2d:
        np.testing.assert_array_equal(spec.forward(A_prev, {}), windows.max(axis=(-2, -1)))
    else:  # two orders of summing k^2 terms: they differ by at most ~k^2 eps times the terms' size
        np.testing.assert_allclose(spec.forward(A_prev, {}), windows.mean(axis=(-2, -1)), rtol=0,
                                   atol=kernel**2 * 1e-15 * np.abs(windows).max())


@given(st.integers(1, 3), st.integers(2, 3), st.integers(1, 3), st.integers(1, 3), st.sampled_from([1e-5, 1.0]),
       st.integers(0, 2**32 - 1))
def test_batch_norm_gives_each_channel_mean_beta_and_the_biased_variance(batch, channels, height, width, eps, seed):
    """Per channel over (N, H, W): mean beta and variance gamma^2 sigma2 / (sigma2 + eps), where
    sigma2 divides by M = N H W, not M - 1 (what the training-mode forward normalizes by)."""
    rng = np.random.default_rng(seed)
    A_prev = rng.standard_normal((batch, channels, height, width)) * 3 + 1
    assume(A_prev.size // channels >= 2)
    gamma, beta = rng.standard_normal(channels), rng.standard_normal(channels)
    Z = network.BatchNorm2d(channels, eps=eps).forward(A_prev, {"weight": gamma, "bias": beta})
    values = A_prev.transpose(1, 0, 2, 3).reshape(channels, -1)  # one row of M values per channel
    sigma2 = np.var(values, axis=1)  # NumPy's default ddof=0: 1/M
    outputs = Z.transpose(1, 0, 2, 3).reshape(channels, -1)
    np.testing.assert_allclose(outputs.mean(axis=1), beta, rtol=0, atol=1e-12 * (1 + np.abs(gamma).max()))
    np.testing.assert_allclose(outputs.var(axis=1), gamma**2 * sigma2 / (sigma2 + eps), rtol=1e-10, atol=1e-14)


@given(st.integers(2, 3), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_batch_norm_input_gradient_is_orthogonal_to_a_shift_and_to_x_hat(batch, channels, side, seed):
    """dA_prev has no component along what leaves x_hat unchanged: per channel, sum dA_prev = 0 (a
    shift of all the channel's values) and sum dA_prev x_hat = (gamma / s) (eps / (sigma2 + eps))
    sum dZ x_hat, which is 0 as eps -> 0 (a scaling of x - mu): the two correction terms at work."""
    rng = np.random.default_rng(seed)
    A_prev, dZ = rng.standard_normal((batch, channels, side, side)), rng.standard_normal((batch, channels, side, side))
    gamma, eps = rng.standard_normal(channels), 1e-2
    dA_prev = cnn.batch_norm_input_gradient(dZ, A_prev, gamma, eps)
    X_hat, std = cnn.normalize(A_prev, eps)
    _, sigma2 = cnn.batch_statistics(A_prev)
    np.testing.assert_allclose(dA_prev.sum(axis=cnn.CHANNEL_AXES), 0, atol=1e-12 * np.abs(dA_prev).max())
    expected = (gamma[:, None, None] / std * eps / (sigma2 + eps) * (dZ * X_hat).sum(axis=cnn.CHANNEL_AXES,
                                                                                    keepdims=True)).ravel()
    np.testing.assert_allclose((dA_prev * X_hat).sum(axis=cnn.CHANNEL_AXES), expected, rtol=1e-9,
                               atol=1e-12 * np.abs(dA_prev).max())


# ---- conventions, by known answers -------------------------------------------------------------


def test_max_pool_splits_the_gradient_among_tied_maxima():
    """Three tied maxima get 1/3 each, a unique maximum all of it; the central difference along
    the direction that moves the tied entries together measures the same total, 1."""
    A_prev = np.array([[[[2.0, 2.0, 0.0, 5.0], [2.0, 1.0, 1.0, 3.0]]]])
    A = cnn.max_pool2d(A_prev, (2, 2), (2, 2))
    dA_prev = cnn.max_pool2d_backward(np.ones_like(A), A_prev, A, (2, 2), (2, 2))
    np.testing.assert_allclose(dA_prev, [[[[1 / 3, 1 / 3, 0, 1], [1 / 3, 0, 0, 0]]]], rtol=1e-15)
    tied = np.array([[[[1.0, 1.0, 0, 0], [1.0, 0, 0, 0]]]])
    moved = [cnn.max_pool2d(A_prev + sign * STEP * tied, (2, 2), (2, 2)).sum() for sign in (1, -1)]
    assert (moved[0] - moved[1]) / (2 * STEP) == pytest.approx(np.sum(dA_prev * tied))


def test_overlapping_average_windows_add_their_shares():
    """Kernel 2, stride 1 on a 1x3 row: the middle entry is in both windows, 1/2 + 1/2."""
    dA_prev = cnn.avg_pool2d_backward(np.ones((1, 1, 1, 2)), (1, 1, 2, 3), (2, 2), (1, 1))
    np.testing.assert_allclose(dA_prev, [[[[0.25, 0.5, 0.25], [0.25, 0.5, 0.25]]]])


def test_the_input_gradient_flips_the_kernel():
    """One input channel, one output, stride 1, no padding: dA_prev is the full convolution of dZ
    with the kernel rotated by 180 degrees; a single dZ = 1 at (0, 0) reads back W itself."""
    W = np.arange(6.0).reshape(1, 1, 2, 3)
    dZ = np.zeros((1, 1, 2, 2))
    dZ[0, 0, 0, 0] = 1
    dA_prev = cnn.conv2d_input_gradient(dZ, W, (3, 4), (1, 1), (0, 0), (1, 1))
    expected = np.zeros((1, 1, 3, 4))
    expected[0, 0, :2, :3] = W[0, 0]
    np.testing.assert_array_equal(dA_prev, expected)


# ---- the module's contract ---------------------------------------------------------------------


def test_default_cnn_names_match_the_autograd_models_parameters():
    """Parameters and gradients keyed `layers.<i>.weight`/`bias` as the autograd model's parameters
    (no bias for the convolutions, gamma and beta for the batch norms); dZ after each Conv2d,
    BatchNorm2d and Linear, dA after every other layer."""
    params = network.init_params(network.DEFAULT_CNN, seed=0, dtype=np.float64)
    X, Y = np.random.default_rng(0).random((2, 1, 28, 28)), np.eye(10)[[3, 7]]
    loss, cache = network.forward(params, network.DEFAULT_CNN, X, Y)
    grads = network.backward(params, network.DEFAULT_CNN, cache, Y, input_gradient=True)
    assert {name: value.shape for name, value in params.items()} == {
        "layers.0.weight": (32, 1, 5, 5), "layers.1.weight": (32,), "layers.1.bias": (32,),
        "layers.4.weight": (64, 32, 5, 5), "layers.5.weight": (64,), "layers.5.bias": (64,),
        "layers.9.weight": (1024, 256), "layers.9.bias": (256,), "layers.12.weight": (256, 10),
        "layers.12.bias": (10,)}
    assert list(cache) == ["X", "layers.0.Z", "layers.1.Z", "layers.2.A", "layers.3.A", "layers.4.Z", "layers.5.Z",
                           "layers.6.A", "layers.7.A", "layers.8.A", "layers.9.Z", "layers.10.A", "layers.11.A",
                           "layers.12.Z", "probabilities"]
    assert set(grads) == set(params) | {"dX", "layers.0.dZ", "layers.1.dZ", "layers.2.dA", "layers.3.dA",
                                        "layers.4.dZ", "layers.5.dZ", "layers.6.dA", "layers.7.dA", "layers.8.dA",
                                        "layers.9.dZ", "layers.10.dA", "layers.11.dA", "layers.12.dZ"}
    for name, value in params.items():
        assert grads[name].shape == value.shape
    np.testing.assert_allclose(grads["layers.12.dZ"], cache["probabilities"] - Y)


def test_init_params_have_he_and_xavier_std():
    """He, sqrt(2 / fan_in), where a ReLU follows (through a batch norm too); Xavier, sqrt(1 /
    fan_in), for the softmax's Linear; fan_in = in_channels kH kW for a convolution. Six standard
    errors of the sample std. Batch norm starts as the identity: gamma 1, beta 0."""
    params = network.init_params(network.DEFAULT_CNN, seed=1, dtype=np.float64)
    for name, fan_in, numerator in [("layers.0.weight", 25, 2), ("layers.4.weight", 800, 2),
                                    ("layers.9.weight", 1024, 2), ("layers.12.weight", 256, 1)]:
        W, sigma = params[name], np.sqrt(numerator / fan_in)
        assert abs(W.std() - sigma) <= 6 * sigma / np.sqrt(2 * (W.size - 1)), name
    for index in (1, 5):
        assert np.all(params[f"layers.{index}.weight"] == 1) and np.all(params[f"layers.{index}.bias"] == 0)


def test_train_step_lowers_the_loss_on_a_fixed_batch():
    specs = [network.Conv2d(1, 4, 3), network.ReLU(), network.MaxPool2d(2), network.Flatten(), network.Linear(36, 3)]
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((16, 1, 8, 8)), np.eye(3)[rng.integers(0, 3, 16)]
    params = network.init_params(specs, seed=0, dtype=np.float64)
    losses = [network.train_step(params, specs, X, Y, lr=0.5) for _ in range(40)]
    assert losses[-1] < losses[0] / 2


def test_float32_stays_float32_through_a_training_step():
    specs = [network.Conv2d(2, 3, 3, padding=1, bias=False), network.BatchNorm2d(3), network.Sigmoid(),
             network.AvgPool2d(2), network.Flatten(), network.Linear(12, 2)]
    params = network.init_params(specs, seed=0, dtype=np.float32)
    X, Y = np.random.default_rng(0).random((3, 2, 4, 4)), np.eye(2)[[0, 1, 1]]  # float64 in: cast
    loss, cache = network.forward(params, specs, X, Y)
    grads = network.backward(params, specs, cache, Y, input_gradient=True)
    network.train_step(params, specs, X, Y, lr=0.1)
    assert {array.dtype for array in [*cache.values(), *grads.values(), *params.values()]} == {np.dtype(np.float32)}


def test_rounding_tolerance_covers_float32_on_the_default_cnn():
    """In float32 rather than float64, every gradient of the default CNN differs by at most
    rounding_tolerance(float32) times its largest entry (the measure `compare` uses); a wrong
    formula would differ by O(1). Not on tiny networks: a 1x1 kernel's single dW can cancel to
    1e-3 of its terms, and rounding is relative to the terms (mnist.reference.mlp's tests)."""
    rng = np.random.default_rng(0)
    X, Y = rng.random((8, 1, 28, 28)), np.eye(10)[rng.integers(0, 10, 8)]
    params = network.init_params(network.DEFAULT_CNN, seed=0, dtype=np.float64)
    loss, cache = network.forward(params, network.DEFAULT_CNN, X, Y)
    exact = network.backward(params, network.DEFAULT_CNN, cache, Y, input_gradient=True)
    params32 = {name: value.astype(np.float32) for name, value in params.items()}
    loss32, cache32 = network.forward(params32, network.DEFAULT_CNN, X, Y)
    assert_smooth_between(network.DEFAULT_CNN, cache, cache32)
    rounded = network.backward(params32, network.DEFAULT_CNN, cache32, Y, input_gradient=True)
    tolerance = network.rounding_tolerance(np.float32, network.DEFAULT_CNN, X.shape)
    assert abs(loss32 - loss) <= tolerance * loss
    for name, value in exact.items():
        assert np.max(np.abs(rounded[name] - value)) <= tolerance * np.max(np.abs(value)), name


@pytest.mark.parametrize("change, message", [
    (lambda p, s, X, Y: (p, s, X[:, :, :3, :3], Y), r"layers.0: Conv2d.*larger than the padded input \(3, 3\)"),
    (lambda p, s, X, Y: (p, s, np.repeat(X, 2, axis=1), Y), r"layers.0: Conv2d.*expects 1 input channels"),
    (lambda p, s, X, Y: ({**p, "layers.0.weight": p["layers.0.weight"][:1]}, s, X, Y),
     r"layers.0.weight has shape \(1, 1, 5, 5\), expected \(2, 1, 5, 5\)"),
    (lambda p, s, X, Y: ({k: v for k, v in p.items() if k != "layers.4.bias"}, s, X, Y),
     r"layers.4.bias of shape \(3,\) is missing"),
    (lambda p, s, X, Y: ({**p, "layers.1.weight": p["layers.0.bias"]}, s, X, Y), r"\['layers.1.weight'\] belong to no"),
    (lambda p, s, X, Y: ({k: v for k, v in p.items() if not k.startswith("layers.4")}, s[:-2], X, Y),
     r"the last layer gives shape \(2, 2, 4, 4\)"),
    (lambda p, s, X, Y: (p, s, X, Y[:, :2]), r"labels of shape \(2, 2\) for outputs of shape \(2, 3\)"),
])
def test_a_network_that_does_not_fit_is_refused_by_name(change, message):
    specs = [network.Conv2d(1, 2, 5), network.ReLU(), network.MaxPool2d(2), network.Flatten(), network.Linear(32, 3)]
    params = network.init_params(specs, seed=0, dtype=np.float64)
    X, Y = np.zeros((2, 1, 12, 12)), np.eye(3)[[0, 2]]
    with pytest.raises(ValueError, match=message):
        network.forward(*change(params, specs, X, Y))


@pytest.mark.parametrize("specs, input_shape, message", [
    ([network.BatchNorm2d(3)], (2, 2, 4, 4), r"layers.0: BatchNorm2d.*expects 3 channels, got shape \(2, 2, 4, 4\)"),
    ([network.BatchNorm2d(2)], (1, 2, 1, 1), r"layers.0: BatchNorm2d.*needs more than one value per channel"),
    ([network.BatchNorm2d(2)], (2, 8), r"layers.0: BatchNorm2d.*expects images \(N, C, H, W\), got shape \(2, 8\)"),
])
def test_a_batch_norm_that_does_not_fit_is_refused_by_name(specs, input_shape, message):
    specs = [*specs, network.Flatten(), network.Linear(int(np.prod(input_shape[1:])), 2)]
    params = network.init_params(specs, dtype=np.float64)
    with pytest.raises(ValueError, match=message):
        network.forward(params, specs, np.zeros(input_shape), np.eye(2)[[0] * input_shape[0]])


def test_bad_layer_settings_are_refused():
    with pytest.raises(ValueError, match=r"Conv2d stride must be >= 1, got \(0, 0\)"):
        network.Conv2d(1, 1, 3, stride=0)
    with pytest.raises(ValueError, match=r"Conv2d padding must be >= 0, got \(-1, -1\)"):
        network.Conv2d(1, 1, 3, padding=-1)
    with pytest.raises(ValueError, match=r"MaxPool2d kernel_size and stride must be >= 1"):
        network.MaxPool2d(0)
