"""Which files a dub command works on, and where each one's outputs go: every file a dub writes
is planned and checked before any work starts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dubber.errors import UsageError
from dubber.media.mux import check_output
from dubber.media.probe import MediaInfo
from dubber.outputs import OutputPlan

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

    def named(self, source: str) -> list[tuple[Path, str]]:
        """Every file with what it is, for messages."""
        return [
            (self.media, f"the dub of {source}"),
            (self.document, f"the dub document of {source}"),
            *((path, f"the {name} subtitles of {source}") for name, path in self.subtitles.items()),
        ]


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
    media: Sequence[MediaInfo],
    output: Path | None,
    source_language: str,
    target_language: str,
    force: bool,
    keep_original_audio: bool = False,
    protected: Sequence[Path] = (),
) -> list[OutputPaths]:
    """NAME.es.EXT beside each input, or in/at `output`; every file each dub writes is checked
    together (see `OutputPlan`): never an input or a `protected` file, never one file for two
    dubs, never an existing file unless `force`, and only formats the dub can be written in."""
    single_file = (
        output is not None and len(media) == 1 and bool(output.suffix) and not output.is_dir()
    )
    plan = OutputPlan(inputs=[m.path for m in media] + list(protected), force=force)
    plans = []
    for info in media:
        if single_file:
            target = output
        else:
            folder = output if output is not None else info.path.parent
            target = folder / f"{info.path.stem}.{target_language}{info.path.suffix}"
        paths = OutputPaths.beside(target, source_language, target_language)
        check_output(info, paths.media, keep_original_audio)
        for path, what in paths.named(info.path.name):
            plan.add(path, what)
        plans.append(paths)
    plan.check()
    return plans
