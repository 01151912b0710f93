"""Endpointing with Silero VAD on real speech: passes while a line goes on, and long speech cut."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dubber.live.config import LiveConfig
from dubber.live.endpoint import Endpointer, Partial, SileroStream
from dubber.media.decode import AUDIO_RATE
from tests.helpers.media import speech_with_pauses

CLIPS = ["cmuarctic_aew_a0003.wav", "librispeech_1089-134686-0001.wav", "fleurs_en_004.wav"]


@pytest.fixture(scope="module")
def two_sentences(shared_data: Path) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Two sentences 0.4 s apart: one utterance under a 1.2 s endpointing pause."""
    names = ("cmuarctic_aew_a0003.wav", "cmuarctic_axb_a0006.wav")
    return speech_with_pauses([shared_data / "asr" / name for name in names], 0.4)


def test_a_hurried_endpointer_sends_passes_twice_as_often(two_sentences):
    speech, _ = two_sentences
    passes = {}
    for hurry in (False, True):
        endpointer = Endpointer(LiveConfig(pause_ms=1200), SileroStream())
        endpointer.hurry = hurry
        events = endpointer.feed(speech, 0.0)
        passes[hurry] = sum(isinstance(e, Partial) and not e.speculative for e in events)
    assert passes[True] >= 2 * passes[False] - 1 and passes[False] >= 2


def test_long_speech_is_cut_before_the_maximum_length(shared_data):
    audio, _ = speech_with_pauses([shared_data / "asr" / c for c in CLIPS])
    joined = np.concatenate([audio[AUDIO_RATE:], audio[AUDIO_RATE:]])  # speech with 1.5 s pauses
    endpointer = Endpointer(LiveConfig(pause_ms=2000, max_utterance_s=5.0), SileroStream())
    finals = [e for e in endpointer.feed(joined, 0.0) if not hasattr(e, "speculative")]
    finals += endpointer.flush(0.0)
    assert len(finals) >= 3
    assert all(len(f.audio) <= 5.0 * AUDIO_RATE for f in finals)
    pairs = zip(finals, finals[1:], strict=False)
    assert all(a.start + len(a.audio) <= b.start for a, b in pairs)  # no audio twice
