"""Files the commands read and write: located errors, outputs written all or nothing.

* :func:`read_text` reads a text file (a rule, an input JSON): an unreadable file or one that is
  not UTF-8 text (e.g. a binary file given by mistake) is an :class:`OmniDSLError` naming the file,
  and for bad bytes the line and column of the first one.
* :class:`Outputs` is the set of files one command writes.  Create it *before* any long
  computation: it checks every target's folder at once (exists or can be created, is a folder,
  is writable; no target is a folder; no target is given twice).  Then write inside
  ``with outputs.writing() as tmp:`` through ``tmp(target)``, a temporary path in the target's
  folder: when the block ends without error every temporary file replaces its target
  (``os.replace``, atomic per file); on any error they are removed, folders the command
  created are removed again and no target has changed.
* :func:`os_error_message` is the CLI's one line for an ``OSError`` nobody mapped earlier.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from omnidsl.errors import OmniDSLError, SourceSpan

PathLike = str | os.PathLike[str]


def read_text(path: PathLike, what: str = "file") -> str:
    """The UTF-8 text of ``path``; OmniDSLError (located on the first bad byte) otherwise."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise OmniDSLError(f"cannot read {what} {p}: {_reason(exc)}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise not_text_error(p, data, exc, what) from None


def not_text_error(path: PathLike, data: bytes, exc: UnicodeDecodeError,
                   what: str = "file") -> OmniDSLError:
    """``path:line:col: error: ... is not UTF-8 text`` for the first undecodable byte."""
    before = data[: exc.start].decode("utf-8", errors="replace")
    line = before.count("\n") + 1
    col = len(before) - (before.rfind("\n") + 1) + 1
    return OmniDSLError(f"the {what} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                        f"{exc.start})", SourceSpan(str(path), line, col),
                        "give a text file (is this a binary file, or saved in another "
                        "encoding?)")


def os_error_message(exc: OSError) -> str:
    """One line for an OSError: ``error: PATH: reason`` (or the reason alone)."""
    names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
    where = " -> ".join(names)
    return f"error: {where}: {_reason(exc)}" if where else f"error: {_reason(exc)}"


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


class Outputs:
    """The files one command writes, checked up front and written all or nothing.

    ``make_dirs``: missing folders are created (at write time, removed again on failure);
    otherwise a missing folder is an error.  ``None`` targets (an option not given) are skipped.
    """

    def __init__(self, targets: Sequence[PathLike | None], make_dirs: bool = False):
        self.targets = [Path(t) for t in targets if t is not None]
        self.make_dirs = make_dirs
        self.check()

    def check(self) -> None:
        """Raise OmniDSLError if any target could not be written."""
        seen: dict[Path, Path] = {}
        for t in self.targets:
            key = Path(os.path.abspath(t))
            if key in seen:
                raise OmniDSLError(f"{t} is given twice as an output",
                                   hint="give each output its own file name")
            seen[key] = t
            if t.is_dir():
                raise OmniDSLError(f"cannot write {t}: it is a folder",
                                   hint="give the path of a file (it may be inside this folder)")
            folder = _folder(t)
            if folder.is_dir():
                _writable(t, folder)
                continue
            if folder.exists():
                raise OmniDSLError(f"cannot write {t}: {folder} is not a folder")
            if not self.make_dirs:
                raise OmniDSLError(f"cannot write {t}: the folder {folder} does not exist",
                                   hint=f"create it first (mkdir -p {folder}) or choose "
                                        "another output path")
            top = _existing_ancestor(folder)
            if not top.is_dir():
                raise OmniDSLError(f"cannot create the folder {folder}: {top} is not a folder")
            _writable(t, top)

    @contextmanager
    def writing(self) -> Iterator[Callable[[PathLike], Path]]:
        """Yield ``tmp(target) -> Path`` (a fresh file in the target's folder); commit on exit."""
        created: list[Path] = []
        temps: dict[Path, Path] = {}
        by_target = {Path(os.path.abspath(t)): t for t in self.targets}

        def tmp(target: PathLike) -> Path:
            key = Path(os.path.abspath(target))
            if key not in by_target:
                raise ValueError(f"{target} is not one of this command's outputs")
            if key not in temps:
                temps[key] = _fresh(by_target[key])
            return temps[key]

        try:
            if self.make_dirs:
                for t in self.targets:
                    created += _make_folder(_folder(t))
            try:
                yield tmp
                for key, path in list(temps.items()):
                    os.replace(path, by_target[key])
                    del temps[key]
            except OSError as exc:  # name the target, not our temporary file
                where = {str(p): by_target[k] for k, p in temps.items()}.get(str(exc.filename))
                if where is None:
                    raise
                raise OmniDSLError(f"cannot write {where}: {_reason(exc)}") from exc
        except BaseException:
            for path in temps.values():
                path.unlink(missing_ok=True)
            for d in reversed(created):
                with suppress(OSError):  # not empty: not ours to remove
                    d.rmdir()
            raise


def _folder(target: Path) -> Path:
    return target.parent if str(target.parent) else Path(".")


def _existing_ancestor(folder: Path) -> Path:
    p = Path(os.path.abspath(folder))
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _writable(target: Path, folder: Path) -> None:
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OmniDSLError(f"cannot write {target}: no permission to write in {folder}")


def _make_folder(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents; the created ones, outermost first."""
    missing = []
    p = Path(os.path.abspath(folder))
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        d.mkdir()
    return list(reversed(missing))


def _fresh(target: Path) -> Path:
    """A new empty file beside ``target``, created with the usual permissions (umask), whose
    name ends like the target's (writers such as numpy.save look at the suffix)."""
    folder = _folder(target)
    while True:
        path = folder / f".{target.name}.{secrets.token_hex(4)}.tmp{target.suffix}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return path
