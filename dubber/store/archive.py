"""Safe extraction of model archives (.tar, .tar.gz, .tgz, .tar.bz2, .tar.xz, .zip).

The whole archive is checked before anything is written: a member with an absolute path or a
'..' component, a link pointing outside the target folder, or a device file refuses the archive.
Links are created last and their real targets checked again, so a chain of links cannot escape.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from dubber.errors import DubberError

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".zip")


class UnsafeArchiveError(DubberError):
    """An archive member would write outside the target folder, or is not a plain file."""


def is_archive(path: Path) -> bool:
    """True when `path`'s name ends with a supported archive suffix."""
    return Path(path).name.lower().endswith(ARCHIVE_SUFFIXES)


@dataclass(frozen=True)
class _Member:
    name: str  # normalised relative POSIX path
    kind: str  # "dir" | "file" | "symlink" | "hardlink"
    link: str = ""  # symlink target as stored, or hardlink target (normalised)
    read: Callable[[], IO[bytes]] | None = None


def extract_archive(archive: Path, dest: Path) -> None:
    """Extract `archive` into the new or empty folder `dest`; refuse it whole if unsafe."""
    archive = Path(archive)
    try:
        if archive.name.lower().endswith(".zip"):
            with zipfile.ZipFile(archive) as zipped:
                members = [_zip_member(zipped, info, archive) for info in zipped.infolist()]
                _extract(members, dest, archive)
        else:
            with tarfile.open(archive, "r:*") as tar:
                members = [_tar_member(tar, info, archive) for info in tar.getmembers()]
                _extract(members, dest, archive)
    except (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError) as error:
        reason = str(error).splitlines()[0].rstrip(":")
        raise DubberError(
            f"cannot read archive {archive}: damaged or not an archive ({reason})"
        ) from error


def _refuse(archive: Path, name: str, reason: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(f"refusing unsafe archive {archive.name}: member '{name}' {reason}")


def _safe_name(name: str, archive: Path) -> str:
    """`name` as a normalised relative path; refuse absolute paths and '..' components."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[0].isalpha() and posix[1] == ":"):
        raise _refuse(archive, name, "has an absolute path")
    parts = [part for part in posix.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise _refuse(archive, name, "escapes the target folder")
    return "/".join(parts)


def _inside(path: str) -> bool:
    """True when the relative POSIX `path` stays inside the archive root once normalised."""
    normal = posixpath.normpath(path)
    return not (posixpath.isabs(path) or normal == ".." or normal.startswith("../"))


def _link_member(name: str, target: str, archive: Path) -> _Member:
    if not _inside(posixpath.join(posixpath.dirname(name), target)):
        raise _refuse(archive, name, f"is a link pointing outside the target folder ({target})")
    return _Member(name, "symlink", target)


def _tar_member(tar: tarfile.TarFile, info: tarfile.TarInfo, archive: Path) -> _Member:
    name = _safe_name(info.name, archive)
    if info.isdir():
        return _Member(name, "dir")
    if info.isfile():
        return _Member(name, "file", read=lambda: tar.extractfile(info))
    if info.issym():
        return _link_member(name, info.linkname, archive)
    if info.islnk():
        if not _inside(info.linkname):
            raise _refuse(archive, name, f"is a hard link pointing outside ({info.linkname})")
        return _Member(name, "hardlink", posixpath.normpath(info.linkname))
    raise _refuse(archive, name, "is a device file, FIFO or other special file")


def _zip_member(zipped: zipfile.ZipFile, info: zipfile.ZipInfo, archive: Path) -> _Member:
    name = _safe_name(info.filename, archive)
    mode = info.external_attr >> 16
    if info.is_dir():
        return _Member(name, "dir")
    if stat.S_ISLNK(mode):
        return _link_member(name, zipped.read(info).decode("utf-8"), archive)
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # no type bits (zipfile.writestr): a file
        raise _refuse(archive, name, "is a device file, FIFO or other special file")
    return _Member(name, "file", read=lambda: zipped.open(info))


def _extract(members: list[_Member], dest: Path, archive: Path) -> None:
    _check_layout(members, archive)
    dest.mkdir(parents=True, exist_ok=True)
    links = [m for m in members if m.kind == "symlink"]
    try:
        for member in members:
            _write(member, dest)
        for member in links:
            (dest / member.name).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(member.link, dest / member.name)
    except FileExistsError as error:
        raise _refuse(archive, str(error.filename), "appears twice") from error
    except OSError as error:
        raise DubberError(f"cannot extract {archive}: {error}") from error
    root = dest.resolve()
    for member in links:
        if not (dest / member.name).resolve().is_relative_to(root):
            raise _refuse(archive, member.name, "is a link that resolves outside the target folder")


def _check_layout(members: list[_Member], archive: Path) -> None:
    """Refuse nameless members, hard links to non-files and members placed under a symlink."""
    files = {m.name for m in members if m.kind == "file"}
    links = {m.name for m in members if m.kind == "symlink"}
    for member in members:
        if not member.name and member.kind != "dir":
            raise _refuse(archive, member.name, "has no name")
        if member.kind == "hardlink" and member.link not in files:
            raise _refuse(archive, member.name, f"is a hard link to a non-file ({member.link})")
        if any(str(parent) in links for parent in PurePosixPath(member.name).parents):
            raise _refuse(archive, member.name, "lies under a symbolic link")


def _write(member: _Member, dest: Path) -> None:
    """Create a directory, regular file or hard link (no symlink exists yet to be followed)."""
    if not member.name or member.kind == "symlink":
        return  # links come last, once every file is written
    path = dest / member.name
    if member.kind == "dir":
        path.mkdir(parents=True, exist_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if member.kind == "hardlink":
        os.link(dest / member.link, path)
        return
    assert member.read is not None
    with member.read() as source, open(path, "xb") as target:
        shutil.copyfileobj(source, target)
