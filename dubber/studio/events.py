"""Events from the studio's worker threads (dub progress, live captions and audio) to every
page that listens, as server-sent events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

SUBSCRIBER_BACKLOG = 2000  # events a slow page may fall behind by before it is dropped
HEARTBEAT_S = 15.0


class EventHub:
    """Fan-out of events, published from any thread, to the asyncio queues of subscribers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[asyncio.Queue, asyncio.AbstractEventLoop] = {}
        self._closed = False

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Send `data` as an event named `kind` to every subscriber; a subscriber too far
        behind is dropped (its page reconnects and reloads what it shows)."""
        message = f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
        with self._lock:
            subscribers = list(self._subscribers.items())
        for subscriber, loop in subscribers:
            with contextlib.suppress(RuntimeError):  # its loop has closed: the server stopped
                loop.call_soon_threadsafe(self._deliver, subscriber, message)

    def _deliver(self, subscriber: asyncio.Queue, message: str | None) -> None:
        try:
            subscriber.put_nowait(message)
        except asyncio.QueueFull:
            self._drop(subscriber)
            subscriber.get_nowait()
            subscriber.put_nowait(None)

    def _drop(self, subscriber: asyncio.Queue) -> None:
        with self._lock:
            self._subscribers.pop(subscriber, None)

    def close(self) -> None:
        """End every stream, and any opened later (the server is stopping)."""
        with self._lock:
            self._closed = True
            subscribers = list(self._subscribers.items())
        for subscriber, loop in subscribers:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._deliver, subscriber, None)

    async def stream(self) -> AsyncIterator[str]:
        """Server-sent events for one page until it goes or the hub closes; a comment line now
        and then keeps idle connections open."""
        subscriber: asyncio.Queue = asyncio.Queue(SUBSCRIBER_BACKLOG)
        with self._lock:
            if self._closed:
                return
            self._subscribers[subscriber] = asyncio.get_running_loop()
        try:
            yield ": connected\n\n"
            while True:
                try:
                    message = await asyncio.wait_for(subscriber.get(), HEARTBEAT_S)
                except asyncio.TimeoutError:
                    yield ": heartbeat\n\n"
                    continue
                if message is None:
                    return
                yield message
        finally:
            self._drop(subscriber)
