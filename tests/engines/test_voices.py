"""Choosing a male or a female voice by the speaker's pitch (two real espeak-ng voices)."""

from __future__ import annotations

import pytest

from dubber.engines.duration import calibrated
from dubber.engines.espeak import EspeakSynthesizer
from dubber.engines.voice import Gender, Voice
from dubber.engines.voices import VoiceBank, VoiceChoice
from dubber.errors import UsageError

LOW, HIGH = Voice("espeak-low"), Voice("espeak-high")


@pytest.fixture(scope="module")
def bank(tmp_path_factory) -> VoiceBank:
    folder = tmp_path_factory.mktemp("calibration")

    def choice(voice: Voice, pitch: int) -> VoiceChoice:
        synthesizer = EspeakSynthesizer("es", pitch=pitch)
        return VoiceChoice(voice, synthesizer, calibrated(synthesizer, voice, folder))

    return VoiceBank({Gender.male: choice(LOW, 35), Gender.female: choice(HIGH, 70)})


def test_clear_pitches_choose_by_gender(bank):
    assert bank.for_pitch(110.0).voice == LOW
    assert bank.for_pitch(220.0).voice == HIGH
    assert bank.for_pitch(220.0, previous=LOW).voice == HIGH


def test_a_speaker_near_the_boundary_keeps_one_voice(bank):
    """Lines wandering around 165 Hz keep the voice they have; a clear change switches."""
    chosen, previous = [], None
    for pitch in (150.0, 170.0, 158.0, 172.0, None, 200.0, 160.0, 168.0, 140.0):
        previous = bank.for_pitch(pitch, previous).voice
        chosen.append(previous)
    assert chosen == [LOW, LOW, LOW, LOW, LOW, HIGH, HIGH, HIGH, LOW]


def test_voices_are_found_by_the_id_a_document_records(bank):
    choice = bank.by_voice(HIGH)
    assert choice is not None and choice.voice == HIGH and choice.predict("Hola a todos.") > 0.3
    assert bank.by_voice(Voice("kokoro-82m-offline", "jm_kumo")) is None
    assert bank.describe() == "female=espeak-high,male=espeak-low"
    assert bank.matches_pitch


def test_voice_ids_parse_and_print_and_read_kokoro_genders():
    voice = Voice.parse("kokoro-82m-offline:jm_kumo")
    assert (
        voice == Voice("kokoro-82m-offline", "jm_kumo")
        and str(voice) == "kokoro-82m-offline:jm_kumo"
    )
    assert Voice.parse("piper-es_ES-davefx-medium").style is None
    assert voice.gender is Gender.male and Voice("kokoro", "ef_dora").gender is Gender.female
    assert Voice("piper-en_US-joe-medium").gender is None
    for bad in ("", ":jm_kumo", "kokoro:"):
        with pytest.raises(UsageError, match="is not a voice id"):
            Voice.parse(bad)
