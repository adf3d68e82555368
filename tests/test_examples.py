"""Every script in examples/ runs as a user runs it (`python examples/NAME.py`) and learns: the loss
it prints at the end is less than half the loss it prints first."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def test_there_are_examples():
    assert {path.stem for path in EXAMPLES} >= {"mlp", "cnn", "rnn", "attention"}


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.stem)
def test_example_runs_and_its_loss_falls(script):
    # One BLAS thread: on a busy machine, waiting OpenBLAS threads made the attention example 6x slower.
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    finished = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)
    assert finished.returncode == 0, finished.stderr
    losses = [float(value) for value in re.findall(r"loss (\d+\.\d+)", finished.stdout)]
    assert len(losses) >= 2, finished.stdout
    assert losses[-1] < losses[0] / 2, finished.stdout
