"""Choosing a male or a female voice by the speaker's pitch (two real espeak-ng voices)."""

from __future__ import annotations

import pytest

from dubber.engines.espeak import EspeakSynthesizer
from dubber.engines.voices import VoiceBank, style_gender


@pytest.fixture(scope="module")
def bank(tmp_path_factory) -> VoiceBank:
    voices = {
        "male": (EspeakSynthesizer("es", pitch=35), "espeak-low"),
        "female": (EspeakSynthesizer("es", pitch=70), "espeak-high"),
    }
    return VoiceBank(voices, tmp_path_factory.mktemp("calibration"))


def test_clear_pitches_choose_by_gender(bank):
    assert bank.for_pitch(110.0)[1] == "espeak-low"
    assert bank.for_pitch(220.0)[1] == "espeak-high"
    assert bank.for_pitch(220.0, previous="espeak-low")[1] == "espeak-high"


def test_a_speaker_near_the_boundary_keeps_one_voice(bank):
    """Lines wandering around 165 Hz keep the voice they have; a clear change switches."""
    chosen, previous = [], None
    for pitch in (150.0, 170.0, 158.0, 172.0, None, 200.0, 160.0, 168.0, 140.0):
        previous = bank.for_pitch(pitch, previous)[1]
        chosen.append(previous)
    low, high = "espeak-low", "espeak-high"
    assert chosen == [low, low, low, low, low, high, high, high, low]


def test_voices_are_found_by_the_id_a_document_records(bank):
    synthesizer, voice_id, predict = bank.by_id("espeak-high")
    assert voice_id == "espeak-high" and predict("Hola a todos.") > 0.3
    assert bank.by_id("kokoro-82m-offline:jm_kumo") is None
    assert bank.describe() == "female=espeak-high,male=espeak-low"


def test_style_gender_reads_kokoro_names():
    assert style_gender("jm_kumo") == "male" and style_gender("ef_dora") == "female"
    assert style_gender("davefx") is None
