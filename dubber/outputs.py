"""Every file a command writes: planned and checked before any work starts, written to a
temporary name beside its target (on the target's own file system), checked, and renamed into
place, so that an output appears whole or not at all and nothing the user had is lost.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dubber.errors import DubberError, UsageError

NAME_MAX = 255  # bytes in one file name, on every file system dubber writes to


def _read_umask() -> int:
    """The process's umask; reading it means setting it, so this runs once, at import, before
    any thread of dubber's writes files."""
    current = os.umask(0)
    os.umask(current)
    return current


UMASK = _read_umask()


def _fsync(path: Path) -> None:
    """Flush a file (or a folder's entries) to disk; best effort where the system refuses."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def disk_error(error: OSError, path: Path) -> DubberError:
    """One line for an operating-system error writing `path`: what happened and what to do."""
    from dubber.settings import dubber_home

    message = _disk_message(error, Path(path))
    with contextlib.suppress(DubberError):
        home = dubber_home()
        if Path(path).is_relative_to(home):
            message += f" (it is in DUBBER_HOME, {home}: set DUBBER_HOME to a writable folder)"
    return DubberError(message)


def _disk_message(error: OSError, path: Path) -> str:
    folder = path.parent
    code = error.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        return f"no space left on {folder} (writing {Path(path).name}): free some room"
    if code == errno.EROFS:
        return f"cannot write {path}: {folder} is on a read-only file system"
    if code in (errno.EACCES, errno.EPERM):
        return f"cannot write {path}: permission denied"
    if code == errno.ENAMETOOLONG:
        return f"cannot write {path}: the file name is too long"
    return f"cannot write {path}: {error.strerror or error}"


@contextlib.contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Hold a Ctrl-C that lands inside the block and deliver it when the block ends, so files
    are created, committed or cleaned up whole. Only the main thread receives Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: held.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if held and callable(previous):
            previous(signal.SIGINT, None)


@contextlib.contextmanager
def staged(targets: Iterable[Path]) -> Iterator[dict[Path, Path]]:
    """Temporary files beside each target (on its own file system); when the block succeeds they
    are flushed to disk and renamed onto their targets together, else all removed, and no target
    is touched. Errors of the operating system (a full disk, a read-only mount) become one-line
    DubberErrors."""
    temps: dict[Path, Path] = {}
    try:
        with _ctrl_c_held():
            for target in map(Path, targets):
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, name = tempfile.mkstemp(
                    prefix=f".{target.stem[: NAME_MAX // 2]}.", suffix=f".part{target.suffix}",
                    dir=target.parent,
                )  # fmt: skip
                os.close(fd)
                temps[target] = Path(name)
                os.chmod(name, 0o666 & ~UMASK)
        yield dict(temps)
        with _ctrl_c_held():
            for tmp in temps.values():
                _fsync(tmp)
            for target, tmp in temps.items():
                os.replace(tmp, target)
            for folder in {target.parent for target in temps}:
                _fsync(folder)
    except OSError as error:
        written = next((t for t, tmp in temps.items() if str(tmp) == error.filename), None)
        raise disk_error(error, written or next(iter(temps), Path(error.filename or "."))) from None
    finally:
        with _ctrl_c_held():
            for tmp in temps.values():
                tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(target: Path, verify: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success check it with `verify` and rename it
    onto `target` (see `staged`)."""
    with staged([target]) as temps:
        yield temps[Path(target)]
        if verify is not None:
            verify(temps[Path(target)])


def atomic_write_text(target: Path, text: str) -> None:
    """Write `text` to `target` atomically (UTF-8)."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside `target`; rename it onto `target` on success.

    An existing `target` is replaced only after the new folder is complete.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _ctrl_c_held():
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
        os.chmod(tmp, 0o777 & ~UMASK)
    try:
        yield tmp
        with _ctrl_c_held():
            if target.exists():
                old = target.with_name(f".{target.name}.old")
                shutil.rmtree(old, ignore_errors=True)
                os.replace(target, old)
                os.replace(tmp, target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, target)
    except OSError as error:
        raise disk_error(error, target) from None
    finally:
        with _ctrl_c_held():
            shutil.rmtree(tmp, ignore_errors=True)


@dataclass(frozen=True)
class Planned:
    """One file a command will write, and what it is."""

    path: Path
    what: str
    formats: tuple[str, ...] = ()  # the suffixes that can be written there, when restricted


class OutputPlan:
    """The files a command will write, checked together before any work: none may be an
    input, a folder, another planned file, an existing file (unless `force`), a name too long
    for its file system, a format that cannot be written, or in a folder that cannot be
    written to."""

    def __init__(self, inputs: Iterable[Path] = (), force: bool = False) -> None:
        self.force = force
        self._inputs = {Path(p).resolve() for p in inputs}
        self._planned: list[Planned] = []

    def add(self, path: Path, what: str, formats: Iterable[str] = ()) -> Path:
        """Plan `path`; returns it."""
        self._planned.append(Planned(Path(path), what, tuple(formats)))
        return Path(path)

    @property
    def paths(self) -> list[Path]:
        """Every planned file."""
        return [p.path for p in self._planned]

    def check(self) -> None:
        """Raise a UsageError for the first planned file that cannot be written."""
        seen: dict[Path, Planned] = {}
        for planned in self._planned:
            path = planned.path
            if len(path.name.encode()) > NAME_MAX:
                raise UsageError(
                    f"cannot write {path.name[:40]}…: the name is {len(path.name.encode())}"
                    f" bytes, file systems allow {NAME_MAX}"
                )
            resolved = path.resolve()
            if resolved in seen:
                raise UsageError(
                    f"{seen[resolved].what} and {planned.what} would both be written to {path}:"
                    " give them different names or folders"
                )
            seen[resolved] = planned
            self._check_one(planned, resolved)

    def _check_one(self, planned: Planned, resolved: Path) -> None:
        path = planned.path
        if resolved in self._inputs:
            raise UsageError(f"refusing to overwrite the input {path}: choose another output")
        if path.is_dir():
            raise UsageError(f"{path} is a folder: give a file name for the {planned.what}")
        if planned.formats and path.suffix.lower() not in planned.formats:
            raise UsageError(
                f"cannot write {planned.what} {path}: '{path.suffix or 'no suffix'}' is not a"
                f" format dubber writes there (use {', '.join(planned.formats)})"
            )
        if (path.exists() or path.is_symlink()) and not self.force:
            raise UsageError(f"{path} exists: use --force to replace it")
        check_writable_folder(path.parent)


def check_writable_folder(folder: Path) -> None:
    """Raise a UsageError unless `folder` exists (or can be made) and can be written to."""
    existing = next((p for p in [folder, *folder.parents] if p.exists()), None)
    if existing is None or not existing.is_dir():
        raise UsageError(f"cannot write to {folder}: not writable ({existing} is not a folder)")
    with contextlib.suppress(OSError):
        if os.statvfs(existing).f_flag & os.ST_RDONLY:
            raise UsageError(f"cannot write to {folder}: it is on a read-only file system")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write to {folder}: the folder is not writable")
