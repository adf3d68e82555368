"""benchmarks/conv.py: the four candidates train the same CNN from the same weights on the same
batches, the FLOP count, and the report's CNN table and target. Fast: two steps, no timing asserted."""
import multiprocessing

import numpy as np
import pytest

from benchmarks import conv, report


@pytest.fixture
def workload():
    rng = np.random.default_rng(0)
    return conv.CnnWorkload(rng.integers(0, 256, (20, 28, 28), dtype=np.uint8), rng.integers(0, 10, 20), batch_size=8)


def test_pytorch_starts_alike_and_take_the_same_steps(workload):
    pytest.importorskip("torch")
    start = [p.data.copy() for p in conv.tinygrad_cnn(workload.seed).parameters()]
    ours, theirs = workload.tinygrad_steps(2), workload.torch_steps(2)
    for mine, other in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine(), other(), rtol=1e-5)  # each step's loss
    after = [p.data for p in workload.models["tinygrad_np"].parameters()]
    their_after = [p.detach().numpy() for p in workload.models["torch"].parameters()]
    their_after[-2] = their_after[-2].T  # Linear's weight: PyTorch's (out, in)
    for before, mine, other in zip(start, after, their_after, strict=True):
        assert not np.array_equal(mine, before)
        np.testing.assert_allclose(mine, other, rtol=1e-4, atol=1e-6)


def test_the_hand_derived_network_takes_the_same_steps(workload):
    start = [p.data.copy() for p in conv.tinygrad_cnn(workload.seed).parameters()]
    for step in workload.tinygrad_steps(2) + workload.reference_steps(2):
        step()
    after = [p.data for p in workload.models["tinygrad_np"].parameters()]
    for before, mine, (name, other) in zip(start, after, workload.models["reference"].items(), strict=True):
        assert not np.array_equal(mine, before), name
        np.testing.assert_allclose(mine, other, rtol=1e-4, atol=1e-6, err_msg=name)


def test_the_im2col_only_candidate_takes_the_same_steps_by_im2col(workload, monkeypatch):
    calls = []
    forward = conv.spectral.forward
    monkeypatch.setattr(conv.spectral, "forward", lambda *args: calls.append(args) or forward(*args))
    for step in workload.tinygrad_steps(2):
        step()
    assert len(calls) == 2  # the second conv, once a step
    for step in workload.tinygrad_steps(2, spectral_lowering=False):
        step()
    assert len(calls) == 2
    pairs = zip(workload.models["tinygrad_np"].parameters(), workload.models["im2col only"].parameters(), strict=True)
    for spectral_param, im2col_param in pairs:
        np.testing.assert_allclose(spectral_param.data, im2col_param.data, rtol=1e-4, atol=1e-6)


def test_batches_cycle_through_the_images(workload):
    batches = workload._batches(4)
    assert [len(x) for x, _ in batches] == [8] * 4
    np.testing.assert_array_equal(batches[0][0], batches[2][0])  # 20 images hold 2 batches: 0, 8, 0, 8
    assert batches[0][0].shape == (8, 1, 28, 28) and batches[0][0].dtype == np.float32


def test_step_flops_counts_each_matrix_product():
    conv1 = 2 * 24 * 24 * 32 * 1 * 25   # per sample: forward, weight gradient (no input gradient)
    conv2 = 2 * 8 * 8 * 64 * 32 * 25    # forward, weight gradient, input gradient
    linear = 2 * 1024 * 10
    assert conv.step_flops(3) == 3 * (2 * conv1 + 3 * conv2 + 3 * linear)


def rows(ratio_64=1.2, ratio_128=1.6):
    return [{"batch_size": batch, "step_ms": {"tinygrad_np": 30.0, "im2col only": 45.0, "reference": 60.0,
                                               "torch": 25.0},
             "ratio_to_reference": 0.5, "ratio_to_torch": ratio,
             "ratio_to_torch_range": (ratio - 0.1, ratio + 0.1), "gflops": 50.0, "fraction_of_gemm": 0.4}
            for batch, ratio in ((64, ratio_64), (128, ratio_128))]


def test_the_floor_passes_at_or_below_one_and_a_half():
    judged = {t["target"]: t["passed"] for t in report.targets({"conv": rows(1.5, 1.51)})}
    assert judged == {"CNN step vs PyTorch, batch 64": True, "CNN step vs PyTorch, batch 128": False}
    missing = rows()
    missing[0]["ratio_to_torch"] = None
    assert report.targets({"conv": missing})[0]["passed"] is None


def test_the_table_has_a_row_per_batch_with_the_spread():
    lines = report.conv_table(rows())
    assert lines[2] == "| 64 | 30.0 | 45.0 | 60.0 | 25.0 | 0.50x | 1.20x (1.10-1.30) | 50 | 40% |"
    assert len(lines) == 4


def test_make_bench_measures_the_cnn_step_in_a_fresh_process(monkeypatch):
    """A child interpreter (spawned: it inherits nothing of this process's heap or thread pools)
    returns the same rows measure() does."""
    started, get_context = [], multiprocessing.get_context
    monkeypatch.setattr(multiprocessing, "get_context", lambda method: started.append(method) or get_context(method))
    rows = conv.measure_in_fresh_process(rounds=1, steps=1, threads=1)
    assert started == ["spawn"]
    assert [row["batch_size"] for row in rows] == list(conv.BATCH_SIZES)
    assert all(row["step_ms"]["tinygrad_np"] > 0 and row["step_ms"]["im2col only"] > 0 for row in rows)
