"""atomic_write: the final path holds the old file or the complete new one, whatever happens."""

import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mnist.atomic import atomic_write
from mnist.errors import WriteError

ROOT = Path(__file__).resolve().parents[2]
OLD = b"old complete file\n"


class Boom(Exception):
    pass


def spawn(script, *args):
    """Run `script` in a fresh Python that can import the project, reading its stdout line by line."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), *map(str, args)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)


@pytest.mark.parametrize("mode, content", [("wb", b"\x00\xffbytes"), ("w", "text \u00e9\n")])
def test_writes_content_and_leaves_only_the_target(tmp_path, mode, content):
    target = tmp_path / "out"
    with atomic_write(target, mode) as f:
        f.write(content)
    assert (target.read_bytes() if "b" in mode else target.read_text("utf-8")) == content
    assert os.listdir(tmp_path) == ["out"]


def test_text_mode_passes_open_arguments(tmp_path):
    target = tmp_path / "out.csv"
    with atomic_write(target, "w", encoding="latin-1", newline="\r\n") as f:
        f.write("\u00e9\n")
    assert target.read_bytes() == b"\xe9\r\n"


def test_new_file_gets_the_same_permissions_as_a_plain_open(tmp_path):
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    with atomic_write(tmp_path / "atomic") as f:
        f.write(b"")
    assert (tmp_path / "atomic").stat().st_mode == plain.stat().st_mode


@pytest.mark.parametrize("mode", ["w", "wb"])
@pytest.mark.parametrize("had_old_file", [True, False])
def test_exception_mid_write_keeps_old_file_and_removes_temp(tmp_path, mode, had_old_file):
    target = tmp_path / "out"
    if had_old_file:
        target.write_bytes(OLD)
    with pytest.raises(Boom):
        with atomic_write(target, mode) as f:
            f.write("partial" if mode == "w" else b"partial")
            raise Boom
    assert (target.read_bytes() == OLD) if had_old_file else not target.exists()
    assert os.listdir(tmp_path) == (["out"] if had_old_file else [])


@pytest.mark.parametrize("mode", ["r", "rb", "a", "ab", "r+"])
def test_rejects_modes_that_do_not_write_a_whole_file(tmp_path, mode):
    with pytest.raises(ValueError, match="mode"):
        with atomic_write(tmp_path / "out", mode):
            pass
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("had_old_file", [True, False])
def test_sigkill_mid_write_never_leaves_a_partial_file(tmp_path, had_old_file):
    target = tmp_path / "big.bin"
    if had_old_file:
        target.write_bytes(OLD)
    child = spawn("""
        import sys
        from mnist.atomic import atomic_write
        with atomic_write(sys.argv[1]) as f:
            for _ in range(16):
                f.write(b"n" * (1 << 20))
            f.flush()
            print("mid-write", flush=True)
            sys.stdin.read()  # blocks: the parent kills us here
            f.write(b"the rest")
    """, target)
    assert child.stdout.readline() == b"mid-write\n"
    temps = [p for p in tmp_path.iterdir() if p != target]
    assert [p.stat().st_size for p in temps] == [16 << 20]  # the kill really lands mid-write
    child.send_signal(signal.SIGKILL)
    child.communicate()
    assert child.returncode == -signal.SIGKILL
    assert (target.read_bytes() == OLD) if had_old_file else not target.exists()


def test_sigkill_at_any_moment_of_repeated_rewrites_leaves_a_complete_version(tmp_path):
    target = tmp_path / "big.bin"
    size = 4 << 20
    child = spawn("""
        import sys
        from mnist.atomic import atomic_write
        size = int(sys.argv[2])
        for version in range(1000):
            with atomic_write(sys.argv[1]) as f:
                for start in range(0, size, 1 << 16):
                    f.write(bytes([version % 256]) * (1 << 16))
            print(version, flush=True)
    """, target, size)
    for _ in range(3):  # let it finish a few versions, then kill wherever it is
        child.stdout.readline()
    child.send_signal(signal.SIGKILL)
    child.communicate()
    content = target.read_bytes()
    assert len(content) == size and content == content[:1] * size


def test_an_os_error_is_a_write_error_naming_the_path_and_leaves_nothing(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(WriteError) as caught:
        with atomic_write(target) as f:
            f.write(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert str(caught.value) == f"{target}: cannot write: No space left on device"
    assert isinstance(caught.value, OSError) and os.listdir(tmp_path) == []


def test_a_missing_folder_is_a_write_error_naming_the_path(tmp_path):
    target = tmp_path / "missing" / "out"
    with pytest.raises(WriteError, match=f"^{target}: cannot write: No such file or directory$"):
        with atomic_write(target) as f:
            f.write(b"never")
