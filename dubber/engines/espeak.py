"""Text to speech with the espeak-ng program: robotic but needs no model, the last resort."""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from collections.abc import Iterator

import numpy as np

from dubber.engines.phonemes import check_request
from dubber.engines.types import Speech
from dubber.errors import DubberError
from dubber.media.dsp import with_pauses
from dubber.text import split_sentences

SENTENCE_PAUSE = 0.25  # seconds between sentences at rate 1 (-z leaves none at a text's end)


class EspeakSynthesizer:
    """An espeak-ng voice ("es", "es-419", "en-us"), run once per sentence; the voice is its
    style."""

    name = "espeak"
    styles: tuple[str, ...] = ()

    def __init__(self, voice: str = "es", words_per_minute: int = 175, pitch: int = 50) -> None:
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise DubberError("espeak-ng is not installed: run 'sudo apt-get install espeak-ng'")
        self.binary = binary
        self.language = self.style = voice
        self.words_per_minute = words_per_minute
        self.pitch = pitch
        self.sample_rate = self._speak("a", words_per_minute).sample_rate

    def with_style(self, style: str) -> EspeakSynthesizer:
        """Another espeak-ng voice."""
        return EspeakSynthesizer(style, self.words_per_minute, self.pitch)

    def synthesize(self, text: str, *, rate: float = 1.0) -> Iterator[Speech]:
        """Speak `text` a sentence at a time; `rate` multiplies the speed in words per minute."""
        words_per_minute = round(self.words_per_minute * rate)
        sentences = split_sentences(check_request(text, rate))
        audio = (self._speak(sentence, words_per_minute).samples for sentence in sentences)
        pause = round(SENTENCE_PAUSE * self.sample_rate / rate)
        for samples in with_pauses(audio, pause):
            yield Speech(samples, self.sample_rate)

    def _speak(self, text: str, words_per_minute: int) -> Speech:
        command = [self.binary, "-v", self.language, "-s", str(words_per_minute)]
        command += ["-p", str(self.pitch), "-b", "1", "-z", "--stdin", "--stdout"]
        result = subprocess.run(command, input=text.encode(), capture_output=True, check=False)
        if result.returncode != 0 or not result.stdout:
            reason = result.stderr.decode(errors="replace").strip() or "no audio produced"
            raise DubberError(f"espeak-ng failed with voice '{self.language}': {reason}")
        # espeak-ng streams the WAV, so its header gives no real length: read all that came.
        with wave.open(io.BytesIO(result.stdout)) as wav:
            rate, data = wav.getframerate(), wav.readframes(wav.getnframes())
        samples = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.float32) / 32768
        return Speech(samples=samples, sample_rate=rate)
