"""What the numbers were measured on: CPU, BLAS library and kernel, threads; and the GEMM limit."""
import contextlib
import datetime
import os
import platform
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from benchmarks.frameworks import torch


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_libraries() -> list:
    """threadpoolctl's view of every BLAS and OpenMP pool loaded (NumPy's, and torch's if loaded)."""
    keys = ("user_api", "internal_api", "prefix", "version", "architecture", "threading_layer", "num_threads")
    return [{key: pool.get(key) for key in keys if pool.get(key) is not None} for pool in threadpool_info()]


def numpy_blas() -> dict:
    """NumPy's BLAS: the first BLAS pool threadpoolctl finds, or {} when none is visible."""
    return next((pool for pool in blas_libraries() if pool.get("user_api") == "blas"), {})


def describe(threads: int) -> dict:
    blas = numpy_blas()
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "threads": threads,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__ if torch else None,
        "blas": f"{blas.get('internal_api', '?')} {blas.get('version', '')}".strip(),
        "blas_kernel": blas.get("architecture"),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "pools": blas_libraries(),
    }


@contextlib.contextmanager
def limit_threads(threads: int):
    """The same number of threads for NumPy's BLAS and for torch (its intra-op pool)."""
    previous = torch.get_num_threads() if torch else None
    with threadpool_limits(limits=threads):
        if torch:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            if torch:
                torch.set_num_threads(previous)


def default_threads() -> int:
    """What NumPy's BLAS would use unprompted (OPENBLAS_NUM_THREADS, else the core count)."""
    return numpy_blas().get("num_threads") or os.cpu_count() or 1


class LargeGemm:
    """float32 (n x n) @ (n x n) into a preallocated output: the machine's practical GFLOP/s limit."""

    def __init__(self, n: int = 2048):
        rng = np.random.default_rng(0)
        self.a, self.b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
        self.out = np.empty((n, n), dtype=np.float32)
        self.flops = 2 * n ** 3

    def __call__(self):
        np.matmul(self.a, self.b, out=self.out)

    def gflops(self, seconds: float) -> float:
        return self.flops / seconds / 1e9


def measure_gflops(gemm: LargeGemm, repeats: int = 5) -> float:
    gemm()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        gemm()
        times.append(time.perf_counter() - start)
    return gemm.gflops(sorted(times)[len(times) // 2])
