"""The translate step: each line's candidates, with the glossary's terms kept or forced."""

from __future__ import annotations

from collections.abc import Sequence

from dubber.chain.glossary import Glossary
from dubber.chain.line import Line
from dubber.engines.protocols import Translator
from dubber.engines.types import Hypothesis

FALLBACK = "fallback"  # the flag of a line the fallback translator translated


def translate_lines(
    lines: Sequence[Line],
    translator: Translator,
    *,
    glossary: Glossary | None = None,
    num_hypotheses: int = 1,
    beam_size: int | None = None,
    max_syllables: Sequence[int | None] | None = None,
) -> None:
    """Fill in every line's translation candidates (best first), in one translator call; with
    a single candidate, that is the line's translation (else the speak step chooses by length).
    With `max_syllables`, the shorter candidates asked for join the line's earlier ones."""
    if not lines:
        return
    glossary = glossary or Glossary({})
    protected = [glossary.protect(line.source) for line in lines]
    results = translator.translate(
        [text for text, _ in protected],
        num_hypotheses=num_hypotheses,
        beam_size=beam_size,
        max_syllables=max_syllables,
    )
    for line, result, (_, terms) in zip(lines, results, protected, strict=True):
        new = [Hypothesis(glossary.restore(h.text, terms), h.score) for h in result.hypotheses]
        if max_syllables is None:
            line.hypotheses = new
        else:
            known = {h.text for h in line.hypotheses}
            line.hypotheses += [h for h in new if h.text not in known]
        if len(line.hypotheses) == 1:
            line.translation = line.hypotheses[0].text
        if result.fallback and max_syllables is None:
            line.flags[FALLBACK] = (
                f"the {translator.name} output was unusable: {result.fallback} translated it"
            )


def shorten_lines(
    lines: Sequence[Line],
    targets: Sequence[int],
    translator: Translator,
    *,
    glossary: Glossary | None = None,
    num_hypotheses: int = 1,
) -> None:
    """Ask once, for lines whose candidates all run too long, for translations of at most
    `targets` syllables (when the translator can aim at a length)."""
    if lines and translator.length_hints:
        translate_lines(
            lines, translator, glossary=glossary, num_hypotheses=num_hypotheses,
            max_syllables=list(targets),
        )  # fmt: skip
