"""benchmarks/: the three trainers do the same math from the same weights, turns and parts add up,
and the report judges the issue's targets. Fast: a few steps on random data, no timing asserted."""
import numpy as np
import pytest

from benchmarks import report
from benchmarks.timing import run_in_turns
from benchmarks.trainers import Workload, training_flops


@pytest.fixture
def workload():
    rng = np.random.default_rng(0)
    return Workload(rng.random((40, 12), dtype=np.float32), rng.integers(0, 3, 40), (12, 6, 5, 3))


def train_first_batches(parts, count):
    for part in parts[:count]:
        part()


@pytest.mark.parametrize("other", ["reference", "torch"])
def test_the_trainers_start_alike_and_take_the_same_steps(workload, other):
    if other == "torch":
        pytest.importorskip("torch")
    # 40 samples in batches of 8 make 5 parts of one batch each: two steps on the same batches
    train_first_batches(workload.tinygrad_epoch(batch_size=8, parts=5), 2)
    train_first_batches(getattr(workload, f"{other}_epoch")(batch_size=8, parts=5), 2)
    start = [p.data for p in workload.model().parameters()]
    ours, theirs = workload.weights["tinygrad_np"](), workload.weights[other]()
    assert not np.allclose(ours[0], start[0])  # the steps moved the weights
    for mine, other_weights in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, other_weights, rtol=1e-4, atol=1e-6)


def test_parts_take_turns_and_add_up():
    calls = []
    turns = run_in_turns({"a": [lambda: calls.append("a1"), lambda: calls.append("a2")],
                          "b": [lambda: calls.append("b1"), lambda: calls.append("b2")],
                          "c": lambda: calls.append("c")}, rounds=2, warmup=1)
    # the order rotates with every turn; each round calls every part once
    assert calls == ["a1", "b1", "c", "b2", "a2"] + ["c", "a1", "b1", "a2", "b2"] + ["b1", "c", "a1", "a2", "b2"]
    assert all(len(seconds) == 2 for seconds in turns.seconds.values())


def test_training_flops_counts_forward_weight_and_input_gradients():
    # 2 layers: forward 2*(4*3 + 3*2), weight gradients the same, input gradient of layer 2 only
    assert training_flops((4, 3, 2), samples=1) == 2 * (3 * (12 + 6) - 12)


def fake_results(ratio_small=1.2, ratio=1.05, torch_ratio=0.9, fraction=0.75, seconds=5.0, reached=True):
    row = {"layer_sizes": [784, 128, 64, 10], "samples": 60000, "seconds": {"tinygrad_np": 1, "reference": 1, "torch": 1},
           "ratio_to_torch": torch_ratio, "gflops": {"tinygrad_np": 100}, "fraction_of_gemm": 0.5, "gemm_gflops": 200}
    return {
        "command": "python -m benchmarks", "notes": [],
        "machine": {"date": "2026-01-01T00:00:00", "cpu": "cpu", "cores": 2, "threads": 2, "python": "3.11",
                    "numpy": "2", "torch": "2.13.0", "blas": "openblas", "blas_kernel": "Haswell",
                    "OPENBLAS_CORETYPE": None},
        "throughput": [
            {**row, "batch_size": 32, "ratio_to_reference": ratio_small},
            {**row, "batch_size": 64, "ratio_to_reference": ratio},
            {**row, "layer_sizes": [784, 1024, 1024, 10], "batch_size": 256, "ratio_to_reference": ratio,
             "fraction_of_gemm": fraction}],
        "overhead": {kind: {"shape": [2], "us": {"numpy": 0.5, "tinygrad_np": 1.0, "torch": 1.5}}
                     for kind in ("elementwise", "matmul")},
        "time_to_accuracy": {"target": 0.98, "reached": reached, "train_seconds": seconds if reached else None,
                             "wall_seconds": seconds, "config": {"layer_sizes": [784, 10], "activation": "relu",
                             "batch_size": 128, "optimizer": "sgd", "lr": 0.1, "momentum": 0.9,
                             "schedule": "cosine", "epochs": 10},
                             "epochs": [{"test_accuracy": 0.985}]},
    }


def test_targets_pass_within_the_limits_and_fail_outside():
    judged = {t["target"]: t["passed"] for t in report.targets(fake_results())}
    assert all(judged.values()) and len(judged) == 9
    failing = report.targets(fake_results(ratio_small=1.3, ratio=1.11, torch_ratio=1.0, fraction=0.69,
                                          seconds=10.5))
    assert not any(t["passed"] for t in failing if not t["target"].startswith("recorded"))


def test_a_run_that_never_reaches_the_accuracy_fails_and_the_report_says_so():
    results = fake_results(reached=False)
    results["targets"] = report.targets(results)
    assert results["targets"][-1]["passed"] is False
    assert "not reached in 10 epochs" in report.markdown(results)


def test_markdown_has_the_tables_and_a_row_per_target():
    results = fake_results()
    results["targets"] = report.targets(results)
    text = report.markdown(results)
    assert "| 784-128-64-10 | 32 |" in text and "PyTorch 2.13.0" in text
    assert text.count("| PASS |") == len(results["targets"])
