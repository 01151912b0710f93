"""Scores with the normalisation speech researchers use: WER/CER (jiwer, Whisper's normaliser)
and BLEU/chrF (sacrebleu); they need the `eval` extra."""

from __future__ import annotations

from collections.abc import Sequence

from dubber.errors import DubberError


def _normalizer(language: str):  # noqa: ANN202 - a callable str -> str
    try:
        from whisper_normalizer.basic import BasicTextNormalizer
        from whisper_normalizer.english import EnglishTextNormalizer
    except ImportError:
        raise DubberError("metrics need the eval extra: pip install 'dubber[eval]'") from None
    return EnglishTextNormalizer() if language == "en" else BasicTextNormalizer()


def normalize(texts: Sequence[str], language: str = "en") -> list[str]:
    """Whisper's English normaliser for English, its basic normaliser for other languages."""
    normalizer = _normalizer(language)
    return [" ".join(normalizer(t).split()) for t in texts]


def word_error_rate(
    references: Sequence[str], hypotheses: Sequence[str], language: str = "en"
) -> float:
    """Corpus WER (0..) after normalising both sides."""
    import jiwer

    return jiwer.wer(normalize(references, language), normalize(hypotheses, language))


def error_rates(references: Sequence[str], hypotheses: Sequence[str], language: str) -> dict:
    """Corpus WER and CER with Whisper's normaliser, and the normalised texts they came from."""
    import jiwer

    refs, hyps = normalize(references, language), normalize(hypotheses, language)
    scored = [(r, h) for r, h in zip(refs, hyps, strict=True) if r]
    if not scored:
        raise DubberError("every reference is empty after normalisation: nothing to score")
    refs, hyps = [r for r, _ in scored], [h for _, h in scored]
    return {
        "wer": jiwer.wer(refs, hyps),
        "cer": jiwer.cer(refs, hyps),
        "normalized_references": refs,
        "normalized_hypotheses": hyps,
    }


def bleu_chrf(references: Sequence[str], hypotheses: Sequence[str]) -> dict:
    """sacrebleu corpus BLEU and chrF with their signatures."""
    from sacrebleu.metrics import BLEU, CHRF

    bleu, chrf = BLEU(), CHRF()
    return {
        "bleu": bleu.corpus_score(list(hypotheses), [list(references)]).score,
        "chrf": chrf.corpus_score(list(hypotheses), [list(references)]).score,
        "signature": {"bleu": str(bleu.get_signature()), "chrf": str(chrf.get_signature())},
    }
