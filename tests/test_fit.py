"""Timing decisions on a real voice (espeak-ng: fast and deterministic)."""

from __future__ import annotations

import numpy as np
import pytest

from dubber.chain.fit import DurationModel, FitRules, choose_hypothesis, first_rate, fit_speech
from dubber.engines.espeak import EspeakSynthesizer
from dubber.engines.types import Hypothesis
from dubber.media.dsp import time_stretch
from dubber.media.mix import GAIN_RATE, Background, DubTrack, MixRules, duck_gain

SENTENCE = (
    "El presidente anunció esta tarde un nuevo plan de inversiones para las carreteras del país."
)


@pytest.fixture(scope="module")
def voice() -> EspeakSynthesizer:
    return EspeakSynthesizer("es")


@pytest.fixture(scope="module")
def durations(voice) -> DurationModel:
    return DurationModel.calibrate(voice)


def test_duration_model_predicts_the_voice_within_a_fifth(voice, durations):
    for text in ("Hola a todos.", SENTENCE, SENTENCE + " " + SENTENCE):
        actual = voice.synthesize(text).duration
        assert durations.predict(text) == pytest.approx(actual, rel=0.2)


def test_choose_hypothesis_prefers_the_adequate_one_that_fits(durations):
    long = Hypothesis(SENTENCE, -0.10)
    short = Hypothesis("El presidente anunció un plan de carreteras.", -0.25)
    poor = Hypothesis("Plan.", -2.0)
    slot = durations.predict(short.text) * 1.05
    assert choose_hypothesis([long, short, poor], slot, durations.predict) == short
    assert choose_hypothesis([long, short, poor], 60.0, durations.predict) == long


def test_short_lines_keep_natural_speed(voice):
    natural = voice.synthesize("Buenas noches.").duration
    fitted = fit_speech(
        "Buenas noches.", voice, slot=natural * 2, window=natural * 3, stretch=time_stretch
    )
    assert (fitted.fit, fitted.rate, fitted.stretch) == ("natural", 1.0, 1.0)
    assert fitted.duration == pytest.approx(natural, abs=0.01)


@pytest.mark.parametrize(
    ("slot_share", "window_share", "expected"),
    [
        (0.92, 0.92, "rate"),
        (0.6, 0.95, "borrowed"),
        (0.5, 0.7, "stretched"),
        (0.3, 0.4, "overflow"),
    ],
)
def test_remedies_apply_in_order_and_never_pass_the_window(
    voice, slot_share, window_share, expected
):
    rules = FitRules()
    natural = voice.synthesize(SENTENCE).duration
    slot, window = natural * slot_share, natural * window_share
    fitted = fit_speech(SENTENCE, voice, slot, window, time_stretch, rules)
    assert fitted.fit == expected
    assert fitted.duration <= window + 1e-3
    assert 1.0 <= fitted.rate <= rules.max_rate
    assert 1.0 <= fitted.stretch <= rules.max_stretch
    if expected in ("rate", "borrowed"):
        assert fitted.stretch == 1.0


def test_a_line_timed_as_instantaneous_still_fits_up_to_its_window(voice):
    # Whisper sometimes gives a one-word line the same start and end time.
    assert first_rate(0.6, 0.0) == FitRules().max_rate
    fitted = fit_speech("Sí.", voice, 0.0, 0.4, time_stretch, FitRules(), predicted=0.6)
    assert fitted.duration <= 0.4 + 1e-3 and fitted.rate == FitRules().max_rate


def test_first_rate_keeps_natural_speed_unless_the_line_is_predicted_long():
    rules = FitRules(max_rate=1.2)
    assert first_rate(predicted=2.0, slot=3.0, rules=rules) == 1.0
    assert first_rate(predicted=3.1, slot=3.0, rules=rules) == 1.0
    assert 1.0 < first_rate(predicted=3.3, slot=3.0, rules=rules) < 1.2
    assert first_rate(predicted=9.0, slot=3.0, rules=rules) == 1.2


def test_ducking_ramps_down_before_speech_and_back_up_after():
    rules = MixRules(duck_db=-20.0, ramp=0.2)
    gain = duck_gain([(1.0, 2.0)], 3.0, rules)
    at = lambda seconds: gain[int(seconds * GAIN_RATE)]  # noqa: E731
    assert at(0.5) == pytest.approx(1.0)
    assert gain[GAIN_RATE : 2 * GAIN_RATE].max() == pytest.approx(0.1, rel=0.05)
    assert at(2.6) == pytest.approx(1.0)
    assert np.all(np.abs(np.diff(gain)) < 0.02), "gain changes smoothly"


def test_keep_and_none_backgrounds():
    assert np.all(duck_gain([(1.0, 2.0)], 3.0, MixRules(Background.keep)) == 1.0)
    assert np.all(duck_gain([(1.0, 2.0)], 3.0, MixRules(Background.none)) == 0.0)


def test_dub_track_places_clips_on_disk(tmp_path):
    track = DubTrack(tmp_path / "dub.f32", duration=2.0, sample_rate=1000)
    track.add(0.5, np.full(300, 0.25, np.float32))
    track.add(1.9, np.full(300, 0.5, np.float32))  # runs past the end: cut
    audio = track.close()
    samples = np.fromfile(audio.path, dtype="<f4")
    assert len(samples) == 2000 and audio.sample_rate == 1000
    assert samples[499] == 0 and samples[500] == 0.25 and samples[799] == 0.25 and samples[800] == 0
    assert samples[-1] == 0.5
