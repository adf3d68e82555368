"""Running `python -m mnist` from tests: in this process (fast), or as a real process (signals)."""
import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

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


def start_cli(*argv, **popen) -> subprocess.Popen:
    """`python -m mnist ARGV` as a real process (its output is read with communicate())."""
    popen = {"cwd": ROOT, "env": {**os.environ, "PYTHONPATH": str(ROOT)}, "stdout": subprocess.PIPE,
             "stderr": subprocess.PIPE, **popen}
    return subprocess.Popen([sys.executable, "-m", "mnist", *map(str, argv)], text=True, **popen)


# The program, run as `python -c` so that it can first arrange to send itself signals.
SIGNALLING_MAIN = """
import importlib, os, sys
from mnist.cli import main

def send_when_called(target, call, signals):
    module_name, _, path = target.partition(":")
    owner = importlib.import_module(module_name)
    *owners, name = path.split(".")
    for attribute in owners:
        owner = getattr(owner, attribute)
    original, calls = getattr(owner, name), [0]

    def wrapper(*args, **kwargs):
        calls[0] += 1
        if calls[0] == call:
            for signum in signals:
                os.kill(os.getpid(), signum)
        return original(*args, **kwargs)
    setattr(owner, name, wrapper)

for target, call, signals in {stops!r}:
    send_when_called(target, call, signals)
sys.exit(main(sys.argv[1:]))
"""


def start_cli_signalled(stops, *argv) -> subprocess.Popen:
    """`python -m mnist ARGV` as a real process that sends itself signals at exact points:
    `stops` lists (target, call, signals), e.g. ("mnist.training.trainer:Trainer._step", 3, [signal.SIGTERM]):
    on the third call of Trainer._step the process signals itself, then the call goes on. Real
    signals, real handlers, real exit status, and no race with the clock."""
    stops = [(target, call, [int(signum) for signum in signals]) for target, call, signals in stops]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", SIGNALLING_MAIN.format(stops=stops), *map(str, argv)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@dataclass
class Measured:
    status: int
    stdout: str
    stderr: str
    peak_mb: float       # peak resident memory of the process
    cpu_seconds: float   # user + system time
    wall_seconds: float


# A process that regresses to allocating gigabytes fails fast instead of crowding the machine.
ADDRESS_SPACE_LIMIT = 4 << 30


def run_measured(*argv, timeout: float = 120.0) -> Measured:
    """`python -m mnist ARGV` as a real process, with its peak memory and CPU time (from wait4)."""
    def limit_address_space():
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        process = start_cli(*argv, stdout=out, stderr=err, preexec_fn=limit_address_space)
        watchdog = threading.Timer(timeout, process.kill)
        watchdog.start()
        try:
            _, wait_status, usage = os.wait4(process.pid, 0)
        finally:
            watchdog.cancel()
        process.returncode = os.waitstatus_to_exitcode(wait_status)
        wall = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return Measured(process.returncode, out.read(), err.read(), usage.ru_maxrss / 1024,
                        usage.ru_utime + usage.ru_stime, wall)


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
