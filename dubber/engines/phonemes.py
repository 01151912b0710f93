"""Text to IPA phonemes with espeak-ng, in-process through the copy that Piper bundles."""

from __future__ import annotations

import functools
import re
import threading

from dubber.errors import DubberError, UsageError

# espeak-ng keeps one global voice per process: whoever sets a voice and phonemises (this module,
# Piper's own phonemiser) holds this lock for the pair.
ESPEAK_LOCK = threading.Lock()
_LANGUAGE_FLAGS = re.compile(r"\([^)]*\)")


@functools.cache
def _bridge():  # noqa: ANN202 - piper.espeakbridge, a compiled module without stubs
    """Load and initialise espeak-ng once (with Piper's bundled espeak-ng-data)."""
    from piper import espeakbridge
    from piper.phonemize_espeak import ESPEAK_DATA_DIR

    espeakbridge.initialize(str(ESPEAK_DATA_DIR))
    return espeakbridge


def phonemize(text: str, voice: str = "es") -> list[str]:
    """IPA phonemes of `text`, one string per sentence, for an espeak-ng voice ("es", "en-us").

    Stress marks are kept; clause punctuation (",", ":", ";") and sentence punctuation are kept
    after their clause; espeak's language-switch flags such as "(en)" are removed.
    """
    bridge = _bridge()
    with ESPEAK_LOCK:
        try:
            bridge.set_voice(voice)
        except RuntimeError:
            raise DubberError(
                f"espeak-ng has no voice '{voice}': use a language code such as es, es-419 or en-us"
            ) from None
        clauses = bridge.get_phonemes(text)
    sentences: list[str] = []
    current = ""
    for phonemes, terminator, end_of_sentence in clauses:
        current += _LANGUAGE_FLAGS.sub("", phonemes) + terminator
        if terminator in (",", ":", ";"):
            current += " "
        if end_of_sentence:
            sentences.append(current.strip())
            current = ""
    sentences.append(current.strip())
    return [sentence for sentence in sentences if sentence]


def check_request(text: str, rate: float) -> str:
    """Validate a synthesis request: the text stripped, or a DubberError saying what is wrong."""
    if not text.strip():
        raise UsageError("nothing to speak: the text is empty")
    if not any(character.isalnum() for character in text):
        raise UsageError(f"nothing to speak: '{text.strip()[:40]}' has no words")
    if not rate > 0:
        raise DubberError(f"speaking rate must be a positive factor such as 1.2, not {rate}")
    return text.strip()
