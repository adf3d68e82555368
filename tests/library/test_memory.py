"""keep_freed_memory: freed temporaries stay in the process, so a step stops faulting them in again."""
import platform
import subprocess
import sys

import pytest

from tinygrad_np import memory

CHILD = """
import resource, sys
import numpy as np
from tinygrad_np import memory
if sys.argv[1] == "on":
    assert memory.keep_freed_memory()
def step():  # temporaries of a CNN step's sizes (5, 4, 13, 13 and 5 MB), alive together, then freed
    held = [np.ones(size, np.float32) for size in (1_200_000, 900_000, 3_300_000, 3_300_000, 1_200_000)]
    return sum(array[0] for array in held)
for _ in range(3):  # warm-up: the first allocations fault in under any setting
    step()
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults)
"""

glibc_only = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                                reason="mallopt is glibc's")


def _faults(setting: str) -> int:
    """Minor page faults of 20 steps in a fresh process, with the thresholds raised ("on") or not."""
    done = subprocess.run([sys.executable, "-c", CHILD, setting], capture_output=True, text=True, check=True)
    return int(done.stdout)


@glibc_only
def test_freed_temporaries_are_reused_without_page_faults():
    assert _faults("on") < 100
    assert _faults("off") > 10_000  # glibc's default unmaps or trims them, and 20 steps fault ~40,000 pages in


@glibc_only
def test_malloc_settings_the_user_chose_are_left_alone(monkeypatch):
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=65536")
    assert memory.keep_freed_memory() is False
