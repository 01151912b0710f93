"""The input's clock: every live time is seconds on it, whatever the playback speed; the stages
running on it wait on its queues."""

from __future__ import annotations

import queue
import time


class StreamClock:
    """Seconds on the input's clock: wall time since `start()`, times the playback speed."""

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = speed
        self._origin: float | None = None

    def start(self) -> None:
        """Make now the input's time zero."""
        self._origin = time.monotonic()

    def now(self) -> float:
        """The input's time now (0 before `start`)."""
        return 0.0 if self._origin is None else (time.monotonic() - self._origin) * self.speed

    def queue(self, maxsize: int) -> queue.Queue:
        """A queue for the stages that run on this clock to wait on."""
        return queue.Queue(maxsize)

    def sleep_until(self, input_seconds: float) -> None:
        """Wait until the input's clock reaches `input_seconds`."""
        delay = (input_seconds - self.now()) / self.speed
        if delay > 0:
            time.sleep(delay)
