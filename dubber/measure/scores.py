"""Text metrics with the normalisation speech researchers use (needs the `eval` extra)."""

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


def character_error_rate(
    references: Sequence[str], hypotheses: Sequence[str], language: str = "en"
) -> float:
    """Corpus CER after normalising both sides."""
    import jiwer

    return jiwer.cer(normalize(references, language), normalize(hypotheses, language))
