"""read_idx/write_idx/encode_idx: the real MNIST files, round trips, every defect, fuzzing."""

import gzip
import hashlib
import math
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mnist.data.idx import encode_idx, read_idx, write_idx
from mnist.errors import DataError

VENDORED = Path(__file__).resolve().parents[2] / "mnist" / "vendored" / "mnist"
# The IDX dtype codes as the format's description lists them, restated here so the test checks
# the module's table instead of reusing it.
SPEC_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
# The MNIST release: (file, number of items), as documented on its web page.
MNIST_FILES = {
    "train-images-idx3-ubyte": (60000, 28, 28),
    "train-labels-idx1-ubyte": (60000,),
    "t10k-images-idx3-ubyte": (10000, 28, 28),
    "t10k-labels-idx1-ubyte": (10000,),
}
# tmp_path is shared by a test's examples; each example overwrites the files it uses.
EXAMPLES = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def idx_arrays(codes=tuple(SPEC_DTYPES)):
    """Small arrays of any IDX dtype, zero-length dimensions included."""
    shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4)
    return st.sampled_from(codes).flatmap(
        lambda code: hnp.arrays(np.dtype(SPEC_DTYPES[code]).newbyteorder("="), shapes))


def spec_decode(raw, gz_name):
    """The array a reader that follows the spec returns for file bytes `raw`; None if invalid."""
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except Exception:
            return None
    elif gz_name:
        return None
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] not in SPEC_DTYPES or raw[3] == 0:
        return None
    data_start = 4 + 4 * raw[3]
    if len(raw) < data_start:
        return None
    shape = struct.unpack(f">{raw[3]}I", raw[4:data_start])
    dtype = np.dtype(SPEC_DTYPES[raw[2]])
    if len(raw) - data_start != math.prod(shape) * dtype.itemsize:
        return None
    return np.frombuffer(raw, dtype, offset=data_start).reshape(shape)


def assert_same_array(actual, expected):
    """Equal shape, equal values bit for bit (NaN payloads and -0.0 included), native byte order."""
    assert actual.dtype.isnative
    assert actual.dtype == expected.dtype.newbyteorder("=")
    assert actual.shape == expected.shape
    assert actual.tobytes() == expected.astype(actual.dtype).tobytes()


def assert_data_error(path, fragment=""):
    """read_idx(path) raises DataError in one line that names the path and contains `fragment`."""
    with pytest.raises(DataError) as caught:
        read_idx(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert fragment in message


# --- the vendored MNIST files ---------------------------------------------------------------

@pytest.fixture(scope="module")
def mnist_arrays():
    return {name: read_idx(VENDORED / f"{name}.gz") for name in MNIST_FILES}


@pytest.fixture(scope="module")
def mnist_contents():
    """The decompressed files, read without read_idx."""
    return {name: gzip.decompress((VENDORED / f"{name}.gz").read_bytes()) for name in MNIST_FILES}


def test_mnist_shapes_and_dtypes(mnist_arrays):
    for name, shape in MNIST_FILES.items():
        assert mnist_arrays[name].shape == shape and mnist_arrays[name].dtype == np.uint8
    for name in ("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"):
        assert set(np.unique(mnist_arrays[name])) == set(range(10))


def test_mnist_arrays_are_the_published_files_without_their_headers(mnist_arrays, mnist_contents):
    lines = (VENDORED / "SHA256SUMS").read_text().splitlines()
    published = {name: digest for digest, name in (line.split() for line in lines
                                                   if line and not line.startswith("#"))}
    for name, shape in MNIST_FILES.items():
        assert hashlib.sha256(mnist_contents[name]).hexdigest() == published[name]
        header_size = 4 + 4 * len(shape)  # the magic number, then one uint32 per dimension
        assert mnist_arrays[name].tobytes() == mnist_contents[name][header_size:]


def test_rewriting_mnist_raw_reproduces_the_published_file(mnist_arrays, mnist_contents, tmp_path):
    for name, array in mnist_arrays.items():
        write_idx(tmp_path / name, array)
        assert (tmp_path / name).read_bytes() == mnist_contents[name]


# --- round trips ----------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("code", SPEC_DTYPES, ids=lambda code: SPEC_DTYPES[code][1:])
@settings(EXAMPLES, max_examples=10)
@given(data=st.data())
def test_round_trip(tmp_path, code, suffix, data):
    array = data.draw(idx_arrays(codes=(code,)))
    path = tmp_path / f"array.idx{suffix}"
    write_idx(path, array)
    assert path.read_bytes()[:2] == (b"\x1f\x8b" if suffix else b"\0\0")
    assert_same_array(read_idx(path), array)


def test_encoding_is_independent_of_the_input_byte_order():
    values = np.arange(-3, 3).reshape(2, 3)
    assert encode_idx(values.astype("<i4")) == encode_idx(values.astype(">i4"))


def test_gzip_is_detected_by_content_not_by_name(tmp_path):
    write_idx(tmp_path / "a.gz", np.arange(5, dtype=np.uint8))
    (tmp_path / "a.gz").rename(tmp_path / "renamed.idx")
    assert_same_array(read_idx(tmp_path / "renamed.idx"), np.arange(5, dtype=np.uint8))


@pytest.mark.parametrize("array, fragment", [
    (np.zeros(3, np.uint64), "cannot hold uint64"),
    (np.zeros(3, bool), "cannot hold bool"),
    (np.uint8(3), "at least one dimension"),
])
def test_write_idx_rejects_what_idx_cannot_hold(tmp_path, array, fragment):
    with pytest.raises(ValueError, match=fragment):
        write_idx(tmp_path / "x.idx", array)
    assert not list(tmp_path.iterdir())


# --- defects --------------------------------------------------------------------------------

VALID = b"\0\0\x08\x02" + struct.pack(">2I", 2, 3) + bytes(range(6))  # a 2x3 uint8 file
VALID_GZ = gzip.compress(VALID)
BAD_FILES = {
    "missing file": ("absent.idx", None, "no such file"),
    "a folder": ("folder.idx", "mkdir", "cannot read"),
    "empty": ("x.idx", b"", "truncated header"),
    "header cut in the dimensions": ("x.idx", VALID[:9], "truncated header"),
    "first byte not zero": ("x.idx", b"\x01" + VALID[1:], "first two bytes must be zero"),
    "second byte not zero": ("x.idx", b"\0\x01" + VALID[2:], "first two bytes must be zero"),
    "unknown dtype code": ("x.idx", b"\0\0\x0a" + VALID[3:], "unknown dtype code 0x0a"),
    "zero dimensions": ("x.idx", b"\0\0\x08\0", "zero dimensions"),
    "data truncated": ("x.idx", VALID[:-1],
                       "truncated: header says 2x3 uint8 = 6 bytes of data, file has 5"),
    "trailing bytes": ("x.idx", VALID + b"\0", "trailing bytes"),
    "not gzip behind a .gz name": ("x.idx.gz", VALID, "not gzip data"),
    "gzip stream cut short": ("x.idx.gz", VALID_GZ[:-5], "corrupt gzip stream"),
    "gzip body corrupted": ("x.idx.gz", VALID_GZ[:12] + b"\xff\xff" + VALID_GZ[14:],
                            "corrupt gzip stream"),
    "gzip checksum wrong": ("x.idx.gz", VALID_GZ[:-8] + bytes([VALID_GZ[-8] ^ 1]) + VALID_GZ[-7:],
                            "corrupt gzip stream"),
    "gzip holding a truncated file": ("x.idx.gz", gzip.compress(VALID[:-1]), "truncated"),
}


@pytest.mark.parametrize("name, content, fragment", BAD_FILES.values(), ids=BAD_FILES)
def test_defect_raises_one_line_data_error_naming_the_file(tmp_path, name, content, fragment):
    path = tmp_path / name
    if content == "mkdir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    assert_data_error(path, fragment)


def test_data_error_is_a_value_error(tmp_path):
    (tmp_path / "x.idx").write_bytes(b"")
    with pytest.raises(ValueError):
        read_idx(tmp_path / "x.idx")


# --- fuzzing: read_idx agrees with the spec or raises DataError, never anything else ---------

def check_against_spec(path, raw):
    path.write_bytes(raw)
    expected = spec_decode(raw, gz_name=path.suffix == ".gz")
    if expected is None:
        assert_data_error(path)
    else:
        assert_same_array(read_idx(path), expected)


@settings(EXAMPLES, max_examples=200)
@given(raw=st.binary(max_size=64), name=st.sampled_from(["f.idx", "f.idx.gz"]))
def test_fuzz_random_bytes(tmp_path, raw, name):
    check_against_spec(tmp_path / name, raw)


def mutations(raw):
    """Mutated copies of file bytes `raw`: a byte overwritten, the end cut off, bytes appended."""
    def overwrite(first_bytes):
        spots = st.tuples(st.integers(0, min(len(raw), first_bytes) - 1), st.integers(0, 255))
        return spots.map(lambda spot: raw[:spot[0]] + bytes([spot[1]]) + raw[spot[0] + 1:])

    cut = st.integers(0, len(raw)).map(lambda end: raw[:end])
    append = st.binary(min_size=1, max_size=16).map(lambda extra: raw + extra)
    return st.one_of(overwrite(16), overwrite(len(raw)), cut, append)  # 16: the header, mostly


@settings(EXAMPLES, max_examples=200)
@given(array=idx_arrays(), compress=st.booleans(), mutate_compressed=st.booleans(), data=st.data())
def test_fuzz_mutated_valid_files(tmp_path, array, compress, mutate_compressed, data):
    raw = encode_idx(array)
    if compress and mutate_compressed:
        raw = data.draw(mutations(gzip.compress(raw)))
    elif compress:
        raw = gzip.compress(data.draw(mutations(raw)))
    else:
        raw = data.draw(mutations(raw))
    check_against_spec(tmp_path / ("f.idx.gz" if compress else "f.idx"), raw)
