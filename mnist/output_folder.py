"""An output folder that one command at a time writes into, checked before any work starts.

A run that would fail to save after an epoch of training fails at once instead, and two runs
given the same `--out` cannot both believe the checkpoint there is theirs.
"""
import contextlib
import fcntl
import os
import secrets
from pathlib import Path
from typing import Iterable, Iterator

from mnist.atomic import make_folder
from mnist.errors import MnistError, WriteError

LOCK_NAME = ".lock"


@contextlib.contextmanager
def claim_output_folder(folder, names: Iterable[str]) -> Iterator[Path]:
    """Create `folder` and hold it for the block. Refused in one line, before the block runs:
    a folder in which no file can be created, one of `names` taken by a folder, a folder
    another process holds. The hold is an flock on `folder/.lock`, which the kernel releases
    when the process ends, however it ends."""
    folder = make_folder(folder)
    _check_writable(folder)
    for name in names:
        path = folder / name
        if path.is_dir() and not path.is_symlink():  # os.replace cannot put a file in its place
            raise WriteError(f"{path}: cannot write: it is a folder")
    lock_path = folder / LOCK_NAME
    try:
        lock = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise WriteError(f"{lock_path}: cannot write: {error.strerror or error}") from None
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise MnistError(f"{folder}: another run is writing into this folder (it holds {lock_path}); "
                             f"wait for it to end or choose another output folder") from None
        yield folder
    finally:
        os.close(lock)


def _check_writable(folder: Path) -> None:
    """Create and remove a file in `folder`: the only test that covers permissions, read-only
    mounts and a full disk's inode table alike."""
    probe = folder / f".write-test.{secrets.token_hex(8)}"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.unlink(probe)
    except OSError as error:
        raise WriteError(f"{folder}: cannot write into this folder: {error.strerror or error}") from None
