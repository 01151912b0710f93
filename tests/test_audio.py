"""Pitch-preserving time-stretch (WSOLA) on a pure tone and on real synthesized speech."""

from __future__ import annotations

import numpy as np
import pytest

from dubber.engines.piper import PiperSynthesizer
from dubber.engines.whisper import WhisperRecognizer
from dubber.measure.scores import word_error_rate
from dubber.media.dsp import resample, rms_db, time_stretch
from dubber.settings import RuntimeOptions
from dubber.store.store import Store

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


def test_stretched_speech_stays_intelligible():
    store = Store()
    speech = PiperSynthesizer(store.path("piper-en_US-joe-medium")).synthesize(SENTENCE)
    faster = time_stretch(speech.samples, speech.sample_rate, 1.25)
    assert abs(len(faster) / speech.sample_rate - speech.duration / 1.25) < 0.01
    listener = WhisperRecognizer(store.path("whisper-tiny.en"), RuntimeOptions(threads=2))
    segments, _ = listener.transcribe(resample(faster, speech.sample_rate, 16000))
    heard = " ".join(s.text for s in segments)
    assert word_error_rate([SENTENCE], [heard]) <= 0.1


def test_no_stretch_returns_the_input():
    original = tone(220.0, 0.5)
    assert time_stretch(original, RATE, 1.0) is original
    assert time_stretch(original[:0], RATE, 1.2).size == 0
