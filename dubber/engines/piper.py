"""Text to speech with a Piper voice (VITS in ONNX: `NAME.onnx` + `NAME.onnx.json`)."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dubber.engines.onnx import onnx_session
from dubber.engines.phonemes import ESPEAK_LOCK, check_request
from dubber.engines.types import Speech
from dubber.errors import DubberError
from dubber.media.dsp import with_pauses
from dubber.settings import RuntimeOptions
from dubber.text import chunk_text

log = logging.getLogger(__name__)

# Phonemes per inference: memory grows with the longest one (measured: three 365-character
# sentences peaked at 800 MB, 140-character ones at 350 MB), so longer sentences are spoken in
# clause-sized pieces.
MAX_PHONEMES = 300


@dataclass(frozen=True, kw_only=True)
class PiperOptions:
    """Synthesis options; None keeps the value the voice was trained with."""

    noise_scale: float | None = None
    noise_w_scale: float | None = None
    sentence_silence: float = 0.2  # seconds between sentences at rate 1 (shorter when faster)


def find_voice_file(voice_dir_or_onnx: Path) -> Path:
    """The voice's `.onnx` file: the path itself, or the only one in a folder."""
    path = Path(voice_dir_or_onnx)
    if path.is_file() and path.suffix == ".onnx":
        onnx = path
    else:
        candidates = sorted(path.glob("*.onnx")) if path.is_dir() else []
        if len(candidates) != 1:
            raise DubberError(
                f"{path} is not a Piper voice: expected one NAME.onnx with NAME.onnx.json beside it"
            )
        onnx = candidates[0]
    if not onnx.with_name(onnx.name + ".json").is_file():
        raise DubberError(f"Piper voice config {onnx.name}.json is missing beside {onnx}")
    return onnx


class PiperSynthesizer:
    """A Piper voice, loaded once; a multi-speaker voice's speakers are its styles."""

    name = "piper"

    def __init__(
        self,
        voice_dir_or_onnx: Path,
        runtime: RuntimeOptions | None = None,
        speaker: str | int | None = None,
        options: PiperOptions | None = None,
    ) -> None:
        from piper import PiperConfig, PiperVoice

        self.runtime = runtime or RuntimeOptions()
        self.options = options or PiperOptions()
        onnx = find_voice_file(voice_dir_or_onnx)
        config_dict = json.loads(onnx.with_name(onnx.name + ".json").read_text(encoding="utf-8"))
        config = PiperConfig.from_dict(config_dict)
        self._voice = PiperVoice(session=onnx_session(onnx, self.runtime), config=config)
        self.speaker_id = _speaker_id(config.speaker_id_map, config.num_speakers, speaker)
        self.style = None if speaker is None else str(speaker)
        self.styles = tuple(sorted(config.speaker_id_map))
        self.language = config.espeak_voice
        self.sample_rate = config.sample_rate
        log.debug("loaded Piper voice %s (%s, %d Hz)", onnx.name, self.language, self.sample_rate)

    def with_style(self, style: str) -> PiperSynthesizer:
        """The same loaded voice speaking as another of its speakers."""
        config = self._voice.config
        twin = copy.copy(self)
        twin.speaker_id = _speaker_id(config.speaker_id_map, config.num_speakers, style)
        twin.style = style
        return twin

    def synthesize(self, text: str, *, rate: float = 1.0) -> Iterator[Speech]:
        """Speak `text` a sentence (or a clause of a long one) at a time; `rate` divides the
        voice's length scale (1.25 speaks 25 % faster)."""
        from piper import SynthesisConfig

        text = check_request(text, rate)
        voice = self._voice
        config = SynthesisConfig(
            speaker_id=self.speaker_id,
            length_scale=voice.config.length_scale / rate,
            noise_scale=self.options.noise_scale,
            noise_w_scale=self.options.noise_w_scale,
        )
        with ESPEAK_LOCK:
            sentences = voice.phonemize(text)
        pieces = [
            piece
            for phonemes in filter(None, sentences)
            for piece in chunk_text("".join(phonemes), MAX_PHONEMES)
        ]
        pause = round(self.options.sentence_silence * self.sample_rate / rate)
        audio = (self._speak(piece, config) for piece in pieces)
        for samples in with_pauses(audio, pause):
            yield Speech(samples, self.sample_rate)

    def _speak(self, phonemes: str, config: object) -> np.ndarray:
        voice = self._voice
        audio = np.asarray(
            voice.phoneme_ids_to_audio(voice.phonemes_to_ids(list(phonemes)), config)
        )
        peak = float(np.max(np.abs(audio), initial=0.0))
        return np.clip(audio / peak, -1.0, 1.0) if peak > 1e-8 else audio


def _speaker_id(speakers: dict[str, int], count: int, speaker: str | int | None) -> int | None:
    """The speaker index for a multi-speaker voice, by name or number."""
    if speaker is None:
        return None
    if count <= 1:
        raise DubberError(f"this Piper voice has one speaker: drop the speaker '{speaker}'")
    if isinstance(speaker, int) and 0 <= speaker < count:
        return speaker
    if speaker in speakers:
        return speakers[speaker]
    names = ", ".join(sorted(speakers)) or f"0 to {count - 1}"
    raise DubberError(f"this Piper voice has no speaker '{speaker}': choose one of {names}")
