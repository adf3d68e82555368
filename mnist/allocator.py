"""Allocator settings for a training process: keep freed memory instead of faulting it in again.

A training step frees and re-allocates the same temporaries every step (activations, gradients,
a few hundred KB to a few MB each). glibc hands blocks above its mmap threshold straight back
to the OS and trims the heap's free top above its trim threshold, so each step faults those
pages in again: about 400 minor page faults a step at batch 128, which costs more than the
arithmetic for wide layers and large batches. Raising both thresholds keeps the pages in the
process; it never raises the peak, only stops returning memory between steps.

    keep_freed_memory()   # once at startup; a no-op off glibc or when GLIBC_TUNABLES sets malloc
"""
import ctypes
import os
import platform

# mallopt parameters from glibc's <malloc.h>
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# Blocks below this come from the heap and are reused; glibc accepts at most 32 MiB on 64-bit.
# Larger arrays (the dataset itself) are still mapped and unmapped on their own.
MMAP_THRESHOLD = 32 * 1024 * 1024
# Free memory at the heap's top kept for the next step rather than returned to the OS.
TRIM_THRESHOLD = 256 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process; True when they were set.

    Left alone where the user already tunes malloc through GLIBC_TUNABLES, and a no-op on
    other C libraries (macOS, musl, Windows), which have no mallopt or manage memory otherwise.
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    if "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # mallopt returns 1 on success; setting either value also turns off glibc's dynamic threshold
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) & bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
