"""Dubbing several files with engines loaded once: what to dub, and each file's dub in turn."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from dubber.dub.job import DubJob, DubOptions, DubReport, Progress
from dubber.dub.outputs import OutputPaths, collect_inputs, plan_outputs
from dubber.engines.bundle import Engines
from dubber.errors import StoppedError, UsageError
from dubber.media.probe import MediaInfo, probe


@dataclass(frozen=True)
class DubRequest:
    """One file to dub, probed, and where its outputs go."""

    media: MediaInfo
    outputs: OutputPaths


def plan_dubs(
    paths: Sequence[Path], output: Path | None, options: DubOptions, force: bool
) -> list[DubRequest]:
    """The files to dub (folders expanded), each probed once, with outputs checked before any
    work starts."""
    inputs = collect_inputs(list(paths), options.target_language)
    if not options.recognises and len(inputs) > 1:
        raise UsageError("--document and --from-srt dub one file at a time")
    media = [probe(path) for path in inputs]
    for info in media:
        if not info.has_audio:
            raise UsageError(f"{info.path} has no audio stream to dub")
    protected = [options.from_srt] if options.from_srt else []
    plans = plan_outputs(
        media, output, options.source_language, options.target_language, force,
        options.keep_original_audio, protected,
    )  # fmt: skip
    return [DubRequest(info, plan) for info, plan in zip(media, plans, strict=True)]


def dub_files(
    requests: Sequence[DubRequest],
    options: DubOptions,
    engines: Engines,
    work_root: Path,
    progress: Callable[[MediaInfo], AbstractContextManager[Progress]],
) -> Iterator[DubReport]:
    """Dub each request in turn, yielding its report when its outputs are in place; Ctrl-C
    keeps the finished stages for --resume."""
    for request in requests:
        try:
            with progress(request.media) as report:
                job = DubJob(engines, options, request.media, request.outputs, work_root, report)
                yield job.run()
        except KeyboardInterrupt:
            raise StoppedError(
                f"interrupted while dubbing {request.media.path.name}: finished stages are kept;"
                " run the same command with --resume to continue"
            ) from None
