"""The recognise step: speech to timed segments, and segments to sentence-sized lines."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from enum import Enum

import numpy as np

from dubber.chain.grouping import GroupingRules, SpeakerOf, group_words
from dubber.chain.line import Line
from dubber.engines.protocols import Recognizer
from dubber.engines.types import Segment, TranscribeOptions, TranscriptionInfo, Word
from dubber.media.captions import Timed, layout, settle
from dubber.media.subtitles import format_srt, format_vtt

Progress = Callable[[float, float], None]  # seconds done, seconds in all


def recognise(
    recognizer: Recognizer,
    audio: np.ndarray,
    *,
    language: str | None = None,
    options: TranscribeOptions = TranscribeOptions(),
    on_progress: Progress | None = None,
) -> tuple[Iterator[Segment], TranscriptionInfo]:
    """Segments of `audio` as they are decoded, reporting how far recognition has got."""
    segments, info = recognizer.transcribe(audio, language=language, options=options)

    def reported() -> Iterator[Segment]:
        for segment in segments:
            if on_progress:
                on_progress(segment.end, info.duration)
            yield segment
        if on_progress:
            on_progress(info.duration, info.duration)

    return reported(), info


def recognise_lines(
    recognizer: Recognizer,
    audio: np.ndarray,
    *,
    language: str = "en",
    grouping: GroupingRules = GroupingRules(),
    on_progress: Progress | None = None,
    speaker_of: SpeakerOf | None = None,
) -> Iterator[Line]:
    """Sentence-sized lines of `audio`, with their words, as recognition goes; a line ends
    where `speaker_of` says the speaker changes."""
    segments, _ = recognise(recognizer, audio, language=language, on_progress=on_progress)
    words = (word for segment in segments for word in segment.words)
    return group_words(words, grouping, speaker_of=speaker_of)


class TranscriptFormat(str, Enum):
    """How `dubber transcribe` writes its result."""

    text = "text"
    srt = "srt"
    vtt = "vtt"
    json = "json"


def transcript_options(fmt: TranscriptFormat) -> TranscribeOptions:
    """Decoding options for a transcript: word timings only where it shows them (JSON), since
    they change where Whisper resumes after each window and cost words on some clips."""
    return TranscribeOptions(word_timestamps=fmt is TranscriptFormat.json)


def render_transcript(
    segments: Sequence[Segment], info: TranscriptionInfo, fmt: TranscriptFormat
) -> str:
    """The transcript as plain text, SRT, WebVTT or JSON (segments with words)."""
    laid = [
        cue for s in segments for cue in layout(s.text, s.start, s.end, words=timed_words(s.words))
    ]
    cues = settle(laid, info.language, info.duration)
    if fmt is TranscriptFormat.srt:
        return format_srt(cues)
    if fmt is TranscriptFormat.vtt:
        return format_vtt(cues)
    if fmt is TranscriptFormat.json:
        document = {**asdict(info), "segments": [asdict(s) for s in segments]}
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    return "\n".join(s.text for s in segments) + "\n"


def timed_words(words: Sequence[Word]) -> list[Timed]:
    """Recognised words as subtitle layout takes them: text and when it was said."""
    return [(word.text.strip(), word.start, word.end) for word in words]
