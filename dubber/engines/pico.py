"""Text to speech with SVOX Pico `es-ES` (py-nanotts): a native Castilian voice, not neural,
about 200 times faster than real time on one core.

Pico has one (female) voice; its `male` style lowers the pitch and the formants: Pico is asked
for a lower pitch and a faster rate, and the result is played back slower, so the vocal tract
sounds longer while the rate still means what it says. What py-nanotts does not guard against
is guarded here: its markup (`<speed level=..>`) would parse `<`/`>` in the text, runs of one
letter make Pico hang and long runs of digits make it fail, and its work arena is not zeroed
(the same text would come out differently from call to call) unless glibc serves that arena
from fresh pages.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from dubber.engines.phonemes import check_request
from dubber.engines.types import Speech
from dubber.errors import DubberError
from dubber.media.decode import AUDIO_RATE
from dubber.media.dsp import trim_silence, with_pauses
from dubber.text import chunk_text, split_sentences

VOICE = "es-ES"
MAX_PIECE_CHARS = 300  # Pico holds the GIL for a whole call: pieces keep each hold short
SENTENCE_PAUSE = 0.25  # seconds between pieces at rate 1
VOLUME = 0.5  # Pico's level 1.0 clips about 1 % of the samples


@dataclass(frozen=True)
class PicoStyle:
    """How a style shifts Pico's voice: pitch factor and formant (vocal tract) factor."""

    pitch: float = 1.0
    formant: float = 1.0


# Round-trip WER through Whisper base on 40 Spanish news sentences: natural 10.6 %, this male
# style 11.3 % (F0 about 126 Hz against 195 Hz).
# The variants give the speakers of one file voices that differ (diarization's cast): a lower
# or higher pitch with a vocal tract to match.
STYLES = {
    "female": PicoStyle(),
    "male": PicoStyle(pitch=0.65, formant=0.85),
    "female-low": PicoStyle(pitch=0.86, formant=0.94),
    "male-low": PicoStyle(pitch=0.56, formant=0.8),
    "female-high": PicoStyle(pitch=1.12, formant=1.04),
    "male-high": PicoStyle(pitch=0.76, formant=0.9),
}

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_MARKUP = re.compile(r"[<>]")
_REPEATS = re.compile(r"(.)\1{3,}")
_LONG_DIGITS = re.compile(r"\d{16,}")
_READABLE = re.compile(r"[0-9A-Za-zÀ-ÖØ-öø-ÿ]")  # Pico's lingware reads Latin letters and digits
_M_MMAP_THRESHOLD = -3


@functools.cache
def _engine():  # noqa: ANN202 - py_nanotts.NanoTTS
    """py-nanotts, loaded once, with allocations of 2 MiB and more (Pico's 2.5 MB arena) served
    from fresh zeroed pages so that a text always gives the same samples."""
    try:
        from py_nanotts import NanoTTS
    except ImportError:
        raise DubberError("the Pico voice needs py-nanotts: pip install py-nanotts") from None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 2 * 1024 * 1024)
    except (OSError, AttributeError):  # not glibc: speech stays right, only not repeatable
        pass
    return NanoTTS()


def readable(text: str) -> str:
    """Text Pico reads safely: no control characters or markup, no pathological runs."""
    text = _MARKUP.sub(" ", _CONTROL.sub(" ", text)).replace("&", " y ")
    text = _REPEATS.sub(lambda m: m.group(1) * 3, text)
    text = _LONG_DIGITS.sub(lambda m: " ".join(re.findall(r"\d{1,3}", m.group(0))), text)
    return " ".join(text.split())


def _level(value: float) -> float:
    """A factor py-nanotts turns into exactly round(value * 100) (it rounds up)."""
    return (round(value * 100) - 0.5) / 100


class PicoSynthesizer:
    """SVOX Pico es-ES; styles `female` (its own voice), `male` (pitch and formants lowered)
    and a lower and a higher variant of each."""

    name = "pico"
    language = "es"
    sample_rate = AUDIO_RATE
    styles = tuple(STYLES)

    def __init__(self, style: str | None = None) -> None:
        if style is not None and style not in STYLES:
            raise DubberError(f"Pico has no style '{style}': choose one of {', '.join(STYLES)}")
        self.style = style or "female"
        self._shift = STYLES[self.style]
        self._tts = _engine()

    def with_style(self, style: str) -> PicoSynthesizer:
        """Pico speaking with another style."""
        return PicoSynthesizer(style)

    def synthesize(self, text: str, *, rate: float = 1.0) -> Iterator[Speech]:
        """Speak `text` a sentence (or a piece of a long one) at a time; `rate` is Pico's own
        speed (1.3 speaks about 28 % faster: its pauses do not scale)."""
        text = readable(check_request(text, rate))
        if not _READABLE.search(text):
            raise DubberError(f"nothing to speak: Pico cannot read '{text[:40]}'")
        pieces = [p for s in split_sentences(text) for p in chunk_text(s, MAX_PIECE_CHARS)]
        audio = (self._speak(piece, rate) for piece in pieces)
        pause = round(SENTENCE_PAUSE * self.sample_rate / rate)
        for samples in with_pauses((a for a in audio if a.size), pause):
            yield Speech(samples, self.sample_rate)

    def _speak(self, text: str, rate: float) -> np.ndarray:
        shift = self._shift
        pcm = self._tts.speak(
            text,
            voice=VOICE,
            speed=_level(min(max(rate / shift.formant, 0.2), 5.0)),
            pitch=_level(min(max(shift.pitch / shift.formant, 0.5), 2.0)),
            volume=_level(VOLUME),
        )
        samples = np.frombuffer(pcm or b"", dtype="<i2").astype(np.float32) / 32768.0
        if shift.formant != 1.0 and samples.size:  # play back slower: longer vocal tract
            positions = np.arange(int(len(samples) / shift.formant)) * shift.formant
            samples = np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)
        return trim_silence(samples, self.sample_rate)
