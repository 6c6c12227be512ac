"""Writing files so that a crash never leaves half of one behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename over it.

    The rename is atomic: a process killed at any point leaves either the old
    file or the new one.  No fsync: it guards only against power loss, and at
    four milliseconds a file it would dominate a build of hundreds of decks."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_dir_atomic(path: Path, files: dict[str, str]) -> None:
    """Create directory `path` holding `files` (relative name -> text) in one step:
    everything is written into a hidden temporary directory beside it, which is
    then renamed.  A process killed at any point leaves no half-written folder
    under the final name; a leftover `.<name>.*.tmp` folder is ignored and
    removed by the next write of the same folder."""
    import shutil

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in path.parent.glob(f".{path.name}.*.tmp"):
        shutil.rmtree(old, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        for name, text in sorted(files.items()):
            f = tmp / name
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(text.encode("utf-8"))
        # mkdtemp makes the folder private (0700); a build folder is shared like any other
        # (reading the umask means setting it, which is not thread-safe: the usual 0755)
        os.chmod(tmp, 0o755)
        os.rename(tmp, path)  # fails if `path` exists: callers move an old folder aside first
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
