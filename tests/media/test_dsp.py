"""Signal processing: pitch-preserving time-stretch (WSOLA) on a pure tone and on real
synthesized speech, pitch estimation, silence trimming and pauses between pieces."""

from __future__ import annotations

import numpy as np
import pytest

from dubber.engines.piper import PiperSynthesizer
from dubber.engines.protocols import synthesize_all
from dubber.measure.scores import word_error_rate
from dubber.media.decode import AUDIO_RATE, resample
from dubber.media.dsp import (
    estimate_pitch,
    join_with_pauses,
    rms_db,
    time_stretch,
    trim_silence,
    with_pauses,
)
from dubber.store.store import Store
from tests.helpers.models import recognizer

RATE = 22050
SENTENCE = "The hospital has followed protocol for infection control, separating the patients."


def tone(hz: float, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * RATE / len(samples))


@pytest.mark.parametrize("factor", [0.8, 1.1, 1.25])
def test_stretch_changes_length_but_not_pitch_or_level(factor):
    original = tone(220.0, 2.0)
    stretched = time_stretch(original, RATE, factor)
    assert len(stretched) == round(len(original) / factor)
    assert abs(dominant_hz(stretched) - 220.0) < 2.0
    # No dropouts or bumps where frames join: every 20 ms frame away from the ends keeps the level.
    frame = RATE // 50
    inner = stretched[frame : len(stretched) - frame]
    levels = [rms_db(inner[i : i + frame]) for i in range(0, len(inner) - frame, frame)]
    assert max(levels) - min(levels) < 1.5
    assert abs(np.mean(levels) - rms_db(original)) < 1.0


@pytest.mark.slow
def test_stretched_speech_stays_intelligible():
    store = Store()
    speech = synthesize_all(PiperSynthesizer(store.prepare("piper-en_US-joe-medium")), SENTENCE)
    faster = time_stretch(speech.samples, speech.sample_rate, 1.25)
    assert abs(len(faster) / speech.sample_rate - speech.duration / 1.25) < 0.01
    heard_audio = resample(faster, speech.sample_rate, AUDIO_RATE)
    segments, _ = recognizer("whisper-tiny.en").transcribe(heard_audio)
    heard = " ".join(s.text for s in segments)
    assert word_error_rate([SENTENCE], [heard]) <= 0.1


def test_no_stretch_returns_the_input():
    original = tone(220.0, 0.5)
    assert time_stretch(original, RATE, 1.0) is original
    assert time_stretch(original[:0], RATE, 1.2).size == 0


def test_trim_silence_keeps_the_sound_and_a_short_margin():
    rate = 24000
    tone = 0.5 * np.sin(np.arange(rate) * 2 * np.pi * 220 / rate).astype(np.float32)
    padded = np.concatenate([np.zeros(rate, np.float32), tone, np.zeros(rate // 2, np.float32)])
    trimmed = trim_silence(padded, rate)
    assert rate <= len(trimmed) <= rate + 0.05 * rate
    assert trim_silence(np.zeros(rate, np.float32), rate).size == 0


def test_pitch_of_a_tone_and_of_silence():
    assert estimate_pitch(tone(120.0, 1.0), RATE) == pytest.approx(120.0, rel=0.03)
    assert estimate_pitch(tone(220.0, 1.0), RATE) == pytest.approx(220.0, rel=0.03)
    assert estimate_pitch(np.zeros(RATE, np.float32), RATE) is None


def test_pieces_get_a_pause_after_each_but_the_last():
    pieces = [np.ones(3, np.float32), np.full(2, 2.0, np.float32), np.full(1, 3.0, np.float32)]
    spaced = list(with_pauses(iter(pieces), 2))
    assert [len(p) for p in spaced] == [5, 4, 1]
    assert spaced[0].tolist() == [1, 1, 1, 0, 0] and spaced[-1].tolist() == [3]
    assert np.concatenate(spaced).tolist() == join_with_pauses(pieces, 2).tolist()
    assert list(with_pauses(iter([]), 2)) == [] and join_with_pauses([], 2).size == 0
