"""The plumbing between a live session's stage threads: bounded queues on the session's clock
(back-pressure on put, a put that gives up when full, gets that end when the session aborts),
the deepest each queue got, and the threads run until every stage has ended."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from enum import Enum

from dubber.live.clock import StreamClock
from dubber.live.waits import StageWaits

log = logging.getLogger(__name__)

DONE = None  # the end-of-stream marker each stage passes down its queue
CAPTURE_QUEUE = 64  # audio chunks (32 ms each) the endpointer may fall behind by
POLL_S = 0.1  # how often a waiting stage looks whether the session aborts


class Queue(str, Enum):
    """The queues between the session's stages, named after the stage that reads them."""

    capture = "capture"  # audio chunks for the endpointer
    asr = "asr"  # utterance events for recognition
    mt = "mt"  # lines for translation
    tts = "tts"  # translated lines for speech
    output = "output"  # speech pieces for playback


class StageQueues:
    """The queues of one run; what a stage waits for (input or output) goes to `waits`."""

    def __init__(self, clock: StreamClock, size: int, waits: StageWaits) -> None:
        self._queues = {
            name: clock.queue(size if name is not Queue.capture else CAPTURE_QUEUE)
            for name in Queue
        }
        self.waits = waits
        self.aborted = threading.Event()
        self.peak: dict[Queue, int] = {}

    def put(self, name: Queue, item: object) -> None:
        """Put, waiting while the queue is full (back-pressure) unless the run aborts."""
        with self.waits.waiting(threading.current_thread().name, "output"):
            while not self.aborted.is_set():
                try:
                    self._queues[name].put(item, timeout=POLL_S)
                except queue.Full:
                    continue
                self._note_size(name)
                return

    def offer(self, name: Queue, item: object) -> bool:
        """Put without waiting; False when the queue is full."""
        try:
            self._queues[name].put_nowait(item)
        except queue.Full:
            return False
        self._note_size(name)
        return True

    def get(self, name: Queue) -> object:
        """The next item, waiting for it; DONE when the run aborts."""
        with self.waits.waiting(threading.current_thread().name, "input"):
            while not self.aborted.is_set():
                try:
                    return self._queues[name].get(timeout=POLL_S)
                except queue.Empty:
                    continue
            return DONE

    def take_waiting(self, name: Queue) -> list[object]:
        """Whatever else is waiting in the queue now, without waiting for more."""
        taken = []
        while True:
            try:
                taken.append(self._queues[name].get_nowait())
            except queue.Empty:
                return taken

    def empty(self, name: Queue) -> bool:
        return self._queues[name].empty()

    def peek(self, name: Queue) -> list[object]:
        """The items waiting in the queue (left there)."""
        waiting = self._queues[name]
        with waiting.mutex:
            return [item for item in waiting.queue if item is not DONE]

    def _note_size(self, name: Queue) -> None:
        self.peak[name] = max(self.peak.get(name, 0), self._queues[name].qsize())


def run_stages(
    stages: Sequence[tuple[str, Callable[[], None]]],
    guard: Callable[[str, Callable[[], None]], None],
    on_interrupt: Callable[[], None],
) -> None:
    """Run each stage in its own thread (named after it, through `guard`) until all end; on
    Ctrl-C, `on_interrupt` asks them to finish and they are waited for."""
    threads = [
        threading.Thread(target=guard, args=(name, work), name=name, daemon=True)
        for name, work in stages
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except KeyboardInterrupt:
        log.warning("stopping: finishing the lines already heard")
        on_interrupt()
        for thread in threads:
            thread.join()
