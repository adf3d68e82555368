"""Batch and layer normalization: gradients against finite differences (training and eval), the
statistics they produce, running statistics as buffers, PyTorch as an oracle, errors."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import arrays, normalization_shapes, shapes
from test_higher_order import PROJECTIONS, gradient_of

import tinygrad_np.nn.functional as F
from tinygrad_np import ArgumentError, ShapeError, Tensor, gradcheck, nn, no_grad
from tinygrad_np.optim import SGD


def channel_axes(ndim):
    return (0,) + tuple(range(2, ndim))


def per_channel(vector, ndim):
    return vector.reshape((1, -1) + (1,) * (ndim - 2))


# ---- batch_norm -----------------------------------------------------------------------------------
@pytest.mark.parametrize("affine", [False, True])
@given(data=st.data())
def test_batch_norm_in_training_gradients_and_statistics(affine, data):
    shape = data.draw(normalization_shapes(), label="shape")
    channels = shape[1]
    x = data.draw(arrays(shape))
    spread = x.var(axis=channel_axes(x.ndim))
    weight, bias = (data.draw(arrays((channels,))), data.draw(arrays((channels,)))) if affine else (None, None)
    running_mean, running_var = np.zeros(channels), np.ones(channels)
    out = F.batch_norm(Tensor(x), running_mean, running_var, weight, bias, training=True, momentum=0.25, eps=1e-5)

    mean = x.mean(axis=channel_axes(x.ndim))
    normalized = (x - per_channel(mean, x.ndim)) / np.sqrt(per_channel(spread, x.ndim) + 1e-5)
    expected = normalized if not affine else normalized * per_channel(weight, x.ndim) + per_channel(bias, x.ndim)
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-10)
    count = x.size // channels  # running statistics: the unbiased variance, as PyTorch keeps it
    np.testing.assert_allclose(running_mean, 0.25 * mean, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(running_var, 0.75 + 0.25 * spread * count / (count - 1), rtol=1e-12)
    if np.all(spread > 1e-2):  # a nearly constant channel makes 1/sqrt(var + eps) too steep for differences
        scratch = [np.zeros(channels), np.ones(channels)]
        assert gradcheck(lambda *tensors: F.batch_norm(tensors[0], *scratch, *tensors[1:], training=True),
                         x, *([weight, bias] if affine else []))


@pytest.mark.parametrize("affine", [False, True])
@settings(max_examples=max(5, settings.default.max_examples // 3))
@given(data=st.data())
def test_batch_norm_in_training_second_derivatives_match_finite_differences(affine, data):
    """The primitive's backward recomputes x̂ from x under create_graph, so the gradient is a
    function of x (and of the weight) that can be differentiated again."""
    shape = data.draw(normalization_shapes(max_dims=3), label="shape")
    x = data.draw(arrays(shape))
    assume(np.all(x.var(axis=channel_axes(x.ndim)) > 1e-1))  # steep 1/sqrt(var + eps) defeats differences
    affine_inputs = [data.draw(arrays((shape[1],))), data.draw(arrays((shape[1],)))] if affine else []

    def normalize(*tensors):
        return F.batch_norm(tensors[0], None, None, *tensors[1:], training=True)
    assert gradcheck(gradient_of(normalize), x, *affine_inputs, projections=PROJECTIONS)


@pytest.mark.parametrize("weight, bias", [(True, True), (True, False), (False, True), (False, False)])
def test_batch_norm_in_training_is_one_node_that_keeps_a_batch_minor_layout(weight, bias):
    rng = np.random.default_rng(0)
    x = np.ascontiguousarray(rng.standard_normal((3, 6, 6, 8)).astype(np.float32)).transpose(3, 0, 1, 2)
    affine = [Tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True) if wanted else None
              for wanted in (weight, bias)]
    leaf = Tensor.from_numpy(x).requires_grad_()
    out = F.batch_norm(leaf, None, None, *affine, training=True)
    assert out.grad_fn.name == "batch_norm" and out.dtype == np.float32
    assert len(out.grad_fn.inputs) == 1 + weight + bias
    assert np.argsort(out.data.strides).tolist() == np.argsort(x.strides).tolist()  # (C, H, W, N) memory
    out.backward(rng.standard_normal(out.shape).astype(np.float32))
    assert leaf.grad.shape == x.shape and all(t.grad.shape == (3,) for t in affine if t is not None)


def test_batch_norm_updates_the_running_statistics_under_no_grad_too():
    x = np.random.default_rng(1).standard_normal((4, 2, 3))
    recorded, unrecorded = [np.zeros(2), np.ones(2)], [np.zeros(2), np.ones(2)]
    F.batch_norm(Tensor(x, requires_grad=True), *recorded, training=True)
    with no_grad():
        F.batch_norm(Tensor(x), *unrecorded, training=True)
    for kept, other in zip(recorded, unrecorded, strict=True):
        np.testing.assert_array_equal(kept, other)
    assert not np.array_equal(recorded[0], np.zeros(2))


@given(data=st.data())
def test_batch_norm_in_eval_mode_uses_the_running_statistics(data):
    shape = data.draw(normalization_shapes(), label="shape")
    channels = shape[1]
    x = data.draw(arrays(shape))
    mean, var = data.draw(arrays((channels,))), data.draw(arrays((channels,), low=0.1, high=3.0))
    weight, bias = data.draw(arrays((channels,))), data.draw(arrays((channels,)))
    kept = mean.copy(), var.copy()
    out = F.batch_norm(Tensor(x), mean, var, Tensor(weight), Tensor(bias))
    scale = per_channel(weight, x.ndim) / np.sqrt(per_channel(var, x.ndim) + 1e-5)
    expected = (x - per_channel(mean, x.ndim)) * scale + per_channel(bias, x.ndim)
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)
    assert np.array_equal(mean, kept[0]) and np.array_equal(var, kept[1])  # eval changes nothing
    assert gradcheck(lambda x, w, b: F.batch_norm(x, mean, var, w, b), x, weight, bias)


# ---- layer_norm -----------------------------------------------------------------------------------
@pytest.mark.parametrize("affine", [False, True])
@given(data=st.data())
def test_layer_norm_gradients_and_values(affine, data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    trailing = data.draw(st.integers(1, len(shape)), label="normalized axes")
    normalized_shape = shape[len(shape) - trailing:]
    x = data.draw(arrays(shape))
    axes = tuple(range(-trailing, 0))
    weight, bias = (data.draw(arrays(normalized_shape)), data.draw(arrays(normalized_shape))) if affine else [None] * 2
    out = F.layer_norm(Tensor(x), normalized_shape, weight, bias)
    expected = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + 1e-5)
    if affine:
        expected = expected * weight + bias
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-10)
    if len(normalized_shape) == 0 or np.prod(normalized_shape) == 1 or np.all(x.var(axis=axes) > 1e-2):
        assert gradcheck(lambda *tensors: F.layer_norm(tensors[0], normalized_shape, *tensors[1:]),
                         x, *([weight, bias] if affine else []))


def test_layer_norm_takes_an_int_for_one_axis():
    x = np.array([[1.0, 2.0, 3.0], [2.0, 2.0, 5.0]])
    out = F.layer_norm(Tensor(x), 3, eps=0.0)
    np.testing.assert_allclose(out.data.mean(axis=1), 0, atol=1e-15)
    np.testing.assert_allclose(out.data.var(axis=1), 1)


# ---- the layers and their buffers ---------------------------------------------------------------
def test_running_statistics_are_buffers_saved_and_not_trained():
    layer = nn.BatchNorm2d(3)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert list(layer.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert layer.state_dict()["num_batches_tracked"].dtype == np.int64
    optimizer = SGD(nn.Sequential(layer).parameters(), lr=0.1)
    assert len(optimizer.param_groups[0]["params"]) == 2


def test_train_mode_updates_the_buffers_and_eval_mode_uses_them():
    rng = np.random.default_rng(0)
    layer = nn.BatchNorm1d(4, dtype=np.float64)
    batches = [rng.standard_normal((8, 4, 5)) * 3 + 1 for _ in range(3)]
    expected_mean, expected_var = np.zeros(4), np.ones(4)
    for batch in batches:
        layer(Tensor(batch))
        expected_mean = 0.9 * expected_mean + 0.1 * batch.mean(axis=(0, 2))
        expected_var = 0.9 * expected_var + 0.1 * batch.var(axis=(0, 2), ddof=1)
    np.testing.assert_allclose(layer.running_mean, expected_mean)
    np.testing.assert_allclose(layer.running_var, expected_var)
    assert layer.num_batches_tracked == 3

    layer.eval()
    frozen = layer.state_dict()
    out = layer(Tensor(batches[0]))
    for name, value in layer.state_dict().items():
        np.testing.assert_array_equal(value, frozen[name])
    np.testing.assert_allclose(out.data, (batches[0] - per_channel(expected_mean, 3)) / np.sqrt(
        per_channel(expected_var, 3) + 1e-5))


def test_momentum_none_keeps_the_plain_average_of_every_batch():
    rng = np.random.default_rng(1)
    layer = nn.BatchNorm1d(2, momentum=None, dtype=np.float64)
    batches = [rng.standard_normal((6, 2)) + index for index in range(4)]
    for batch in batches:
        layer(Tensor(batch))
    np.testing.assert_allclose(layer.running_mean, np.mean([batch.mean(axis=0) for batch in batches], axis=0))


def test_state_dict_round_trip_gives_the_same_eval_outputs():
    rng = np.random.default_rng(2)
    model = nn.Sequential(nn.Linear(3, 4, rng=rng), nn.BatchNorm1d(4), nn.ReLU(), nn.LayerNorm(4))
    for _ in range(3):
        model(Tensor(rng.standard_normal((5, 3)).astype(np.float32)))
    copy = nn.Sequential(nn.Linear(3, 4, rng=rng), nn.BatchNorm1d(4), nn.ReLU(), nn.LayerNorm(4))
    copy.load_state_dict(model.state_dict())
    x = Tensor(rng.standard_normal((2, 3)).astype(np.float32))
    model.eval()
    copy.eval()
    assert model(x).data.tobytes() == copy(x).data.tobytes()
    assert int(copy[1].num_batches_tracked) == 3


def test_without_tracking_the_layer_always_uses_the_batch():
    layer = nn.BatchNorm1d(2, track_running_stats=False, affine=False).eval()
    assert layer.state_dict() == {} and layer.parameters() == []
    out = layer(Tensor(np.array([[1.0, 5.0], [3.0, 9.0]])))
    np.testing.assert_allclose(out.data, [[-1, -1], [1, 1]], rtol=1e-5)


# ---- PyTorch as an oracle ---------------------------------------------------------------------------
@pytest.mark.parametrize("ours, theirs, shape", [
    ("BatchNorm1d", "BatchNorm1d", (6, 3)),
    ("BatchNorm1d", "BatchNorm1d", (4, 3, 5)),
    ("BatchNorm2d", "BatchNorm2d", (2, 3, 4, 5)),
])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_layers_match_pytorch_over_train_and_eval_steps(ours, theirs, shape, momentum):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    layer = getattr(nn, ours)(3, momentum=momentum, dtype=np.float64)
    reference = getattr(torch.nn, theirs)(3, momentum=momentum).double()
    weight = rng.standard_normal(3)
    layer.weight.data[...] = weight
    with torch.no_grad():
        reference.weight.copy_(torch.tensor(weight))
    for training in [True, True, True, False]:
        layer.train(training)
        reference.train(training)
        x, seed = rng.standard_normal(shape) * 2 + 1, rng.standard_normal(shape)
        mine, theirs_x = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        layer.zero_grad()
        reference.zero_grad()
        out, expected = layer(mine), reference(theirs_x)
        out.backward(seed)
        expected.backward(torch.tensor(seed))
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(mine.grad.data, theirs_x.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(layer.weight.grad.data, reference.weight.grad.numpy(), rtol=1e-9, atol=1e-12)
        for name in ["running_mean", "running_var", "num_batches_tracked"]:
            np.testing.assert_allclose(getattr(layer, name), getattr(reference, name).numpy(), rtol=1e-12)


def test_layer_norm_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x, weight, bias, seed = (rng.standard_normal(shape) for shape in [(2, 3, 4), (3, 4), (3, 4), (2, 3, 4)])
    mine = [Tensor(value, requires_grad=True) for value in (x, weight, bias)]
    theirs = [torch.tensor(value, requires_grad=True) for value in (x, weight, bias)]
    out = F.layer_norm(mine[0], (3, 4), *mine[1:])
    expected = torch.nn.functional.layer_norm(theirs[0], (3, 4), *theirs[1:])
    out.backward(seed)
    expected.backward(torch.tensor(seed))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip(mine, theirs, strict=True):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-9, atol=1e-12)


# ---- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize("attempt, error, message", [
    (lambda: nn.BatchNorm1d(3)(Tensor(np.ones((4, 5)))), ShapeError, r"^BatchNorm1d: .*C = 3 .*\(4, 5\)"),
    (lambda: nn.BatchNorm2d(3)(Tensor(np.ones((4, 3, 5)))), ShapeError, r"^BatchNorm2d: .*\(N, C, H, W\).*\(4, 3, 5\)"),
    (lambda: F.batch_norm(Tensor(np.ones((4, 5))), np.zeros(3), np.ones(3)), ShapeError,
     r"^batch_norm: running_mean has shape \(3,\), input of shape \(4, 5\) has 5 channels"),
    (lambda: F.batch_norm(Tensor(np.ones((1, 5))), None, None, training=True), ShapeError,
     r"^batch_norm: .*more than one value per channel.*\(1, 5\)"),
    (lambda: F.batch_norm(Tensor(np.ones((4, 5))), None, None), ArgumentError, "running_mean and running_var"),
    (lambda: F.layer_norm(Tensor(np.ones((2, 3))), (2,)), ShapeError,
     r"^layer_norm: normalized_shape \(2,\) .*\(2, 3\)"),
    (lambda: F.layer_norm(Tensor(np.ones(3)), (1, 3)), ShapeError, r"^layer_norm: normalized_shape \(1, 3\)"),
    (lambda: nn.LayerNorm(3)(Tensor(np.ones((3, 4)))), ShapeError, r"^layer_norm: .*\(3,\).*\(3, 4\)"),
])
def test_bad_shapes_are_named(attempt, error, message):
    with pytest.raises(error, match=message):
        attempt()
