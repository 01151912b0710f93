"""Machine translation with OPUS-MT (Marian) models in CTranslate2 format.

Each input is cut into sentences (and over-long sentences into clauses), all pieces are translated
in one batched CTranslate2 call, and the pieces are joined back into one translation per input.
Numbers and names pass through the model's sentencepiece vocabulary as ordinary pieces; an
unknown target token is replaced by the source piece it attends to most (`replace_unknowns`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dubber.engines.types import Hypothesis, Translation
from dubber.errors import DubberError
from dubber.settings import RuntimeOptions
from dubber.text import chunk_text, split_sentences

logger = logging.getLogger(__name__)

_EMPTY = (Hypothesis("", 0.0),)


@dataclass(frozen=True, kw_only=True)
class OpusMTConfig:
    """Decoding options. Scores are mean token log-probabilities (length_penalty 1)."""

    beam_size: int = 4
    max_batch_size: int = 32
    batch_type: str = "examples"
    max_input_length: int = 512
    max_decoding_length: int = 256
    length_penalty: float = 1.0
    max_sentence_chars: int = 400
    replace_unknowns: bool = True


class OpusMTTranslator:
    """A CTranslate2 OPUS-MT folder (model.bin, vocabulary, source.spm, target.spm)."""

    name = "opusmt"
    length_hints = False

    def __init__(
        self,
        model_dir: Path,
        runtime: RuntimeOptions | None = None,
        config: OpusMTConfig | None = None,
        *,
        source_language: str = "en",
        target_language: str = "es",
    ) -> None:
        import ctranslate2
        import sentencepiece

        self.model_dir = Path(model_dir)
        self.runtime = runtime or RuntimeOptions()
        self.config = config or OpusMTConfig()
        self.source_language = source_language
        self.target_language = target_language
        missing = [
            name
            for name in ("model.bin", "source.spm", "target.spm")
            if not (self.model_dir / name).is_file()
        ]
        if missing:
            raise DubberError(
                f"{self.model_dir} is not a CTranslate2 OPUS-MT model (missing "
                f"{', '.join(missing)}): install it again with 'dubber models pull' or 'import'"
            )
        self._source_spm = sentencepiece.SentencePieceProcessor(
            model_file=str(self.model_dir / "source.spm")
        )
        self._target_spm = sentencepiece.SentencePieceProcessor(
            model_file=str(self.model_dir / "target.spm")
        )
        cpu = self.runtime.device == "cpu"
        self._translator = ctranslate2.Translator(
            str(self.model_dir),
            device=self.runtime.device,
            compute_type=self.runtime.compute_type,
            intra_threads=self.runtime.threads if cpu else 0,
        )

    def translate(
        self,
        texts: Sequence[str],
        *,
        num_hypotheses: int = 1,
        beam_size: int | None = None,
        max_syllables: Sequence[int | None] | None = None,
    ) -> list[Translation]:
        """Translate each text; blank texts give "" without running the model. `beam_size`
        None is the configured beam (widened to `num_hypotheses`).

        With several sentences in one text, its k-th hypothesis joins the k-th hypothesis of
        every sentence and scores their mean.
        """
        if num_hypotheses < 1:
            raise ValueError(f"num_hypotheses must be at least 1, not {num_hypotheses}")
        pieces: list[str] = []
        owners: list[int] = []
        for index, text in enumerate(texts):
            for sentence in split_sentences(text):
                for piece in chunk_text(sentence, self.config.max_sentence_chars):
                    pieces.append(piece)
                    owners.append(index)
        per_text: list[list[list[Hypothesis]]] = [[] for _ in texts]
        beam = max(beam_size or self.config.beam_size, num_hypotheses)
        for owner, hypotheses in zip(
            owners, self._translate_pieces(pieces, num_hypotheses, beam), strict=True
        ):
            per_text[owner].append(hypotheses)
        return [
            Translation(source=text, hypotheses=_combine(parts, num_hypotheses))
            for text, parts in zip(texts, per_text, strict=True)
        ]

    def _translate_pieces(
        self, pieces: list[str], num_hypotheses: int, beam_size: int
    ) -> list[list[Hypothesis]]:
        """Translate sentences in one batched call; up to `num_hypotheses` distinct each."""
        if not pieces:
            return []
        cfg = self.config
        logger.debug("translating %d sentences (beam %d)", len(pieces), beam_size)
        results = self._translator.translate_batch(
            self._source_spm.encode(pieces, out_type=str),
            max_batch_size=cfg.max_batch_size,
            batch_type=cfg.batch_type,
            beam_size=beam_size,
            # Ask for the whole beam when several are wanted: two token sequences can
            # detokenise to the same text, and duplicates are dropped below.
            num_hypotheses=beam_size if num_hypotheses > 1 else 1,
            length_penalty=cfg.length_penalty,
            max_input_length=cfg.max_input_length,
            max_decoding_length=cfg.max_decoding_length,
            replace_unknowns=cfg.replace_unknowns,
            return_scores=True,
        )
        return [
            _distinct(
                [
                    Hypothesis(self._target_spm.decode(tokens), float(score))
                    for tokens, score in zip(result.hypotheses, result.scores, strict=True)
                ]
            )[:num_hypotheses]
            for result in results
        ]


def _combine(parts: list[list[Hypothesis]], limit: int) -> tuple[Hypothesis, ...]:
    """Join per-sentence n-best lists into up to `limit` hypotheses for the whole text."""
    if not parts:
        return _EMPTY
    combined = []
    for k in range(max(len(hypotheses) for hypotheses in parts)):
        chosen = [hypotheses[min(k, len(hypotheses) - 1)] for hypotheses in parts]
        text = " ".join(h.text for h in chosen)
        combined.append(Hypothesis(text, sum(h.score for h in chosen) / len(chosen)))
    return tuple(_distinct(combined)[:limit])


def _distinct(hypotheses: list[Hypothesis]) -> list[Hypothesis]:
    """Drop hypotheses whose text repeats an earlier (better) one."""
    kept: dict[str, Hypothesis] = {}
    for hypothesis in hypotheses:
        kept.setdefault(hypothesis.text, hypothesis)
    return list(kept.values())
