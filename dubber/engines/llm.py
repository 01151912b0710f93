"""Machine translation with a chat LLM (Qwen2.5 instruct) in CTranslate2 Generator format.

Each text is put in a ChatML prompt whose system message and one worked example are the same for
every text: CTranslate2 forwards that prefix once and keeps its state (`static_prompt`). Texts
are decoded several at a time, sorted by prompt length (CTranslate2 forwards a batch's prompts at
once only up to the shortest). Greedy decoding gives one candidate; n-best uses beam search.

An LLM can fail in ways a translation model does not: commentary, English left as it was, a loop,
a dropped clause or number. Every candidate is checked (`rejection`); a text with no acceptable
candidate is translated by the fallback translator, with a warning.

A text with a syllable target (`max_syllables`) whose translation is longer gets one second
pass: the model is asked, with a beam, to shorten its own translation (it ignores a length asked
for in the translation prompt itself); the acceptable shorter rewrites lead its candidates.
"""

from __future__ import annotations

import itertools
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dubber.engines.protocols import Translator
from dubber.engines.types import Hypothesis, Translation
from dubber.errors import DubberError
from dubber.settings import RuntimeOptions
from dubber.text import syllables

logger = logging.getLogger(__name__)

FILES = ("config.json", "model.bin", "tokenizer.json", "vocabulary.json")
_START, _END = "<|im_start|>", "<|im_end|>"
SHORTEST, LONGEST = 0.5, 2.0  # output/source length ratios accepted
SHORTEST_REWRITE = 0.25  # a rewrite asked to be short may drop more
LANGUAGES = {
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "pt": "Portuguese",
}

# The worked example: an English sentence with names, a date and a number, and per target
# language its translation and a shorter version of it.
_SHOT = (
    "On 12 March 2019, Dr. Sarah Miller told reporters in Geneva that 1,500 volunteers had"
    " joined the project."
)
_SHOTS = {
    "es": (
        "El 12 de marzo de 2019, la Dra. Sarah Miller dijo a los periodistas en Ginebra que 1500"
        " voluntarios se habían unido al proyecto.",
        "El 12 de marzo de 2019, la Dra. Sarah Miller contó en Ginebra que 1500 voluntarios se"
        " sumaron al proyecto.",
    ),
    "fr": (
        "Le 12 mars 2019, la Dre Sarah Miller a déclaré aux journalistes à Genève que 1 500"
        " bénévoles avaient rejoint le projet.",
        "Le 12 mars 2019 à Genève, la Dre Sarah Miller a dit que 1 500 bénévoles ont rejoint le"
        " projet.",
    ),
    "de": (
        "Am 12. März 2019 sagte Dr. Sarah Miller Reportern in Genf, dass sich 1.500 Freiwillige"
        " dem Projekt angeschlossen hatten.",
        "Am 12. März 2019 sagte Dr. Sarah Miller in Genf, 1.500 Freiwillige seien dem Projekt"
        " beigetreten.",
    ),
    "it": (
        "Il 12 marzo 2019 la dottoressa Sarah Miller ha detto ai giornalisti a Ginevra che 1.500"
        " volontari si erano uniti al progetto.",
        "Il 12 marzo 2019 a Ginevra la dottoressa Sarah Miller ha detto che 1.500 volontari si"
        " sono uniti al progetto.",
    ),
    "pt": (
        "Em 12 de março de 2019, a Dra. Sarah Miller disse aos jornalistas em Genebra que 1.500"
        " voluntários tinham aderido ao projeto.",
        "Em 12 de março de 2019, em Genebra, a Dra. Sarah Miller disse que 1.500 voluntários"
        " aderiram ao projeto.",
    ),
}


@dataclass(frozen=True)
class LLMConfig:
    """Decoding options. `batch_size` counts decoded sequences (texts × beam), which bounds
    memory; generation stops at `max_length_ratio` × the source's tokens + `max_length_extra`."""

    batch_size: int = 8
    beam_size: int = 4
    length_bucket: int = 8  # greedy batches hold prompts within this many tokens (see batches)
    max_length_ratio: float = 2.5
    max_length_extra: int = 16
    max_length_cap: int = 384


@dataclass(frozen=True)
class Candidate:
    """One decoded output of the model, before it is checked."""

    text: str
    score: float
    truncated: bool = False  # the length limit was reached before the end token


@dataclass(frozen=True)
class _Prompt:
    """A ChatML conversation whose system turn and example exchange are shared (the static
    prefix) and whose last user turn is filled in per text."""

    static: str
    user: str  # with {source}, and optionally {translation} and {syllables}

    @classmethod
    def build(cls, system: str, user: str, example: dict[str, str], answer: str) -> _Prompt:
        static = f"{_START}system\n{system}{_END}\n{_turn(user.format(**example), answer)}"
        return cls(static, user)

    def turn(self, **fields: object) -> str:
        return f"{_START}user\n{self.user.format(**fields)}{_END}\n{_START}assistant\n"


def _turn(user: str, answer: str) -> str:
    return f"{_START}user\n{user}{_END}\n{_START}assistant\n{answer}{_END}\n"


def _prompts(source: str, target: str) -> tuple[_Prompt, _Prompt]:
    """The translation prompt and the shortening prompt for a language pair."""
    src, tgt = LANGUAGES[source], LANGUAGES[target]
    translation, shorter = _SHOTS[target]
    translate = _Prompt.build(
        f"You are a professional {src}-to-{tgt} translator. Translate the {src} text the user"
        f" gives you into natural, fluent {tgt}. Translate faithfully and completely: do not add,"
        " omit or explain anything. Keep names, numbers and dates exactly as in the source."
        f" Reply with the {tgt} translation only: no commentary, no notes, no quotation marks,"
        f" and no {src} left untranslated.",
        f"Translate into {tgt}:\n{{source}}",
        {"source": _SHOT},
        translation,
    )
    shorten = _Prompt.build(
        f"You edit {tgt} dubbing scripts. The user gives you an {src} sentence and its {tgt}"
        f" translation. Shorten the {tgt} sentence so that it can be spoken in less time: use"
        " fewer and shorter words, and drop only minor details. Keep every name, number and date"
        f" and keep the meaning. Reply with the shortened {tgt} sentence only.",
        f"{src}: {{source}}\n{tgt}: {{translation}}\n"
        f"Shorten this {tgt} sentence to about {{syllables}} syllables, keeping names, numbers"
        " and meaning.",
        {"source": _SHOT, "translation": translation, "syllables": str(syllables(shorter))},
        shorter,
    )
    return translate, shorten


class LLMTranslator:
    """A CTranslate2 Generator folder of a ChatML instruct model (model.bin, tokenizer.json)."""

    name = "llm"
    length_hints = True  # translate() takes max_syllables

    def __init__(
        self,
        model_dir: Path,
        runtime: RuntimeOptions | None = None,
        config: LLMConfig | None = None,
        *,
        fallback: Translator,
        source_language: str = "en",
        target_language: str = "es",
    ) -> None:
        import ctranslate2
        import tokenizers

        self.model_dir = Path(model_dir)
        self.runtime = runtime or RuntimeOptions()
        self.config = config or LLMConfig()
        self.fallback = fallback
        self.source_language = source_language
        self.target_language = target_language
        if source_language != "en" or target_language not in _SHOTS:
            raise DubberError(
                f"the LLM translator does not translate {source_language}->{target_language}:"
                f" it translates from English into {', '.join(_SHOTS)}"
            )
        missing = [name for name in FILES if not (self.model_dir / name).is_file()]
        if missing:
            raise DubberError(
                f"{self.model_dir} is not a CTranslate2 LLM folder (missing {', '.join(missing)}):"
                " install it again with 'dubber models import' or reinstall its packs"
            )
        cpu = self.runtime.device == "cpu"
        self._generator = ctranslate2.Generator(
            str(self.model_dir),
            device=self.runtime.device,
            compute_type=self.runtime.compute_type,
            intra_threads=self.runtime.threads if cpu else 0,
        )
        self._tokenizer = tokenizers.Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        self._translate, self._shorten = _prompts(source_language, target_language)

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
            kept[i], reasons = self._accept(sources[i], outputs)
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
            Translation(text, tuple(kept.get(i, [Hypothesis("", 0.0)])[:num_hypotheses]))
            for i, text in enumerate(texts)
        ]

    def _accept(
        self, source: str, outputs: Sequence[Candidate], shortest: float = SHORTEST
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
            rewrites, _ = self._accept(sources[i], outputs, shortest=SHORTEST_REWRITE)
            shorter = [h for h in rewrites if syllables(h.text) < length]
            if not shorter:
                logger.info("line %d: no acceptable shorter translation", i + 1)
            known = {h.text for h in shorter}
            kept[i] = [*shorter, *(h for h in kept[i] if h.text not in known)]

    def _generate(
        self, prompt: _Prompt, fields: list[dict[str, str]], lengths_of: list[str], beam: int
    ) -> list[list[Candidate]]:
        """Decode one prompt turn per entry of `fields`, up to `beam` candidates each, best
        first; each stops at a length limit set by the tokens of its `lengths_of` text."""
        cfg = self.config
        inputs = [self._tokens(prompt.turn(**entry)) for entry in fields]
        limits = [
            min(
                cfg.max_length_cap,
                int(cfg.max_length_ratio * self.count_tokens(text)) + cfg.max_length_extra,
            )
            for text in lengths_of
        ]
        static = self._tokens(prompt.static)
        results: list[list[Candidate]] = [[] for _ in inputs]
        # Beam search has no per-token callback to stop a filler: it groups equal lengths only.
        width = cfg.length_bucket if beam == 1 else 1
        for chosen, forward in batches(
            [len(tokens) for tokens in inputs], max(1, cfg.batch_size // beam), width
        ):
            batch = [inputs[i] for i in chosen]
            if forward < len(batch[0]):  # a filler of that length: stopped at its first token
                batch.append(batch[0][:forward])
            max_length = max(limits[i] for i in chosen)
            generated = self._generator.generate_batch(
                batch,
                static_prompt=static,
                include_prompt_in_result=False,
                end_token=_END,
                max_length=max_length,
                beam_size=beam,
                num_hypotheses=beam,
                return_scores=True,
                callback=_stopper(len(chosen)) if beam == 1 else None,
            )
            for i, result in zip(chosen, generated[: len(chosen)], strict=True):
                results[i] = [
                    Candidate(
                        self._tokenizer.decode(ids, skip_special_tokens=True),
                        float(score),
                        len(ids) >= limits[i],
                    )
                    for ids, score in zip(result.sequences_ids, result.scores, strict=True)
                ]
        return results

    def _tokens(self, text: str) -> list[str]:
        ids = self._tokenizer.encode(text, add_special_tokens=False).ids
        return [self._tokenizer.id_to_token(i) for i in ids]

    def count_tokens(self, text: str) -> int:
        """How many model tokens `text` is."""
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)


def _stopper(filler: int) -> Callable[[Any], bool]:
    """A generation callback that ends the filler prompt's decoding at its first token."""
    return lambda step: step.batch_id == filler


def batches(lengths: Sequence[int], size: int, width: int) -> list[tuple[list[int], int]]:
    """Indices of prompts of `lengths` in batches of at most `size`, shortest first, each with
    how many prompt tokens it forwards at once (the rest are fed one by one).

    CTranslate2 forwards a batch's prompts at once only up to the shortest; fed one by one,
    later tokens come out slightly different in floating point, which can change a word. So
    that a text translates the same in any batch, the tokens forwarded at once depend on its
    own length only: its length rounded down to a multiple of `width`, shared by the batch
    (a filler prompt of that length is added when no member has it)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    found: list[tuple[list[int], int]] = []
    for forward, group in itertools.groupby(order, key=lambda i: lengths[i] - lengths[i] % width):
        members = list(group)
        found += [(members[i : i + size], forward) for i in range(0, len(members), size)]
    return found


def normalise(text: str) -> str:
    """NFC (the GGUF's tokenizer does not normalise), with whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def _excerpt(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- checks on the model's output -------------------------------------------------------------

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
