"""Endpointing for live mode: Silero VAD frame by frame turns audio into utterance events.

An utterance ends after a pause (`LiveConfig.pause_ms`); one that grows past `max_utterance_s` is
cut at its quietest frame. While it goes on, `Partial` events carry its growing audio for
re-transcription: every `partial_every_s`, or every `partial_soon_s` while `Endpointer.hurry`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from dubber.live.config import LiveConfig
from dubber.media.decode import AUDIO_RATE

FRAME = 512  # Silero VAD frame at 16 kHz (32 ms)
_CONTEXT = 64  # samples of the previous frame Silero v5+ expects before each frame


class VoiceActivity(Protocol):
    """A frame-by-frame speech detector: the probability that a 32 ms frame is speech."""

    def __call__(self, frame: np.ndarray) -> float: ...

    def reset(self) -> None:
        """Forget the state kept between frames."""


class SileroStream:
    """Silero VAD (the model faster-whisper ships) run frame by frame, keeping its state."""

    def __init__(self) -> None:
        import onnxruntime
        from faster_whisper.utils import get_assets_path

        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = options.intra_op_num_threads = 1
        options.log_severity_level = 4
        self._session = onnxruntime.InferenceSession(
            str(Path(get_assets_path()) / "silero_vad_v6.onnx"),
            providers=["CPUExecutionProvider"],
            sess_options=options,
        )
        self.reset()

    def reset(self) -> None:
        """Forget earlier audio."""
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._context = np.zeros((1, _CONTEXT), np.float32)

    def __call__(self, frame: np.ndarray) -> float:
        """Speech probability of one 512-sample frame."""
        window = np.concatenate([self._context, frame.reshape(1, FRAME)], axis=1)
        out, self._h, self._c = self._session.run(
            None, {"input": window.astype(np.float32), "h": self._h, "c": self._c}
        )
        self._context = window[:, -_CONTEXT:]
        return float(np.asarray(out).reshape(-1)[0])


@dataclass
class Partial:
    """The audio of an utterance still going on, for a LocalAgreement pass."""

    utterance: int
    start: int  # sample on the input's clock
    audio: np.ndarray
    speculative: bool = False  # speech has paused: likely the whole utterance


@dataclass
class Final:
    """A finished utterance (or several merged when ASR fell behind)."""

    utterance: int
    start: int
    end: int  # last sample of speech, before the pause
    endpoint_s: float
    audio: np.ndarray
    merged: int = 1


class Endpointer:
    """Turns 16 kHz audio into `Partial` and `Final` events with Silero VAD."""

    def __init__(self, config: LiveConfig, vad: VoiceActivity) -> None:
        self.config = config
        self._vad = vad
        self._pending = np.zeros(0, np.float32)
        self._position = 0  # samples seen
        self._preroll: deque[np.ndarray] = deque(
            maxlen=max(1, config.pad_ms * AUDIO_RATE // 1000 // FRAME)
        )
        self._frames: list[np.ndarray] = []
        self._probs: list[float] = []
        self._start = 0
        self._silence = 0
        self._since_partial = 0
        self._utterance = 0
        self._quiet = 0  # non-speech frames in a row while idle
        self.hurry = False  # set from the ASR thread: the next pass is wanted soon

    def feed(self, samples: np.ndarray, now: float) -> list[Partial | Final]:
        """Events the new audio completes; `now` is the input's clock."""
        data = np.concatenate([self._pending, samples])
        count = len(data) // FRAME
        self._pending = data[count * FRAME :]
        events: list[Partial | Final] = []
        for frame in data[: count * FRAME].reshape(count, FRAME):
            events.extend(self._step(frame, self._vad(frame), now))
            self._position += FRAME
        return events

    def flush(self, now: float) -> list[Final]:
        """End the utterance in progress (end of stream)."""
        return [self._finish(len(self._frames), now)] if self._long_enough() else []

    def _step(self, frame: np.ndarray, prob: float, now: float) -> list[Partial | Final]:
        cfg = self.config
        if not self._frames:
            if prob < cfg.threshold:
                self._preroll.append(frame)
                self._quiet += 1
                if self._quiet == _frames_in(cfg.vad_reset_ms):
                    self._vad.reset()  # a quiet voice after a loud one is missed otherwise
                return []
            self._quiet = 0
            self._start = self._position - FRAME * len(self._preroll)
            self._frames, self._probs = list(self._preroll), [0.0] * len(self._preroll)
            self._preroll.clear()
            self._silence = self._since_partial = 0
        self._frames.append(frame)
        self._probs.append(prob)
        self._since_partial += FRAME
        if prob >= cfg.threshold:
            self._silence = 0
        elif prob < cfg.threshold - 0.15:
            self._silence += FRAME
            if self._silence == _frames_in(cfg.speculate_ms) * FRAME and self._long_enough():
                audio = np.concatenate(self._frames)
                return [Partial(self._utterance, self._start, audio, speculative=True)]
        if self._silence >= cfg.pause_ms * AUDIO_RATE // 1000:
            if self._long_enough():
                return [self._finish(len(self._frames), now)]
            self._frames = []
            return []
        if len(self._frames) * FRAME >= cfg.max_utterance_s * AUDIO_RATE:
            half = len(self._probs) // 2
            cut = half + int(np.argmin(self._probs[half:]))
            return [self._finish(max(cut, 1), now)]
        every = cfg.partial_soon_s if self.hurry else cfg.partial_every_s
        if self._since_partial >= every * AUDIO_RATE:
            self._since_partial = 0
            return [Partial(self._utterance, self._start, np.concatenate(self._frames))]
        return []

    def _long_enough(self) -> bool:
        speech = len(self._frames) * FRAME - self._silence
        return bool(self._frames) and speech >= self.config.min_speech_ms * AUDIO_RATE // 1000

    def _finish(self, frames: int, now: float) -> Final:
        """Emit the first `frames` frames as a finished utterance; keep the rest going."""
        audio = np.concatenate(self._frames[:frames])
        trailing = self._silence if frames == len(self._frames) else 0
        event = Final(self._utterance, self._start, self._start + len(audio) - trailing, now, audio)
        self._utterance += 1
        self._start += len(audio)
        self._frames, self._probs = self._frames[frames:], self._probs[frames:]
        self._silence = self._since_partial = 0
        return event


def _frames_in(milliseconds: int) -> int:
    return max(1, milliseconds * AUDIO_RATE // 1000 // FRAME)


def merge(first: Final, second: Final) -> Final:
    """One utterance from two, with the silence between them shortened to 0.3 s."""
    gap = np.zeros(int(0.3 * AUDIO_RATE), np.float32)
    return Final(
        first.utterance,
        first.start,
        second.end,
        second.endpoint_s,
        np.concatenate([first.audio, gap, second.audio]),
        first.merged + second.merged,
    )
