"""`python -m mnist` end to end on a small subset: train, evaluate, predict, and what it refuses."""
import json
import re

import numpy as np
import pytest
from matplotlib.image import imsave

from cli_runs import no_report  # noqa: F401 (a fixture)
from cli_runs import SMALL, run_cli, start_cli, without_timings
from mnist.checkpoint import load_checkpoint
from mnist.cli import COMMAND_MODULES
from mnist.commands.predict import read_png
from mnist.data import load_dataset

OUTPUTS = ["checkpoint.npz", "history.json", "history.csv", "metrics.json", "learning_curves.png",
           "predictions.png", "confusion_matrix.png", "confident_mistakes.png"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One small training run through the command line: (its folder, what it printed)."""
    folder = tmp_path_factory.mktemp("run")
    status, stdout, stderr = run_cli("train", *SMALL, "--epochs", "2", "--out", folder)
    assert status == 0, stderr
    return folder, stdout


def printed_accuracy(stdout: str) -> str:
    return re.search(r"^test accuracy: (.*)$", stdout, re.MULTILINE).group(1)


def test_train_writes_every_output_and_prints_the_test_accuracy(run):
    folder, stdout = run
    for name in OUTPUTS:
        assert (folder / name).stat().st_size > 0, name
    for name in OUTPUTS[-4:]:
        assert (folder / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), name
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["test_samples"] == 200
    assert printed_accuracy(stdout) == f"{metrics['test_accuracy']:.2%} on 200 images"
    assert len(json.loads((folder / "history.json").read_text())) == 2
    assert len((folder / "history.csv").read_text().splitlines()) == 1 + 2


def test_evaluate_reproduces_the_test_accuracy_of_training(run, tmp_path):
    folder, train_stdout = run
    status, stdout, _ = run_cli("evaluate", "--checkpoint", folder / "checkpoint.npz", "--out", tmp_path)
    assert status == 0
    assert printed_accuracy(stdout) == printed_accuracy(train_stdout)
    trained, evaluated = (json.loads((f / "metrics.json").read_text()) for f in (folder, tmp_path))
    assert evaluated == trained
    assert all((tmp_path / name).is_file() for name in OUTPUTS[-4:])


def prediction_table(stdout: str) -> tuple:
    """(predicted class, the probability table) from `predict`'s output."""
    first, *table = stdout.splitlines()
    return re.match(r"prediction: (\S+)", first).group(1), table


def test_predict_a_test_image_by_index_and_as_a_png(run, tmp_path):
    folder, _ = run
    checkpoint = folder / "checkpoint.npz"
    dataset = load_dataset()
    status, stdout, _ = run_cli("predict", "--checkpoint", checkpoint, "--index", 3)
    assert status == 0
    assert stdout.splitlines()[0].endswith(f"(true: {dataset.test_labels[3]})")
    predicted, table = prediction_table(stdout)
    assert len(table) == 2 + 3  # header, rule, the top three classes
    assert table[2].startswith(f"| {predicted} |")

    png = tmp_path / "digit.png"
    imsave(png, np.repeat(dataset.test_images[3][:, :, None], 3, axis=2))  # RGB, stored as given (no colormap)
    assert np.array_equal(read_png(png), dataset.test_images[3])
    status, png_stdout, _ = run_cli("predict", "--checkpoint", checkpoint, "--image", png)
    assert status == 0
    assert prediction_table(png_stdout) == (predicted, table)


@pytest.mark.parametrize("command", [[], *([name] for name in COMMAND_MODULES)], ids=lambda c: " ".join(c) or "-")
def test_help_exits_0(command):
    status, stdout, _ = run_cli(*command, "--help")
    assert status == 0 and stdout.startswith("usage: python -m mnist")


def test_same_seed_same_run_other_seed_other_run(tmp_path, no_report):
    def train(seed, name):
        status, _, stderr = run_cli("train", *SMALL, "--epochs", "2", "--dropout", "0.2", "--seed", seed,
                                    "--out", tmp_path / name)
        assert status == 0, stderr
        history = json.loads((tmp_path / name / "history.json").read_text())
        return without_timings(history), load_checkpoint(tmp_path / name / "checkpoint.npz")[0]

    history, parameters = train(1, "first")
    again_history, again_parameters = train(1, "again")
    other_history, other_parameters = train(2, "other")
    assert again_history == history
    assert all(np.array_equal(again_parameters[name], parameters[name]) for name in parameters)
    assert other_history != history
    assert not any(np.array_equal(other_parameters[name], parameters[name]) for name in parameters)


# ---- what the command line refuses -----------------------------------------------------------

@pytest.mark.parametrize("arguments, complaint", [
    (["--lr", "0"], "argument --lr: '0': must be a finite number > 0"),
    (["--lr", "-0.5"], "argument --lr"),
    (["--lr", "nan"], "argument --lr"),
    (["--batch-size", "0"], "argument --batch-size: '0': must be an integer >= 1"),
    (["--epochs", "0"], "argument --epochs"),
    (["--epochs", "two"], "argument --epochs: 'two' is not a valid int"),
    (["--activation", "softplus"], "argument --activation: invalid choice: 'softplus'"),
    (["--optimizer", "rmsprop"], "argument --optimizer: invalid choice: 'rmsprop'"),
    (["--layers", "784", "0", "10"], "argument --layers: '0': must be an integer >= 1"),
    (["--layers", "100", "32", "10"], "argument --layers: must start with 784 (pixels) and end with 10"),
    (["--layers", "784", "32", "9"], "argument --layers: must start with 784"),
    (["--layers", "784"], "argument --layers: must start with 784"),
    (["--dropout", "1"], "argument --dropout"),
], ids=lambda value: " ".join(value) if isinstance(value, list) else "")
def test_train_rejects_invalid_values_with_status_2(tmp_path, arguments, complaint):
    status, stdout, stderr = run_cli("train", *SMALL, *arguments, "--out", tmp_path / "out")
    assert status == 2 and stdout == ""
    assert stderr.startswith("usage: python -m mnist train")
    assert f"python -m mnist train: error: {complaint}" in stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("out", ["file", "file/below"])
def test_train_refuses_an_output_folder_that_is_a_file(tmp_path, out):
    (tmp_path / "file").write_text("")
    status, _, stderr = run_cli("train", *SMALL, "--out", tmp_path / out)
    assert status == 2
    assert f"error: argument --out: '{tmp_path / out}': '{tmp_path / 'file'}' exists and is not a folder" in stderr


@pytest.mark.parametrize("command", [["evaluate"], ["predict", "--index", "0"], ["train", "--resume"]])
def test_a_missing_checkpoint_is_refused_with_status_2(tmp_path, command):
    flag = [] if command[0] == "train" else ["--checkpoint"]
    status, _, stderr = run_cli(*command, *flag, tmp_path / "missing.npz")
    assert status == 2 and "is not a file" in stderr


def test_predict_needs_exactly_one_image(run):
    folder, _ = run
    status, _, stderr = run_cli("predict", "--checkpoint", folder / "checkpoint.npz")
    assert status == 2 and "one of the arguments --index --image is required" in stderr


# ---- a broken checkpoint: one line, no traceback, non-zero status ---------------------------

@pytest.fixture
def half_checkpoint(run, tmp_path):
    folder, _ = run
    path = tmp_path / "half.npz"
    whole = (folder / "checkpoint.npz").read_bytes()
    path.write_bytes(whole[:len(whole) // 2])
    return path


@pytest.mark.parametrize("command", [["evaluate", "--checkpoint"], ["predict", "--index", "0", "--checkpoint"],
                                     ["train", "--resume"]], ids=lambda c: c[0])
def test_a_broken_checkpoint_is_reported_in_one_line(half_checkpoint, command):
    status, stdout, stderr = run_cli(*command, half_checkpoint)
    assert status == 1 and stdout == ""
    assert stderr.startswith(f"error: {half_checkpoint}: not a readable checkpoint")
    assert stderr.count("\n") == 1


def test_a_broken_checkpoint_stops_the_real_program_without_a_traceback(half_checkpoint):
    process = start_cli("evaluate", "--checkpoint", half_checkpoint)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 1 and stdout == ""
    assert stderr.startswith(f"error: {half_checkpoint}: ") and stderr.count("\n") == 1


def test_resume_names_the_settings_it_ignores(tmp_path, no_report):
    status, _, stderr = run_cli("train", *SMALL, "--epochs", "1", "--out", tmp_path)
    assert status == 0, stderr
    checkpoint = tmp_path / "checkpoint.npz"
    status, _, stderr = run_cli("train", "--resume", checkpoint, "--epochs", "2", "--lr", "0.5")
    assert status == 0, stderr
    assert "ignoring --lr" in stderr
    status, _, stderr = run_cli("train", "--resume", checkpoint, "--epochs", "3")
    assert status == 0, stderr
    assert "ignoring" not in stderr
