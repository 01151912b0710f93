"""Terms that translation must keep or force: team and player names, brands."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dubber.errors import UsageError
from dubber.inputs import read_text

_PLACEHOLDER_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _placeholder(index: int) -> str:
    """A made-up word no dictionary holds, so rule-based and neural translators pass it on."""
    return f"Zqx{_PLACEHOLDER_LETTERS[index]}"


@dataclass(frozen=True)
class Glossary:
    """Source term -> required target term (the same term when it is to be kept)."""

    terms: dict[str, str]

    @classmethod
    def load(cls, path: Path) -> Glossary:
        """Read a TSV: `source<TAB>target`, or just `source` to keep it unchanged; # comments."""
        lines = read_text(Path(path), "glossary").splitlines()
        terms = {}
        for number, line in enumerate(lines, start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            source, _, target = line.partition("\t")
            if not source.strip():
                raise UsageError(f"{path}:{number}: empty source term")
            terms[source.strip()] = target.strip() or source.strip()
        return cls(terms)

    def _pattern(self, term: str) -> re.Pattern[str]:
        return re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE)

    def protect(self, source: str) -> tuple[str, list[str]]:
        """The source with each glossary term replaced by a placeholder word that translators
        copy through unchanged, and the target terms in placeholder order."""
        targets: list[str] = []
        for term, target in self.terms.items():
            pattern = self._pattern(term)
            if pattern.search(source) and len(targets) < len(_PLACEHOLDER_LETTERS):
                word = _placeholder(len(targets))
                source = pattern.sub(lambda _, word=word: word, source)
                targets.append(target)
        return source, targets

    @staticmethod
    def restore(translation: str, targets: list[str]) -> str:
        """Put the target terms back where their placeholders came through."""
        for index, target in enumerate(targets):  # targets are literal text, backslashes and all
            pattern = re.compile(_placeholder(index), re.IGNORECASE)
            translation = pattern.sub(lambda _, text=target: text, translation)
        return translation

    def missing(self, source: str, translation: str) -> list[str]:
        """Target terms the translation should contain but does not."""
        return [
            target
            for term, target in self.terms.items()
            if self._pattern(term).search(source) and not self._pattern(target).search(translation)
        ]
