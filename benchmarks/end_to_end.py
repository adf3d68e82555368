"""The application as a user runs it: time to 98% test accuracy, and peak memory of `mnist train`.

Time to accuracy drives mnist.training.trainer.Trainer with the default TrainConfig, as `python -m mnist
train` does (its per-epoch validation and checkpoint included), and evaluates the test set after
each epoch from the Trainer's log callback; that evaluation is the benchmark's, so its time is
left out. The training time is the Trainer's own `train_seconds` (the epochs' steps).
"""
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mnist.report.evaluation import loss_and_accuracy
from mnist.training.config import TrainConfig
from mnist.training.trainer import Trainer, prepare_data

TARGET_ACCURACY = 0.98
ROOT = Path(__file__).resolve().parent.parent


class _Reached(Exception):
    pass


def time_to_accuracy(target: float = TARGET_ACCURACY, config: TrainConfig = None) -> dict:
    config = config or TrainConfig()
    data = prepare_data(config)
    epochs, benchmark_seconds = [], 0.0
    with tempfile.TemporaryDirectory() as out_dir:
        trainer = Trainer(config, data, out_dir, log=lambda line: None)

        def after_epoch(line):
            nonlocal benchmark_seconds
            started = time.perf_counter()
            _, accuracy = loss_and_accuracy(trainer.model, data.test_x, data.test_y)
            benchmark_seconds += time.perf_counter() - started
            epochs.append({"epoch": len(epochs) + 1, "test_accuracy": accuracy,
                           "train_seconds": trainer.progress.train_seconds,
                           "wall_seconds": time.perf_counter() - start - benchmark_seconds})
            if accuracy >= target:
                raise _Reached

        trainer.log = after_epoch
        start = time.perf_counter()
        with contextlib.redirect_stderr(io.StringIO()):  # the progress bar's per-epoch lines
            try:
                trainer.run()
            except _Reached:
                pass
    reached = bool(epochs) and epochs[-1]["test_accuracy"] >= target
    return {"target": target, "reached": reached, "epochs": epochs,
            "config": {k: v for k, v in config.to_dict().items() if v is not None},
            "train_seconds": epochs[-1]["train_seconds"] if reached else None,
            "wall_seconds": epochs[-1]["wall_seconds"] if reached else None}


# `python -m mnist ARGS`, then this process's peak RSS on the last line. Read inside the child:
# a child's ru_maxrss starts at its parent's size, which Linux carries over fork and exec.
_REPORT_PEAK = """import runpy, sys
from benchmarks.end_to_end import peak_rss_mib
sys.argv[0] = "mnist"
try:
    runpy.run_module("mnist", run_name="__main__", alter_sys=True)
finally:
    print(f"peak_rss_mib {peak_rss_mib()}")
"""


def default_run_memory(threads: int, epochs: int = None) -> dict:
    """Peak resident memory of `python -m mnist train` with the defaults (its whole run: data,
    training, test report and plots)."""
    arguments = ["train"] + (["--epochs", str(epochs)] if epochs else [])
    with tempfile.TemporaryDirectory() as out_dir:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", _REPORT_PEAK] + arguments + ["--out", out_dir],
                              capture_output=True, text=True, cwd=ROOT, env=thread_env(threads))
        wall = time.perf_counter() - started
    lines = done.stdout.splitlines()
    if done.returncode != 0 or not lines or not lines[-1].startswith("peak_rss_mib "):
        raise RuntimeError(f"python -m mnist {' '.join(arguments)} failed ({done.returncode}):\n"
                           f"{(done.stdout + done.stderr)[-2000:]}")
    return {"command": "python -m mnist " + " ".join(arguments), "epochs": epochs or TrainConfig().epochs,
            "peak_rss_mib": float(lines[-1].split()[1]), "wall_seconds": wall,
            "last_line": next((line for line in reversed(lines) if line.startswith("trained ")), "")}


def peak_rss_mib() -> float:
    """This process's peak resident memory since it started (VmHWM; ru_maxrss where /proc is absent)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def thread_env(threads: int) -> dict:
    """The environment for a child process whose BLAS and OpenMP pools use `threads` threads."""
    return {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads),
            "MKL_NUM_THREADS": str(threads)}
