"""LocalAgreement-2 for live mode: commit the words two consecutive passes agree on."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import numpy as np

from dubber.engines.protocols import Recognizer
from dubber.engines.types import TranscribeOptions, Word

_SENTENCE_END = re.compile(r"[.!?…][\"')\]]*$")
_CLAUSE_END = re.compile(r"[,;:][\"')\]]*$")


def _norm(word: str) -> str:
    return re.sub(r"[^\w']", "", word.lower())


@dataclass
class LocalAgreement:
    """LocalAgreement-2 over the passes of one growing utterance: words two consecutive passes
    agree on are committed; a committed sentence, or a clause of at least `clause_words` words
    (0: sentences only), followed by more committed words is ready."""

    clause_words: int = 0
    previous: list[Word] = field(default_factory=list)
    committed: list[Word] = field(default_factory=list)
    spoken: int = 0  # committed words already handed on as lines
    heard_to: int = 0  # input sample the last pass heard up to
    first_caption_s: float | None = None

    def update(self, words: list[Word]) -> list[Word]:
        """Take a new pass; the words of complete sentences now safe to speak (maybe none)."""
        agreed = 0
        for old, new in zip(self.previous, words, strict=False):
            if _norm(old.text) != _norm(new.text):
                break
            agreed += 1
        if agreed > len(self.committed):
            self.committed = words[:agreed]
        self.previous = words
        ends = [
            i
            for i in range(self.spoken, len(self.committed) - 1)
            if _SENTENCE_END.search(self.committed[i].text)
            or (
                self.clause_words
                and i + 1 - self.spoken >= self.clause_words
                and _CLAUSE_END.search(self.committed[i].text)
            )
        ]
        if not ends:
            return []
        piece = self.committed[self.spoken : ends[-1] + 1]
        self.spoken = ends[-1] + 1
        return piece

    def sentence_pending(self) -> bool:
        """Whether the last pass heard a sentence end not yet spoken: the pass that confirms it
        is worth running soon."""
        return any(_SENTENCE_END.search(w.text) for w in self.previous[self.spoken :])

    def rest(self, words: list[Word]) -> list[Word]:
        """The words of the final pass not already spoken (matched loosely by text)."""
        spoken = self.committed[: self.spoken]
        if not spoken:
            return words
        a, b = [_norm(w.text) for w in spoken], [_norm(w.text) for w in words]
        blocks = difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
        ends = [block.b + block.size for block in blocks if block.size]
        return words[max(ends) if ends else min(len(spoken), len(words)) :]


def transcribe_words(
    recognizer: Recognizer, audio: np.ndarray, options: TranscribeOptions
) -> list[Word]:
    """The words of one utterance, timed when the recogniser gives word timestamps."""
    segments, _ = recognizer.transcribe(audio, options=options)
    words: list[Word] = []
    for segment in segments:
        if segment.words:
            words.extend(segment.words)
        else:
            words.extend(Word(w, segment.start, segment.end) for w in segment.text.split())
    return words
