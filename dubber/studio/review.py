"""The review table of a dubbed file: each line as the page shows it with the flags its dub found,
and which lines to look at first."""

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
SEVERITY = {"cut": 10.0, "untranslated": 5.0, "unsure": 2.0, "fast": 1.0}


def severity(line: Line) -> float:
    """How much a line needs a look: by its flags (cut first), then by its speed-up."""
    return sum(SEVERITY.get(kind, 1.0) for kind in line.flags) + line.speedup


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
                "flags": line.flags,
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
        "voice": document.voice,
        "legend": FLAG_LEGEND,
        "lines": review_rows(document),
    }
