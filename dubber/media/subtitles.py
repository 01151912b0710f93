"""Subtitle files: SRT and WebVTT from timed text cues."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Cue:
    """One subtitle: text shown from `start` to `end` seconds."""

    start: float
    end: float
    text: str


def _timestamp(seconds: float, decimal: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{millis:03d}"


def _lines(text: str) -> str:
    """A cue's text as its lines, without the blank lines that would end the cue early."""
    return "\n".join(line.strip() for line in text.strip().splitlines() if line.strip())


def escape_srt(text: str) -> str:
    """Cue text that SubRip players show as it is: no arrow that reads as a timing line and no
    angle brackets that read as markup (they become the single angle quotes)."""
    return _lines(text).replace("-->", "->").replace("<", "\u2039").replace(">", "\u203a")


def escape_vtt(text: str) -> str:
    """Cue text escaped as WebVTT requires (&, < and > as character references)."""
    return _lines(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def format_srt(cues: Iterable[Cue]) -> str:
    """SubRip text: numbered cues with comma-decimal timestamps."""
    blocks = [
        f"{index}\n{_timestamp(c.start, ',')} --> {_timestamp(c.end, ',')}\n{escape_srt(c.text)}\n"
        for index, c in enumerate(cues, start=1)
    ]
    return "\n".join(blocks)


def format_vtt(cues: Iterable[Cue]) -> str:
    """WebVTT text: a header, then cues with dot-decimal timestamps."""
    blocks = [
        f"{_timestamp(c.start, '.')} --> {_timestamp(c.end, '.')}\n{escape_vtt(c.text)}\n"
        for c in cues
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


_SRT_TIME = re.compile(r"(\d+):(\d{2}):(\d{2})[,.](\d{3})\s*-->\s*(\d+):(\d{2}):(\d{2})[,.](\d{3})")


def parse_srt(text: str) -> list[Cue]:
    """Cues from SubRip (or WebVTT) text; raises ValueError when none is found."""
    cues = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        lines = block.strip().splitlines()
        for position, line in enumerate(lines):
            if match := _SRT_TIME.search(line):
                h1, m1, s1, ms1, h2, m2, s2, ms2 = (int(g) for g in match.groups())
                start = h1 * 3600 + m1 * 60 + s1 + ms1 / 1000
                end = h2 * 3600 + m2 * 60 + s2 + ms2 / 1000
                body = " ".join(part.strip() for part in lines[position + 1 :] if part.strip())
                if body and end > start:
                    cues.append(Cue(start, end, html.unescape(re.sub(r"<[^>]+>", "", body))))
                break
    if not cues:
        raise ValueError("no subtitle cues found")
    return sorted(cues, key=lambda c: c.start)
