"""Refusing speech that is clearly not in the language a command translates from."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from dubber.engines.protocols import Recognizer
from dubber.errors import UsageError
from dubber.media.decode import AUDIO_RATE

log = logging.getLogger(__name__)

CHECK_SECONDS = 30
CHECK_CONFIDENCE = 0.6


class LanguageCheck:
    """A multilingual recogniser that tells the spoken language, loaded when first needed."""

    def __init__(
        self,
        detector: Recognizer | None = None,
        find: Callable[[], Recognizer | None] | None = None,
    ) -> None:
        self._detector, self._find = detector, find

    def __call__(self, audio: np.ndarray, what: str, expected: str) -> None:
        """Raise UsageError when `audio` is confidently in another language than `expected`."""
        if self._detector is None and self._find is not None:
            self._detector, self._find = self._find(), None
        if self._detector is None:
            log.info("no multilingual Whisper model installed: spoken language not checked")
            return
        language, probability = self._detector.detect_language(audio[: CHECK_SECONDS * AUDIO_RATE])
        if language != expected and probability >= CHECK_CONFIDENCE:
            raise UsageError(
                f"{what}: the speech is in '{language}' (p={probability:.2f}), not '{expected}';"
                f" dubber translates speech in '{expected}'"
            )
