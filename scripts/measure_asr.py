"""Word error rate and real-time factor of a Whisper model on ../shared/data/asr.

Usage: python scripts/measure_asr.py [--model whisper-tiny.en] [--threads 2] [--beam 5]
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

from dubber.engines.whisper import WhisperConfig, WhisperRecognizer
from dubber.media import decode_audio
from dubber.metrics import word_error_rate
from dubber.settings import RuntimeOptions
from dubber.store import Store

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "asr"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="whisper-tiny.en")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam", type=int, default=5)
    args = parser.parse_args()
    runtime = RuntimeOptions(threads=args.threads)
    recognizer = WhisperRecognizer(
        Store().path(args.model), runtime, WhisperConfig(beam_size=args.beam)
    )
    with open(DATA / "refs.tsv", encoding="utf-8") as table:
        rows = list(csv.DictReader(table, delimiter="\t"))
    references, hypotheses, busy, audio_seconds = [], [], 0.0, 0.0
    for row in rows:
        audio = decode_audio(DATA / row["file"])
        started = time.perf_counter()
        segments, info = recognizer.transcribe(audio, language="en")
        hypotheses.append(" ".join(s.text for s in segments))
        busy += time.perf_counter() - started
        audio_seconds += info.duration
        references.append(row["reference_text"])
    wer = word_error_rate(references, hypotheses)
    print(
        f"{args.model} int8 beam {args.beam}, {args.threads} threads, {len(rows)} clips, "
        f"{audio_seconds:.1f} s: WER {wer:.2%}, RTF {busy / audio_seconds:.3f}"
    )


if __name__ == "__main__":
    main()
