"""Write files so a reader (or a crash) sees the old contents or the new ones, never a partial file.

Every writer in the project (checkpoints, history, plots, IDX files) goes through `atomic_write`.
"""

import contextlib
import os
import secrets
from pathlib import Path

from mnist.errors import WriteError


@contextlib.contextmanager
def atomic_write(path, mode="wb", **open_kwargs):
    """Yield a file object on a temporary file; on a clean exit it replaces `path` in one step.

    The temporary file sits in the target's folder, so `os.replace` is a rename within one
    filesystem, which POSIX makes atomic. On any exception the temporary file is removed and
    `path` is left untouched. Text modes default to UTF-8 so output does not depend on the locale.
    An OSError (a full disk, a read-only folder, a file size limit) comes out as a WriteError
    naming `path` and the reason.

        with atomic_write("history.json", "w") as f:
            json.dump(history, f)
    """
    if not mode.startswith("w"):
        raise ValueError(f"atomic_write writes whole files: mode must start with 'w', not {mode!r}")
    if "b" not in mode:
        open_kwargs.setdefault("encoding", "utf-8")
    path = Path(path)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        # Mode "x" creates the file exclusively with the umask's permissions, as a plain open() would;
        # tempfile.mkstemp would leave every output readable by its owner only.
        with open(temp, "x" + mode[1:], **open_kwargs) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException as error:  # an exception, or Interrupted by a signal: no temporary file stays
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
        if isinstance(error, OSError) and not isinstance(error, WriteError):
            raise WriteError(f"{path}: cannot write: {error.strerror or error}") from None
        raise
    _fsync_folder(path.parent)


def make_folder(folder) -> Path:
    """Create `folder` and its missing parents; a WriteError names it when that fails."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise WriteError(f"{folder}: cannot create the folder: {error.strerror or error}") from None
    return folder


def _fsync_folder(folder):
    """Make the rename itself durable: a power cut after return must not bring the old file back."""
    if not hasattr(os, "O_DIRECTORY"):  # Windows cannot open a folder; its rename is durable enough
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError:  # some filesystems cannot sync a folder; the new file is in place regardless
        pass
    finally:
        os.close(fd)
