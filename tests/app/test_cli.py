"""`python -m mnist` end to end on a small subset: train, evaluate, predict, and what it refuses."""
import contextlib
import json
import os
import re
import resource
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from cli_runs import (
    SMALL,
    run_cli,
    start_cli,
    wait_until,
    without_timings,
)
from matplotlib.image import imsave
from test_checkpoint import RECORD_FIELDS, edit_record, rewrite
from test_data import write_dataset

from mnist.cli import COMMAND_MODULES, console_script
from mnist.commands.predict import read_png
from mnist.commands.train import DEFAULT_OUT
from mnist.data.dataset import load_dataset
from mnist.report.diagnostics import load_diagnostics
from mnist.training.checkpoint import load_checkpoint

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


def test_help_speaks_to_a_user_and_every_train_option_says_what_it_does_and_its_default():
    _, top, _ = run_cli("--help")
    assert "mnist/commands" not in top and "MNIST" in top
    _, train, _ = run_cli("train", "--help")
    options = re.findall(r"^  (--[a-z-]+)(.*)\n((?:^ {20,}.*\n)*)", train, re.MULTILINE)
    assert len(options) == 26, [option for option, _, _ in options]
    for option, rest, more in options:
        text = " ".join((rest + " " + more).split())
        assert re.search(r"[a-z]{3,} [a-z]{2,}", text), f"{option} has no help text: {text!r}"
    assert "(default: 784 256 128 10)" in train and "(default: off; cnn: on)" in train and "(default: on)" in train
    assert "(default: False)" not in train and not re.search(r"\(default: \(", train)
    assert "(default: the folder of the --resume checkpoint, else runs/default)" in " ".join(train.split())


def test_version_and_the_console_script_name(capsys, monkeypatch):
    status, stdout, _ = run_cli("--version")
    assert status == 0 and re.fullmatch(r"python -m mnist \S+\n", stdout)
    monkeypatch.setattr("sys.argv", ["/usr/local/bin/tinygrad-mnist", "train", "--help"])
    with pytest.raises(SystemExit) as stop:
        console_script()
    assert stop.value.code == 0 and capsys.readouterr().out.startswith("usage: tinygrad-mnist train")


def test_the_readme_and_the_makefile_use_the_default_output_folder():
    root = Path(__file__).resolve().parents[2]
    assert f"OUT ?= {DEFAULT_OUT}" in (root / "Makefile").read_text()
    assert f"{DEFAULT_OUT}/" in (root / "README.md").read_text()


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
    (["--seed", "-1"], "argument --seed: '-1': must be an integer >= 0"),
    (["--nesterov", "--momentum", "0"], "argument --nesterov: Nesterov momentum needs a momentum > 0"),
    (["--warmup-epochs", "1e308"], "argument --warmup-epochs: '1e308': must be a number in [0, 1000000]"),
    (["--warmup-epochs", "3", "--epochs", "2"],
     "argument --warmup-epochs: a warm-up of 3 epochs is longer than the run (2 epochs)"),
    (["--gamma", "2"], "argument --gamma: '2': must be a number in (0, 1]"),
    (["--layers", "784", "1000000000", "10"], "argument --layers: layer sizes 784 1000000000 10 make 795,000,000,010 "
                                              "parameters, more than the 33,554,432 allowed"),
], ids=lambda value: " ".join(value) if isinstance(value, list) else "")
def test_train_rejects_invalid_values_with_status_2(tmp_path, arguments, complaint):
    status, stdout, stderr = run_cli("train", *SMALL, *arguments, "--out", tmp_path / "out")
    assert status == 2 and stdout == ""
    assert stderr.startswith("usage: python -m mnist train")
    assert f"python -m mnist train: error: {complaint}" in stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [
    ["graph", "--out", "x.dot", "--seed", "-1"],
    ["graph", "--out", "x.dot", "--layers", "3", "10000000000", "2"],
    ["graph", "--out", "x.dot", "--layers", "5", "3", "--batch-size", "10000000000"],
    ["compare", "--seed", "-1"],
    ["compare", "--layers", "784", "10000000000", "10"],
], ids=" ".join)
def test_graph_and_compare_reject_invalid_values_with_status_2(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    status, stdout, stderr = run_cli(*command)
    assert status == 2 and stdout == ""
    assert stderr.startswith(f"usage: python -m mnist {command[0]}")
    assert stderr.count("error:") == 1 and stderr.splitlines()[-1].startswith(f"python -m mnist {command[0]}: error:")
    assert not (tmp_path / "x.dot").exists()


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
    status, stdout, stderr = run_cli("train", *SMALL, "--epochs", "1", "--out", tmp_path)
    assert status == 0, stderr
    assert re.search(r"^trained 1 epoch in [\d.]+ s; checkpoint ", stdout, re.MULTILINE), stdout
    checkpoint = tmp_path / "checkpoint.npz"
    status, _, stderr = run_cli("train", "--resume", checkpoint, "--epochs", "2", "--lr", "0.5")
    assert status == 0, stderr
    assert "ignoring --lr" in stderr
    status, _, stderr = run_cli("train", "--resume", checkpoint, "--epochs", "3")
    assert status == 0, stderr
    assert "ignoring" not in stderr


# ---- writes that fail, and one run per output folder -----------------------------------------

def test_train_refuses_a_broken_symbolic_link_as_output_folder(tmp_path):
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    status, _, stderr = run_cli("train", *SMALL, "--out", tmp_path / "link")
    assert status == 2
    assert stderr.splitlines()[-1] == (f"python -m mnist train: error: argument --out: '{tmp_path / 'link'}': "
                                       f"'{tmp_path / 'link'}' is a broken symbolic link")


def test_an_output_taken_by_a_folder_is_refused_before_training(tmp_path):
    (tmp_path / "checkpoint.npz").mkdir()
    status, _, stderr = run_cli("train", *SMALL, "--epochs", "1", "--out", tmp_path)
    assert status == 1
    assert stderr == f"error: {tmp_path / 'checkpoint.npz'}: cannot write: it is a folder\n"
    assert not (tmp_path / "history.json").exists()


@contextlib.contextmanager
def unwritable(folder):
    """No file can be created in `folder` inside the block; for root too (the immutable attribute)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", folder], capture_output=True).returncode:
        pytest.skip("cannot make a folder read-only for root here (chattr +i)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", folder], check=True)


def test_resume_into_a_folder_that_cannot_be_written_is_refused_before_training(tmp_path, no_report):
    status, _, stderr = run_cli("train", *SMALL, "--epochs", "1", "--out", tmp_path)
    assert status == 0, stderr
    checkpoint = tmp_path / "checkpoint.npz"
    before = checkpoint.read_bytes()
    with unwritable(tmp_path):
        status, stdout, stderr = run_cli("train", "--resume", checkpoint, "--epochs", "2")
    assert status == 1 and stdout == ""
    assert re.fullmatch(rf"error: {re.escape(str(tmp_path))}: cannot write into this folder: [^\n]+\n", stderr), stderr
    assert checkpoint.read_bytes() == before


def test_a_file_size_limit_is_one_line_naming_the_file_and_leaves_nothing_half_written(tmp_path):
    """`ulimit -f 50` (KB): the first checkpoint (about 200 KB) cannot be written."""
    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, 50_000))

    process = start_cli("train", *SMALL, "--epochs", "1", "--out", tmp_path, preexec_fn=limit_file_size)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert stderr.splitlines()[-1] == f"error: {tmp_path / 'checkpoint.npz'}: cannot write: File too large"
    # the epoch's diagnostics (a small file, written atomically before the checkpoint) are whole
    assert sorted(path.name for path in tmp_path.iterdir()) == [".lock", "diagnostics.json"]
    assert len(load_diagnostics(tmp_path / "diagnostics.json")["epochs"]) == 1


def test_a_second_run_into_the_same_folder_is_refused(tmp_path):
    folder = tmp_path / "run"
    first = start_cli("train", "--train-limit", "400", "--validation-size", "100", "--layers", "784", "32", "10",
                      "--batch-size", "100", "--epochs", "100000", "--out", folder)
    try:
        wait_until(lambda: (folder / "history.json").exists(), first)
        status, stdout, stderr = run_cli("train", *SMALL, "--epochs", "1", "--out", folder)
    finally:
        first.terminate()
        first.communicate(timeout=60)
    assert status == 1 and stdout == ""
    assert stderr == (f"error: {folder}: another run is writing into this folder (it holds {folder / '.lock'}); "
                      f"wait for it to end or choose another output folder\n")
    assert first.returncode == 143


def test_graph_creates_missing_parent_folders(tmp_path):
    picture = tmp_path / "missing" / "deeper" / "mlp.dot"
    status, stdout, stderr = run_cli("graph", "--out", picture, "--layers", "784", "8", "10")
    assert status == 0, stderr
    assert picture.read_text().startswith("digraph")


# ---- data -------------------------------------------------------------------------------------

def test_an_empty_test_split_is_refused_before_training(tmp_path):
    write_dataset(tmp_path / "data", num_train=12, num_test=0)
    status, _, stderr = run_cli("train", "--data-dir", tmp_path / "data", "--validation-size", "2",
                                "--layers", "784", "8", "10", "--out", tmp_path / "run")
    assert status == 1
    images = tmp_path / "data" / "t10k-images-idx3-ubyte.gz"
    assert stderr == f"error: {images}: no images: the test split is empty\n"
    assert not (tmp_path / "run" / "checkpoint.npz").exists()


def test_evaluate_refuses_an_empty_test_split(run, tmp_path):
    folder, _ = run
    write_dataset(tmp_path / "data", num_train=12, num_test=0)
    status, _, stderr = run_cli("evaluate", "--checkpoint", folder / "checkpoint.npz", "--data-dir", tmp_path / "data",
                                "--out", tmp_path / "report")
    assert status == 1 and stderr.count("\n") == 1
    assert stderr.endswith("no images: the test split is empty\n")


def test_a_relative_data_dir_is_stored_resolved(tmp_path, monkeypatch):
    write_dataset(tmp_path / "data", num_train=12, num_test=4)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path)
    status, _, stderr = run_cli("train", "--data-dir", "data", "--validation-size", "2", "--layers", "784", "8", "10",
                                "--epochs", "1", "--out", "run")
    assert status == 0, stderr
    assert load_checkpoint(tmp_path / "run" / "checkpoint.npz")[2]["config"]["data_dir"] == str(tmp_path / "data")
    monkeypatch.chdir(tmp_path / "elsewhere")
    status, stdout, stderr = run_cli("evaluate", "--checkpoint", "../run/checkpoint.npz", "--out", ".")
    assert status == 0, stderr
    assert printed_accuracy(stdout).endswith("on 4 images")


@pytest.mark.parametrize("command", [["evaluate", "--checkpoint"], ["predict", "--index", "0", "--checkpoint"],
                                     ["train", "--resume"]], ids=lambda c: c[0])
@pytest.mark.parametrize("case", ["two class names", "data_dir a number", "test_limit a string", "batch_size 0",
                                  "lr a string", "history a string", "standardizer mean a string"])
def test_a_checkpoint_field_of_the_wrong_type_or_range_is_one_line_naming_it(run, tmp_path, command, case):
    folder, _ = run
    path = tmp_path / "checkpoint.npz"
    shutil.copy(folder / "checkpoint.npz", path)
    edit, field = RECORD_FIELDS[case]
    rewrite(path, edit_record(edit))
    status, stdout, stderr = run_cli(*command, path)
    assert status == 1 and stdout == ""
    assert stderr.startswith(f"error: {path}: ") and stderr.count("\n") == 1
    assert f" {field}: " in stderr, stderr
