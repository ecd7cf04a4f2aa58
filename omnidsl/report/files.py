"""Report folders written all or nothing: a temporary folder beside the target, renamed into
place once every file is in it (a failed run leaves no half report)."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from omnidsl.errors import OmniDSLError


def check_new_dir(path: Path) -> None:
    """Raise OmniDSLError unless ``path`` can become a new report folder: it does not exist (or
    is an empty folder) and its parent is a writable folder.  Call before any long work."""
    path = Path(path)
    if path.exists() and not (path.is_dir() and not any(path.iterdir())):
        raise OmniDSLError(f"report folder {path} already exists and is not empty",
                           hint="choose a new folder (a report is never written over another)")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OmniDSLError(f"cannot write the report {path}: the folder {parent} does not exist",
                           hint=f"create it first (mkdir -p {parent})")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OmniDSLError(f"cannot write the report {path}: no permission to write in {parent}")


@contextmanager
def new_dir(path: Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success it becomes ``path``."""
    path = Path(path)
    check_new_dir(path)
    parent = path.parent if str(path.parent) else Path(".")
    tmp = parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    tmp.mkdir()
    try:
        yield tmp
        if path.is_dir():
            path.rmdir()  # empty (checked); fails if something appeared meanwhile
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
