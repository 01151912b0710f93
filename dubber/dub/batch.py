"""Dubbing several files with engines loaded once: what to dub, and each file's dub in turn."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from dubber.chain.cast import VoicePrints
from dubber.dub.document import DubDocument
from dubber.dub.job import DubJob, DubOptions, DubReport, Progress, Stage, given_document
from dubber.dub.outputs import OutputPaths, collect_inputs, plan_outputs
from dubber.engines.bundle import Engines
from dubber.errors import StoppedError, UsageError
from dubber.media.probe import MediaInfo, probe

# Files are recognised and translated together while their audio adds up to at most this: a
# batched translator (the LLM) then fills its batches with short files' lines.
GROUP_SECONDS = 600.0


@dataclass(frozen=True)
class DubRequest:
    """One file to dub, probed, and where its outputs go."""

    media: MediaInfo
    outputs: OutputPaths
    given: DubDocument | None = None  # the text to dub from, when not recognised


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
    return [
        DubRequest(info, plan, given_document(options, info))
        for info, plan in zip(media, plans, strict=True)
    ]


def dub_files(
    requests: Sequence[DubRequest],
    options: DubOptions,
    engines: Engines,
    work_root: Path,
    progress: Callable[[str], AbstractContextManager[Progress]],
) -> Iterator[DubReport]:
    """Dub each request, yielding its report when its outputs are in place. Short files are
    recognised and translated together, a group at a time (`progress` is given a file's name,
    or the group's); Ctrl-C keeps the finished stages for --resume."""
    prints = VoicePrints(engines.voices.styles)  # one speaker, one voice, in every file
    for group in file_groups(requests):
        jobs = [
            DubJob(
                engines,
                options,
                request.media,
                request.outputs,
                work_root,
                _silent,
                request.given,
                prints,
            )  # fmt: skip
            for request in group
        ]
        if len(jobs) > 1:
            with _stopped_kept(group[0]), progress(f"{len(jobs)} files") as report:
                heard = 0.0  # the group's recognition counts the seconds of all its files
                total = sum(request.media.duration for request in group)
                for request, job in zip(group, jobs, strict=True):
                    job.progress = _after(report, heard, total)
                    heard += request.media.duration
                DubJob.prepare_together(jobs)
        for request, job in zip(group, jobs, strict=True):
            with _stopped_kept(request), progress(request.media.path.name) as report:
                job.progress = report
                yield job.run()


def file_groups(requests: Sequence[DubRequest]) -> Iterator[list[DubRequest]]:
    """Consecutive files whose audio adds up to at most GROUP_SECONDS (a longer file alone)."""
    group: list[DubRequest] = []
    seconds = 0.0
    for request in requests:
        if group and seconds + request.media.duration > GROUP_SECONDS:
            yield group
            group, seconds = [], 0.0
        group.append(request)
        seconds += request.media.duration
    if group:
        yield group


def _after(report: Progress, heard: float, total: float) -> Progress:
    """`report` for one file of a group: its recognition counted after the `heard` seconds of
    the files before it, out of the group's `total`."""

    def shifted(stage: Stage, completed: float, of: float | None) -> None:
        if stage is Stage.recognise:
            report(stage, heard + completed, total)
        else:
            report(stage, completed, of)

    return shifted


def _silent(stage: Stage, completed: float, total: float | None) -> None:
    """No progress shown (until the job's own is given)."""


@contextmanager
def _stopped_kept(request: DubRequest) -> Iterator[None]:
    """Ctrl-C while dubbing `request` as a StoppedError that says finished stages are kept."""
    try:
        yield
    except KeyboardInterrupt:
        raise StoppedError(
            f"interrupted while dubbing {request.media.path.name}: finished stages are kept;"
            " run the same command with --resume to continue"
        ) from None
