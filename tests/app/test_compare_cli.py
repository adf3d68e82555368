"""`python -m mnist compare`: the table, the lockstep report, the plot, and the exit status as a check."""
import re

import numpy as np
import pytest

from mnist.cli import main
from mnist.commands import compare
from mnist.reference import mlp as reference
from mnist.reference import network

SMALL = ["--layers", "784", "16", "12", "10", "--batch-size", "8", "--steps", "3"]


pytestmark = pytest.mark.usefixtures("compare_reads_mnist_once")


def exit_status(argv) -> int:
    try:
        return main(argv)
    except SystemExit as stop:  # argparse rejects bad values with status 2
        return stop.code


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_identical_networks_pass_and_report_every_layer(dtype, capsys, tmp_path):
    plot = tmp_path / "divergence.png"
    assert exit_status(["compare", *SMALL, "--activation", "relu", "sigmoid", "--dtype", dtype,
                        "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    for layer, shape in ((1, "784x16"), (2, "16x12"), (3, "12x10")):
        for quantity in ("dZ", "dW", "db", "dA_prev"):
            assert re.search(rf"\| {layer} +\| {quantity} +\|", out), (layer, quantity)
        assert shape in out
    assert "3 steps" in out and "largest parameter divergence" in out
    assert out.rstrip().splitlines()[-1].startswith("OK")
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_reported_differences_are_within_the_dtype_tolerance(capsys):
    assert exit_status(["compare", *SMALL, "--activation", "sigmoid", "--dtype", "float32"]) == 0
    out = capsys.readouterr().out
    tolerance = compare.rounding_tolerance(np.float32, [784, 16, 12, 10], 8)
    relative = [float(row.split("|")[-2]) for row in out.splitlines() if re.match(r"\| [-\d]", row)]
    assert len(relative) == 1 + 3 * 4  # J, then four quantities in each of three layers
    assert max(relative) <= tolerance


def test_lockstep_divergence_beyond_the_tolerance_fails(monkeypatch, capsys):
    """A reference update off by one part in a million drifts apart: exit status 1, unless
    --tolerance allows that much."""
    exact_update = network.sgd_update
    monkeypatch.setattr(network, "sgd_update",
                        lambda params, grads, lr: exact_update(params, grads, lr * (1 + 1e-6)))
    assert exit_status(["compare", *SMALL]) == 1
    assert capsys.readouterr().out.rstrip().splitlines()[-1].startswith("FAIL")
    assert exit_status(["compare", *SMALL, "--tolerance", "1e-3"]) == 0


def test_a_wrong_formula_makes_the_check_fail(monkeypatch, capsys):
    """The reference with ReLU'(z) = 1 everywhere no longer matches autograd: exit status 1."""
    monkeypatch.setitem(reference.ACTIVATIONS, "relu", (reference.relu, np.ones_like))
    assert exit_status(["compare", *SMALL, "--steps", "0"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "lockstep" not in out


@pytest.mark.parametrize("argv", [
    ["--dtype", "float16"],
    ["--activation", "tanh"],
    ["--activation", "relu", "relu", "relu"],  # two hidden layers in SMALL
    ["--layers", "784", "16", "9"],
    ["--layers", "100", "16", "10"],
    ["--batch-size", "0"],
    ["--lr", "-0.1"],
    ["--steps", "-1"],
    ["--tolerance", "0"],
])
def test_bad_values_are_usage_errors(argv, capsys):
    assert exit_status(["compare", *SMALL, *argv]) == 2
    assert "error" in capsys.readouterr().err


def test_help_names_every_option(capsys):
    assert exit_status(["compare", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--layers", "--activation", "--batch-size", "--steps", "--lr", "--dtype", "--seed",
                   "--tolerance", "--plot"):
        assert option in out


def test_non_finite_parameters_fail_the_check_naming_layer_and_quantity(capsys):
    """A learning rate of 1e300 makes both networks' parameters non-finite at the first step;
    both agree that far, but a check must not call that OK."""
    argv = ["compare", "--lr", "1e300", "--dtype", "float32", "--layers", "784", "8", "10", "--steps", "3"]
    assert exit_status(argv) == 1
    last = capsys.readouterr().out.rstrip().splitlines()[-1]
    assert re.fullmatch(r"FAIL: lockstep step 1: parameter divergence nan is not finite; "
                        r"not finite: layer \d [Wb] \((autograd|reference)\)(, .*)?", last), last


def test_a_nan_in_one_gradient_fails_the_check_naming_it(monkeypatch, capsys):
    honest_pass = compare.autograd_pass

    def one_nan(*args, **kwargs):
        loss, cache, gradients = honest_pass(*args, **kwargs)
        gradients["layers.2.weight"][0, 0] = np.nan  # the second Linear's dW
        return loss, cache, gradients
    monkeypatch.setattr(compare, "autograd_pass", one_nan)
    assert exit_status(["compare", *SMALL, "--steps", "0"]) == 1
    out = capsys.readouterr().out
    assert "FAIL: layer 2 dW: relative difference nan is not finite" in out
    assert "OK" not in out


def test_the_plot_goes_into_a_missing_folder_which_is_created(tmp_path, capsys):
    plot = tmp_path / "missing" / "deeper" / "divergence.png"
    assert exit_status(["compare", *SMALL, "--plot", str(plot)]) == 0
    assert plot.read_bytes().startswith(b"\x89PNG")
