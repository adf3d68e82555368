"""Read and write IDX files, the container of the MNIST release, gzipped or raw.

Layout: two zero bytes, a dtype code, the number of dimensions, one big-endian uint32 per
dimension, then the data in C order, big-endian. Every defect raises `DataError` in one line
that starts with the file's path.
"""

import contextlib
import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from mnist.atomic import atomic_write
from mnist.errors import DataError

DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype: code for code, dtype in DTYPES.items()}
GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 24  # bytes read at a time


def read_idx(path) -> np.ndarray:
    """Return the array stored in the IDX file at `path`, in native byte order.

    Gzip is recognised by its magic bytes, not by the name, so a renamed file still loads. The
    file is read as a stream and never beyond what its header promises (plus one byte, which
    shows trailing data), so a small gzip file inflating to gigabytes costs no more than a good one.
    """
    path = Path(path)
    with _open_stream(path) as stream:
        dtype, shape = _read_header(stream, path)
        expected = math.prod(shape) * dtype.itemsize
        data = _read_at_most(stream, expected + 1)  # one byte more than promised shows trailing data
    if len(data) != expected:
        found = f"file has {len(data)}" if len(data) < expected else "file has more"
        problem = "truncated" if len(data) < expected else "trailing bytes"
        raise DataError(f"{path}: {problem}: header says {format_shape(shape)} {dtype.name} = "
                        f"{expected} bytes of data, {found}")
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


@contextlib.contextmanager
def _open_stream(path):
    """The file's content as a binary stream, decompressed on the fly when the file starts
    with the gzip magic; whatever reading it raises comes out as one DataError line."""
    try:
        file = open(path, "rb")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read: {error.strerror}") from None
    with file:
        try:
            start = file.read(4)
            file.seek(0)
            if start[:2] == GZIP_MAGIC:
                with gzip.GzipFile(fileobj=file) as stream:
                    yield stream
            elif path.suffix == ".gz":
                raise DataError(f"{path}: named .gz but not gzip data (starts with 0x{start.hex()})")
            else:
                yield file
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            raise DataError(f"{path}: corrupt gzip stream: {error}") from None
        except OSError as error:
            raise DataError(f"{path}: cannot read: {error.strerror or error}") from None


def _read_at_most(stream, limit: int) -> bytearray:
    """Up to `limit` bytes, fewer only at the end of the stream. Read in chunks, so a header
    that claims terabytes allocates no more than the file really holds."""
    data = bytearray()
    while len(data) < limit:
        chunk = stream.read(min(limit - len(data), _CHUNK))
        if not chunk:
            break
        data += chunk
    return data


def _read_header(stream, path):
    """(dtype, shape) after checking the magic number and that the header is whole."""
    start = bytes(_read_at_most(stream, 4))
    if len(start) < 4:
        raise DataError(f"{path}: truncated header: {len(start)} bytes, the magic number needs 4")
    magic = f"0x{start.hex()}"
    zeros, code, ndim = start[:2], start[2], start[3]
    if zeros != b"\0\0":
        raise DataError(f"{path}: bad magic number {magic}: the first two bytes must be zero")
    if code not in DTYPES:
        raise DataError(f"{path}: bad magic number {magic}: unknown dtype code 0x{code:02x}")
    if ndim == 0:
        raise DataError(f"{path}: bad magic number {magic}: zero dimensions")
    dimensions = bytes(_read_at_most(stream, 4 * ndim))
    if len(dimensions) < 4 * ndim:
        raise DataError(f"{path}: truncated header: {ndim} dimensions need {4 + 4 * ndim} bytes, "
                        f"file has {4 + len(dimensions)}")
    return DTYPES[code], struct.unpack(f">{ndim}I", dimensions)
