"""Speech recognition with faster-whisper (CTranslate2 Whisper), Silero VAD and word timestamps."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dubber.engines.base import Segment, TranscriptionInfo, Word
from dubber.settings import RuntimeOptions


@dataclass(frozen=True)
class WhisperConfig:
    """Decoding options; the defaults favour accuracy at CPU speed."""

    beam_size: int = 5
    vad: bool = True
    word_timestamps: bool = True
    min_silence_ms: int = 500
    condition_on_previous_text: bool = False


class WhisperRecognizer:
    """A Whisper model in CTranslate2 format, loaded once and used for many inputs."""

    name = "whisper"

    def __init__(
        self,
        model_dir: Path,
        runtime: RuntimeOptions | None = None,
        config: WhisperConfig | None = None,
    ) -> None:
        from faster_whisper import WhisperModel

        self.runtime = runtime or RuntimeOptions()
        self.config = config or WhisperConfig()
        self.model_dir = Path(model_dir)
        self._model = WhisperModel(
            str(self.model_dir),
            device=self.runtime.device,
            compute_type=self.runtime.compute_type,
            cpu_threads=self.runtime.threads if self.runtime.device == "cpu" else 0,
        )

    @property
    def multilingual(self) -> bool:
        """Whether the model recognises (and detects) languages other than English."""
        return bool(self._model.model.is_multilingual)

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """The most likely spoken language of (up to 30 s of) audio and its probability."""
        if not self.multilingual:
            return "en", 1.0
        language, probability, _ = self._model.detect_language(np.asarray(audio, np.float32))
        return language, float(probability)

    def transcribe(
        self, audio: np.ndarray, *, language: str | None = None
    ) -> tuple[Iterator[Segment], TranscriptionInfo]:
        """Transcribe 16 kHz mono float32 audio; segments are decoded lazily as they are read.

        English-only models always decode English; multilingual ones detect the language
        unless `language` is given.
        """
        if not self.multilingual:
            language = "en"
        cfg = self.config
        segments, info = self._model.transcribe(
            np.asarray(audio, dtype=np.float32),
            language=language,
            beam_size=cfg.beam_size,
            vad_filter=cfg.vad,
            vad_parameters={"min_silence_duration_ms": cfg.min_silence_ms},
            word_timestamps=cfg.word_timestamps,
            condition_on_previous_text=cfg.condition_on_previous_text,
        )
        summary = TranscriptionInfo(
            language=info.language,
            language_probability=float(info.language_probability),
            duration=float(info.duration),
        )
        return (_convert(segment) for segment in segments), summary


def _convert(segment) -> Segment:  # noqa: ANN001 - faster_whisper.transcribe.Segment
    words = tuple(
        Word(text=w.word.strip(), start=float(w.start), end=float(w.end), probability=w.probability)
        for w in segment.words or ()
    )
    return Segment(
        text=segment.text.strip(), start=float(segment.start), end=float(segment.end), words=words
    )
