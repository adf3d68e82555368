"""Read and write IDX files, the container of the MNIST release, gzipped or raw.

Layout: two zero bytes, a dtype code, the number of dimensions, one big-endian uint32 per
dimension, then the data in C order, big-endian. Every defect raises `DataError` in one line
that starts with the file's path.
"""

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from mnist.atomic import atomic_write
from mnist.errors import DataError

DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype: code for code, dtype in DTYPES.items()}
GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path) -> np.ndarray:
    """Return the array stored in the IDX file at `path`, in native byte order.

    Gzip is recognised by its magic bytes, not by the name, so a renamed file still loads.
    """
    path = Path(path)
    content = _read_content(path)
    dtype, shape, data = _split_header(content, path)
    expected = math.prod(shape) * dtype.itemsize
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "trailing bytes"
        raise DataError(f"{path}: {problem}: header says {format_shape(shape)} {dtype.name} = "
                        f"{expected} bytes of data, file has {len(data)}")
    return np.frombuffer(data, dtype).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path, array):
    """Write `array` as an IDX file, gzipped when the name ends in `.gz` (mtime 0, reproducible)."""
    content = encode_idx(array)
    if Path(path).suffix == ".gz":
        content = gzip.compress(content, mtime=0)
    with atomic_write(path) as file:
        file.write(content)


def encode_idx(array) -> bytes:
    """The raw IDX bytes of `array`: header, then the values big-endian."""
    array = np.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder(">"))
    if code is None:
        supported = ", ".join(dtype.name for dtype in DTYPES.values())
        raise ValueError(f"IDX cannot hold {array.dtype}, only {supported}")
    if array.ndim == 0:
        raise ValueError("IDX needs at least one dimension")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(DTYPES[code]).tobytes()


def format_shape(shape):
    """(60000, 28, 28) -> '60000x28x28', the way error messages write shapes."""
    return "x".join(map(str, shape))


def _read_content(path):
    """The file's bytes, decompressed when they start with the gzip magic."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read: {error.strerror}") from None
    if raw[:2] == GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise DataError(f"{path}: corrupt gzip stream: {error}") from None
    if path.suffix == ".gz":
        raise DataError(f"{path}: named .gz but not gzip data (starts with 0x{raw[:4].hex()})")
    return raw


def _split_header(content, path):
    """(dtype, shape, data bytes) after checking the magic number and that the header is whole."""
    if len(content) < 4:
        raise DataError(f"{path}: truncated header: {len(content)} bytes, the magic number needs 4")
    magic = f"0x{content[:4].hex()}"
    zeros, code, ndim = content[:2], content[2], content[3]
    if zeros != b"\0\0":
        raise DataError(f"{path}: bad magic number {magic}: the first two bytes must be zero")
    if code not in DTYPES:
        raise DataError(f"{path}: bad magic number {magic}: unknown dtype code 0x{code:02x}")
    if ndim == 0:
        raise DataError(f"{path}: bad magic number {magic}: zero dimensions")
    end = 4 + 4 * ndim
    if len(content) < end:
        raise DataError(f"{path}: truncated header: {ndim} dimensions need {end} bytes, "
                        f"file has {len(content)}")
    return DTYPES[code], struct.unpack(f">{ndim}I", content[4:end]), memoryview(content)[end:]
