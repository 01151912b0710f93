"""What each stage of a live session spent its time on: working, waiting for its input, or
waiting for the next stage to take its output."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager


class StageWaits:
    """Seconds per stage and per kind of wait, measured on the threads themselves."""

    def __init__(self) -> None:
        self._seconds: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()

    def start(self, stage: str) -> None:
        """The stage's thread starts now."""
        with self._lock:
            self._started[stage] = time.perf_counter()

    @contextmanager
    def waiting(self, stage: str, kind: str) -> Iterator[None]:
        """Count the block's time as `stage` waiting for `kind` (input, output)."""
        began = time.perf_counter()
        try:
            yield
        finally:
            with self._lock:
                self._seconds[stage][kind] += time.perf_counter() - began

    def report(self) -> dict[str, dict[str, float]]:
        """Per stage: seconds waiting for input, for output, and working (the rest)."""
        now = time.perf_counter()
        with self._lock:
            out = {}
            for stage, began in self._started.items():
                waited = dict(self._seconds[stage])
                total = now - began
                out[stage] = {
                    "input_s": round(waited.get("input", 0.0), 2),
                    "output_s": round(waited.get("output", 0.0), 2),
                    "busy_s": round(max(total - sum(waited.values()), 0.0), 2),
                }
            return out
