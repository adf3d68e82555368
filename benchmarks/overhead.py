"""Per-op overhead: microseconds for one small op, raw NumPy vs tinygrad_np recording vs torch.

The ops are small enough that the arithmetic costs well under a microsecond, so the time is
what each library adds around it: wrapping, the graph node, dispatch. Each sample runs the op
`OPS_PER_SAMPLE` times in a loop and the result is dropped each time, as in a training step.
"""
import numpy as np

from benchmarks.frameworks import torch
from benchmarks.timing import run_in_turns
from tinygrad_np import Tensor

OPS_PER_SAMPLE = 2000
ELEMENTWISE_SHAPE = (64,)
MATMUL_SIDE = 32


def _loop(op, *operands):
    def run():
        for _ in range(OPS_PER_SAMPLE):
            op(*operands)
    return run


def _multiply(a, b): return a * b
def _matmul(a, b): return a @ b


def candidates(kind: str) -> dict:
    """name -> callable for one kind of op ('elementwise' a * b, or 'matmul' a @ b)."""
    rng = np.random.default_rng(0)
    shapes = ((ELEMENTWISE_SHAPE,) * 2 if kind == "elementwise"
              else ((MATMUL_SIDE, MATMUL_SIDE),) * 2)
    a, b = (rng.standard_normal(shape, dtype=np.float32) for shape in shapes)
    op = _multiply if kind == "elementwise" else _matmul
    runs = {
        "numpy": _loop(op, a, b),
        "tinygrad_np": _loop(op, Tensor(a, requires_grad=True), Tensor(b)),
    }
    if torch:
        runs["torch"] = _loop(op, torch.from_numpy(a.copy()).requires_grad_(), torch.from_numpy(b.copy()))
    return runs


def measure(rounds: int) -> dict:
    """{kind: {'us': {name: median microseconds per op}, 'seconds': raw Turns}}."""
    results = {}
    for kind in ("elementwise", "matmul"):
        turns = run_in_turns(candidates(kind), rounds=rounds, warmup=2)
        results[kind] = {
            "shape": list(ELEMENTWISE_SHAPE) if kind == "elementwise" else [MATMUL_SIDE, MATMUL_SIDE],
            "us": {name: turns.median(name) / OPS_PER_SAMPLE * 1e6 for name in turns.seconds},
            "ratio_to_torch": turns.ratio("tinygrad_np", "torch") if torch else None,
            "seconds": turns.seconds,
        }
    return results
