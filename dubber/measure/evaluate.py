"""Quality on the user's own data: ASR, MT, TTS, speech-to-speech translation, dub sync.

Every evaluation returns a report dict whose top level holds the headline numbers (`wer`,
`bleu`, ...) next to the details, and the texts it scored (`_texts`), which
`dubber.measure.reports.save_report` writes beside the JSON.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from dubber.chain.s2st import translate_speech
from dubber.chain.transcribe import TranscriptFormat, transcript_options
from dubber.dub.document import DubDocument
from dubber.engines.bundle import Engines
from dubber.engines.protocols import Recognizer, Synthesizer, Translator, synthesize_all
from dubber.engines.types import Speech
from dubber.errors import DubberError
from dubber.measure.data import ManifestRow
from dubber.measure.scores import bleu_chrf, error_rates
from dubber.media.captions import problems, rooms
from dubber.media.decode import AUDIO_RATE, decode_audio, resample
from dubber.media.subtitles import Cue

LINE_MARGIN_S = 0.15  # heard around each placed line, so cut-off word edges are not counted


def _transcribe(recognizer: Recognizer, audio: np.ndarray, language: str) -> str:
    """The text `dubber transcribe` gives."""
    options = transcript_options(TranscriptFormat.text)
    segments, _ = recognizer.transcribe(audio, language=language, options=options)
    return " ".join(s.text.strip() for s in segments).strip()


def evaluate_asr(
    rows: Sequence[ManifestRow],
    recognizer: Recognizer,
    model: str,
    language: str = "en",
    plain: Callable[[np.ndarray], str] | None = None,
) -> dict:
    """WER/CER of `recognizer` on the manifest, with its real-time factor; with `plain` (the
    wrapped library with its own defaults), its WER/CER on the same audio beside them."""
    hypotheses, baseline, busy, audio_seconds = [], [], 0.0, 0.0
    for row in rows:
        audio = decode_audio(row.file)
        started = time.perf_counter()
        hypotheses.append(_transcribe(recognizer, audio, language))
        busy += time.perf_counter() - started
        audio_seconds += len(audio) / AUDIO_RATE
        if plain is not None:
            baseline.append(plain(audio))
    references = [r.reference for r in rows]
    rates = error_rates(references, hypotheses, language)
    report = {
        "wer": rates["wer"],
        "cer": rates["cer"],
        "model": model,
        "clips": len(rows),
        "audio_seconds": audio_seconds,
        "rtf": busy / audio_seconds if audio_seconds else None,
        "normalizer": "whisper english" if language == "en" else "whisper basic",
        "items": [
            {"file": str(r.file), "reference": r.reference, "hypothesis": h}
            for r, h in zip(rows, hypotheses, strict=True)
        ],
        "_texts": {
            "hyp.txt": rates["normalized_hypotheses"],
            "ref.txt": rates["normalized_references"],
        },
    }
    if plain is not None:
        plain_rates = error_rates(references, baseline, language)
        report["plain_wer"], report["plain_cer"] = plain_rates["wer"], plain_rates["cer"]
        for item, text in zip(report["items"], baseline, strict=True):
            item["plain_hypothesis"] = text
    return report


def evaluate_mt(
    sources: Sequence[str],
    references: Sequence[str],
    translator: Translator,
    *,
    beam_size: int | None = None,
) -> dict:
    """BLEU and chrF of `translator` (its best candidate, from a beam of `beam_size` when
    given) on line-aligned source and reference texts."""
    if len(sources) != len(references):
        raise DubberError(
            f"the source has {len(sources)} lines but the reference {len(references)}: "
            "give line-aligned files"
        )
    started = time.perf_counter()
    hypotheses = [t.text for t in translator.translate(list(sources), beam_size=beam_size)]
    seconds = time.perf_counter() - started
    scores = bleu_chrf(references, hypotheses)
    return {
        "bleu": scores["bleu"],
        "chrf": scores["chrf"],
        "signature": scores["signature"],
        "translator": translator.name,
        "beam_size": beam_size,
        "sentences": len(sources),
        "sentences_per_second": len(sources) / seconds if seconds else None,
        "items": [
            {"source": s, "reference": r, "hypothesis": h}
            for s, r, h in zip(sources, references, hypotheses, strict=True)
        ],
        "_texts": {"hyp.txt": hypotheses, "ref.txt": list(references)},
    }


def hear(recognizer: Recognizer, speech: Speech, language: str) -> str:
    """What a Whisper model hears in synthesized speech (resampled to 16 kHz)."""
    audio = resample(speech.samples, speech.sample_rate, AUDIO_RATE)
    return _transcribe(recognizer, audio, language)


def evaluate_tts(
    lines: Sequence[str],
    synthesizer: Synthesizer,
    voice: str,
    recognizer: Recognizer,
    asr_model: str,
    language: str = "es",
) -> dict:
    """Round-trip intelligibility (synthesize, transcribe, compare) and speaking rate."""
    texts = [line.strip() for line in lines if line.strip()]
    heard, durations, busy = [], [], 0.0
    for text in texts:
        started = time.perf_counter()
        speech = synthesize_all(synthesizer, text)
        busy += time.perf_counter() - started
        durations.append(speech.duration)
        heard.append(hear(recognizer, speech, language))
    rates = error_rates(texts, heard, language)
    audio = sum(durations)
    characters = sum(len(t) for t in texts)
    words = sum(len(t.split()) for t in texts)
    return {
        "wer": rates["wer"],
        "cer": rates["cer"],
        "chars_per_second": characters / audio if audio else None,
        "words_per_second": words / audio if audio else None,
        "rtf": busy / audio if audio else None,
        "voice": voice,
        "asr_model": asr_model,
        "lines": len(texts),
        "audio_seconds": audio,
        "normalizer": "whisper basic",
        "items": [
            {"text": t, "heard": h, "seconds": d}
            for t, h, d in zip(texts, heard, durations, strict=True)
        ],
        "_texts": {
            "hyp.txt": rates["normalized_hypotheses"],
            "ref.txt": rates["normalized_references"],
        },
    }


def evaluate_s2st(
    rows: Sequence[ManifestRow], engines: Engines, listener: Recognizer, names: dict[str, str]
) -> dict:
    """ASR-BLEU and ASR-chrF: each recording through the speech-to-speech chain the server uses
    (lines, translation, voice by pitch), the Spanish speech transcribed by `listener` and
    scored against references; BLEU/chrF of the text translation too, to show what speech
    synthesis costs."""
    transcripts, translations, heard = [], [], []
    for row in rows:
        result = translate_speech(decode_audio(row.file), engines)
        transcripts.append(result.source)
        translations.append(result.translation)
        heard.append(hear(listener, result.speech, "es") if result.speech.duration else "")
    references = [r.reference for r in rows]
    spoken, written = bleu_chrf(references, heard), bleu_chrf(references, translations)
    return {
        "asr_bleu": spoken["bleu"],
        "asr_chrf": spoken["chrf"],
        "text_bleu": written["bleu"],
        "text_chrf": written["chrf"],
        "signature": spoken["signature"],
        "engines": names,
        "clips": len(rows),
        "items": [
            {
                "file": str(r.file),
                "reference": r.reference,
                "transcript": t,
                "translation": m,
                "heard": h,
            }
            for r, t, m, h in zip(rows, transcripts, translations, heard, strict=True)
        ],  # fmt: skip
        "_texts": {"hyp.txt": heard, "ref.txt": references, "mt.txt": translations},
    }


def evaluate_dub(
    document: DubDocument, audio: np.ndarray, listener: Recognizer, listener_name: str
) -> dict:
    """Intelligibility of a finished dub: its audio track (16 kHz) heard by a multilingual
    Whisper where each line was placed, and scored against the Spanish lines (corpus WER; what
    a cut line lost counts as errors), with each line's WER, speed-up and fit, so that what costs
    most shows. `track_wer` hears the whole track in one pass instead (Whisper's long-form
    decoding skips stretches of dense speech, so it reads worse than the dub is)."""
    language = document.target_language
    spoken = [line for line in document.lines if line.placed_start is not None and line.translation]
    if not spoken:
        raise DubberError("the dub document has no spoken lines: dub the file first")
    track = error_rates([" ".join(line.translation for line in spoken)],
                        [_transcribe(listener, audio, language)], language)  # fmt: skip
    items = []
    for line in spoken:
        begin = max(int((line.placed_start - LINE_MARGIN_S) * AUDIO_RATE), 0)
        end = int((line.placed_end + LINE_MARGIN_S) * AUDIO_RATE)
        heard = _transcribe(listener, audio[begin:end], language)
        rates = error_rates([line.translation], [heard], language)
        items.append({
            "index": line.index, "translation": line.translation, "heard": heard,
            "wer": rates["wer"], "speedup": line.speedup,
            "fit": line.fit.value if line.fit else "",
        })  # fmt: skip
    by_fit: dict[str, list[float]] = {}
    for item in items:
        by_fit.setdefault(item["fit"] or "unknown", []).append(item["wer"])
    lines = error_rates([i["translation"] for i in items], [i["heard"] for i in items], language)
    return {
        "wer": lines["wer"],
        "cer": lines["cer"],
        "track_wer": track["wer"],
        "line_wer_median": float(np.median([i["wer"] for i in items])),
        "line_wer_by_fit": {fit: float(np.mean(v)) for fit, v in sorted(by_fit.items())},
        "lines": len(items),
        "listener": listener_name,
        "items": items,
        "_texts": {
            "hyp.txt": lines["normalized_hypotheses"],
            "ref.txt": lines["normalized_references"],
        },
    }


def distribution(values: Sequence[float]) -> dict:
    """Median, 90th percentile, min and max (None when empty)."""
    if not values:
        return {"median": None, "p90": None, "min": None, "max": None}
    array = np.asarray(values, dtype=float)
    return {
        "median": float(np.median(array)),
        "p90": float(np.percentile(array, 90)),
        "min": float(array.min()),
        "max": float(array.max()),
    }


def subtitle_norms(cues: list[Cue], language: str, duration: float) -> dict:
    """How many of `cues` keep the broadcast norms (lines, length, duration, reading speed
    where the timing allows it), how many break each, and how many are read at the norm's
    speed at all (`read_at_speed`: the dense speech where the timing does not allow it)."""
    broken: dict[str, int] = {}
    within = at_speed = 0
    for cue, room in zip(cues, rooms(cues, duration), strict=True):
        found = problems(cue, language, room=room)
        within += not found
        at_speed += "reading speed" not in problems(cue, language)
        for problem in found:
            broken[problem] = broken.get(problem, 0) + 1
    count = len(cues) or 1
    return {
        "cues": len(cues),
        "within_norms": round(within / count, 4) if cues else 1.0,
        "read_at_speed": round(at_speed / count, 4) if cues else 1.0,
        "breaking": broken,
    }


def evaluate_sync(document: DubDocument) -> dict:
    """How well the dub sits on the original timing: offset of each placed clip from its slot,
    overlapping clips, speed-ups applied (rate x stretch), how each line was fitted, and the
    share of each language's subtitle cues within the broadcast norms."""
    placed = [u for u in document.lines if u.placed_start is not None]
    if not placed:
        raise DubberError("the dub document has no placed lines: dub the file first")
    offsets = [u.placed_start - u.start for u in placed]
    speedups = [u.speedup for u in placed]
    ordered = sorted(placed, key=lambda u: u.placed_start)
    overlaps = sum(
        b.placed_start < (a.placed_end if a.placed_end is not None else a.placed_start)
        for a, b in zip(ordered, ordered[1:], strict=False)
    )
    fits: dict[str, int] = {}
    for u in placed:
        fit = u.fit.value if u.fit else "unknown"
        fits[fit] = fits.get(fit, 0) + 1
    offset_stats, speedup_stats = distribution(offsets), distribution(speedups)
    subtitles = {
        language: subtitle_norms(cues, language, document.duration)
        for language, cues in document.subtitles().items()
    }
    return {
        **{f"subtitles_{lang}_within_norms": n["within_norms"] for lang, n in subtitles.items()},
        "offset_median_s": offset_stats["median"],
        "offset_max_abs_s": max(abs(o) for o in offsets),
        "overlaps": overlaps,
        "speedup_median": speedup_stats["median"],
        "speedup_max": speedup_stats["max"],
        "fit_counts": fits,
        "lines": len(placed),
        "subtitles": subtitles,
        "offset_s": offset_stats,
        "speedup": speedup_stats,
        "items": [
            {
                "index": u.index,
                "slot_start": u.start,
                "placed_start": u.placed_start,
                "offset_s": o,
                "rate": u.rate,
                "stretch": u.stretch,
                "speedup": s,
                "fit": u.fit.value if u.fit else "",
            }
            for u, o, s in zip(placed, offsets, speedups, strict=True)
        ],  # fmt: skip
        "_texts": {},
    }
