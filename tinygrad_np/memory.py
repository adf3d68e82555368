"""Keep freed memory in the process, so a training step does not fault its temporaries in again.

A step allocates and frees the same temporaries every time (im2col matrices, activations and
their gradients, a few MB each for a CNN). glibc maps blocks above its mmap threshold fresh from
the OS and unmaps them on free, and trims the heap's free top above its trim threshold; its
dynamic threshold only sometimes catches up. Each step then faults those pages in again and the
kernel zeroes them. Measured on the CNN step of `python -m benchmarks.conv` (batch 64, 2
threads): 3,000-6,900 minor page faults and 41-44 ms a step, against 0 faults and 22-26 ms with
the thresholds raised. The 784-128-64-10 MLP's smaller temporaries stay below the threshold
either way (0.97-1.01x).

    tinygrad_np.memory.keep_freed_memory()   # once, at the start of a training script

The app (`python -m mnist`) and the benchmarks call it. It never raises the peak memory, it only
stops handing memory back between steps.
"""
import ctypes
import os
import platform

# mallopt parameters from glibc's <malloc.h>
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# Blocks below this come from the heap and are reused; glibc accepts at most 32 MiB on 64-bit.
# Larger arrays (a whole dataset) are still mapped and unmapped on their own.
MMAP_THRESHOLD = 32 * 1024 * 1024
# Free memory at the heap's top that is kept for the next step rather than returned to the OS.
TRIM_THRESHOLD = 256 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process; True when they were set.

    Left alone where the user already tunes malloc through GLIBC_TUNABLES, and a no-op on other
    C libraries (macOS, musl, Windows), which have no mallopt or manage memory otherwise.
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
