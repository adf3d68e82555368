"""tinygrad_np.nn: parameter discovery, train/eval and Dropout, state_dict, Linear, initializers, MLP.

Statistical checks use bounds derived from the sample size, at Z standard errors (Z = 6, a false
alarm about once in 5e8 draws), so they are fixed by the formula, not tuned to pass:
- a count of zeros out of n independent draws with probability p is Binomial(n, p): its fraction
  has standard error sqrt(p (1 - p) / n);
- the sample standard deviation s of n normal draws with standard deviation sigma has standard
  error sigma / sqrt(2 (n - 1)); their sample mean has standard error sigma / sqrt(n).
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import arrays

from mnist.models.mlp import MLP
from tinygrad_np import Tensor, nn
from tinygrad_np.nn import init

Z = 6
seeds = st.integers(0, 2**32 - 1)


def assert_normal_sample(values, sigma):
    """Mean 0 and standard deviation `sigma`, within Z standard errors for this sample size."""
    n = values.size
    assert abs(values.mean()) <= Z * sigma / math.sqrt(n)
    assert abs(values.std(ddof=1) - sigma) <= Z * sigma / math.sqrt(2 * (n - 1))


# ---- parameter discovery ------------------------------------------------------------------------

class Block(nn.Module):
    def __init__(self):
        self.inner = nn.Linear(3, 2)
        self.scale = nn.Parameter(np.ones(2))
        self.not_a_parameter = Tensor(np.ones(2), requires_grad=True)


class Net(nn.Module):
    def __init__(self):
        self.block = Block()
        self.layers = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1, bias=False))
        self.offset = nn.Parameter(np.zeros(1))

    def forward(self, x):
        return self.layers(self.block.inner(x) * self.block.scale) + self.offset


def test_parameters_are_found_with_dotted_names_own_first_then_children_in_order():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["offset", "block.scale", "block.inner.weight", "block.inner.bias",
                     "layers.0.weight", "layers.0.bias", "layers.2.weight"]
    assert net.parameters() == [p for _, p in net.named_parameters()]
    assert net.parameters()[2] is net.block.inner.weight
    assert all(p.requires_grad for p in net.parameters())


def test_named_modules_and_children():
    net = Net()
    assert [name for name, _ in net.named_modules()] == [
        "", "block", "block.inner", "layers", "layers.0", "layers.1", "layers.2"]
    assert [name for name, _ in net.named_children()] == ["block", "layers"]
    assert [name for name, _ in net.named_parameters(prefix="net")][:2] == ["net.offset", "net.block.scale"]


def test_a_shared_parameter_is_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    tied = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    tied[1].weight = tied[0].weight
    assert [name for name, _ in tied.named_parameters()] == ["0.weight", "0.bias", "1.bias"]


def test_sequential_applies_its_modules_in_order():
    double, add_one = nn.Linear(1, 1, bias=False), nn.Linear(1, 1)
    double.weight.data[...] = 2.0
    add_one.weight.data[...], add_one.bias.data[...] = 1.0, 1.0
    model = nn.Sequential(double, add_one)
    assert len(model) == 2 and model[0] is double and list(model) == [double, add_one]
    np.testing.assert_array_equal(model(Tensor([[3.0]])).data, [[7.0]])  # (3 * 2) + 1, not (3 + 1) * 2


def test_module_zero_grad_and_missing_forward():
    net = Net()
    net(Tensor(np.ones((2, 3)))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(Tensor([1.0]))


# ---- train / eval and Dropout ---------------------------------------------------------------------

def test_train_and_eval_reach_every_module():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5), nn.Sequential(nn.ReLU(), nn.Dropout(0.5)))
    assert all(module.training for _, module in model.named_modules())
    assert model.eval() is model
    assert not any(module.training for _, module in model.named_modules())
    model.train()
    assert all(module.training for _, module in model.named_modules())
    model.train(False)
    assert not any(module.training for _, module in model.named_modules())


@settings(max_examples=25, deadline=None)
@given(st.floats(0.05, 0.95), seeds)
def test_dropout_zeroes_a_fraction_p_and_scales_the_rest_by_one_over_one_minus_p(p, seed):
    n = 20_000
    x = np.random.default_rng(seed).uniform(0.5, 2.0, n).astype(np.float32)  # no zeros of its own
    out = nn.Dropout(p, rng=np.random.default_rng(seed + 1))(Tensor(x)).data
    dropped = out == 0
    assert abs(dropped.mean() - p) <= Z * math.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(out[~dropped], x[~dropped] / (1 - p), rtol=1e-6)
    assert out.dtype == np.float32


@settings(max_examples=25, deadline=None)
@given(st.floats(0.05, 0.95), seeds)
def test_inverted_dropout_keeps_the_mean(p, seed):
    # On ones, the output mean is (kept / n) / (1 - p): mean 1, standard error sqrt(p / ((1 - p) n)).
    n = 20_000
    out = nn.Dropout(p, rng=np.random.default_rng(seed))(Tensor(np.ones(n))).data
    assert abs(out.mean() - 1) <= Z * math.sqrt(p / ((1 - p) * n))


def test_dropout_gradient_is_the_same_mask_and_scale():
    x = Tensor(np.ones(1000), requires_grad=True)
    out = nn.Dropout(0.3, rng=np.random.default_rng(0))(x)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, out.data)  # d out_i / d x_i = mask_i / (1 - p) = out_i on ones


@given(arrays(), st.floats(0.0, 0.9))
def test_dropout_in_eval_mode_and_with_p_zero_is_the_identity(values, p):
    x = Tensor(values)
    np.testing.assert_array_equal(nn.Dropout(p).eval()(x).data, values)
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).data, values)


def test_dropout_draws_a_new_mask_each_call_and_refuses_bad_p():
    dropout = nn.Dropout(0.5, rng=np.random.default_rng(0))
    x = Tensor(np.ones(100))
    assert not np.array_equal(dropout(x).data, dropout(x).data)
    for p in (-0.1, 1.0):
        with pytest.raises(ValueError, match="Dropout probability"):
            nn.Dropout(p)


# ---- state_dict ---------------------------------------------------------------------------------

def test_state_dict_round_trip_gives_identical_outputs():
    source, target = MLP((6, 5, 4, 3), seed=1), MLP((6, 5, 4, 3), seed=2)
    x = Tensor(np.random.default_rng(0).standard_normal((7, 6)).astype(np.float32))
    assert not np.array_equal(source(x).data, target(x).data)
    state = source.state_dict()
    assert list(state) == ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias",
                           "layers.4.weight", "layers.4.bias"]
    target.load_state_dict(state)
    np.testing.assert_array_equal(target(x).data, source(x).data)
    for name, value in target.state_dict().items():
        np.testing.assert_array_equal(value, state[name])


def test_state_dict_holds_copies_in_both_directions():
    model, other = nn.Linear(2, 3), nn.Linear(2, 3)
    state = model.state_dict()
    state["weight"][...] = 42.0
    assert not np.any(model.weight.data == 42.0)
    other.load_state_dict(state)
    state["weight"][...] = 7.0
    assert np.all(other.weight.data == 42.0)


def test_load_state_dict_names_missing_and_unexpected_keys():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    state = model.state_dict()
    del state["2.bias"]
    state["2.scale"] = np.ones(1, dtype=np.float32)
    with pytest.raises(KeyError, match=r"missing keys \['2.bias'\], unexpected keys \['2.scale'\]"):
        model.load_state_dict(state)


def test_load_state_dict_names_a_shape_mismatch_and_changes_nothing():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    before = model.state_dict()
    state = {**nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)).state_dict(),
             "2.weight": np.zeros((1, 3), dtype=np.float32)}
    with pytest.raises(ValueError, match=r"2.weight has shape \(1, 3\), the model needs \(3, 1\)"):
        model.load_state_dict(state)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_load_state_dict_refuses_another_dtype():
    model = nn.Linear(2, 3)
    state = {name: value.astype(np.float64) for name, value in model.state_dict().items()}
    with pytest.raises(ValueError, match="dtype"):
        model.load_state_dict(state)


# ---- Linear -------------------------------------------------------------------------------------

@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), seeds)
def test_linear_is_x_times_w_plus_b_with_w_in_by_out(batch, in_features, out_features, seed):
    rng = np.random.default_rng(seed)
    layer = nn.Linear(in_features, out_features, rng=rng, dtype=np.float64)
    layer.bias.data[...] = rng.standard_normal(out_features)
    x = rng.standard_normal((batch, in_features))
    assert layer.weight.shape == (in_features, out_features) and layer.bias.shape == (out_features,)
    np.testing.assert_allclose(layer(Tensor(x)).data, x @ layer.weight.data + layer.bias.data, rtol=1e-12)
    # d sum(out) / dW = x^T 1, d sum(out) / db = batch size
    layer(Tensor(x)).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.data, x.T @ np.ones((batch, out_features)), rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.data, np.full(out_features, batch), rtol=1e-12)


def test_linear_options():
    layer = nn.Linear(3, 2, bias=False, init=lambda shape, rng: np.full(shape, 0.5))
    assert layer.bias is None and [name for name, _ in layer.named_parameters()] == ["weight"]
    np.testing.assert_array_equal(layer(Tensor(np.ones((1, 3)))).data, [[1.5, 1.5]])
    assert nn.Linear(3, 2).weight.dtype == np.float32
    assert repr(nn.Linear(3, 2)) == "Linear(in_features=3, out_features=2)"
    for sizes in ((0, 2), (2, 0)):
        with pytest.raises(ValueError, match="positive"):
            nn.Linear(*sizes)


# ---- initializers -------------------------------------------------------------------------------

@st.composite
def weight_shapes(draw):
    """(fan_in, fan_out) with at least ~4096 entries, so the standard-deviation bound is under 7%:
    He and Xavier (a factor sqrt(2) apart) and fan_in versus fan_out are told apart."""
    fan_in = draw(st.integers(1, 1000))
    return fan_in, 4096 // fan_in + 1 + draw(st.integers(0, 8))


@settings(max_examples=30)
@given(weight_shapes(), seeds)
def test_he_normal_has_std_sqrt_2_over_fan_in(shape, seed):
    assert_normal_sample(init.he_normal(shape, np.random.default_rng(seed)), math.sqrt(2 / shape[0]))


@settings(max_examples=30)
@given(weight_shapes(), seeds)
def test_xavier_normal_has_std_sqrt_1_over_fan_in(shape, seed):
    assert_normal_sample(init.xavier_normal(shape, np.random.default_rng(seed)), math.sqrt(1 / shape[0]))


@pytest.mark.parametrize("name, gain", [("he_normal", 2), ("xavier_normal", 1)])
def test_linear_uses_its_initializer_and_zero_bias(name, gain):
    layer = nn.Linear(512, 64, init=name, rng=np.random.default_rng(0))
    assert_normal_sample(layer.weight.data.astype(np.float64), math.sqrt(gain / 512))
    assert np.all(layer.bias.data == 0)


def test_same_seed_same_weights_other_seed_other_weights():
    def weights(seed):
        return MLP((20, 10, 5), seed=seed).state_dict()

    first, again, other = weights(3), weights(3), weights(4)
    for name in first:
        np.testing.assert_array_equal(first[name], again[name])
    assert not np.array_equal(first["layers.0.weight"], other["layers.0.weight"])


# ---- mnist.models.mlp.MLP --------------------------------------------------------------------------

def test_mlp_default_layers():
    model = MLP()
    assert [layer.weight.shape for layer in model.linear_layers()] == [(784, 256), (256, 128), (128, 10)]
    assert [type(module) for module in model.layers] == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    out = model(Tensor(np.zeros((2, 784), dtype=np.float32)))
    assert out.shape == (2, 10) and out.dtype == np.float32


@pytest.mark.parametrize("count", [1, 3])  # not 0: Tensor.flatten reshapes to (0, -1), which NumPy refuses
def test_mlp_takes_images_and_flattens_them_itself(count):
    model = MLP((784, 8, 10), seed=1)
    images = np.random.default_rng(0).random((count, 1, 28, 28), dtype=np.float32)
    from_images = model(Tensor(images))
    assert from_images.shape == (count, 10) and model.num_classes == 10
    np.testing.assert_array_equal(from_images.data, model(Tensor(images.reshape(count, 784))).data)


@given(st.lists(st.integers(1, 6), min_size=2, max_size=5), st.sampled_from(["relu", "sigmoid", "tanh"]),
       st.sampled_from([0.0, 0.5]))
def test_mlp_builds_the_layer_sizes_it_is_given(layer_sizes, activation, dropout):
    model = MLP(layer_sizes, activation=activation, dropout=dropout)
    linears = model.linear_layers()
    expected = list(zip(layer_sizes[:-1], layer_sizes[1:], strict=True))
    assert [(layer.in_features, layer.out_features) for layer in linears] == expected
    hidden = [nn.ReLU if activation == "relu" else nn.Sigmoid if activation == "sigmoid" else nn.Tanh]
    block = [nn.Linear] + hidden + ([nn.Dropout] if dropout else [])
    assert [type(m) for m in model.layers] == block * (len(layer_sizes) - 2) + [nn.Linear]
    assert all(m.p == dropout for m in model.layers if isinstance(m, nn.Dropout))
    assert len(model.parameters()) == 2 * (len(layer_sizes) - 1)


@pytest.mark.parametrize("activation, hidden_gain", [("relu", 2), ("sigmoid", 1), ("tanh", 1)])
def test_mlp_initializes_hidden_layers_per_activation_and_the_output_layer_with_xavier(activation, hidden_gain):
    # He for layers feeding ReLU, Xavier for sigmoid and tanh; the output (softmax) layer is Xavier
    model = MLP((300, 200, 100, 60), activation=activation, seed=0)
    gains = [hidden_gain, hidden_gain, 1]
    for layer, gain in zip(model.linear_layers(), gains, strict=True):
        assert_normal_sample(layer.weight.data.astype(np.float64), math.sqrt(gain / layer.in_features))
        assert np.all(layer.bias.data == 0)


def test_mlp_with_one_activation_per_hidden_layer():
    model = MLP((8, 300, 200, 4), activation=["sigmoid", "relu"], seed=0)
    assert [type(m) for m in model.layers] == [nn.Linear, nn.Sigmoid, nn.Linear, nn.ReLU, nn.Linear]
    first, second, _ = model.linear_layers()
    assert_normal_sample(first.weight.data.astype(np.float64), math.sqrt(1 / 8))
    assert_normal_sample(second.weight.data.astype(np.float64), math.sqrt(2 / 300))


@pytest.mark.parametrize("arguments", [
    {"layer_sizes": (784,)}, {"layer_sizes": (784, 0, 10)}, {"activation": "gelu"},
    {"activation": ["relu"]},
])
def test_mlp_refuses_bad_configurations(arguments):
    with pytest.raises(ValueError):
        MLP(**arguments)


def test_mlp_dropout_follows_train_and_eval():
    model = MLP((50, 40, 10), dropout=0.5, seed=0)
    x = Tensor(np.ones((4, 50), dtype=np.float32))
    assert not np.array_equal(model(x).data, model(x).data)
    model.eval()
    np.testing.assert_array_equal(model(x).data, model(x).data)
