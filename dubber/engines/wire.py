"""What the server and its clients share: model names, request limits, and the JSON that carries
segments, translations and decoding options over the wire."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from typing import Any

from dubber.engines.types import (
    Hypothesis,
    Segment,
    TranscribeOptions,
    TranscriptionInfo,
    Translation,
    Word,
)

ASR, MT, TTS, S2ST, INFO = "asr", "mt", "tts", "s2st", "info"
# Triton answers /v2/health/ready before PyTriton has loaded the models (none loaded is ready);
# PyTriton loads them one by one in the order bound, `info` last: its readiness means all are.
READY_PATH = f"/v2/models/{INFO}/ready"
MAX_AUDIO_SECONDS = 600  # ten minutes of 16 kHz audio per asr / s2st request
MAX_TEXT_BYTES = 64 * 1024  # per text, UTF-8
MAX_BEAM = 16
MAX_SYLLABLES = 1000
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


def options_to_json(options: TranscribeOptions) -> str:
    """Decoding options as JSON."""
    return json.dumps(asdict(options))


def options_from_json(text: str) -> TranscribeOptions:
    """The inverse of `options_to_json`; empty text gives the defaults, unknown fields fail."""
    if not text:
        return TranscribeOptions()
    data = json.loads(text)
    known = {f.name for f in fields(TranscribeOptions)}
    if not isinstance(data, dict) or set(data) - set(known):
        raise ValueError(f"expected an object with fields {', '.join(known)}")
    if "temperature" in data:  # a JSON array
        data["temperature"] = tuple(float(t) for t in data["temperature"])
    return TranscribeOptions(**data)
