"""The closed-form CNN (mnist.reference.network) against tinygrad_np's autograd, as the MLP's is
checked in test_reference.py, and `python -m mnist compare --model cnn`.

Small CNNs drawn by hypothesis (strategies.cnns: 1-2 conv blocks, kernel 1-5, stride 1-2, padding
0-2, dilation 1-2, ReLU or sigmoid, a max pool, an average pool or none), in float64: every dZ,
dA, dW and db of every layer and dX agree within N eps relative to the quantity's largest entry
(dW and db: to the largest sum of their terms' magnitudes, as the MLP's test measures them),
with N the terms summed on the longest chain to a gradient (network.rounding_tolerance: the
dot-product lengths forward, backward and over the batch); k lockstep SGD steps leave both with the
same parameters. A broken formula in the reference makes both these checks and the command fail.
"""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import cnns
from test_reference_cnn import batch_norm_input_gradient_without_the_variance_term

from mnist.cli import main
from mnist.commands import compare
from mnist.reference import cnn, network
from tinygrad_np import nn

pytestmark = pytest.mark.usefixtures("compare_reads_mnist_once")  # the command tests below


class Network(nn.Module):
    """The autograd twin of a list of reference layer specs: `layers.<i>` is spec i."""

    def __init__(self, specs, params: dict):
        self.layers = nn.Sequential(*(autograd_layer(spec) for spec in specs))
        compare.load_parameters(self, params)

    def forward(self, x):
        return self.layers(x)


def autograd_layer(spec) -> nn.Module:
    if isinstance(spec, network.Conv2d):
        return nn.Conv2d(spec.in_channels, spec.out_channels, spec.kernel_size, stride=spec.stride,
                         padding=spec.padding, dilation=spec.dilation, bias=spec.bias, dtype=np.float64)
    if isinstance(spec, network.BatchNorm2d):  # in training mode, a new Module's mode
        return nn.BatchNorm2d(spec.num_features, eps=spec.eps, dtype=np.float64)
    if isinstance(spec, network.Linear):
        return nn.Linear(spec.in_features, spec.out_features, dtype=np.float64)
    if isinstance(spec, (network.MaxPool2d, network.AvgPool2d)):
        pool = nn.MaxPool2d if isinstance(spec, network.MaxPool2d) else nn.AvgPool2d
        return pool(spec.kernel_size, stride=spec.stride)
    return {network.ReLU: nn.ReLU, network.Sigmoid: nn.Sigmoid, network.Flatten: nn.Flatten}[type(spec)]()


def largest_differences(specs, params, X, Y) -> tuple:
    """(rows of compare's table, the tolerance) for one forward and backward of both networks."""
    model = Network(specs, params)
    loss, autograd_cache, autograd_grads = compare.autograd_pass(model, X, Y)
    hand_loss, cache = network.forward(params, specs, X, Y)
    hand_grads = network.backward(params, specs, cache, Y, input_gradient=True)
    rows = [("-", "J", (), *compare.differences(loss, hand_loss))]
    rows += compare.gradient_rows(autograd_grads, hand_grads, specs,
                                  compare.kink_flips(specs, autograd_cache, cache))
    assert {row[1] for row in rows} >= {"dZ", "dW", "db", "dA_prev"}
    assert len(rows) == 1 + len(hand_grads)  # every quantity the reference has, autograd's too
    return rows, network.rounding_tolerance(X.dtype, specs, X.shape)


def term_scales(specs, params, X, Y) -> dict:
    """{(layer, quantity): the largest entry of that quantity's formula evaluated on magnitudes}: the
    backward pass again with every factor replaced by its absolute value and every difference by a
    sum (dZ^[L] = P + Y, |W|, |A_prev|, |x_hat|, |gamma|), so that each entry is the sum of its
    terms' magnitudes; and J = 1/m sum (logsumexp(z) - z_y) on |logsumexp(z)| and |z_y|. Rounding
    is relative to the terms, and a quantity whose terms cancel is far smaller than they are: a db
    over balanced labels, the J of confident right answers, a dX of one entry, or anything below a
    batch norm over 2 values per channel (it makes them +-1 whatever they are: J does not depend on
    the layers below, whose gradients are O(eps / sigma^2) of their terms)."""
    _, cache = network.forward(params, specs, X, Y)
    logits = cache[network.output_key(len(specs) - 1, specs)]
    log_sum_exp = np.log(np.exp(logits - logits.max(axis=1, keepdims=True)).sum(axis=1)) + logits.max(axis=1)
    scales = {("-", "J"): float(np.mean(np.abs(log_sum_exp) + np.abs(np.sum(Y * logits, axis=1))))}
    labels = compare.table_labels(specs)

    def keep(key, value):
        scales[labels.get(key, ("-", key))] = float(np.max(value))

    delta = cache["probabilities"] + Y
    for index in range(len(specs) - 1, -1, -1):
        spec, A_prev = specs[index], cache[network.output_key(index - 1, specs)]
        magnitudes = {name: np.abs(value) for name, value in network.layer_params(params, index, spec).items()}
        keep(network.gradient_key(network.output_key(index, specs)), delta)
        if isinstance(spec, network.BatchNorm2d):  # gamma / (M s) (M dZ - sum dZ - x_hat sum dZ x_hat)
            X_hat, std = cnn.normalize(A_prev, spec.eps)
            X_hat, M = np.abs(X_hat), delta.size // delta.shape[1]
            gradients = {"weight": cnn.batch_norm_weight_gradient(delta, X_hat),
                         "bias": cnn.conv2d_bias_gradient(delta)}
            delta = magnitudes["weight"][:, None, None] / (M * std) * (
                M * delta + delta.sum(axis=cnn.CHANNEL_AXES, keepdims=True)
                + X_hat * (delta * X_hat).sum(axis=cnn.CHANNEL_AXES, keepdims=True))
        else:  # the others are sums of products, or take A_prev only for its signs and maxima
            gradients = spec.parameter_gradients(delta, np.abs(A_prev))
            delta = spec.input_gradient(delta, A_prev, cache[network.output_key(index, specs)], magnitudes)
        for name, value in gradients.items():
            keep(f"layers.{index}.{name}", value)
    keep("dX", delta)
    return scales


def centering_condition(specs, params, X, Y) -> float:
    """kappa = the largest (|mu_c| + max |x - mu_c|) / max |x - mu_c| over the channels of every batch
    norm (1 without one): x - mu loses the digits x and mu share, so x_hat, and all computed from it,
    carries kappa times the rounding of its inputs. A channel of zeros loses nothing (1); one of
    equal nonzero values loses everything (inf): its x_hat is rounding noise."""
    _, cache = network.forward(params, specs, X, Y)
    kappa = 1.0
    for index, spec in enumerate(specs):
        if isinstance(spec, network.BatchNorm2d):
            x = cache[network.output_key(index - 1, specs)]
            mean, _ = cnn.batch_statistics(x)
            shared, spread = np.abs(mean).ravel(), np.abs(x - mean).max(axis=cnn.CHANNEL_AXES)
            with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0 where the where picks 1
                kappa = max(kappa, float(np.max(np.where(shared == 0, 1.0, (shared + spread) / spread))))
    return kappa


@given(cnns())
def test_every_gradient_of_a_drawn_cnn_matches_autograd(drawn):
    """Every difference within kappa N eps of the largest sum of its terms' magnitudes (term_scales,
    centering_condition); not where a batch norm's channel is so nearly constant that kappa >= 1e3."""
    specs, params, X, Y = drawn
    kappa = centering_condition(specs, params, X, Y)
    assume(kappa < 1e3)
    rows, tolerance = largest_differences(specs, params, X, Y)
    tolerance *= kappa
    scales = term_scales(specs, params, X, Y)
    assert set(scales) == {row[:2] for row in rows}
    for layer, quantity, _, absolute, _ in rows:
        assert absolute <= tolerance * scales[layer, quantity], (layer, quantity, absolute, tolerance)


@given(cnns(), st.integers(1, 3), st.sampled_from([0.01, 0.1]))
def test_lockstep_sgd_keeps_a_drawn_cnn_identical_to_autograd(drawn, steps, lr):
    specs, params, X, Y = drawn
    model = Network(specs, params)
    divergence = compare.lockstep(model, {name: value.copy() for name, value in params.items()}, specs,
                                  [(X, Y)] * steps, lr)
    assert max(divergence) <= network.rounding_tolerance(X.dtype, specs, X.shape) * steps


# ---- broken formulas are caught ----------------------------------------------------------------

def weight_gradient_one_column_off(A_prev, dZ, kernel, stride, padding, dilation):
    """dW with the input shifted by one column: an index off by one in the kernel offsets."""
    return RIGHT_WEIGHT_GRADIENT(np.roll(A_prev, 1, axis=3), dZ, kernel, stride, padding, dilation)


RIGHT_WEIGHT_GRADIENT = cnn.conv2d_weight_gradient
BROKEN = {
    "dW one column off": ("conv2d_weight_gradient", weight_gradient_one_column_off),
    "kernel not flipped": ("flip_kernel", lambda W: W.transpose(1, 0, 2, 3)),  # in and out swapped, not rotated
    "batch norm's variance term forgotten": ("batch_norm_input_gradient",
                                             batch_norm_input_gradient_without_the_variance_term),
}
# A CNN on which these mistakes matter: a 3x3 kernel (a flip changes it), stride 1, an input that
# varies, a batch norm under the first convolution.
BROKEN_CASE = [network.Conv2d(2, 3, 3, padding=1, bias=False), network.BatchNorm2d(3), network.ReLU(),
               network.MaxPool2d(2), network.Conv2d(3, 2, 2), network.Sigmoid(), network.Flatten(),
               network.Linear(8, 3)]


@pytest.mark.parametrize("broken", BROKEN)
def test_a_broken_reference_formula_fails_the_comparison(monkeypatch, broken):
    rng = np.random.default_rng(0)
    params = network.init_params(BROKEN_CASE, seed=0, dtype=np.float64)
    X, Y = rng.standard_normal((3, 2, 6, 6)), np.eye(3)[[0, 1, 2]]
    rows, tolerance = largest_differences(BROKEN_CASE, params, X, Y)
    assert max(row[-1] for row in rows) <= tolerance  # the right formulas pass on this network
    monkeypatch.setattr(cnn, *BROKEN[broken])
    rows, tolerance = largest_differences(BROKEN_CASE, params, X, Y)
    assert max(row[-1] for row in rows) > 1e3 * tolerance


# ---- python -m mnist compare --model cnn -------------------------------------------------------



SMALL_CNN = ["compare", "--model", "cnn", "--batch-size", "8", "--steps", "2"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_compare_cnn_passes_and_reports_every_layer(dtype, capsys, tmp_path):
    plot = tmp_path / "divergence.png"
    assert main([*SMALL_CNN, "--dtype", dtype, "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    for layer, quantity, shape in ((1, "dW", "32x1x5x5"), (1, "dA_prev", "8x1x28x28"), ("layers.1", "dgamma", "32"),
                                   ("layers.1", "dZ", "8x32x24x24"), ("layers.2", "dA", "8x32x24x24"),
                                   (2, "dW", "64x32x5x5"), ("layers.5", "dbeta", "64"), (3, "dW", "1024x256"),
                                   ("layers.10", "dA", "8x256"), (4, "dW", "256x10")):
        assert f"| {layer} " in out and f"| {quantity} " in out and shape in out
    assert out.rstrip().splitlines()[-1].startswith("OK")
    assert plot.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("broken", BROKEN)
def test_compare_cnn_fails_with_a_broken_reference_formula(monkeypatch, capsys, broken):
    monkeypatch.setattr(cnn, *BROKEN[broken])
    assert main([*SMALL_CNN, "--steps", "0"]) == 1
    assert "FAIL: layer 1 " in capsys.readouterr().out  # the first convolution's gradients


def test_compare_cnn_fails_on_a_non_finite_value(monkeypatch, capsys):
    honest_pass = compare.autograd_pass

    def one_nan(*args, **kwargs):
        loss, cache, gradients = honest_pass(*args, **kwargs)
        gradients["layers.4.weight"][0, 0, 0, 0] = np.nan  # the second convolution's
        return loss, cache, gradients
    monkeypatch.setattr(compare, "autograd_pass", one_nan)
    assert main([*SMALL_CNN, "--steps", "0"]) == 1
    assert "FAIL: layer 2 dW: relative difference nan is not finite" in capsys.readouterr().out


def test_entries_on_a_kink_taken_differently_are_left_out_and_counted():
    """A ReLU input at +1e-12 on one side and -1e-12 on the other, and a max-pool window whose two
    largest entries swap places: only those entries, and what the ReLU before the pool passes them
    to, are masked."""
    specs = [network.Conv2d(1, 1, 1), network.ReLU(), network.MaxPool2d(2), network.Flatten(), network.Linear(1, 2)]
    Z = np.array([[[[1.0, 2.0], [3.0, 1e-12]]]])
    theirs = {"X": Z, "layers.0.Z": Z, "layers.1.A": np.maximum(Z, 0)}
    mine_Z = Z.copy()
    mine_Z[0, 0, 1, 1] = -1e-12
    mine = {"X": Z, "layers.0.Z": mine_Z, "layers.1.A": np.maximum(mine_Z, 0)}
    flips = compare.kink_flips(specs, mine, theirs)
    assert list(flips) == ["layers.0.dZ"] and flips["layers.0.dZ"].sum() == 1  # no pool winner changed

    mine["layers.1.A"] = np.array([[[[1.0, 2.0], [3.0 - 1e-12, 3.0]]]])  # the window's maximum moves
    theirs["layers.1.A"] = np.array([[[[1.0, 2.0], [3.0, 3.0 - 1e-12]]]])
    flips = compare.kink_flips(specs, mine, theirs)
    assert flips["layers.1.dA"].tolist() == [[[[False, False], [True, True]]]]
    assert flips["layers.0.dZ"].tolist() == [[[[False, False], [True, True]]]]
    assert "2 of layers.1.dA, 2 of layers.0.dZ" in compare.kinks_left_out(flips)


def test_a_kink_after_a_batch_norm_masks_the_same_entry_of_its_input_gradient():
    """dA_prev of batch norm takes each entry's own dZ whole (M dZ) and the channel's sums with
    weight 1/M: the entry a ReLU flipped is masked below the batch norm too, the others are kept."""
    specs = [network.Conv2d(1, 1, 1, bias=False), network.BatchNorm2d(1), network.ReLU(), network.Flatten(),
             network.Linear(4, 2)]
    X = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    Z = np.array([[[[-1.0, 1e-12], [0.5, 1.0]]]])
    mine_Z = Z.copy()
    mine_Z[0, 0, 0, 1] = -1e-12
    flips = compare.kink_flips(specs, {"X": X, "layers.0.Z": X, "layers.1.Z": mine_Z},
                               {"X": X, "layers.0.Z": X, "layers.1.Z": Z})
    assert list(flips) == ["layers.1.dZ", "layers.0.dZ"]
    for mask in flips.values():
        assert mask.tolist() == [[[[False, True], [False, False]]]]
