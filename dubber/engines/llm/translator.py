"""Machine translation with a chat LLM (Qwen2.5 instruct) on any runtime that decodes it.

Each text is put in a ChatML prompt whose system message and one worked example are the same for
every text (the runtime computes that prefix once). All texts of a call are decoded together;
one candidate is greedy, n-best comes from a beam.

An LLM can fail in ways a translation model does not: commentary, English left as it was, a loop,
a dropped clause or number. Every candidate is checked (`rejection`); a text with no acceptable
candidate is translated by the fallback translator, with a warning.

A text with a syllable target (`max_syllables`) whose translation is longer gets one second
pass: the model is asked, with a beam, to shorten its own translation (it ignores a length asked
for in the translation prompt itself); the acceptable shorter rewrites lead its candidates.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from dubber.engines.llm.checks import (
    SHORTEST,
    SHORTEST_REWRITE,
    clean_output,
    keeps_numbers,
    rejection,
)
from dubber.engines.llm.decoding import Candidate, Decoder, Request
from dubber.engines.llm.prompts import TARGETS, Prompt, prompts
from dubber.engines.protocols import Translator
from dubber.engines.types import Hypothesis, Translation
from dubber.errors import DubberError
from dubber.text import syllables

logger = logging.getLogger(__name__)

MEMORY_REQUESTS = 4096  # decoded requests kept (a few MB of text), the oldest dropped first


@dataclass(frozen=True, kw_only=True)
class LLMConfig:
    """Decoding options: `beam_size` for n-best and the shorter rewrites; generation stops at
    `max_length_ratio` x the source's tokens + `max_length_extra` (at most `max_length_cap`)."""

    beam_size: int = 2
    max_length_ratio: float = 2.5
    max_length_extra: int = 16
    max_length_cap: int = 384


class LLMTranslator:
    """English into another language with a ChatML instruct model on a `Decoder`."""

    name = "llm"
    length_hints = True  # translate() takes max_syllables

    def __init__(
        self,
        decoder: Decoder,
        config: LLMConfig | None = None,
        *,
        fallback: Translator,
        source_language: str = "en",
        target_language: str = "es",
    ) -> None:
        if source_language != "en" or target_language not in TARGETS:
            raise DubberError(
                f"the LLM translator does not translate {source_language}->{target_language}:"
                f" it translates from English into {', '.join(TARGETS)}"
            )
        self.decoder = decoder
        self.config = config or LLMConfig()
        self.fallback = fallback
        self.source_language = source_language
        self.target_language = target_language
        self._translate, self._shorten = prompts(source_language, target_language)
        self._memory: dict[Request, list[Candidate]] = {}
        self._memory_lock = threading.Lock()

    @property
    def runtime(self) -> str:
        """The runtime the model runs on (ctranslate2, openvino)."""
        return self.decoder.runtime

    def translate(
        self,
        texts: Sequence[str],
        *,
        num_hypotheses: int = 1,
        beam_size: int | None = None,
        max_syllables: Sequence[int | None] | None = None,
    ) -> list[Translation]:
        """Translate each text; blank texts give "" without running the model. One candidate
        is greedy unless `beam_size` is given; n-best searches a beam of max(`beam_size` or the
        configured beam, `num_hypotheses`) and keeps distinct candidates. `max_syllables` holds
        a syllable target per text (None: none)."""
        if num_hypotheses < 1:
            raise ValueError(f"num_hypotheses must be at least 1, not {num_hypotheses}")
        if max_syllables is not None and len(max_syllables) != len(texts):
            raise ValueError(f"{len(max_syllables)} syllable targets for {len(texts)} texts")
        greedy = num_hypotheses == 1 and beam_size is None
        beam = 1 if greedy else max(beam_size or self.config.beam_size, num_hypotheses)
        sources = [normalise(text) for text in texts]
        todo = [i for i, source in enumerate(sources) if source]
        found = self._generate(
            self._translate,
            [{"source": sources[i]} for i in todo],
            [sources[i] for i in todo],
            beam,
        )
        candidates: list[list[Candidate]] = [[] for _ in texts]
        for i, outputs in zip(todo, found, strict=True):
            candidates[i] = outputs
        return self.choose(
            texts, candidates, num_hypotheses=num_hypotheses, max_syllables=max_syllables
        )

    def choose(
        self,
        texts: Sequence[str],
        candidates: Sequence[Sequence[Candidate]],
        *,
        num_hypotheses: int = 1,
        max_syllables: Sequence[int | None] | None = None,
    ) -> list[Translation]:
        """Each text's translation from the model's candidates for it: the acceptable ones
        (distinct, best first), led by a shortened version when the text is over its syllable
        target; the fallback's translation when none is acceptable; "" for a blank text."""
        sources = [normalise(text) for text in texts]
        kept: dict[int, list[Hypothesis]] = {}
        for i, outputs in enumerate(candidates):
            if not sources[i]:
                continue
            kept[i], reasons = _accept(sources[i], outputs)
            if not kept[i]:
                logger.warning(
                    "line %d: the LLM's translation of %r is unusable (%s); using %s instead",
                    i + 1,
                    _excerpt(sources[i]),
                    "; ".join(reasons),
                    self.fallback.name,
                )
        if max_syllables is not None:
            self._shorten_long(sources, max_syllables, kept)
        failed = [i for i, hypotheses in kept.items() if not hypotheses]
        if failed:
            results = self.fallback.translate([sources[i] for i in failed])
            for i, result in zip(failed, results, strict=True):
                kept[i] = list(result.hypotheses)
        return [
            Translation(
                text,
                tuple(kept.get(i, [Hypothesis("", 0.0)])[:num_hypotheses]),
                self.fallback.name if i in failed else None,
            )
            for i, text in enumerate(texts)
        ]

    def _shorten_long(
        self,
        sources: list[str],
        targets: Sequence[int | None],
        kept: dict[int, list[Hypothesis]],
    ) -> None:
        """Put shorter versions first for every text whose translation is over its target:
        the model's beam of rewrites of its first translation, the acceptable ones shorter than
        it, best first (the duration-aware choice then picks among all)."""
        long = [
            i
            for i, target in enumerate(targets)
            if target is not None and kept.get(i) and syllables(kept[i][0].text) > target
        ]
        if not long:
            return
        fields = [
            {"source": sources[i], "translation": kept[i][0].text, "syllables": str(targets[i])}
            for i in long
        ]
        beam = self.config.beam_size
        found = self._generate(self._shorten, fields, [kept[i][0].text for i in long], beam)
        for i, outputs in zip(long, found, strict=True):
            length = syllables(kept[i][0].text)
            rewrites, _ = _accept(sources[i], outputs, shortest=SHORTEST_REWRITE)
            shorter = [h for h in rewrites if syllables(h.text) < length]
            if not shorter:
                logger.info("line %d: no acceptable shorter translation", i + 1)
            known = {h.text for h in shorter}
            kept[i] = [*shorter, *(h for h in kept[i] if h.text not in known)]

    def _generate(
        self, prompt: Prompt, fields: list[dict[str, str]], lengths_of: list[str], beam: int
    ) -> list[list[Candidate]]:
        """Decode one prompt turn per entry of `fields`, up to `beam` candidates each, best
        first; each stops at a length limit set by the tokens of its `lengths_of` text."""
        cfg = self.config
        requests = [
            Request(
                prompt.static,
                prompt.turn(**entry),
                min(
                    cfg.max_length_cap,
                    int(cfg.max_length_ratio * self.count_tokens(text)) + cfg.max_length_extra,
                ),
                beam,
            )
            for entry, text in zip(fields, lengths_of, strict=True)
        ]
        return self._decoded(requests)

    def _decoded(self, requests: list[Request]) -> list[list[Candidate]]:
        """The decoder's candidates for `requests`, those decoded before taken from memory:
        the shorter-rewrite pass asks again for the translations it starts from, and a re-dub
        asks again for the lines it did not change."""
        with self._memory_lock:
            known = {r: self._memory[r] for r in requests if r in self._memory}
        todo = list(dict.fromkeys(r for r in requests if r not in known))
        decoded = dict(zip(todo, self.decoder.generate(todo), strict=True))
        with self._memory_lock:
            self._memory.update(decoded)
            while len(self._memory) > MEMORY_REQUESTS:
                del self._memory[next(iter(self._memory))]  # the oldest first
        return [known[r] if r in known else decoded[r] for r in requests]

    def count_tokens(self, text: str) -> int:
        """How many model tokens `text` is."""
        return self.decoder.count_tokens(text)


def _accept(
    source: str, outputs: Sequence[Candidate], shortest: float = SHORTEST
) -> tuple[list[Hypothesis], list[str]]:
    """The acceptable, distinct candidates among `outputs` (best first), and why the others
    were rejected; `shortest` as in `rejection`."""
    kept: dict[str, Hypothesis] = {}
    reasons: list[str] = []
    for output in outputs:
        text = clean_output(source, output.text)
        reason = rejection(source, text, truncated=output.truncated, shortest=shortest)
        if reason is None:
            kept.setdefault(text, Hypothesis(text, output.score))
        elif reason not in reasons:
            reasons.append(reason)
    ranked = sorted(kept.values(), key=lambda h: not keeps_numbers(source, h.text))
    return ranked, reasons


def normalise(text: str) -> str:
    """NFC (the GGUF's tokenizer does not normalise), with whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def _excerpt(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
