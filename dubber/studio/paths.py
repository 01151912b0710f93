"""Which files of the served folder a request may reach: names inside it, never `..`, an
absolute path, a hidden file or a symlink that leads out."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from dubber.errors import UsageError


class PathRefused(UsageError):
    """A request named a file outside the served folder (or one it may not reach)."""


def inside(root: Path, name: str) -> Path:
    """The file `name` (a relative path with `/` separators) names inside `root`, resolved;
    PathRefused for anything that is not plainly inside it."""
    if not name or "\x00" in name or "\\" in name or len(name.encode()) > 1024:
        raise PathRefused(f"'{name[:60]}' is not a file name in the studio's folder")
    pure = PurePosixPath(name)
    if pure.is_absolute() or any(part in ("", ".", "..") for part in name.split("/")):
        raise PathRefused(f"'{name[:60]}' is not a file name in the studio's folder")
    if any(part.startswith(".") for part in pure.parts):
        raise PathRefused(f"'{name[:60]}' is a hidden file")
    base = root.resolve()
    resolved = (base / pure).resolve()
    if not resolved.is_relative_to(base):
        raise PathRefused(f"'{name[:60]}' leads out of the studio's folder")
    return resolved


def relative_name(root: Path, path: Path) -> str:
    """The name a page uses for `path`, a file inside `root`."""
    return path.relative_to(root.resolve()).as_posix()
