"""The speak step: each line gets its voice (by the speaker's pitch), the translation that fits
its slot, and its speech; dub, live, the server and eval all speak through it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from dubber.chain.fit import FitRules, Fitted, choose_hypothesis, first_rate, fit_speech
from dubber.chain.line import Line, LineStage
from dubber.engines.protocols import Synthesizer, synthesize_all
from dubber.engines.types import Speech
from dubber.engines.voice import Voice
from dubber.engines.voices import VoiceBank, VoiceChoice
from dubber.media.decode import AUDIO_RATE
from dubber.media.dsp import estimate_pitch
from dubber.text import speech_pieces, syllables


def measure_pitch(line: Line, audio: np.ndarray, offset: float = 0.0) -> None:
    """Set the line's median pitch from `audio` (16 kHz, starting at `offset` seconds)."""
    begin, end = (round((t - offset) * AUDIO_RATE) for t in (line.start, line.end))
    line.pitch_hz = estimate_pitch(audio[max(begin, 0) : end], AUDIO_RATE)


class ClipCache(Protocol):
    """Where synthesised clips are kept between runs (the dub's work folder)."""

    def load(self, key: str) -> np.ndarray | None:
        """The samples saved under `key`, if any."""
        ...

    def save(self, key: str, samples: np.ndarray) -> None:
        """Keep `samples` under `key`."""
        ...


@dataclass
class SpeechCounts:
    """Clips made by a voice and clips found in the cache."""

    synthesized: int = 0
    reused: int = 0


class CachedSynthesizer:
    """A voice whose whole clips are kept in a cache, keyed by voice, rate and text."""

    def __init__(
        self, synthesizer: Synthesizer, voice: Voice, cache: ClipCache, counts: SpeechCounts
    ) -> None:
        self._synthesizer, self._voice = synthesizer, voice
        self._cache, self._counts = cache, counts
        self.name, self.language = synthesizer.name, synthesizer.language
        self.sample_rate, self.style = synthesizer.sample_rate, synthesizer.style
        self.styles = synthesizer.styles

    def with_style(self, style: str) -> CachedSynthesizer:
        styled = self._synthesizer.with_style(style)
        return CachedSynthesizer(styled, self._voice.with_style(style), self._cache, self._counts)

    def synthesize(self, text: str, *, rate: float = 1.0) -> Iterator[Speech]:
        """The cached clip, or the voice's pieces joined and cached."""
        key = hashlib.sha256(f"{self._voice}|{rate:.3f}|{text}".encode()).hexdigest()[:24]
        if (samples := self._cache.load(key)) is not None:
            self._counts.reused += 1
            yield Speech(samples, self.sample_rate)
            return
        speech = synthesize_all(self._synthesizer, text, rate=rate)
        self._cache.save(key, speech.samples)
        self._counts.synthesized += 1
        yield speech


class Speaker:
    """Chooses each line's voice and translation and speaks it, within the fitting rules."""

    def __init__(self, voices: VoiceBank, rules: FitRules, cache: ClipCache | None = None) -> None:
        self.voices, self.rules, self.cache = voices, rules, cache
        self.counts = SpeechCounts()

    def prepare(self, line: Line, previous: Voice | None = None) -> VoiceChoice:
        """Give the line its voice (the one it has, else by the speaker's pitch, keeping the
        previous line's voice near the boundary) and, from its candidates, the translation
        whose predicted length fits its slot best."""
        choice = (line.voice and self.voices.by_voice(line.voice)) or self.voices.for_pitch(
            line.pitch_hz, previous
        )
        if line.stage is LineStage.translated:
            best = choose_hypothesis(line.hypotheses, line.slot, choice.predict, self.rules)
            line.translation = best.text
        elif line.translation is None:  # neither candidates nor a text: nothing to say
            line.translation = ""
        line.voice = choice.voice
        return choice

    def syllables_to_fit(self, line: Line) -> int | None:
        """For a line whose every candidate is predicted too long for its slot even at the
        fastest the rules allow: how many syllables a translation that fits may have."""
        if line.stage is not LineStage.translated:
            return None
        choice = self.voices.for_pitch(line.pitch_hz)
        fastest = self.rules.max_rate * self.rules.max_stretch
        shortest = min(line.hypotheses, key=lambda h: choice.predict(h.text))
        predicted = choice.predict(shortest.text)
        if predicted <= line.slot * fastest:
            return None
        return max(1, int(syllables(shortest.text) * line.slot * fastest / predicted))

    def synthesizer(self, choice: VoiceChoice) -> Synthesizer:
        """The choice's voice, through the clip cache when there is one."""
        if self.cache is None:
            return choice.synthesizer
        return CachedSynthesizer(choice.synthesizer, choice.voice, self.cache, self.counts)

    def first_take(self, line: Line, previous: Voice | None = None) -> None:
        """Speak a line as soon as it is translated, at the rate fitting will try first (so the
        clip is in the cache when fitting asks for it)."""
        choice = self.prepare(line, previous)
        rate = first_rate(choice.predict(line.translation), line.slot, self.rules)
        synthesize_all(self.synthesizer(choice), line.translation, rate=rate)

    def fit(self, line: Line, start: float, window: float, previous: Voice | None) -> Fitted:
        """Speak the line to fit its slot, or at most `window` seconds from `start`; record
        how it was fitted and where it goes."""
        choice = self.prepare(line, previous)
        predicted = choice.predict(line.translation)
        fitted = fit_speech(
            line.translation, self.synthesizer(choice), line.slot, window, self.rules, predicted
        )
        line.rate, line.stretch, line.fit = fitted.rate, round(fitted.stretch, 3), fitted.fit
        line.placed_start, line.placed_end = round(start, 3), round(start + fitted.duration, 3)
        return fitted

    def stream(self, line: Line, *, rate: float = 1.0, first_chars: int = 60) -> Iterator[Speech]:
        """The line's speech piece by piece, the first piece a short clause, so that playback
        can start before the rest is synthesised."""
        voice = self.prepare(line).synthesizer
        for text in speech_pieces(line.translation, first_chars):
            yield from voice.synthesize(text, rate=rate)
