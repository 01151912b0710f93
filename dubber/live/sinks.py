"""Where a live session's Spanish speech goes: the speakers, and a WAV track with each line placed
when it was produced."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dubber.errors import DubberError
from dubber.live.devices import device_info, first_line, import_sounddevice


class SpeakerSink:
    """Plays translated speech on an output device; `write` blocks while earlier speech plays."""

    def __init__(self, device: str | int | None, sample_rate: int) -> None:
        sd = import_sounddevice()
        device_info(device, "output")
        try:
            self._stream = sd.OutputStream(
                device=device, channels=1, samplerate=sample_rate, dtype="float32"
            )
            self._stream.start()
        except sd.PortAudioError as error:
            raise DubberError(
                f"cannot open the speakers ({first_line(error)}): use --output FILE.wav"
            ) from error

    def write(self, samples: np.ndarray) -> None:
        self._stream.write(samples.astype(np.float32).reshape(-1, 1))

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()


class PlacedTrack:
    """Translated speech placed at input-clock times, written as one WAV at the end."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._clips: list[tuple[int, np.ndarray]] = []

    def place(self, start_s: float, samples: np.ndarray) -> None:
        self._clips.append((round(start_s * self.sample_rate), samples.astype(np.float32)))

    def render(self, min_seconds: float = 0.0) -> np.ndarray:
        """The mix: silence where nothing was spoken, at least `min_seconds` long."""
        length = max([round(min_seconds * self.sample_rate)] + [s + len(c) for s, c in self._clips])
        track = np.zeros(length, np.float32)
        for start, clip in self._clips:
            track[start : start + len(clip)] += clip
        return np.clip(track, -1.0, 1.0)

    def write(self, path: Path, min_seconds: float = 0.0) -> None:
        from dubber.media.decode import write_wav

        write_wav(path, self.render(min_seconds), self.sample_rate)
