"""Checks on an LLM's output: what makes a translation unusable (commentary, English left in, a
loop, a length far off the source) and what ranks one lower (a number lost)."""

from __future__ import annotations

import re
from collections import Counter

SHORTEST, LONGEST = 0.5, 2.0  # output/source length ratios accepted
SHORTEST_REWRITE = 0.25  # a rewrite asked to be short may drop more

_QUOTES = {'"': '"', "“": "”", "«": "»", "'": "'", "‘": "’"}
_LABEL = re.compile(r"^(?:spanish|español|translation|traducción)\s*:\s*", re.IGNORECASE)
_PREAMBLE = re.compile(
    r"^(?:(?:aquí (?:tienes|está|va)|here(?: is|'s| are))\b"
    r"|(?:por supuesto|claro|sure|certainly|of course)\s*[,:!])",
    re.IGNORECASE,
)
_HERE = re.compile(r"^here\b", re.IGNORECASE)
_META = re.compile(r"\b(?:traducci[oó]n|translat\w*|traducid[oa]s? al)\b", re.IGNORECASE)
_ENGLISH = frozenset(
    """
    the and of to is are was were with that this for you it have has be will would what which
    they we from by not been there their at in on an his her our its but or who how when where
    why does did can could should about into than them these those
    """.split()  # noqa: SIM905 - a word list reads better as text
)
_WORDS = re.compile(r"[^\W_]+")
_BETWEEN_DIGITS = re.compile(r"(?<=\d)(?:[,.]|[ \u00a0\u202f](?=\d{3}(?!\d)))(?=\d)")
_SLACK = 10  # characters added to both lengths, so that short texts may change length more


def clean_output(source: str, text: str) -> str:
    """The model's output without the cosmetic extras it sometimes adds: surrounding blanks,
    a "Spanish:" label, quotes around the whole of it that the source did not have."""
    text = _LABEL.sub("", text.strip())
    if len(text) > 1 and _QUOTES.get(text[0]) == text[-1] and source[:1] not in _QUOTES:
        text = text[1:-1].strip()
    return text


def rejection(
    source: str, output: str, *, truncated: bool = False, shortest: float = SHORTEST
) -> str | None:
    """Why `output` is not an acceptable translation of `source`, or None when it is; its
    length (plus some slack for short texts) must be `shortest` to LONGEST times the source's."""
    if not output.strip():
        return "empty output"
    if truncated:
        return "no end before the length limit (a runaway)"
    if "\n" in output:
        return "several lines (commentary or a list)"
    preamble = _PREAMBLE.match(output) and not _HERE.match(source)
    if preamble or (_META.search(output) and not _META.search(source)):
        return "commentary about translating"
    if output.casefold() == source.casefold() and len(source.split()) > 2:
        return "left in English (unchanged)"
    words = [w.lower() for w in _WORDS.findall(output)]
    english = sum(w in _ENGLISH for w in words)
    if english >= 2 and english > 0.25 * len(words):
        return "left in English"
    if _repeats(words) >= 3 and _repeats(words) > _repeats(_WORDS.findall(source.lower())) + 1:
        return "repeats itself"
    ratio = (len(output) + _SLACK) / (len(source) + _SLACK)
    if not shortest <= ratio <= LONGEST:
        return f"{ratio:.2f} times the source's length"
    return None


def keeps_numbers(source: str, output: str) -> bool:
    """Whether every number of `source` is in `output` (human translators sometimes spell
    one out, so a missing number ranks a candidate lower rather than rejecting it)."""
    return not Counter(_numbers(source)) - Counter(_numbers(output))


def _repeats(words: list[str], n: int = 3) -> int:
    """How often the most frequent `n`-word sequence occurs."""
    grams = Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    return max(grams.values(), default=0)


def _numbers(text: str) -> list[str]:
    """The numbers of `text`, digits only: "1,500", "1.500" and "1 500" are all "1500"."""
    return re.findall(r"\d+", _BETWEEN_DIGITS.sub("", text))
