"""Running `python -m mnist` from tests: in this process (fast), or as a real process (signals)."""
import contextlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mnist.commands.train
from mnist.cli import main

ROOT = Path(__file__).resolve().parents[1]

# A run of about a second: 500 training images (100 more held out), 200 test images, 32 hidden units.
SMALL = ["--train-limit", "600", "--validation-size", "100", "--test-limit", "200",
         "--layers", "784", "32", "10", "--batch-size", "50"]


def run_cli(*argv):
    """(exit status, stdout, stderr) of `python -m mnist ARGV`, run in this process."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            status = main([str(arg) for arg in argv])
        except SystemExit as exit:  # argparse: --help, or a rejected value
            status = exit.code
    return status, stdout.getvalue(), stderr.getvalue()


def start_cli(*argv) -> subprocess.Popen:
    """`python -m mnist ARGV` as a real process (its output is read with communicate())."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "mnist", *map(str, argv)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until(condition, process: subprocess.Popen, timeout: float = 120.0) -> None:
    """Poll `condition()` until it holds; fail if `process` ends first or `timeout` s pass."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"the process ended (status {process.returncode}) before the wait was over:\n"
                                 f"{out}\n{err}")
        if time.monotonic() > deadline:
            process.kill()
            process.communicate()
            raise AssertionError(f"gave up waiting after {timeout} s")
        time.sleep(0.01)


def history_rows(folder) -> int:
    """Epochs in folder/history.json so far (0 while there is none); the file is replaced atomically."""
    try:
        return len(json.loads((Path(folder) / "history.json").read_text()))
    except FileNotFoundError:
        return 0


def without_timings(history: list) -> list:
    """History rows without the wall-clock column, the one thing two equal runs differ in."""
    return [{key: value for key, value in row.items() if key != "train_seconds"} for row in history]


@pytest.fixture
def no_report(monkeypatch):
    """`train` without its test-set report (metrics and plots), for tests that need only the training."""
    monkeypatch.setattr(mnist.commands.train, "evaluate_and_report", lambda *args, **kwargs: None)
