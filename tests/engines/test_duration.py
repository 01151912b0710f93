"""How long a voice takes to say a text: the model fitted on a real voice, and its cache."""

from __future__ import annotations

import pytest

from dubber.engines.duration import DurationModel, calibrated
from dubber.engines.espeak import EspeakSynthesizer
from dubber.engines.protocols import synthesize_all
from dubber.engines.voice import Voice

SENTENCE = (
    "El presidente anunció esta tarde un nuevo plan de inversiones para las carreteras del país."
)


@pytest.fixture(scope="module")
def voice() -> EspeakSynthesizer:
    return EspeakSynthesizer("es")


def test_duration_model_predicts_the_voice_within_a_fifth(voice):
    durations = DurationModel.calibrate(voice)
    for text in ("Hola a todos.", SENTENCE, SENTENCE + " " + SENTENCE):
        actual = synthesize_all(voice, text).duration
        assert durations.predict(text) == pytest.approx(actual, rel=0.2)


def test_a_damaged_calibration_is_measured_again(voice, tmp_path, caplog):
    synthesizer = voice
    voice = Voice("espeak", "es")
    first = calibrated(synthesizer, voice, tmp_path)
    (saved,) = tmp_path.iterdir()
    saved.write_text('{"seconds_per_letter": 0.06, "seconds_per', encoding="utf-8")
    again = calibrated(synthesizer, voice, tmp_path)
    assert again == first and "damaged" in caplog.text
    assert calibrated(synthesizer, voice, tmp_path) == first
