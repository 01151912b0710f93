"""Timing: predict spoken length, pick the translation that fits, and fit speech into its slot.

Order of remedies for speech longer than its slot: the voice's own speaking rate (re-synthesis,
bounded), then the silence before the next utterance, then pitch-preserving time-stretch up to a
cap. Short lines keep their natural speed. Nothing is placed over the next utterance: what still
does not fit is cut with a short fade and reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from dubber.engines.types import Hypothesis, Synthesizer

STRETCH_TOLERANCE = 0.05  # seconds a stretched clip may run over (rounding in the stretch)
RATE_ATTEMPTS = 2  # re-syntheses at a faster rate before other remedies
# Piper and Kokoro speak 1.3x "faster" only about 1.19x faster (measured): ask for need ** 1.5.
RATE_RESPONSE = 1.5
PREDICTION_SLACK = 0.05  # a line predicted up to 5 % over its slot is first tried at rate 1
MIN_SLOT = 0.05  # seconds: a line whose words Whisper timed as instantaneous still has a slot
_LETTERS = re.compile(r"[^\W_]", re.UNICODE)
_PAUSES = re.compile(r"[,;:.!?…]")
CALIBRATION_TEXTS = (
    "Buenas noches.",
    "El equipo local ganó el partido por dos goles a uno en el último minuto.",
    "Según el informe publicado hoy, la economía creció un tres por ciento durante el último "
    "trimestre, impulsada por las exportaciones y el turismo.",
)


@dataclass(frozen=True)
class DurationModel:
    """Spoken seconds of a text at rate 1 for one voice: a fit on letters and pauses."""

    seconds_per_letter: float
    seconds_per_pause: float
    offset: float

    def predict(self, text: str, rate: float = 1.0) -> float:
        """Predicted duration of `text` spoken at `rate`."""
        letters = len(_LETTERS.findall(text))
        pauses = len(_PAUSES.findall(text.rstrip(".!?…")))
        seconds = self.offset + letters * self.seconds_per_letter + pauses * self.seconds_per_pause
        return max(seconds, 0.0) / rate

    @classmethod
    def calibrate(
        cls, synthesizer: Synthesizer, texts: Sequence[str] = CALIBRATION_TEXTS
    ) -> DurationModel:
        """Measure the voice on a few sentences and fit the model by least squares."""
        rows, durations = [], []
        for text in texts:
            rows.append([len(_LETTERS.findall(text)), len(_PAUSES.findall(text.rstrip(".!?…"))), 1])
            durations.append(synthesizer.synthesize(text).duration)
        solution, *_ = np.linalg.lstsq(np.array(rows, float), np.array(durations), rcond=None)
        per_letter, per_pause, offset = (float(v) for v in solution)
        return cls(max(per_letter, 1e-3), max(per_pause, 0.0), offset)


@dataclass(frozen=True)
class FitRules:
    """Limits on how far speech may be sped up, and the gap kept before the next utterance."""

    max_rate: float = 1.2
    max_stretch: float = 1.25
    score_margin: float = 0.3
    gap: float = 0.1


def choose_hypothesis(
    hypotheses: Sequence[Hypothesis],
    slot: float,
    predict: Callable[[str], float],
    rules: FitRules = FitRules(),
) -> Hypothesis:
    """Among adequate hypotheses, the one whose predicted length fits the slot best.

    Adequate: a per-word score within `score_margin` of the best. Running over the slot costs
    four times more than leaving it short, since short lines simply keep natural speed.
    """
    best = max(hypotheses, key=lambda h: h.score)
    adequate = [h for h in hypotheses if h.score >= best.score - rules.score_margin]

    def cost(hypothesis: Hypothesis) -> tuple[float, float]:
        over = predict(hypothesis.text) - slot
        return (4 * over if over > 0 else -0.5 * over, -hypothesis.score)

    return min(adequate, key=cost)


@dataclass(frozen=True)
class Fitted:
    """Speech ready to place, and how it was made to fit."""

    samples: np.ndarray
    sample_rate: int
    rate: float
    stretch: float
    fit: str

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate


def first_rate(predicted: float, slot: float, rules: FitRules = FitRules()) -> float:
    """The speaking rate to try first: 1 when the line is predicted to fit, else the rate that
    should make it fit (voices follow a rate change only partly: ~RATE_RESPONSE), capped."""
    slot = max(slot, MIN_SLOT)
    if predicted <= slot * (1 + PREDICTION_SLACK):
        return 1.0
    return round(min((predicted / slot) ** RATE_RESPONSE, rules.max_rate), 3)


def fit_speech(
    text: str,
    synthesizer: Synthesizer,
    slot: float,
    window: float,
    stretch: Callable[[np.ndarray, int, float], np.ndarray],
    rules: FitRules = FitRules(),
    predicted: float = 0.0,
) -> Fitted:
    """Synthesize `text` so that it fits `slot` seconds, or at most `window` (up to the next line).

    The first take uses the rate the `predicted` duration (at rate 1) calls for; later takes
    correct the rate by the duration measured.
    """
    slot = max(slot, MIN_SLOT)
    rate = first_rate(predicted, slot, rules)
    speech = synthesizer.synthesize(text, rate=rate)
    fit = "natural" if rate == 1.0 else "rate"
    for _ in range(RATE_ATTEMPTS):
        if speech.duration <= slot or rate >= rules.max_rate:
            break
        rate = round(min(rate * (speech.duration / slot) ** RATE_RESPONSE, rules.max_rate), 3)
        speech = synthesizer.synthesize(text, rate=rate)
        fit = "rate"
    samples, factor = speech.samples, 1.0
    if speech.duration > slot:
        fit = "borrowed" if speech.duration <= window else "stretched"
    if speech.duration > window:
        factor = min(speech.duration / window, rules.max_stretch)
        samples = stretch(samples, speech.sample_rate, factor)
    limit = int(window * speech.sample_rate)
    if len(samples) > limit:
        excess = (len(samples) - limit) / speech.sample_rate
        samples = _cut_with_fade(samples, limit, speech.sample_rate)
        if excess > STRETCH_TOLERANCE:
            fit = "overflow"
    return Fitted(samples, speech.sample_rate, rate, factor, fit)


def _cut_with_fade(samples: np.ndarray, length: int, sample_rate: int) -> np.ndarray:
    cut = samples[:length].copy()
    fade = min(len(cut), int(0.05 * sample_rate))
    if fade:
        cut[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return cut
