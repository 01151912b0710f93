"""Sentence splitting and size-bounded chunking for English and Spanish text.

`split_sentences` is rule based: a sentence ends at `.`, `!`, `?` or an ellipsis (with any closing
quotes or brackets) followed by whitespace and a word that may start a sentence (upper case, a
digit, an opening quote or Spanish `¿`/`¡`). A period does not end a sentence after a known
abbreviation ("Mr.", "Sra.", "approx."), a single initial ("J. K. Rowling") or a dotted initialism
("U.S.", "e.g."); decimals ("3.5") never split because no space follows the period. The cost of
these rules: "... in the U.S. The next day ..." stays one sentence. Blank lines always split.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# Lower-case abbreviations (without the final period) after which a period never ends a sentence.
# Words that also end sentences in their own right ("no", "mar", "in") are left out; so is "etc.",
# which more often ends a sentence than not.
_ABBREVIATIONS = frozenset(
    """
    mr mrs ms messrs dr prof sr sra srta sres dra jr st mt ft gen gov sen rep rev capt col lt sgt
    cpl adm hon pres vs approx dept est fig figs inc ltd corp co jan feb apr jun jul aug sep sept
    oct nov dec vol vols ed eds pp ch cap art av avda ud uds vd vds pág págs núm tel ej aprox lic
    ing arq depto cía gral pdte profa dña
    """.split()  # noqa: SIM905 - a word list reads better as text
)
_INITIALS = re.compile(r"(?:[^\W\d_]\.)+")
_CANDIDATE = re.compile(r"(?:\.{2,}|…|[.!?])+[\"'”’»)\]]*\s+(?=\S)")
_OPENERS = "¿¡\"'“‘«([—–-"
_SENTENCE_START = re.compile(rf"[^\W_]|[{re.escape(_OPENERS)}]")
_PARAGRAPH = re.compile(r"\n\s*\n")
_CLAUSE = re.compile(r"(?<=[,;:])\s+|\s+(?=[—–(])")
_WORD = re.compile(r"\s+")


def split_sentences(text: str) -> list[str]:
    """Split English or Spanish text into sentences, each with its whitespace collapsed."""
    sentences: list[str] = []
    for paragraph in _PARAGRAPH.split(text):
        flat = " ".join(paragraph.split())
        start = 0
        for match in _CANDIDATE.finditer(flat):
            if _ends_sentence(flat, match):
                sentences.append(flat[start : match.end()].rstrip())
                start = match.end()
        if tail := flat[start:]:
            sentences.append(tail)
    return sentences


def _ends_sentence(text: str, match: re.Match[str]) -> bool:
    following = text[match.end()]
    if not _SENTENCE_START.match(following) or following.islower():
        return False
    punctuation = match.group().rstrip()
    if not punctuation.startswith(".") or punctuation.startswith(".."):
        return True
    word = text[: match.start()].rsplit(" ", 1)[-1].lstrip(_OPENERS)
    if _INITIALS.fullmatch(word + "."):
        return False
    return word.lower() not in _ABBREVIATIONS


def chunk_text(text: str, max_chars: int) -> list[str]:
    """Cut `text` into pieces of at most `max_chars` characters, packing whole sentences together.

    A sentence longer than the bound is cut at clause boundaries (after `,;:`, before dashes
    and brackets), then between words; only a single word longer than the bound is cut inside.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be positive, not {max_chars}")
    return _fit(text, max_chars, (split_sentences, _CLAUSE.split, _WORD.split))


def speech_pieces(text: str, first_chars: int) -> list[str]:
    """`text` as a short first piece (at most `first_chars`, cut at a clause or word boundary,
    so that speech can start sooner), then the rest in sentence-sized pieces."""
    pieces = chunk_text(text, first_chars) if text.strip() else []
    if len(pieces) <= 1:
        return pieces
    return [pieces[0], *chunk_text(" ".join(pieces[1:]), 4 * first_chars)]


def _fit(text: str, max_chars: int, splitters: tuple[Callable[[str], list[str]], ...]) -> list[str]:
    """Split with the first splitter and pack the parts; cut only over-long parts further.

    The pieces of a part that had to be cut are not packed with its neighbours, so chunk
    boundaries stay on the coarsest boundary that fits.
    """
    split, rest = splitters[0], splitters[1:]
    chunks: list[str] = []
    open_chunk = False
    for part in filter(None, split(text)):
        if len(part) > max_chars:
            chunks.extend(_fit(part, max_chars, rest) if rest else _slices(part, max_chars))
            open_chunk = False
        elif open_chunk and len(chunks[-1]) + 1 + len(part) <= max_chars:
            chunks[-1] = f"{chunks[-1]} {part}"
        else:
            chunks.append(part)
            open_chunk = True
    return chunks


def _slices(text: str, max_chars: int) -> list[str]:
    return [text[i : i + max_chars] for i in range(0, len(text), max_chars)]


_VOWEL_GROUPS = re.compile(r"[aeiouáéíóúüy]+", re.IGNORECASE)


def syllables(text: str) -> int:
    """About how many syllables a Spanish text has (its vowel groups)."""
    return len(_VOWEL_GROUPS.findall(text))
