"""The engines the studio's dubs and demos run with, loaded once per choice and kept."""

from __future__ import annotations

import threading
from collections import OrderedDict

from dubber.engines.bundle import EngineChoice, Engines
from dubber.engines.load import load_engines
from dubber.settings import RuntimeOptions
from dubber.store.store import Store

KEPT = 3  # sets of engines kept loaded (a dub's, a re-dub's, the real-time demo's)


class EngineCache:
    """`get(choice)` loads the engines a choice asks for, or returns those already loaded for
    it (or for the voices it names); the least recently used set goes when KEPT are loaded."""

    def __init__(self, store: Store, runtime: RuntimeOptions) -> None:
        self.store, self.runtime = store, runtime
        self._loaded: OrderedDict[EngineChoice, Engines] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, choice: EngineChoice, check_language: bool = False) -> Engines:
        """Engines for `choice` (one load at a time)."""
        with self._lock:
            if choice in self._loaded:
                self._loaded.move_to_end(choice)
                return self._loaded[choice]
            engines = load_engines(self.store, self.runtime, choice, check_language=check_language)
            self._loaded[choice] = engines
            while len(self._loaded) > KEPT:
                self._loaded.popitem(last=False)
            return engines

    def speaking(self, voices: str, choice: EngineChoice) -> Engines:
        """Loaded engines whose voices are `voices` (a document's `voice`), else `choice`'s."""
        with self._lock:
            for key, engines in reversed(self._loaded.items()):
                if engines.voices.describe() == voices and key.purpose == choice.purpose:
                    self._loaded.move_to_end(key)
                    return engines
        return self.get(choice)
