"""dubber's models on Triton Inference Server (PyTriton) and the engines that call them.

This module holds what server and client share: model and tensor names, request limits, and
the JSON that carries segments and translations over the wire.
"""

from __future__ import annotations

import json
from typing import Any

from dubber.engines.types import Hypothesis, Segment, TranscriptionInfo, Translation, Word

ASR, MT, TTS, S2ST, INFO = "asr", "mt", "tts", "s2st", "info"
ASR_SAMPLE_RATE = 16000
MAX_AUDIO_SECONDS = 600  # ten minutes of 16 kHz audio per asr / s2st request
MAX_TEXT_BYTES = 64 * 1024  # per text, UTF-8
MAX_HYPOTHESES = 8
MIN_RATE, MAX_RATE = 0.5, 2.0


def segments_to_json(segments: list[Segment], info: TranscriptionInfo) -> str:
    """A transcription as JSON: the info fields and the segments with their words."""
    return json.dumps(
        {
            "language": info.language,
            "language_probability": info.language_probability,
            "duration": info.duration,
            "segments": [
                {
                    "text": s.text,
                    "start": s.start,
                    "end": s.end,
                    "words": [[w.text, w.start, w.end, w.probability] for w in s.words],
                }
                for s in segments
            ],
        },
        ensure_ascii=False,
    )


def segments_from_json(text: str) -> tuple[list[Segment], TranscriptionInfo]:
    """The inverse of `segments_to_json`."""
    data: dict[str, Any] = json.loads(text)
    segments = [
        Segment(s["text"], s["start"], s["end"], tuple(Word(*w) for w in s["words"]))
        for s in data["segments"]
    ]
    info = TranscriptionInfo(data["language"], data["language_probability"], data["duration"])
    return segments, info


def translation_to_json(translation: Translation) -> str:
    """One translation's hypotheses as JSON: [[text, score], ...], best first."""
    return json.dumps([[h.text, h.score] for h in translation.hypotheses], ensure_ascii=False)


def translation_from_json(source: str, text: str) -> Translation:
    """The inverse of `translation_to_json`, given the source text."""
    return Translation(source, tuple(Hypothesis(t, s) for t, s in json.loads(text)))
