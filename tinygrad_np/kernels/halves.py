"""One NumPy pass split into two halves that run at once, on the caller's thread and one helper.

NumPy releases the GIL inside its loops, so two threads that each take half of a large pass use
two cores. BLAS already spreads the matrix products over the cores; the passes around them
(the im2col copy, col2im's slice-adds, pooling) would otherwise run on one. Measured on the
second convolution of the default CNN at batch 64 (benchmarks/conv.py's network), col2im took
3.2 ms on one thread and 1.7 ms split in halves, with OpenBLAS's own threads still spinning.

Results are the same to the bit: each element is computed by exactly the arithmetic of the
single pass, by whichever thread owns its half.
"""
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

# Below this many elements a pass takes a few microseconds, less than handing half of it over.
MIN_SIZE = 1 << 16

_helper: ThreadPoolExecutor | None = None
_enabled = len(os.sched_getaffinity(0)) > 1 if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1) > 1


def use_two_threads(enabled: bool) -> bool:
    """Split large passes (the default where this process may run on two or more cores) or not;
    returns the previous setting. A benchmark at one thread turns it off, as it limits BLAS to one."""
    global _enabled
    previous, _enabled = _enabled, enabled
    return previous


def in_halves(work: Callable[[slice], object], length: int, size: int) -> None:
    """work(slice(0, length // 2)) here and work(slice(length // 2, length)) on the helper thread;
    returns when both are done. `size`, the elements the whole pass touches, decides whether
    splitting pays; `work` must only write what its slice owns."""
    global _helper
    if not _enabled or length < 2 or size < MIN_SIZE:
        work(slice(0, length))
        return
    if _helper is None:
        _helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tinygrad_np-halves")
    half = length // 2
    pending = _helper.submit(work, slice(half, length))
    try:
        work(slice(0, half))
    finally:
        pending.result()
