"""The dub track and the gain the original sound gets under it (ducking with smooth ramps).

Both are written to disk as raw float32 so that memory stays flat however long the input is;
ffmpeg does the mixing itself (see `dubber.media.mux.mux_dub`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np

from dubber.outputs import disk_error

GAIN_RATE = 1000  # gain envelope samples per second


class Background(str, Enum):
    """What happens to the original sound under the dub."""

    duck = "duck"
    keep = "keep"
    none = "none"


@dataclass(frozen=True, kw_only=True)
class MixRules:
    """How the original is lowered while the dub speaks."""

    background: Background = Background.duck
    duck_db: float = -20.0  # the dub heard back: 14.8 % WER at -20 dB, 16.6 % at -15 (dense call)
    ramp: float = 0.25


@dataclass(frozen=True)
class RawAudio:
    """Mono float32 samples in a raw file, and their rate."""

    path: Path
    sample_rate: int


class DubTrack:
    """The dub voice track of a whole input, on disk; clips are added where they are placed."""

    def __init__(self, path: Path, duration: float, sample_rate: int) -> None:
        self.audio = RawAudio(path, sample_rate)
        length = max(int(np.ceil(duration * sample_rate)), 1)
        # Reserve the disk space first: a memory map on a full disk kills the process (SIGBUS)
        # where a reservation fails with an error.
        with open(path, "wb") as handle:
            try:
                if hasattr(os, "posix_fallocate"):
                    os.posix_fallocate(handle.fileno(), 0, length * 4)
                else:  # macOS: a sparse file
                    handle.truncate(length * 4)
            except OSError as error:
                raise disk_error(error, path) from None
        self._samples = np.memmap(path, dtype="<f4", mode="r+", shape=(length,))

    def add(self, start: float, samples: np.ndarray) -> None:
        """Mix a clip in at `start` seconds (cut at the end of the track)."""
        begin = min(max(int(round(start * self.audio.sample_rate)), 0), len(self._samples))
        piece = samples[: len(self._samples) - begin]
        self._samples[begin : begin + len(piece)] += piece

    def close(self) -> RawAudio:
        """Flush to disk and hand the file over."""
        self._samples.flush()
        del self._samples
        return self.audio


def duck_gain(
    regions: Iterable[tuple[float, float]], duration: float, rules: MixRules
) -> np.ndarray:
    """Gain of the original at GAIN_RATE: 1 outside the regions, `duck_db` inside, linear ramps
    that end as a region starts and begin as it ends; all 1 to keep, all 0 for none."""
    length = int(np.ceil(duration * GAIN_RATE)) + 1
    if rules.background is Background.keep:
        return np.ones(length, np.float32)
    if rules.background is Background.none:
        return np.zeros(length, np.float32)
    mask = np.zeros(length)
    half = rules.ramp / 2
    for start, end in regions:
        lo = max(int((start - half) * GAIN_RATE), 0)
        hi = min(int(np.ceil((end + half) * GAIN_RATE)), length)
        mask[lo:hi] = 1.0
    width = max(int(rules.ramp * GAIN_RATE), 1)
    smooth = np.convolve(mask, np.ones(width) / width, mode="same")
    return (10 ** (rules.duck_db * smooth / 20)).astype(np.float32)


def write_gain(path: Path, gain: np.ndarray) -> RawAudio:
    """Store a gain envelope as raw float32 for ffmpeg."""
    gain.astype("<f4").tofile(path)
    return RawAudio(path, GAIN_RATE)
