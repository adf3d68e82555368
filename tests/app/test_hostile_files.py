"""Small hostile files must not take gigabytes: each is refused in one line, exit status 1, by a
real process that peaks under 500 MB and spends under 5 s of CPU time (measured with wait4).

The bombs are real: a regression that decodes, inflates or allocates what the file claims
shows up as hundreds of megabytes. Their deflate streams are built from one compressed block
of zeros repeated (each piece ends with a full flush, so pieces join into one valid stream), so
making a 640 MB bomb takes a fraction of a second. Their checksums are left at 0: a reader that
inflates everything before checking the sum has spent the memory by then, which is the bug.
"""
import functools
import shutil
import struct
import zipfile
import zlib

import pytest
from cli_runs import run_measured
from test_checkpoint import edit_record, npy, rewrite
from test_data import write_dataset

from mnist.data.dataset import FILE_NAMES
from mnist.training.config import TrainConfig
from mnist.training.trainer import Trainer, prepare_data

PEAK_MB, CPU_SECONDS = 500, 5.0
BOMB_BYTES = 640 << 20  # inflated; well above the memory budget, so a regression cannot pass
PIECE = 1 << 24


@functools.cache
def deflated_zeros(count: int) -> bytes:
    """Raw deflate blocks (not final) inflating to `count` zero bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(bytes(count)) + compressor.flush(zlib.Z_FULL_FLUSH)


def deflate_bomb(head: bytes, zeros: int) -> bytes:
    """A raw deflate stream inflating to `head` and then `zeros` zero bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    stream += deflated_zeros(PIECE) * (zeros // PIECE) + deflated_zeros(zeros % PIECE)
    return stream + b"\x03\x00"  # an empty final block


def assert_refused_cheaply(result, path):
    assert result.status == 1, result.stderr
    assert result.stderr.startswith(f"error: {path}: ") and result.stderr.count("\n") == 1, result.stderr
    assert result.peak_mb < PEAK_MB, f"peak {result.peak_mb:.0f} MB"
    assert result.cpu_seconds < CPU_SECONDS, f"{result.cpu_seconds:.1f} s of CPU time"


# ---- an image that claims 20000x20000 pixels ------------------------------------------------

def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(side: int) -> bytes:
    """A 1-bit grayscale PNG of side x side black pixels: tens of KB on disk, side**2 pixels decoded."""
    row_bytes = 1 + side // 8  # the filter byte, then 8 pixels a byte
    raw_size = side * row_bytes
    adler = ((raw_size % 65521) << 16) | 1  # Adler-32 of zeros: a = 1, b = the count
    idat = b"\x78\xda" + deflate_bomb(b"", raw_size) + struct.pack(">I", adler)
    header = struct.pack(">2I5B", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A real MNIST checkpoint of a small model (one epoch on 150 images)."""
    folder = tmp_path_factory.mktemp("run")
    config = TrainConfig(layer_sizes=(784, 8, 10), epochs=1, train_limit=200, validation_size=50, test_limit=50)
    trainer = Trainer(config, prepare_data(config), folder, log=lambda *_: None)
    trainer.run()
    return trainer.checkpoint_path


@pytest.mark.parametrize("name", ["digit.png", "digit.jpg"])  # the name does not decide how it is read
def test_a_png_claiming_400_million_pixels_is_refused_from_its_header(checkpoint, tmp_path, name):
    image = tmp_path / name
    image.write_bytes(png_bomb(20000))
    result = run_measured("predict", "--checkpoint", checkpoint, "--image", image)
    assert_refused_cheaply(result, image)
    assert result.stderr == f"error: {image}: image is 20000x20000 pixels, the model needs 28x28\n"


# ---- checkpoints ----------------------------------------------------------------------------

WEIGHT = "param/layers.0.weight.npy"


def with_entry(original, path, name: str, stored: bytes, method: int, size: int, crc: int = 0) -> None:
    """Write `original`'s zip with entry `name` replaced by `stored` bytes (compressed by `method`,
    inflating to `size`, with checksum `crc`), as a plain zip writer lays it out."""
    with zipfile.ZipFile(original) as archive:
        entries = [(info.filename, archive.read(info)) for info in archive.infolist()]
    body, directory = bytearray(), bytearray()
    for entry, data in entries:
        data, entry_method, entry_crc, entry_size = ((stored, method, crc, size) if entry == name
                                                     else (data, 0, zlib.crc32(data), len(data)))
        encoded, offset = entry.encode(), len(body)
        fields = (entry_method, 0, 0x21, entry_crc, len(data), entry_size, len(encoded), 0)
        body += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, *fields) + encoded + data
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, *fields, 0, 0, 0, 0, offset) + encoded
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), len(body), 0)
    path.write_bytes(bytes(body + directory + end))


def test_a_checkpoint_array_whose_header_claims_8_tb_is_refused(checkpoint, tmp_path):
    path = tmp_path / "checkpoint.npz"
    content = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2000000000000,), }")
    with_entry(checkpoint, path, WEIGHT, content, 0, len(content), zlib.crc32(content))
    assert_refused_cheaply(run_measured("evaluate", "--checkpoint", path, "--out", tmp_path), path)


def test_a_compressed_checkpoint_array_of_640_mb_is_refused_before_inflating(checkpoint, tmp_path):
    path = tmp_path / "checkpoint.npz"
    count = BOMB_BYTES // 4
    head = npy(f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({count},), }}")
    with_entry(checkpoint, path, WEIGHT, deflate_bomb(head, BOMB_BYTES), 8, len(head) + BOMB_BYTES)
    assert path.stat().st_size < 2 << 20
    assert_refused_cheaply(run_measured("evaluate", "--checkpoint", path, "--out", tmp_path), path)


def test_a_record_asking_for_a_billion_hidden_units_is_refused(checkpoint, tmp_path):
    path = tmp_path / "checkpoint.npz"
    shutil.copy(checkpoint, path)
    huge = [784, 10**9, 10]
    rewrite(path, edit_record(lambda r: [part.update(layer_sizes=huge)
                                         for part in (r["config"], r["model"]["settings"])]))
    result = run_measured("evaluate", "--checkpoint", path, "--out", tmp_path)
    assert_refused_cheaply(result, path)
    assert "config.layer_sizes" in result.stderr


# ---- an IDX file that inflates to 640 MB ----------------------------------------------------

def test_an_idx_gzip_bomb_is_read_no_further_than_its_header_says(tmp_path):
    """Ten labels, as the header says, then 640 MB of zeros; the header is what counts."""
    arrays = write_dataset(tmp_path / "data", num_train=10, num_test=4)
    labels = tmp_path / "data" / f"{FILE_NAMES['train_labels']}.gz"
    head = b"\0\0\x08\x01" + struct.pack(">I", 10) + arrays["train_labels"].tobytes()
    gzip_header = b"\x1f\x8b\x08\x00\0\0\0\0\x02\xff"
    size = (len(head) + BOMB_BYTES) % 2**32
    labels.write_bytes(gzip_header + deflate_bomb(head, BOMB_BYTES) + struct.pack("<2I", 0, size))
    assert labels.stat().st_size < 2 << 20
    result = run_measured("train", "--data-dir", tmp_path / "data", "--validation-size", "2", "--out", tmp_path / "run")
    assert_refused_cheaply(result, labels)
    assert "trailing bytes" in result.stderr
