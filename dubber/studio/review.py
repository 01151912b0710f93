"""The review table of a dubbed file: each line as the page shows it, and which lines to look
at first (cut, or sped up most)."""

from __future__ import annotations

from typing import Any

from dubber.chain.fit import FitOutcome
from dubber.chain.line import Line
from dubber.dub.document import DubDocument
from dubber.studio.edits import bank_voices

FIT_LABELS = {
    FitOutcome.natural: "natural",
    FitOutcome.rate: "rate",
    FitOutcome.borrowed: "borrowed",
    FitOutcome.stretched: "stretched",
    FitOutcome.overflow: "cut",
}
FLAG_SPEEDUP = 1.3  # rate x stretch from which a line is flagged as sped up


def flag(line: Line) -> str | None:
    """`cut` for a line that did not fit, `fast` for one sped up by FLAG_SPEEDUP or more."""
    if line.fit is FitOutcome.overflow:
        return "cut"
    return "fast" if line.speedup >= FLAG_SPEEDUP - 1e-9 else None


def severity(line: Line) -> float:
    """How much a line needs a look: cut lines first, then by speed-up."""
    return (10.0 if line.fit is FitOutcome.overflow else 0.0) + line.speedup


def review_rows(document: DubDocument) -> list[dict[str, Any]]:
    """The lines of the table, in time order."""
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
                "translation": line.translation,
                "candidates": list(dict.fromkeys(candidates)),
                "voice": str(line.voice) if line.voice else "",
                "fit": FIT_LABELS[line.fit] if line.fit else "",
                "speedup": round(line.speedup, 3),
                "flag": flag(line),
                "severity": round(severity(line), 3),
            }
        )
    return rows


def review(document: DubDocument) -> dict[str, Any]:
    """What the review view needs of a document: its lines and the voices a line can take."""
    return {
        "duration": document.duration,
        "voices": bank_voices(document.voice),
        "translator": document.translator,
        "asr_model": document.asr_model,
        "lines": review_rows(document),
    }
