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
from hypothesis import given
from hypothesis import strategies as st
from strategies import cnns

from mnist.cli import main
from mnist.commands import compare
from mnist.reference import cnn, network
from tinygrad_np import nn

pytestmark = pytest.mark.usefixtures("compare_reads_mnist_once")  # the command tests below


class Network(nn.Module):
    """The autograd twin of a list of reference layer specs: `layers.<i>` is spec i."""

    def __init__(self, specs, params: dict):
        self.layers = nn.Sequential(*(autograd_layer(spec) for spec in specs))
        self.load_state_dict(params)

    def forward(self, x):
        return self.layers(x)


def autograd_layer(spec) -> nn.Module:
    if isinstance(spec, network.Conv2d):
        return nn.Conv2d(spec.in_channels, spec.out_channels, spec.kernel_size, stride=spec.stride,
                         padding=spec.padding, dilation=spec.dilation, dtype=np.float64)
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
    """{(layer, "dW" or "db"): the largest 1/m sum of |terms| of that gradient}: the parameter
    gradient formulas on |dZ| and |A_prev|. Rounding is relative to the terms, and a dW or db whose
    terms cancel (a db over balanced labels) is far smaller than they are."""
    _, cache = network.forward(params, specs, X, Y)
    grads = network.backward(params, specs, cache, Y)
    labels, scales = compare.table_labels(specs), {}
    for index, spec in enumerate(specs):
        if spec.parameter_shapes():
            d_out = grads[network.gradient_key(network.output_key(index, specs))]
            A_prev = cache[network.output_key(index - 1, specs)]
            for name, value in spec.parameter_gradients(np.abs(d_out), np.abs(A_prev)).items():
                scales[labels[f"layers.{index}.{name}"]] = float(np.max(value))
    return scales


@given(cnns())
def test_every_gradient_of_a_drawn_cnn_matches_autograd(drawn):
    specs, params, X, Y = drawn
    rows, tolerance = largest_differences(specs, params, X, Y)
    scales = term_scales(specs, params, X, Y)
    for layer, quantity, _, absolute, relative in rows:
        if (layer, quantity) in scales:  # a sum that may cancel: against its terms
            assert absolute <= tolerance * scales[layer, quantity], (layer, quantity, absolute, tolerance)
        else:
            assert relative <= tolerance, (layer, quantity, relative, tolerance)


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
}
# A CNN on which both mistakes matter: a 3x3 kernel (a flip changes it), stride 1, an input that varies.
BROKEN_CASE = [network.Conv2d(2, 3, 3, padding=1), network.ReLU(), network.MaxPool2d(2), network.Conv2d(3, 2, 2),
               network.Sigmoid(), network.Flatten(), network.Linear(8, 3)]


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
    for layer, quantity, shape in ((1, "dW", "32x1x5x5"), (1, "dA_prev", "8x1x28x28"), (2, "dW", "64x32x5x5"),
                                   (3, "dW", "1024x10"), ("layers.1", "dA", "8x32x24x24")):
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
        gradients["layers.3.weight"][0, 0, 0, 0] = np.nan
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
