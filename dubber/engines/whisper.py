"""Speech recognition with faster-whisper (CTranslate2 Whisper), Silero VAD and word timestamps."""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dubber.engines.types import Segment, TranscribeOptions, TranscriptionInfo, Word
from dubber.media.decode import AUDIO_RATE
from dubber.settings import RuntimeOptions

BLOCK_SECONDS = 120.0  # long audio is decoded in blocks of at most this: memory stays flat
CUT_SEARCH_SECONDS = 10.0
WINDOW_SECONDS = 30.0  # Whisper's own window: audio up to this long is decoded in one pass
# A clip that fits in one window is decoded whole unless VAD finds speech in less of it than
# this: cutting a spoken clip down to its speech costs words (measured on shared/data/es:
# whisper-base WER 14.6 % with VAD, 8.2 % without), cutting silence or music away saves some.
MIN_SPEECH_SHARE = 0.5


@dataclass(frozen=True, kw_only=True)
class WhisperConfig:
    """How the model cuts long audio: VAD pauses and decoding blocks."""

    min_silence_ms: int = 500
    block_seconds: float = BLOCK_SECONDS
    min_speech_share: float = MIN_SPEECH_SHARE


class WhisperRecognizer:
    """A Whisper model in CTranslate2 format, loaded once and used for many inputs."""

    name = "whisper"

    def __init__(
        self,
        model_dir: Path,
        runtime: RuntimeOptions | None = None,
        config: WhisperConfig | None = None,
    ) -> None:
        self.runtime = runtime or RuntimeOptions()
        self.config = config or WhisperConfig()
        self.model_dir = Path(model_dir)
        self._model = _windowed_model()(
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
        """The most likely spoken language of (up to 30 s of) audio and its probability.

        The encoder sees the audio's own length (in whole seconds), not a window padded to
        30 s: on the shared clips that gave the same languages, as sure, 5x faster.
        """
        if not self.multilingual:
            return "en", 1.0
        from faster_whisper.audio import pad_or_trim

        window = np.asarray(audio[: int(WINDOW_SECONDS * AUDIO_RATE)], np.float32)
        extractor = self._model.feature_extractor
        features = extractor(window)
        frames_per_second = extractor.sampling_rate // extractor.hop_length
        seconds = max(1, math.ceil(window.size / AUDIO_RATE))
        features = pad_or_trim(features, seconds * frames_per_second)
        found = self._model.model.detect_language(self._model.encode(features))[0]
        token, probability = found[0]
        return token.strip("<|>"), float(probability)

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        language: str | None = None,
        options: TranscribeOptions = TranscribeOptions(),
    ) -> tuple[Iterator[Segment], TranscriptionInfo]:
        """Transcribe 16 kHz mono float32 audio; segments are decoded lazily as they are read.

        English-only models always decode English; multilingual ones detect the language (on the
        first block) unless `language` is given. Long audio is decoded in blocks cut at quiet
        moments, so memory does not grow with its length.
        """
        audio = np.asarray(audio, dtype=np.float32)
        blocks = split_at_quiet_moments(audio, AUDIO_RATE, self.config.block_seconds)
        begin, end = blocks[0]
        first_segments, info = self._transcribe_block(audio[begin:end], language, options)
        summary = TranscriptionInfo(
            language=info.language,
            language_probability=float(info.language_probability),
            duration=len(audio) / AUDIO_RATE,
        )

        def segments() -> Iterator[Segment]:
            yield from (_convert(s, 0.0) for s in first_segments)
            for begin, end in blocks[1:]:
                block, _ = self._transcribe_block(audio[begin:end], summary.language, options)
                yield from (_convert(s, begin / AUDIO_RATE) for s in block)

        return segments(), summary

    def vad_helps(self, audio: np.ndarray) -> bool:
        """Whether to decode only the speech VAD finds: for anything longer than one Whisper
        window, and for a shorter clip that is mostly not speech (silence, music, noise)."""
        if len(audio) > WINDOW_SECONDS * AUDIO_RATE:
            return True
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        vad = VadOptions(min_silence_duration_ms=self.config.min_silence_ms)
        speech = sum(t["end"] - t["start"] for t in get_speech_timestamps(audio, vad))
        return speech < self.config.min_speech_share * len(audio)

    def transcribe_plain(self, audio: np.ndarray, language: str, beam_size: int) -> str:
        """The text faster-whisper gives with its own defaults (no VAD, no word timestamps,
        conditioned on the previous text): the baseline `dubber eval asr --plain` compares to."""
        segments, _ = self._model.transcribe(
            np.asarray(audio, np.float32),
            language=language if self.multilingual else "en",
            beam_size=beam_size,
        )
        return " ".join(s.text.strip() for s in segments).strip()

    def _transcribe_block(  # noqa: ANN202 - faster_whisper's segments and info
        self, audio: np.ndarray, language: str | None, options: TranscribeOptions
    ):
        if options.padding_s is None or len(audio) > WINDOW_SECONDS * AUDIO_RATE:
            return self._decode(audio, language, options)
        extractor = self._model.feature_extractor
        seconds = len(audio) / AUDIO_RATE + options.padding_s
        self._model.window.frames = math.ceil(
            seconds * extractor.sampling_rate / extractor.hop_length
        )
        try:  # one window: decoded now, while this thread's encoder window is set
            segments, info = self._decode(audio, language, options)
            return list(segments), info
        finally:
            self._model.window.frames = None

    def _decode(  # noqa: ANN202 - faster_whisper's segments and info
        self, audio: np.ndarray, language: str | None, options: TranscribeOptions
    ):
        return self._model.transcribe(
            audio,
            language=language if self.multilingual else "en",
            beam_size=options.beam_size,
            vad_filter=options.vad_filter and self.vad_helps(audio),
            vad_parameters={"min_silence_duration_ms": self.config.min_silence_ms},
            word_timestamps=options.word_timestamps,
            temperature=list(options.temperature),
            max_new_tokens=options.max_new_tokens,
            # within one window the previous text is the same clip's: faster-whisper's default
            # (on) decodes such clips as it would; across windows it can start a loop (off)
            condition_on_previous_text=options.condition_on_previous_text
            or len(audio) <= WINDOW_SECONDS * AUDIO_RATE,
        )


@functools.cache
def _windowed_model() -> type:
    """faster-whisper's WhisperModel whose encoder, on a thread that sets `window.frames`, sees
    only that many feature frames of the 30-s window it is given (the rest is padding)."""
    from faster_whisper import WhisperModel

    class WindowedWhisperModel(WhisperModel):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.window = threading.local()

        def encode(self, features: np.ndarray):  # noqa: ANN201 - a CTranslate2 StorageView
            frames = getattr(self.window, "frames", None)
            if frames is not None and features.shape[-1] > frames:
                features = features[..., :frames]
            return super().encode(features)

    return WindowedWhisperModel


def split_at_quiet_moments(
    audio: np.ndarray, sample_rate: int, block_seconds: float
) -> list[tuple[int, int]]:
    """(begin, end) sample ranges of at most `block_seconds`, each cut at the quietest 50 ms
    near the block's end (in its last CUT_SEARCH_SECONDS, at most a quarter of it): a pause
    between words, where there is one."""
    search_seconds = min(CUT_SEARCH_SECONDS, block_seconds / 4)
    block, search, frame = (int(x * sample_rate) for x in (block_seconds, search_seconds, 0.05))
    ranges, begin = [], 0
    while len(audio) - begin > block:
        window = audio[begin + block - search : begin + block]
        frames = window[: len(window) // frame * frame].reshape(-1, frame)
        quietest = int(np.argmin(np.square(frames).mean(axis=1)))
        cut = begin + block - search + quietest * frame + frame // 2
        ranges.append((begin, cut))
        begin = cut
    ranges.append((begin, len(audio)))
    return ranges


def _convert(segment, offset: float) -> Segment:  # noqa: ANN001 - faster_whisper's Segment
    words = tuple(
        Word(w.word.strip(), offset + float(w.start), offset + float(w.end), w.probability)
        for w in segment.words or ()
    )
    return Segment(
        segment.text.strip(), offset + float(segment.start), offset + float(segment.end), words
    )
