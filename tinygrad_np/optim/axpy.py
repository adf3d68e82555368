"""y += alpha * x in place, in one pass, through the OpenBLAS that NumPy itself links.

NumPy has no fused multiply-add: `p -= lr * g` reads g, writes a temporary, reads it back and
rewrites p, all on one core. An optimizer step is that update on every parameter, and
OpenBLAS's axpy does it in one pass on BLAS's threads: about 4x faster on a 784x1024 plus a
1024x1024 float32 weight on two cores (0.2 ms against 0.8 ms). Where NumPy's BLAS is not an
OpenBLAS whose axpy can be found, or for arrays BLAS cannot take, NumPy does it in two passes;
the two differ only by rounding (BLAS rounds a fused multiply-add once).

    axpy(-lr, grad, param)   # param -= lr * grad
"""
import ctypes
import os

import numpy as np
from threadpoolctl import threadpool_info

# Below this NumPy's two passes win: the ctypes call and the two pointers cost about 5 us, the
# time NumPy takes for 20,000 float32 values.
MIN_BLAS_SIZE = 32768


def _numpy_openblas_path():
    """The OpenBLAS NumPy loaded: the one shipped inside NumPy's wheel, else the only one loaded."""
    paths = [info["filepath"] for info in threadpool_info() if info.get("internal_api") == "openblas"]
    numpy_prefix = os.path.dirname(np.__file__)  # also a prefix of the wheels' numpy/.dylibs and numpy.libs
    bundled = [path for path in paths if path.startswith(numpy_prefix)]
    if bundled:
        return bundled[0]
    return paths[0] if len(paths) == 1 else None


def _load_blas_axpy():
    """{dtype: cblas ?axpy with its argument types}, or {} when no usable OpenBLAS is found.

    OpenBLAS builds differ in symbol names (NumPy's wheels prefix `scipy_` and suffix `64_`) and in
    the integer width (64-bit when its configuration says USE64BITINT)."""
    path = _numpy_openblas_path()
    if path is None:
        return {}
    try:
        library = ctypes.CDLL(path)
    except OSError:  # listed by threadpoolctl but not loadable by name: NumPy's two passes it is
        return {}
    for prefix, suffix in (("scipy_", "64_"), ("", "64_"), ("scipy_", ""), ("", "")):
        config = getattr(library, f"{prefix}openblas_get_config{suffix}", None)
        if config is None or not hasattr(library, f"{prefix}cblas_saxpy{suffix}"):
            continue
        config.restype = ctypes.c_char_p
        integer = ctypes.c_int64 if b"USE64BITINT" in config() else ctypes.c_int32
        functions = {}
        for dtype, letter, scalar in ((np.float32, "s", ctypes.c_float), (np.float64, "d", ctypes.c_double)):
            function = getattr(library, f"{prefix}cblas_{letter}axpy{suffix}")
            function.argtypes = [integer, scalar, ctypes.c_void_p, integer, ctypes.c_void_p, integer]
            function.restype = None
            functions[np.dtype(dtype)] = function, np.iinfo(integer).max
        return functions
    return {}


_BLAS_AXPY = _load_blas_axpy()


def uses_blas() -> bool:
    """Whether float32 and float64 axpy go through OpenBLAS here (for benchmarks and tests)."""
    return bool(_BLAS_AXPY)


def axpy(alpha: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """y += alpha * x, in place; returns y. x and y must have the same shape."""
    if x.shape != y.shape:
        raise ValueError(f"axpy needs arrays of one shape, got {x.shape} and {y.shape}")
    if y.size >= MIN_BLAS_SIZE and x.dtype == y.dtype:
        blas = _BLAS_AXPY.get(y.dtype)
        if blas is not None and y.size <= blas[1] and y.flags.writeable and _same_flat_layout(x, y):
            blas[0](y.size, float(alpha), x.ctypes.data, 1, y.ctypes.data, 1)
            return y
    y += alpha * x
    return y


def _same_flat_layout(x: np.ndarray, y: np.ndarray) -> bool:
    """Both contiguous in the same order and not overlapping, so BLAS, walking both buffers
    flat, pairs each element of x with the element of y at the same index."""
    same_order = (x.flags.c_contiguous and y.flags.c_contiguous) or (x.flags.f_contiguous and y.flags.f_contiguous)
    return same_order and not np.may_share_memory(x, y)
