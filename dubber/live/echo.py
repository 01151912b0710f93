"""Half-duplex echo gating: what the microphone hears while dubber's own Spanish plays through
the speakers (and a short hang-over after) is not translated again."""

from __future__ import annotations

import threading

import numpy as np

from dubber.media.decode import AUDIO_RATE


class EchoGate:
    """Input-clock intervals during which the speakers play; input inside them is silenced."""

    def __init__(self, hangover_s: float) -> None:
        self.hangover_s = hangover_s
        self._intervals: list[tuple[float, float]] = []
        self._lock = threading.Lock()
        self.muted_s = 0.0  # input silenced so far

    def playing(self, start: float, end: float) -> None:
        """The speakers play from `start` to `end` (input-clock seconds)."""
        with self._lock:
            if self._intervals and start <= self._intervals[-1][1] + self.hangover_s:
                self._intervals[-1] = (self._intervals[-1][0], max(end, self._intervals[-1][1]))
            else:
                self._intervals.append((start, end))

    def mute(self, chunk: np.ndarray, start: float) -> np.ndarray:
        """`chunk` (16 kHz, starting at `start`) with what the speakers covered silenced."""
        end = start + len(chunk) / AUDIO_RATE
        with self._lock:
            while self._intervals and self._intervals[0][1] + self.hangover_s < start:
                self._intervals.pop(0)  # long past
            spans = [(a, b + self.hangover_s) for a, b in self._intervals if a < end]
        if not spans:
            return chunk
        out = chunk.copy()
        for begin, finish in spans:
            lo = max(int((begin - start) * AUDIO_RATE), 0)
            hi = min(int(np.ceil((finish - start) * AUDIO_RATE)), len(out))
            if hi > lo:
                out[lo:hi] = 0.0
                self.muted_s += (hi - lo) / AUDIO_RATE
        return out
