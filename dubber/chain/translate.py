"""The translate step: each line's candidates, with the glossary's terms kept or forced."""

from __future__ import annotations

from collections.abc import Sequence

from dubber.chain.glossary import Glossary
from dubber.chain.line import Line
from dubber.engines.protocols import Translator
from dubber.engines.types import Hypothesis


def translate_lines(
    lines: Sequence[Line],
    translator: Translator,
    *,
    glossary: Glossary | None = None,
    num_hypotheses: int = 1,
    beam_size: int | None = None,
) -> None:
    """Fill in every line's translation candidates (best first), in one translator call; with
    a single candidate, that is the line's translation (else the speak step chooses by length)."""
    if not lines:
        return
    glossary = glossary or Glossary({})
    protected = [glossary.protect(line.source) for line in lines]
    results = translator.translate(
        [text for text, _ in protected], num_hypotheses=num_hypotheses, beam_size=beam_size
    )
    for line, result, (_, terms) in zip(lines, results, protected, strict=True):
        line.hypotheses = [
            Hypothesis(glossary.restore(h.text, terms), h.score) for h in result.hypotheses
        ]
        if len(line.hypotheses) == 1:
            line.translation = line.hypotheses[0].text
