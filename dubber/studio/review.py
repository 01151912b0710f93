"""The review table of a dubbed file: each line as the page shows it with the flags its dub found,
which lines to look at first, and who says them."""

from __future__ import annotations

from typing import Any

from dubber.chain.fit import FitOutcome
from dubber.chain.line import Line
from dubber.dub.document import DubDocument
from dubber.dub.flags import FLAG_LEGEND
from dubber.studio.edits import bank_voices

FIT_LABELS = {
    FitOutcome.natural: "natural",
    FitOutcome.rate: "rate",
    FitOutcome.borrowed: "borrowed",
    FitOutcome.stretched: "stretched",
    FitOutcome.overflow: "cut",
}
FIT_LEGEND = {
    "natural": "spoken at the voice's own speed within its slot",
    "rate": "spoken faster through the voice's rate control",
    "borrowed": "runs into the pause before the next line",
    "stretched": "time-stretched (pitch kept) to end before the next line",
    "cut": "too long even at the fastest allowed: cut short with a fade",
}
SEVERITY = {"cut": 10.0, "untranslated": 5.0, "fallback": 3.0, "unsure": 2.0, "fast": 1.0}


def severity(line: Line) -> float:
    """How much a line needs a look: by its flags (cut first), then by its speed-up."""
    return sum(SEVERITY.get(kind, 1.0) for kind in line.flags) + line.speedup


def machine_translations(document: DubDocument) -> dict[int, str]:
    """What the translator wrote for each line edited since (the first `before` of its
    history)."""
    machine: dict[int, str] = {}
    for entry in document.history:
        before = entry.get("translation", {}).get("before")
        if isinstance(entry.get("line"), int) and isinstance(before, str):
            machine.setdefault(entry["line"], before)
    return machine


def review_rows(document: DubDocument) -> list[dict[str, Any]]:
    """The lines of the table, in time order; `machine` is the translator's own text of an
    edited line (None when the line is as the translator wrote it)."""
    machine = machine_translations(document)
    rows = []
    for position, line in enumerate(document.lines):
        candidates = [h.text for h in line.hypotheses if h.text != line.translation]
        rows.append(
            {
                "line": position,
                "start": line.start,
                "end": line.end,
                "placed_start": line.placed_start,
                "placed_end": line.placed_end,
                "source": line.source,
                "speaker": line.speaker,
                "translation": line.translation,
                "machine": machine.get(position),
                "candidates": list(dict.fromkeys(candidates)),
                "voice": str(line.voice) if line.voice else "",
                "fit": FIT_LABELS[line.fit] if line.fit else "",
                "speedup": round(line.speedup, 3),
                "flags": line.flags,
                "severity": round(severity(line), 3),
            }
        )
    return rows


def cast_rows(document: DubDocument) -> list[dict[str, Any]]:
    """The speakers panel: each speaker's label, name and voice, and how many lines (and
    seconds of the original) they say."""
    rows = []
    for label, member in document.speakers.items():
        lines = [line for line in document.lines if line.speaker == label]
        rows.append(
            {
                "speaker": label,
                "name": member.name,
                "voice": str(member.voice) if member.voice else "",
                "lines": len(lines),
                "seconds": round(sum(line.end - line.start for line in lines), 1),
            }
        )
    return rows


def review(document: DubDocument) -> dict[str, Any]:
    """What the review view needs of a document: its lines, its speakers and the voices a line
    can take."""
    return {
        "duration": document.duration,
        "voices": bank_voices(document.voice),
        "translator": document.translator,
        "asr_model": document.asr_model,
        "voice": document.voice,
        "legend": FLAG_LEGEND,
        "fit_legend": FIT_LEGEND,
        "lines": review_rows(document),
        "speakers": cast_rows(document),
    }
