"""Checkpoints: one .npz holding parameters, optimizer state and a JSON record of the run.

Arrays go in as named entries (`param/layers.0.weight`, `optim/...`), everything else (model
config, training config, progress, history, random-generator states) as one JSON string, so
`evaluate` and `--resume` need nothing but the file and nothing is unpickled.

Reading trusts nothing in the file. The record is read first, at most MAX_RECORD_BYTES of it,
and checked field by field (mnist.training.run_record); it names the arrays that must be there with
their shapes and dtypes. Each array's .npy header is checked against that before its data is
read, and no more data is read than the header promises (one byte more shows trailing data).
So a few kilobytes cannot make the program allocate gigabytes, and every defect is a
CheckpointError naming the file and the problem.
"""
import contextlib
import json
import math
import struct
import tokenize
import zipfile
import zlib
from pathlib import Path

import numpy as np

from mnist.atomic import atomic_write
from mnist.errors import CheckpointError
from mnist.training.run_record import RecordError, expected_arrays

# 2: the record names the model's kind ({"kind": "mlp", "settings": {...}}, and config.model).
# 1: MLPs only, the record's "model" being the MLP's settings; read by upgrading the record.
FORMAT_VERSION = 3
_RECORD_KEY = "record.json"
MAX_RECORD_BYTES = 16 * 2**20  # JSON of some 80,000 epochs of history
# What zipfile, zlib and NumPy's .npy header parser raise on bytes they cannot make sense of:
# unsupported compression (NotImplementedError), encryption (RuntimeError), a header that is
# not a Python literal (SyntaxError, tokenize.TokenError), besides the usual ones.
_UNREADABLE = (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, TypeError, SyntaxError,
               tokenize.TokenError, NotImplementedError, RuntimeError, struct.error, OverflowError)


def save_checkpoint(path, parameters: dict, optimizer_state: dict, record: dict) -> None:
    """Write atomically: a crash mid-write leaves the previous checkpoint in place."""
    arrays = {f"param/{name}": value for name, value in parameters.items()}
    optimizer_json = _split_arrays(optimizer_state, "optim", arrays)
    document = {"format_version": FORMAT_VERSION, "optimizer": optimizer_json, **record}
    arrays[_RECORD_KEY] = np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)
    # np.savez's layout (one key.npy member each, stored, zip64), written here so the archive is
    # closed on every path: NumPy 2.1 (the floor) leaves it open when a write fails (a full disk, a file
    # size limit), and its __del__ then prints a traceback long after the one-line error.
    with atomic_write(path, "wb") as file, zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as archive:
        for key, value in arrays.items():
            with archive.open(f"{key}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)


def load_checkpoint(path):
    """(parameters, optimizer_state, record); CheckpointError names the file and the problem."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    with _unreadable(path, "the archive"):
        archive = zipfile.ZipFile(path)
    with archive:
        entries = _entries(archive, path)
        if _RECORD_KEY not in entries:
            raise CheckpointError(f"{path}: not a checkpoint of this program (no {_RECORD_KEY} inside)")
        document = _read_record(archive, entries.pop(_RECORD_KEY), path)
        try:
            expected = expected_arrays(document)
        except RecordError as error:
            raise CheckpointError(f"{path}: the run record is not valid: {error}") from None
        for name in entries:
            if name not in expected:
                raise CheckpointError(f"{path}: unexpected entry {name!r}: not an array this run has")
        for name in expected:
            if name not in entries:
                raise CheckpointError(f"{path}: incomplete checkpoint: {name!r} is missing")
        arrays = {name: _read_array(archive, entries[name], path, name, *expected[name]) for name in expected}
    parameters = {name[len("param/"):]: value for name, value in arrays.items() if name.startswith("param/")}
    optimizer_state = _join_arrays(document.pop("optimizer"), arrays)
    return parameters, optimizer_state, document


@contextlib.contextmanager
def _unreadable(path, what: str):
    """Turn what the zip and .npy readers raise on corrupt bytes into one CheckpointError line."""
    try:
        yield
    except _UNREADABLE as error:
        raise CheckpointError(f"{path}: not a readable checkpoint (corrupt .npz, {what}: {error})") from None


def _entries(archive: zipfile.ZipFile, path) -> dict:
    """Entry name without '.npy' -> ZipInfo; a name twice, or not an array, is refused."""
    entries = {}
    for info in archive.infolist():
        name = info.filename.removesuffix(".npy")
        if name == info.filename or name in entries:
            raise CheckpointError(f"{path}: unexpected entry {info.filename!r} (not an array, or twice)")
        entries[name] = info
    return entries


def _read_record(archive, info, path) -> dict:
    raw = _read_array(archive, info, path, _RECORD_KEY, None, np.dtype(np.uint8))
    try:
        document = json.loads(raw.tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise CheckpointError(f"{path}: the run record inside is corrupt: {error}") from None
    version = document.get("format_version") if isinstance(document, dict) else None
    if version == 1:
        document, version = _upgrade_from_format_1(document), 2
    if version == 2:
        document, version = _upgrade_from_format_2(document, path), 3
    if version != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format {version!r}, this program reads formats 1 to "
                              f"{FORMAT_VERSION}")
    return document


def _upgrade_from_format_1(document: dict) -> dict:
    """A format-1 record (written before the model registry, when every model was an MLP) as
    format 2 says it: the same run, its model named. Fields of the wrong type are left as they
    are, for the record's checks to name."""
    upgraded = {**document, "format_version": 2}
    if isinstance(document.get("model"), dict):
        upgraded["model"] = {"kind": "mlp", "settings": document["model"]}
    if isinstance(document.get("config"), dict):
        upgraded["config"] = {"model": "mlp", **document["config"]}
    return upgraded


def _upgrade_from_format_2(document: dict, path) -> dict:
    """A format-2 record (written before training images were shifted and the CNN had batch norm and
    a hidden layer) as format 3 says it: an MLP's run unchanged. A CNN of format 2 is refused: its
    network is not one this program builds."""
    model = document.get("model")
    if isinstance(model, dict) and model.get("kind") == "cnn":
        raise CheckpointError(f"{path}: checkpoint format 2 holds the CNN from before batch norm and its hidden "
                              "layer, which this program no longer builds; train it again with --model cnn")
    upgraded = {**document, "format_version": 3}
    if isinstance(document.get("config"), dict):
        upgraded["config"] = {**document["config"], "batch_norm": False, "shift": 0}
    return upgraded


def _read_array(archive, info, path, name: str, shape, dtype) -> np.ndarray:
    """The array in entry `info`, once its header says `shape` (None: any 1-D one of at most
    MAX_RECORD_BYTES) and `dtype`; its data is read only then, and only as much as promised."""
    with _unreadable(path, f"entry {name!r}"):
        stream = archive.open(info)
    with stream:
        with _unreadable(path, f"entry {name!r}"):
            version = np.lib.format.read_magic(stream)
            if version not in ((1, 0), (2, 0)):
                raise ValueError(f"unsupported .npy format version {version}")
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) \
                else np.lib.format.read_array_header_2_0
            found_shape, fortran_order, found_dtype = read_header(stream)
        fits = (found_shape == shape if shape is not None
                else len(found_shape) == 1 and found_shape[0] <= MAX_RECORD_BYTES)
        if not fits or found_dtype != dtype or fortran_order:
            wanted = f"{dtype} {shape}" if shape is not None else f"{dtype} of at most {MAX_RECORD_BYTES} bytes"
            raise CheckpointError(f"{path}: entry {name!r} holds {found_dtype} {found_shape}, "
                                  f"this run needs {wanted}")
        size = math.prod(found_shape) * dtype.itemsize
        with _unreadable(path, f"entry {name!r}"):
            data = stream.read(size + 1)  # a byte more than promised shows data beyond it
    if len(data) != size:
        raise CheckpointError(f"{path}: entry {name!r} is {'longer' if len(data) > size else 'shorter'} "
                              f"than its header says ({size} bytes)")
    return np.frombuffer(data, dtype).reshape(found_shape)


def _split_arrays(value, prefix, arrays):
    """JSON-able copy of `value` with every ndarray moved into `arrays` under a path key."""
    if isinstance(value, np.ndarray):
        arrays[prefix] = value
        return {"__array__": prefix}
    if isinstance(value, dict):
        return {str(k): _split_arrays(v, f"{prefix}/{k}", arrays) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_split_arrays(v, f"{prefix}/{i}", arrays) for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _join_arrays(value, arrays):
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            return arrays[value["__array__"]]
        return {k: _join_arrays(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_join_arrays(v, arrays) for v in value]
    return value
