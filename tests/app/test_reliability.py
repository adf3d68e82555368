"""Stops that lose nothing: Ctrl-C and SIGTERM resume to the exact parameters of an unbroken run,
SIGKILL never leaves a corrupt checkpoint, and divergence stops with a message, keeping the last
good checkpoint. The stops use real processes; the rest runs in this one."""
import hashlib
import json
import os
import re
import signal

import numpy as np
import pytest
from cli_runs import (
    ROOT,
    SMALL,
    history_rows,
    run_cli,
    start_cli,
    start_cli_signalled,
    wait_until,
    without_timings,
)
from test_checkpoint import edit_record, rewrite
from test_training import STEPS_PER_EPOCH, make_trainer

from mnist.cli import build_parser
from mnist.commands.train import config_from_args
from mnist.errors import TrainingDiverged
from mnist.models.saved_model import SavedModel
from mnist.training.checkpoint import load_checkpoint
from mnist.training.trainer import Trainer, prepare_data


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---- SIGINT / SIGTERM ------------------------------------------------------------------------

# Epochs of 80 steps, planned far beyond what the test waits for, so the run is surely still going
# when the signal comes. The resumed run is then ended one epoch after the stop (--epochs), which
# changes nothing else: the step schedule's rate depends on the step count, not on the epochs planned.
STOPPABLE = ["--train-limit", "1700", "--validation-size", "100", "--test-limit", "100",
             "--layers", "784", "64", "10", "--batch-size", "20", "--schedule", "step", "--step-size", "1",
             "--gamma", "0.7"]


def unbroken_run(argv, folder) -> Trainer:
    """`python -m mnist train ARGV` in this process, never stopped (and without the test report)."""
    config = config_from_args(build_parser().parse_args(["train", *argv]))
    trainer = Trainer(config, prepare_data(config), folder, log=lambda *_: None)
    trainer.run()
    return trainer


@pytest.mark.parametrize("signum, status, extra", [
    (signal.SIGINT, 130, ["--dropout", "0.2"]),  # the dropout generator's state must survive the stop too
    (signal.SIGTERM, 143, []),
], ids=["SIGINT-dropout", "SIGTERM"])
def test_a_stopped_run_resumes_to_exactly_the_unbroken_result(tmp_path, no_report, signum, status, extra):
    folder = tmp_path / "stopped"
    checkpoint = folder / "checkpoint.npz"
    process = start_cli("train", *STOPPABLE, *extra, "--epochs", 1000, "--out", folder)
    wait_until(lambda: history_rows(folder) >= 1, process)  # epoch 1 is written: epoch 2 is running
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == status, stderr
    assert "Traceback" not in stderr
    assert f"interrupted by {signum.name}; saved {checkpoint}, continue with --resume {checkpoint}" in stderr
    assert (folder / "learning_curves.png").stat().st_size > 0
    stopped = load_checkpoint(checkpoint)[2]["progress"]
    assert stopped["epoch"] >= 1 and stopped["batch"] >= 1  # inside an epoch after the first
    assert history_rows(folder) == stopped["epoch"]

    epochs = stopped["epoch"] + 1
    resumed_status, _, resumed_stderr = run_cli("train", "--resume", checkpoint, "--epochs", epochs)  # same --out
    assert resumed_status == 0, resumed_stderr
    unbroken = unbroken_run([*STOPPABLE, *extra, "--epochs", str(epochs)], tmp_path / "unbroken")
    parameters, optimizer_state, record = load_checkpoint(checkpoint)
    for name, value in unbroken.model.state_dict().items():
        assert np.array_equal(parameters[name], value), name
    for name, value in unbroken.optimizer.state_dict().items():
        assert np.array_equal(optimizer_state[name], value), name
    assert record["progress"]["epoch"] == epochs
    assert without_timings(json.loads((folder / "history.json").read_text())) == \
        without_timings(unbroken.progress.history)


# Stops at exact points: the process sends itself the signal when a function is called (cli_runs).
# Two epochs of 500 images in batches of 50: ten steps an epoch.
STEP = "mnist.training.trainer:Trainer._step"


def stopped_run(tmp_path, stops, epochs=2):
    """(exit status, stderr, folder) of a SMALL run that signals itself as `stops` says."""
    folder = tmp_path / "run"
    process = start_cli_signalled(stops, "train", *SMALL, "--epochs", epochs, "--out", folder)
    _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr, folder


def assert_stopped_cleanly(status, stderr, folder, signum, epochs_done):
    """Exit 128 + signum, the resume hint, a whole checkpoint and history of `epochs_done`
    epochs, the learning curves when there is an epoch to draw, no temporary file left."""
    checkpoint = folder / "checkpoint.npz"
    assert status == 128 + signum, stderr
    assert "Traceback" not in stderr
    assert stderr.rstrip().splitlines()[-1] == (f"interrupted by {signal.Signals(signum).name}; saved {checkpoint}, "
                                                f"continue with --resume {checkpoint}")
    progress = load_checkpoint(checkpoint)[2]["progress"]
    assert progress["epoch"] == epochs_done == history_rows(folder)
    assert (folder / "learning_curves.png").exists() == (epochs_done > 0)
    assert not [path.name for path in folder.iterdir() if path.name.endswith(".tmp")]
    return progress


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_during_the_first_epoch_saves_and_says_there_are_no_curves_yet(tmp_path, signum):
    status, stderr, folder = stopped_run(tmp_path, [(STEP, 3, [signum])])
    progress = assert_stopped_cleanly(status, stderr, folder, signum, epochs_done=0)
    assert progress["batch"] == 3
    assert "no learning curves: no epoch has finished yet" in stderr
    assert json.loads((folder / "history.json").read_text()) == []


@pytest.mark.parametrize("where, call", [
    ("mnist.training.trainer:loss_and_accuracy", 2),        # the last epoch's validation
    ("mnist.report.summary:predict_probabilities", 1),   # the test report
    ("matplotlib.figure:Figure.savefig", 2),     # the middle of writing the second plot
], ids=["final validation", "test report", "writing a plot"])
def test_a_stop_after_the_last_batch_is_honoured(tmp_path, where, call):
    status, stderr, folder = stopped_run(tmp_path, [(where, call, [signal.SIGTERM])])
    assert_stopped_cleanly(status, stderr, folder, signal.SIGTERM, epochs_done=2)


@pytest.mark.parametrize("second", [
    (STEP, 13, [signal.SIGINT]),                                   # a moment later, during the same step
    ("mnist.training.trainer:save_checkpoint", 2, [signal.SIGINT]),           # while the first one's save is written
    ("mnist.commands.train:plot_learning_curves", 1, [signal.SIGINT]),  # while its curves are drawn
], ids=["same step", "during the save", "during the curves"])
def test_the_first_of_two_signals_decides_and_the_second_loses_nothing(tmp_path, second):
    first = (STEP, 13, [signal.SIGTERM])
    # Both wrap Trainer._step in the "same step" case; the one installed last runs first.
    stops = [second, first] if second[0] == STEP else [first, second]
    status, stderr, folder = stopped_run(tmp_path, stops)
    progress = assert_stopped_cleanly(status, stderr, folder, signal.SIGTERM, epochs_done=1)
    assert progress["batch"] == 3
    SavedModel(folder / "checkpoint.npz")


def test_a_closed_stdout_does_not_end_the_run(tmp_path):
    """`python -m mnist train | head -1`: the reader goes away, the run goes on to its end."""
    folder = tmp_path / "run"
    process = start_cli("train", *SMALL, "--epochs", 2, "--out", folder,
                        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"})
    process.stdout.close()  # before the first line: every print meets a closed pipe
    stderr = process.stderr.read()
    process.wait(timeout=120)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
    assert load_checkpoint(folder / "checkpoint.npz")[2]["progress"]["epoch"] == 2
    assert (folder / "metrics.json").is_file() and (folder / "confident_mistakes.png").is_file()


# ---- SIGKILL ---------------------------------------------------------------------------------

# Epochs of three steps: a checkpoint and a history are written many times a second.
KILLABLE = ["--train-limit", "400", "--validation-size", "100", "--layers", "784", "32", "10",
            "--batch-size", "100", "--epochs", "100000"]


def assert_whole_run(folder, at_least: int) -> None:
    """The checkpoint is one epoch's whole state; history.json is that epoch's or the one before."""
    checkpoint = folder / "checkpoint.npz"
    _, _, record = load_checkpoint(checkpoint)
    progress = record["progress"]
    assert progress["epoch"] >= at_least and progress["batch"] == 0
    assert len(progress["history"]) == progress["epoch"]
    assert history_rows(folder) in (progress["epoch"] - 1, progress["epoch"])  # written just after it
    SavedModel(checkpoint)


def test_sigkill_leaves_the_last_epochs_checkpoint_and_it_resumes(tmp_path):
    folder = tmp_path / "killed"
    process = start_cli("train", *KILLABLE, "--out", folder)
    wait_until(lambda: history_rows(folder) >= 3, process)
    process.kill()
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert_whole_run(folder, at_least=3)
    epoch = load_checkpoint(folder / "checkpoint.npz")[2]["progress"]["epoch"]

    process = start_cli("train", "--resume", folder / "checkpoint.npz")
    wait_until(lambda: history_rows(folder) >= epoch + 3, process)
    process.kill()
    process.communicate(timeout=60)
    assert_whole_run(folder, at_least=epoch + 3)


# ---- divergence ------------------------------------------------------------------------------

def test_divergence_stops_with_a_message_and_keeps_the_last_good_checkpoint(tmp_path, no_report):
    folder = tmp_path / "run"
    checkpoint = folder / "checkpoint.npz"
    # epoch 1 at a rate of 0.1 is fine; the run then goes on at 1e11 (a valid setting), which is not
    status, _, stderr = run_cli("train", *SMALL, "--epochs", "1", "--schedule", "constant", "--out", folder)
    assert status == 0, stderr
    rewrite(checkpoint, edit_record(lambda record: record["config"].update(lr=1e11)))
    good = digest(checkpoint)

    status, stdout, stderr = run_cli("train", "--resume", checkpoint, "--epochs", "3")
    assert status == 1 and "Traceback" not in stderr
    message = stderr.splitlines()[-1]
    match = re.fullmatch(r"error: training diverged at step (\d+) \(epoch 2\): (.*) in (layers\.\d\.\w+(, )?)+; "
                         r"try a lower learning rate than 1e\+11; the last good checkpoint (.*) is kept", message)
    assert match, message
    assert int(match.group(1)) > 500 // 50  # a step of epoch 2
    assert match.group(5) == str(checkpoint)
    assert digest(checkpoint) == good
    assert history_rows(folder) == 1
    assert (folder / "learning_curves.png").stat().st_size > 0


def test_a_huge_learning_rate_stops_before_writing_any_checkpoint(tmp_path):
    status, _, stderr = run_cli("train", *SMALL, "--epochs", "2", "--lr", "1e6", "--out", tmp_path)
    assert status == 1 and "Traceback" not in stderr
    message = stderr.splitlines()[-1]
    assert re.fullmatch(r"error: training diverged at step \d+ \(epoch 1\): .* in layers\.\d\.weight.*; "
                        r"try a lower learning rate than .*; no checkpoint was written yet", message), message
    assert not (tmp_path / "checkpoint.npz").exists()


def poison_after_an_update(trainer, at_step):
    step = trainer.optimizer.step

    def poisoned_step():
        step()
        if trainer.progress.step + 1 == at_step:  # progress.step counts the steps finished before this one
            trainer.parameters["layers.2.bias"].data[1] = np.inf
    trainer.optimizer.step = poisoned_step


def poison_between_epochs(trainer, at_step):
    finish = trainer._finish_epoch

    def poisoned_finish(epoch):
        finish(epoch)
        if trainer.progress.step + 1 == at_step:
            trainer.parameters["layers.2.bias"].data[1] = np.nan
    trainer._finish_epoch = poisoned_finish


@pytest.mark.parametrize("poison, what", [
    (poison_after_an_update, "the update made a parameter not finite"),
    (poison_between_epochs, "the loss is nan"),
])
def test_divergence_names_the_step_and_the_parameter(tmp_path, poison, what):
    trainer = make_trainer(tmp_path)
    saved, save = [], trainer.save
    trainer.save = lambda: (save(), saved.append(digest(trainer.checkpoint_path)))
    bad_step = STEPS_PER_EPOCH + 1 if poison is poison_between_epochs else STEPS_PER_EPOCH + 2
    poison(trainer, bad_step)
    with pytest.raises(TrainingDiverged) as error:
        trainer.run()
    assert str(error.value).startswith(f"training diverged at step {bad_step} (epoch 2): {what} in layers.2.bias; "
                                       f"try a lower learning rate than ")
    assert len(saved) == 1 and digest(trainer.checkpoint_path) == saved[0]
    assert load_checkpoint(trainer.checkpoint_path)[2]["progress"]["epoch"] == 1
