"""Items 1 and 2: epoch time of tinygrad_np, the closed-form reference and PyTorch, in turns,
with the machine's large-GEMM GFLOP/s measured in the same rounds (the physical limit)."""
import statistics

from benchmarks.frameworks import torch
from benchmarks.machine import LargeGemm
from benchmarks.timing import run_in_turns
from benchmarks.trainers import Workload

SMALL = (784, 128, 64, 10)
CONFIGS = ([(SMALL, batch) for batch in (32, 64, 128, 256, 1024)]
           + [((784, 512, 256, 10), 128), ((784, 1024, 1024, 10), 256)])


# Each epoch is timed in twelfths that take turns with the other candidates' twelfths. Finer turns
# keep a pair's parts seconds apart, not minutes: on 784-1024-1024-10 the per-round ratio to
# PyTorch spread over 0.90-1.07 with quarters and over 0.90-0.97 with twelfths.
PARTS = 12


def measure(features, labels, rounds: int, configs=CONFIGS) -> list:
    gemm = LargeGemm()
    rows = []
    for layer_sizes, batch_size in configs:
        workload = Workload(features, labels, layer_sizes)
        candidates = {"tinygrad_np": workload.tinygrad_epoch(batch_size, PARTS),
                      "reference": workload.reference_epoch(batch_size, PARTS)}
        if torch:
            candidates["torch"] = workload.torch_epoch(batch_size, PARTS)
        candidates["gemm"] = [gemm] * PARTS
        turns = run_in_turns(candidates, rounds=rounds, warmup=1)
        flops = workload.flops()
        achieved = [flops / seconds / 1e9 for seconds in turns.seconds["tinygrad_np"]]
        limit = [gemm.gflops(seconds / PARTS) for seconds in turns.seconds["gemm"]]
        rows.append({
            "layer_sizes": list(layer_sizes), "batch_size": batch_size, "samples": len(workload.x),
            "seconds": {name: turns.median(name) for name in candidates if name != "gemm"},
            "ratio_to_reference": turns.ratio("tinygrad_np", "reference"),
            "ratio_to_torch": turns.ratio("tinygrad_np", "torch") if torch else None,
            "ratio_to_reference_range": turns.ratio_range("tinygrad_np", "reference"),
            "gflops": {name: flops / turns.median(name) / 1e9 for name in candidates if name != "gemm"},
            "gemm_gflops": statistics.median(limit),
            "fraction_of_gemm": statistics.median(a / b for a, b in zip(achieved, limit, strict=True)),
            "rounds": turns.seconds,
        })
    return rows
