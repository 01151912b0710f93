"""What an editor should look at before a dub airs, found once per dub and kept per line in the
dub document: lines the fallback translator stood in for, words left untranslated, words the
recogniser was unsure of, and lines cut or sped up beyond the file's own norm."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from dubber.chain.fit import FitOutcome
from dubber.chain.line import Line
from dubber.chain.translate import FALLBACK
from dubber.engines.lexicon import unknown_words

UNSURE_PROBABILITY = 0.4  # Whisper's word probability under which a word is flagged
FAST_OVER_NORM = 1.15  # a line sped up this much more than the file's median is flagged
FAST_AT_LEAST = 1.1  # and never one sped up less than this
FLAG_LEGEND = {
    FALLBACK: "the LLM's translation was unusable (a loop, English, commentary): Apertium's used",
    "untranslated": "words the Spanish dictionary does not know: likely English left as it was",
    "unsure": "words the recogniser heard with low confidence: check the English",
    "cut": "the Spanish did not fit its slot even at the fastest allowed: it is cut short",
    "fast": "sped up well beyond the rest of this file",
}


def flag_lines(lines: Sequence[Line], target_language: str) -> None:
    """Give each line its flags (kind -> what it is about)."""
    unknown = unknown_words([line.translation or "" for line in lines], target_language)
    speedups = [line.speedup for line in lines if line.placed_start is not None]
    norm = statistics.median(speedups) if speedups else 1.0
    fast = max(FAST_AT_LEAST, norm * FAST_OVER_NORM)
    for number, line in enumerate(lines):
        flags = {FALLBACK: line.flags[FALLBACK]} if FALLBACK in line.flags else {}
        left = [word for word in (unknown[number] if unknown else []) if _ordinary(word)]
        if left:
            flags["untranslated"] = ", ".join(dict.fromkeys(left))
        unsure = [w for w in line.words if w.probability < UNSURE_PROBABILITY]
        if unsure:
            flags["unsure"] = ", ".join(f"{w.text.strip()} ({w.probability:.2f})" for w in unsure)
        if line.fit is FitOutcome.overflow:
            flags["cut"] = f"{line.slot:.1f} s slot"
        elif line.speedup > fast:
            flags["fast"] = f"x{line.speedup:.2f} (this file's median x{norm:.2f})"
        line.flags = flags


def _ordinary(word: str) -> bool:
    """A lowercase word (names are capitalised, numbers copied through)."""
    return len(word) >= 3 and word.isalpha() and word.islower()
