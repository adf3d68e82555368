"""Checkpoints: one .npz holding parameters, optimizer state and a JSON record of the run.

Arrays go in as named entries (`param/layers.0.weight`, `optim/...`), everything else (model
config, training config, progress, history, random-generator states) as one JSON string, so
`evaluate` and `--resume` need nothing but the file and nothing is unpickled.
"""
import json
import zipfile
from pathlib import Path

import numpy as np

from mnist.atomic import atomic_write
from mnist.errors import CheckpointError

FORMAT_VERSION = 1
_RECORD_KEY = "record.json"


def save_checkpoint(path, parameters: dict, optimizer_state: dict, record: dict) -> None:
    """Write atomically: a crash mid-write leaves the previous checkpoint in place."""
    arrays = {f"param/{name}": value for name, value in parameters.items()}
    optimizer_json = _split_arrays(optimizer_state, "optim", arrays)
    document = {"format_version": FORMAT_VERSION, "optimizer": optimizer_json, **record}
    arrays[_RECORD_KEY] = np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)
    with atomic_write(path, "wb") as file:
        np.savez(file, **arrays)


def load_checkpoint(path):
    """(parameters, optimizer_state, record); CheckpointError names the file and the problem."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    # np.load would return a plain array for a .npy file and guess at anything else
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path}: not a readable checkpoint (not an .npz archive, or truncated)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as error:
        raise CheckpointError(f"{path}: not a readable checkpoint (corrupt .npz: {error})") from None
    if _RECORD_KEY not in arrays:
        raise CheckpointError(f"{path}: not a checkpoint of this program (no {_RECORD_KEY} inside)")
    try:
        document = json.loads(arrays.pop(_RECORD_KEY).tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path}: the run record inside is corrupt: {error}") from None
    version = document.get("format_version") if isinstance(document, dict) else None
    if version != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format {version!r}, this program reads format {FORMAT_VERSION}")
    parameters = {name[len("param/"):]: value for name, value in arrays.items() if name.startswith("param/")}
    try:
        optimizer_state = _join_arrays(document.pop("optimizer"), arrays)
    except KeyError as error:
        raise CheckpointError(f"{path}: incomplete checkpoint: {error} is missing") from None
    return parameters, optimizer_state, document


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
