"""The one way dubber runs FFmpeg: the `ffmpeg` and `ffprobe` programs, quietly, with failures
turned into one-line errors."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

from dubber.errors import DubberError

_INSTALL = "install FFmpeg (sudo apt-get install ffmpeg, or brew install ffmpeg)"


@functools.cache
def binary(name: str) -> str:
    """The path of `ffmpeg` or `ffprobe`."""
    found = shutil.which(name)
    if found is None:
        raise DubberError(f"{name} not found: {_INSTALL}")
    return found


def last_line(stderr: bytes) -> str:
    """The last message FFmpeg printed (the one that says what went wrong)."""
    lines = stderr.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else "ffmpeg failed"


def run_ffmpeg(arguments: list[str], stdin: bytes | None = None) -> bytes:
    """Run ffmpeg quietly and return its standard output; a failure becomes a DubberError with
    ffmpeg's last message."""
    done = run("ffmpeg", arguments, stdin)
    if done.returncode != 0:
        message = last_line(done.stderr)
        if "No space left on device" in message and arguments[-1] != "pipe:":
            raise DubberError(f"no space left on {Path(arguments[-1]).parent}: free some room")
        raise DubberError(f"ffmpeg failed: {message}")
    return done.stdout


def run(
    program: str, arguments: list[str], stdin: bytes | None = None, loglevel: str = "error"
) -> subprocess.CompletedProcess:
    """Run `ffmpeg` or `ffprobe` (only errors on stderr unless `loglevel` says otherwise); the
    caller judges the result."""
    command = [binary(program), "-hide_banner", "-loglevel", loglevel]
    if program == "ffmpeg":
        command.append("-nostdin")
    files = _file_names(program, arguments)
    return subprocess.run([*command, *files], input=stdin, capture_output=True, check=False)


def _file_names(program: str, arguments: list[str]) -> list[str]:
    """The arguments with every file name (ffmpeg's inputs and output, ffprobe's input) that
    starts with `-` or holds a `:` written as a `file:` URL, so that it is never read as an
    option or a protocol."""
    named = {len(arguments) - 1}  # ffmpeg's output, ffprobe's input
    if program == "ffmpeg":
        named |= {i + 1 for i, a in enumerate(arguments[:-1]) if a == "-i"}
    return [f"file:{a}" if i in named and _ambiguous(a) else a for i, a in enumerate(arguments)]


def _ambiguous(name: str) -> bool:
    """A file name ffmpeg would take for an option (`-talk.wav`) or, an existing file, for a
    protocol (`clip:1.wav`); not "-", "pipe:" or a filter graph."""
    if name == "-" or name.startswith(("pipe:", "file:")):
        return False
    return name.startswith("-") or (":" in name.split("/", 1)[0] and os.path.isfile(name))


def pcm_input_arguments(samples: np.ndarray, sample_rate: int) -> list[str]:
    """ffmpeg input arguments for float32 samples piped on stdin."""
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    return ["-f", "f32le", "-ar", str(sample_rate), "-ac", str(channels), "-i", "pipe:"]
