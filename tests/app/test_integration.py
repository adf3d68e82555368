"""One epoch on the whole MNIST with the default network and optimizer reaches 95% test accuracy."""
import json

import pytest
from cli_runs import run_cli


@pytest.mark.slow
def test_one_epoch_of_the_default_run_reaches_95_percent(tmp_path):
    status, stdout, stderr = run_cli("train", "--epochs", "1", "--out", tmp_path)
    assert status == 0, stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["test_samples"] == 10_000
    assert metrics["test_accuracy"] >= 0.95, stdout
