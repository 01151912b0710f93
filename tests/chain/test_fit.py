"""Timing decisions on a real voice (espeak-ng: fast and deterministic): the predicted length,
the candidate that fits, the remedies in order, and the speak step's first take."""

from __future__ import annotations

import pytest

from dubber.chain.fit import FitOutcome, FitRules, choose_hypothesis, first_rate, fit_speech
from dubber.chain.line import Line
from dubber.chain.speak import Speaker
from dubber.dub.work import WorkFolder
from dubber.engines.duration import DurationModel
from dubber.engines.espeak import EspeakSynthesizer
from dubber.engines.protocols import synthesize_all
from dubber.engines.types import Hypothesis
from dubber.engines.voice import Voice
from dubber.engines.voices import VoiceBank

SENTENCE = (
    "El presidente anunció esta tarde un nuevo plan de inversiones para las carreteras del país."
)


@pytest.fixture(scope="module")
def voice() -> EspeakSynthesizer:
    return EspeakSynthesizer("es")


@pytest.fixture(scope="module")
def durations(voice) -> DurationModel:
    return DurationModel.calibrate(voice)


def test_choose_hypothesis_prefers_the_adequate_one_that_fits(durations):
    long = Hypothesis(SENTENCE, -0.10)
    short = Hypothesis("El presidente anunció un plan de carreteras.", -0.25)
    poor = Hypothesis("Plan.", -2.0)
    slot = durations.predict(short.text) * 1.05
    rules = FitRules()
    assert choose_hypothesis([long, short, poor], slot, durations.predict, rules) == short
    assert choose_hypothesis([long, short, poor], 60.0, durations.predict, rules) == long


def test_short_lines_keep_natural_speed(voice):
    natural = synthesize_all(voice, "Buenas noches.").duration
    fitted = fit_speech("Buenas noches.", voice, natural * 2, natural * 3, FitRules())
    assert (fitted.fit, fitted.rate, fitted.stretch) == (FitOutcome.natural, 1.0, 1.0)
    assert fitted.duration == pytest.approx(natural, abs=0.01)


@pytest.mark.parametrize(
    ("slot_share", "window_share", "expected"),
    [
        (0.92, 0.92, FitOutcome.rate),
        (0.6, 0.95, FitOutcome.borrowed),
        (0.5, 0.7, FitOutcome.stretched),
        (0.3, 0.4, FitOutcome.overflow),
    ],
)
def test_remedies_apply_in_order_and_never_pass_the_window(
    voice, slot_share, window_share, expected
):
    rules = FitRules()
    natural = synthesize_all(voice, SENTENCE).duration
    slot, window = natural * slot_share, natural * window_share
    fitted = fit_speech(SENTENCE, voice, slot, window, rules)
    assert fitted.fit is expected
    assert fitted.duration <= window + 1e-3
    assert 1.0 <= fitted.rate <= rules.max_rate
    assert 1.0 <= fitted.stretch <= rules.max_stretch
    if expected in (FitOutcome.rate, FitOutcome.borrowed):
        assert fitted.stretch == 1.0


def test_a_line_timed_as_instantaneous_still_fits_up_to_its_window(voice):
    # Whisper sometimes gives a one-word line the same start and end time.
    assert first_rate(0.6, 0.0, FitRules()) == FitRules().max_rate
    fitted = fit_speech("Sí.", voice, 0.0, 0.4, FitRules(), predicted=0.6)
    assert fitted.duration <= 0.4 + 1e-3 and fitted.rate == FitRules().max_rate


def test_first_rate_keeps_natural_speed_unless_the_line_is_predicted_long():
    rules = FitRules(max_rate=1.2)
    assert first_rate(predicted=2.0, slot=3.0, rules=rules) == 1.0
    assert first_rate(predicted=3.1, slot=3.0, rules=rules) == 1.0
    assert 1.0 < first_rate(predicted=3.3, slot=3.0, rules=rules) < 1.2
    assert first_rate(predicted=9.0, slot=3.0, rules=rules) == 1.2


@pytest.mark.parametrize("max_rate", [1.2, 1.5])
def test_the_first_take_is_the_take_fitting_tries_first_whatever_the_rules(
    voice, tmp_path, max_rate
):
    """A line spoken while recognition goes on is spoken at the rate fitting then tries first
    (under the user's --max-rate), so fitting finds it in the clip cache instead of speaking
    it again."""
    bank = VoiceBank.build(voice, Voice("espeak", "es"), False, tmp_path / "calibration")
    predicted = bank.for_pitch(None).predict(SENTENCE)
    media = tmp_path / "news.wav"
    media.write_bytes(b"RIFF")
    rules = FitRules(max_rate=max_rate)
    speaker = Speaker(bank, rules, cache=WorkFolder(tmp_path / "work", media))
    slot = predicted * 0.6  # needs more speed than either cap allows
    line = Line(0, 0.0, slot, "", hypotheses=[Hypothesis(SENTENCE, 0.0)])
    speaker.first_take(line)
    assert speaker.counts.synthesized == 1 and line.translation == SENTENCE
    speaker.fit(line, start=0.0, window=slot * 3, previous=None)
    assert speaker.counts.reused == 1, "fitting spoke the first take again"
    assert line.rate == max_rate
