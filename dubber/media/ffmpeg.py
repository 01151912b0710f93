"""The one way dubber runs FFmpeg: the `ffmpeg` and `ffprobe` programs, quietly, with failures
turned into one-line errors."""

from __future__ import annotations

import functools
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
    return subprocess.run([*command, *arguments], input=stdin, capture_output=True, check=False)


def pcm_input_arguments(samples: np.ndarray, sample_rate: int) -> list[str]:
    """ffmpeg input arguments for float32 samples piped on stdin."""
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    return ["-f", "f32le", "-ar", str(sample_rate), "-ac", str(channels), "-i", "pipe:"]
