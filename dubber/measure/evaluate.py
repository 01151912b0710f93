"""Quality metrics on the user's own data: ASR, MT, TTS, speech-to-speech translation, dub sync.

Every evaluation returns a report dict whose top level holds the headline numbers (`wer`,
`bleu`, ...) next to the details, and the texts it scored, so that `save_report` can write them
beside the JSON and anyone can recompute the same figures with jiwer or sacrebleu.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dubber.chain.line import DubDocument
from dubber.engines.types import Recognizer, Speech, Synthesizer, Translator
from dubber.errors import DubberError, UsageError
from dubber.fsutil import atomic_write_text
from dubber.measure.scores import normalize
from dubber.media.dsp import resample
from dubber.media.ffmpeg import ASR_SAMPLE_RATE, decode_audio

REFERENCE_COLUMNS = ("reference", "reference_text", "text", "transcript", "sentence")
TRANSLATION_COLUMNS = ("reference_es", "translation", "reference")


@dataclass(frozen=True)
class ManifestRow:
    """One audio file and its reference text."""

    file: Path
    reference: str


def read_manifest(
    path: Path, text_column: str | None = None, candidates: Sequence[str] = REFERENCE_COLUMNS
) -> list[ManifestRow]:
    """Rows of a TSV manifest with a `file` column (relative to the manifest) and a text column:
    `text_column`, or the first of `candidates` present."""
    path = Path(path)
    if not path.is_file():
        raise DubberError(
            f"manifest {path} not found: give a TSV file with columns file, reference"
        )
    with open(path, encoding="utf-8", newline="") as table:
        reader = csv.DictReader(table, delimiter="\t", quoting=csv.QUOTE_NONE)
        columns = reader.fieldnames or []
        rows = list(reader)
    wanted = [text_column] if text_column else list(candidates)
    column = next((c for c in wanted if c in columns), None)
    if "file" not in columns or column is None:
        raise DubberError(
            f"manifest {path} has columns {', '.join(columns) or '(none)'}: it needs 'file' and "
            f"one of {', '.join(wanted)} (choose another with --text-column)"
        )
    if not rows:
        raise DubberError(f"manifest {path} has no rows: add one line per audio file")
    result = [ManifestRow(path.parent / r["file"], (r[column] or "").strip()) for r in rows]
    missing = [str(r.file) for r in result if not r.file.is_file()]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise DubberError(
            f"manifest {path} lists audio that does not exist: {missing[0]}{more} "
            "(file paths are relative to the manifest's folder)"
        )
    return result


def read_lines(path: Path, what: str) -> list[str]:
    """Non-empty text file, one segment a line."""
    path = Path(path)
    if not path.is_file():
        raise DubberError(f"{what} file {path} not found")
    lines = path.read_text(encoding="utf-8").splitlines()
    if not any(line.strip() for line in lines):
        raise DubberError(f"{what} file {path} is empty: give one sentence a line")
    return lines


def _transcribe(recognizer: Recognizer, audio: np.ndarray, language: str) -> str:
    segments, _ = recognizer.transcribe(audio, language=language)
    return " ".join(s.text.strip() for s in segments).strip()


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


def evaluate_asr(
    rows: Sequence[ManifestRow], recognizer: Recognizer, model: str, language: str = "en"
) -> dict:
    """WER/CER of `recognizer` on the manifest, with its real-time factor."""
    hypotheses, busy, audio_seconds = [], 0.0, 0.0
    for row in rows:
        audio = decode_audio(row.file)
        started = time.perf_counter()
        hypotheses.append(_transcribe(recognizer, audio, language))
        busy += time.perf_counter() - started
        audio_seconds += len(audio) / ASR_SAMPLE_RATE
    rates = error_rates([r.reference for r in rows], hypotheses, language)
    return {
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


def evaluate_mt(sources: Sequence[str], references: Sequence[str], translator: Translator) -> dict:
    """BLEU and chrF of `translator` on line-aligned source and reference texts."""
    if len(sources) != len(references):
        raise DubberError(
            f"the source has {len(sources)} lines but the reference {len(references)}: "
            "give line-aligned files"
        )
    started = time.perf_counter()
    hypotheses = [t.text for t in translator.translate(list(sources))]
    seconds = time.perf_counter() - started
    scores = bleu_chrf(references, hypotheses)
    return {
        "bleu": scores["bleu"],
        "chrf": scores["chrf"],
        "signature": scores["signature"],
        "translator": translator.name,
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
    audio = resample(speech.samples, speech.sample_rate, ASR_SAMPLE_RATE)
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
        speech = synthesizer.synthesize(text)
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


@dataclass
class SpeechTranslator:
    """A cascade English speech -> English text -> Spanish text -> Spanish speech, and the
    Spanish recogniser that scores it."""

    recognizer: Recognizer
    translator: Translator
    synthesizer: Synthesizer
    listener: Recognizer
    names: dict[str, str]


def evaluate_s2st(rows: Sequence[ManifestRow], cascade: SpeechTranslator) -> dict:
    """ASR-BLEU and ASR-chrF: the Spanish speech transcribed and scored against references;
    BLEU/chrF of the text translation too, to show what speech synthesis costs."""
    transcripts, translations, heard = [], [], []
    for row in rows:
        english = _transcribe(cascade.recognizer, decode_audio(row.file), "en")
        spanish = cascade.translator.translate([english])[0].text if english else ""
        speech = cascade.synthesizer.synthesize(spanish) if spanish else None
        transcripts.append(english)
        translations.append(spanish)
        heard.append(hear(cascade.listener, speech, "es") if speech else "")
    references = [r.reference for r in rows]
    spoken, written = bleu_chrf(references, heard), bleu_chrf(references, translations)
    return {
        "asr_bleu": spoken["bleu"],
        "asr_chrf": spoken["chrf"],
        "text_bleu": written["bleu"],
        "text_chrf": written["chrf"],
        "signature": spoken["signature"],
        "engines": cascade.names,
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


def evaluate_sync(document: DubDocument) -> dict:
    """How well the dub sits on the original timing: offset of each placed clip from its slot,
    overlapping clips, speed-ups applied (rate x stretch), and how each utterance was fitted."""
    placed = [u for u in document.utterances if u.placed_start is not None]
    if not placed:
        raise DubberError("the dub document has no placed utterances: dub the file first")
    offsets = [u.placed_start - u.start for u in placed]
    speedups = [u.rate * u.stretch for u in placed]
    ordered = sorted(placed, key=lambda u: u.placed_start)
    overlaps = sum(
        b.placed_start < (a.placed_end if a.placed_end is not None else a.placed_start)
        for a, b in zip(ordered, ordered[1:], strict=False)
    )
    fits: dict[str, int] = {}
    for u in placed:
        fits[u.fit or "unknown"] = fits.get(u.fit or "unknown", 0) + 1
    offset_stats, speedup_stats = distribution(offsets), distribution(speedups)
    return {
        "offset_median_s": offset_stats["median"],
        "offset_max_abs_s": max(abs(o) for o in offsets),
        "overlaps": overlaps,
        "speedup_median": speedup_stats["median"],
        "speedup_max": speedup_stats["max"],
        "fit_counts": fits,
        "utterances": len(placed),
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
                "fit": u.fit,
            }
            for u, o, s in zip(placed, offsets, speedups, strict=True)
        ],  # fmt: skip
        "_texts": {},
    }


def headline(report: dict) -> dict:
    """The report without the texts kept for saving."""
    return {k: v for k, v in report.items() if not k.startswith("_")}


def summary(report: dict) -> dict[str, object]:
    """The headline numbers: top-level scalars (and small dicts such as fit counts)."""
    return {
        k: v
        for k, v in report.items()
        if not k.startswith("_") and (isinstance(v, (int, float, str)) or k == "fit_counts")
    }


def format_value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def markdown(kind: str, report: dict, images: dict[str, str]) -> str:
    """A Markdown report: the headline table, the sacrebleu signature, and the plots."""
    lines = [f"# dubber eval {kind}", "", "| metric | value |", "| --- | --- |"]
    lines += [f"| {k} | {format_value(v)} |" for k, v in summary(report).items()]
    for name, signature in report.get("signature", {}).items():
        lines.append(f"\n{name} signature: `{signature}`")
    lines += [f"\n![{name}]({Path(path).name})" for name, path in images.items()]
    return "\n".join(lines) + "\n"


def save_report(
    report: dict,
    kind: str,
    json_path: Path | None,
    out_dir: Path | None,
    extra: Callable[[Path], dict[str, str]] | None = None,
    inputs: Sequence[Path] = (),
) -> list[Path]:
    """Write the JSON report, the scored texts (KIND.hyp.txt, KIND.ref.txt, ...) and a Markdown
    report (KIND.md) atomically, refusing to overwrite any of `inputs`.

    The texts go to `out_dir`, else beside the JSON; `extra(folder)` may write more files
    (plots) and returns {name: path}, shown in the Markdown and recorded in the JSON. Returns
    the files written.
    """
    folder = out_dir or (json_path.parent if json_path else None)
    texts = {
        folder / f"{kind}.{name}": lines
        for name, lines in (report.get("_texts", {}).items() if folder else ())
    }
    target = json_path or (folder / f"{kind}.json" if folder else None)
    planned = [*texts, *([folder / f"{kind}.md"] if folder else []), *([target] if target else [])]
    protected = {Path(p).resolve() for p in inputs}
    for path in planned:
        if path.resolve() in protected:
            raise UsageError(f"refusing to overwrite the input {path}: choose another --out-dir")
    data = headline(report)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        files = {}
        for path, lines in texts.items():
            atomic_write_text(path, "".join(f"{line}\n" for line in lines))
            files[path.name.removeprefix(f"{kind}.").removesuffix(".txt")] = str(path)
        images = extra(folder) if extra is not None else {}
        files.update(images)
        atomic_write_text(folder / f"{kind}.md", markdown(kind, report, images))
        files["markdown"] = str(folder / f"{kind}.md")
        data["files"] = files
        planned += [Path(p) for p in images.values()]
    if target is not None:
        atomic_write_text(target, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    return planned
