"""The component commands' work: transcribe a file, translate lines, speak text."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from enum import Enum
from pathlib import Path

from dubber.engines.types import Recognizer, Segment, Speech, Synthesizer, Translation, Translator
from dubber.errors import UsageError
from dubber.media.ffmpeg import decode_audio, write_wav
from dubber.media.subtitles import Cue, format_srt, format_vtt


class TranscriptFormat(str, Enum):
    """How `dubber transcribe` writes its result."""

    text = "text"
    srt = "srt"
    vtt = "vtt"
    json = "json"


def transcribe_file(
    path: Path,
    recognizer: Recognizer,
    on_progress: Callable[[float, float], None] | None = None,
    language: str | None = None,
) -> tuple[list[Segment], dict]:
    """Decode and transcribe a media file; report (seconds done, total seconds) as it goes."""
    audio = decode_audio(path)
    segments, info = recognizer.transcribe(audio, language=language)
    collected = []
    for segment in segments:
        collected.append(segment)
        if on_progress:
            on_progress(segment.end, info.duration)
    if on_progress:
        on_progress(info.duration, info.duration)
    return collected, asdict(info)


def render_transcript(segments: Sequence[Segment], info: dict, fmt: TranscriptFormat) -> str:
    """The transcript as plain text, SRT, WebVTT or JSON (segments with words)."""
    cues = [Cue(s.start, s.end, s.text) for s in segments]
    if fmt is TranscriptFormat.srt:
        return format_srt(cues)
    if fmt is TranscriptFormat.vtt:
        return format_vtt(cues)
    if fmt is TranscriptFormat.json:
        document = {**info, "segments": [asdict(s) for s in segments]}
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    return "\n".join(s.text for s in segments) + "\n"


def read_text_argument(text: str, stdin: Iterable[str]) -> list[str]:
    """TEXT, '-' (standard input) or a path to a UTF-8 text file, as a list of lines."""
    if text == "-":
        lines = [line.rstrip("\n") for line in stdin]
    elif (candidate := Path(text)).is_file():
        try:
            lines = candidate.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            raise UsageError(f"{candidate} is not a UTF-8 text file") from None
    else:
        lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise UsageError("nothing to translate: the text is empty")
    return lines


def translate_lines(
    lines: Sequence[str], translator: Translator, num_hypotheses: int = 1
) -> list[Translation]:
    """Translate each line (blank lines stay blank), keeping one result per input line."""
    return translator.translate(list(lines), num_hypotheses=num_hypotheses)


def speak_to_file(text: str, synthesizer: Synthesizer, output: Path, rate: float = 1.0) -> Speech:
    """Synthesize `text` into a WAV file written atomically."""
    if not text.strip():
        raise UsageError("nothing to speak: the text is empty")
    if output.suffix.lower() != ".wav":
        raise UsageError(f"cannot write {output}: speak writes .wav files")
    speech = synthesizer.synthesize(text, rate=rate)
    write_wav(output, speech.samples, speech.sample_rate)
    return speech
