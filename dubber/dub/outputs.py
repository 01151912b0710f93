"""Which files a dub command works on and where each one's outputs go."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dubber.errors import UsageError

MEDIA_SUFFIXES = {
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi",
    ".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".opus",
}  # fmt: skip


@dataclass(frozen=True)
class OutputPaths:
    """Where one dub writes its files."""

    media: Path
    document: Path
    subtitles: dict[str, Path]  # "en.srt", "es.vtt", ... -> path

    @classmethod
    def beside(cls, media_out: Path, source_language: str, target_language: str) -> OutputPaths:
        """NAME.es.mp4 -> NAME.dub.json, NAME.en.srt, NAME.es.srt, NAME.en.vtt, NAME.es.vtt."""
        stem = media_out.name.removesuffix(media_out.suffix).removesuffix(f".{target_language}")
        folder = media_out.parent
        subtitles = {
            f"{lang}.{ext}": folder / f"{stem}.{lang}.{ext}"
            for lang in (source_language, target_language)
            for ext in ("srt", "vtt")
        }
        return cls(media_out, folder / f"{stem}.dub.json", subtitles)

    def all(self) -> list[Path]:
        """Every file this dub writes."""
        return [self.media, self.document, *self.subtitles.values()]


def collect_inputs(paths: list[Path], target_language: str) -> list[Path]:
    """Files as given, and the media files inside given folders (not earlier dubs)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p
                for p in path.iterdir()
                if p.is_file()
                and p.suffix.lower() in MEDIA_SUFFIXES
                and not p.stem.endswith(f".{target_language}")
            )
        else:
            found.append(path)
    if not found:
        raise UsageError("no media files to dub in " + ", ".join(str(p) for p in paths))
    return found


def plan_outputs(
    inputs: list[Path],
    output: Path | None,
    source_language: str,
    target_language: str,
    force: bool,
) -> list[OutputPaths]:
    """NAME.es.EXT beside each input, or in/at `output`; never an input, never an existing file
    unless `force`, and only in folders that can be written."""
    single_file = output is not None and len(inputs) == 1 and output.suffix and not output.is_dir()
    plans = []
    for media in inputs:
        if single_file:
            target = output
        else:
            folder = output if output is not None else media.parent
            target = folder / f"{media.stem}.{target_language}{media.suffix}"
        plan = OutputPaths.beside(target, source_language, target_language)
        _check(plan, inputs, force)
        plans.append(plan)
    return plans


def _check(plan: OutputPaths, inputs: list[Path], force: bool) -> None:
    sources = {p.resolve() for p in inputs}
    for path in plan.all():
        if path.resolve() in sources:
            raise UsageError(f"refusing to overwrite the input {path}: choose another --output")
    if plan.media.exists() and not force:
        raise UsageError(f"{plan.media} exists: use --force to replace it")
    folder = plan.media.parent
    existing = next((p for p in [folder, *folder.parents] if p.exists()), folder)
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        raise UsageError(f"cannot write to {folder}: the folder is not writable")
