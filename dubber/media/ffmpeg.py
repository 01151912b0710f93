"""The one way dubber runs FFmpeg: commands built with ffmpeg-python (inputs, filter graphs,
outputs), each run as one quiet `ffmpeg` or `ffprobe` process, failures turned into one-line
errors. No other module imports the bindings or names the programs."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import ffmpeg
import numpy as np

from dubber.errors import DubberError

_INSTALL = "install FFmpeg (sudo apt-get install ffmpeg, or brew install ffmpeg)"
PIPE = "pipe:"

Stream = ffmpeg.nodes.FilterableStream
Output = ffmpeg.nodes.OutputStream


@functools.cache
def binary(name: str) -> str:
    """The path of `ffmpeg` or `ffprobe`."""
    found = shutil.which(name)
    if found is None:
        raise DubberError(f"{name} not found: {_INSTALL}")
    return found


def media_name(path: Path | str) -> str:
    """A file name as ffmpeg must be given it: one that starts with `-` or holds a `:` is
    written as a `file:` URL, so that it is never read as an option or a protocol; "-" and
    "pipe:" stay as they are."""
    name = str(path)
    if name == "-" or name.startswith((PIPE, "file:")):
        return name
    if name.startswith("-") or (":" in name.split("/", 1)[0] and os.path.isfile(name)):
        return f"file:{name}"
    return name


def source(path: Path | str, **options: Any) -> Stream:
    """An input file (with input options such as `ss`, `format`, `itsoffset`)."""
    return ffmpeg.input(media_name(path), **options)


def generated(graph: str) -> Stream:
    """An input made by a lavfi source (`testsrc2=...`, `aevalsrc=...`)."""
    return ffmpeg.input(graph, format="lavfi")


def combine(streams: list[Stream], name: str, **options: Any) -> Stream:
    """A filter fed by several streams, in order (`combine([a, b], "amix", inputs=2)`)."""
    return ffmpeg.filter(streams, name, **options)


def pcm_source(samples: np.ndarray, sample_rate: int) -> Stream:
    """float32 samples piped on stdin as an input."""
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    return ffmpeg.input(PIPE, format="f32le", ar=sample_rate, ac=channels)


def pcm_bytes(samples: np.ndarray) -> bytes:
    """What `pcm_source` reads on stdin."""
    return samples.astype("<f4").tobytes()


def output(*streams: Stream, path: Path | str, **options: Any) -> Output:
    """An output of `streams` (mapped in that order) to `path`, with output options; option
    names carry their stream specifiers as FFmpeg spells them (`**{"c:a:0": "aac"}`)."""
    return ffmpeg.output(*streams, media_name(path), **options)


def command(out: Output, loglevel: str = "error") -> list[str]:
    """The whole command line of `out`: quiet (only errors on stderr unless `loglevel` says
    otherwise), never reading the terminal, overwriting its output."""
    quiet = out.global_args("-hide_banner", "-loglevel", loglevel, "-nostdin")
    return ffmpeg.compile(quiet, cmd=binary("ffmpeg"), overwrite_output=True)


def run(
    out: Output, stdin: bytes | None = None, loglevel: str = "error"
) -> subprocess.CompletedProcess:
    """Run `out` as one ffmpeg process; the caller judges the result."""
    return subprocess.run(command(out, loglevel), input=stdin, capture_output=True, check=False)


def run_ffmpeg(out: Output, stdin: bytes | None = None) -> bytes:
    """Run `out` and return ffmpeg's standard output; a failure becomes a DubberError with
    ffmpeg's last message."""
    done = run(out, stdin)
    if done.returncode != 0:
        message = last_line(done.stderr)
        target = out.node.kwargs["filename"]
        if "No space left on device" in message and target != PIPE:
            raise DubberError(f"no space left on {Path(target).parent}: free some room")
        raise DubberError(f"ffmpeg failed: {message}")
    return done.stdout


def probe_json(path: Path) -> tuple[dict | None, str]:
    """ffprobe's description of `path`'s container and streams, or None and ffprobe's last
    message when it cannot read the file."""
    name = media_name(path)
    try:
        return ffmpeg.probe(name, cmd=binary("ffprobe"), hide_banner=None, loglevel="error"), ""
    except ffmpeg.Error as failed:
        return None, last_line(failed.stderr).removeprefix(f"{name}: ")


def last_line(stderr: bytes) -> str:
    """The last message FFmpeg printed (the one that says what went wrong)."""
    lines = stderr.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else "ffmpeg failed"
