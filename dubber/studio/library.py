"""The media files of the served folder and where each one stands on disk: not dubbed, dubbed,
or outdated (its dub document was edited, or the input replaced, after the dub was written)."""

from __future__ import annotations

import contextlib
import functools
import logging
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from dubber.dub.document import DubDocument
from dubber.dub.job import DubOptions
from dubber.dub.outputs import MEDIA_SUFFIXES, OutputPaths
from dubber.errors import DubberError
from dubber.media.probe import probe
from dubber.studio.paths import PathRefused, inside

log = logging.getLogger(__name__)

SOURCE_LANGUAGE = DubOptions.source_language
TARGET_LANGUAGE = DubOptions.target_language
# A dub writes its document just after its media; a document saved later than that by another
# program (it keeps no history of its edits) was edited.
EDIT_SLACK_S = 2.0


class State(str, Enum):
    """Where a media file stands; the first five are read from disk, the rest from jobs."""

    new = "new"  # not dubbed
    dubbed = "dubbed"
    outdated = "outdated"  # dubbed, then its document edited (or the input replaced)
    unreadable = "unreadable"  # not media dubber can read (its problem says why)
    missing = "missing"  # left the folder (deleted or moved) after a dub of it was asked for
    queued = "queued"
    dubbing = "dubbing"
    failed = "failed"
    cancelled = "cancelled"  # its dub was stopped from the page (its earlier outputs untouched)


def outputs_for(media: Path) -> OutputPaths:
    """Where `dubber dub MEDIA` writes its outputs (beside the input)."""
    target = media.with_name(f"{media.stem}.{TARGET_LANGUAGE}{media.suffix}")
    return OutputPaths.beside(target, SOURCE_LANGUAGE, TARGET_LANGUAGE)


def disk_state(media: Path) -> State:
    """Not dubbed, dubbed, or outdated, from the outputs beside `media` and their times."""
    outputs = outputs_for(media)
    if not (outputs.media.is_file() and outputs.document.is_file()):
        return State.new
    replaced = media.stat().st_mtime > outputs.media.stat().st_mtime
    return State.outdated if edited_since_dub(media) or replaced else State.dubbed


def edited_since_dub(media: Path) -> bool:
    """Whether `media`'s dub document holds edits its dub does not speak (and the input was
    not replaced since): dubbing it again means speaking the edits. A document edited by hand
    (no history) counts when it was saved after the dub."""
    outputs = outputs_for(media)
    if not (outputs.media.is_file() and outputs.document.is_file()):
        return False
    dubbed_at = outputs.media.stat().st_mtime
    if media.stat().st_mtime > dubbed_at:
        return False
    written = outputs.document.stat()
    if _holds_edits(str(outputs.document), written.st_mtime_ns, written.st_size):
        return True
    return written.st_mtime > dubbed_at + EDIT_SLACK_S


@functools.lru_cache(maxsize=1024)
def _holds_edits(document: str, mtime_ns: int, size: int) -> bool:
    """Whether the dub document records edits its dub does not speak; read once per version
    of the file (its time and size are the key), as the library is listed often. An unreadable
    one holds none: it is judged by its time alone."""
    with contextlib.suppress(DubberError):
        return DubDocument.load(Path(document)).edited
    return False


def is_media_name(name: str) -> bool:
    """A name the library lists: a media suffix, not hidden, not itself a dub."""
    path = Path(name)
    return (
        not name.startswith(".")
        and path.suffix.lower() in MEDIA_SUFFIXES
        and not path.stem.endswith(f".{TARGET_LANGUAGE}")
    )


def is_servable(name: str) -> bool:
    """A file the page may fetch: media (inputs and dubs), subtitles and dub documents."""
    suffix = Path(name).suffix.lower()
    return suffix in MEDIA_SUFFIXES | {".vtt", ".srt"} or name.endswith(".dub.json")


@dataclass(frozen=True)
class MediaEntry:
    """One media file of the folder, as the library shows it."""

    name: str
    size: int
    duration: float | None
    has_video: bool
    state: State
    problem: str | None = None  # why the file cannot be dubbed


class Library:
    """The folder's media files; each file is probed once per version (size and time)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._probed: dict[tuple[str, int, int], tuple[float | None, bool, str | None]] = {}

    def media(self, name: str) -> Path:
        """The media file `name` of the library (PathRefused for anything else)."""
        path = inside(self.root, name)
        if path.parent != self.root or not is_media_name(path.name) or not path.is_file():
            raise PathRefused(f"'{name[:60]}' is not a media file of the studio's folder")
        return path

    def entries(self) -> list[MediaEntry]:
        """Every media file directly in the folder, by name."""
        found = []
        for path in sorted(self.root.iterdir()):
            if not is_media_name(path.name):
                continue
            try:
                media = self.media(path.name)
            except PathRefused:  # a symlink that leads out, a folder named like media
                continue
            found.append(self._entry(media))
        return found

    def _entry(self, path: Path) -> MediaEntry:
        stat = path.stat()
        key = (path.name, stat.st_size, stat.st_mtime_ns)
        if key not in self._probed:
            try:
                info = probe(path)
                problem = None if info.has_audio else "no audio stream to dub"
                self._probed[key] = (info.duration, info.has_video, problem)
            except DubberError as error:  # said of the file's name, not of a server path
                self._probed[key] = (None, False, str(error).replace(str(path), path.name))
        duration, has_video, problem = self._probed[key]
        state = State.unreadable if problem else disk_state(path)
        return MediaEntry(path.name, stat.st_size, duration, has_video, state, problem)
