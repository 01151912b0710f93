"""Benchmark `dubber live`: end of speech -> first translated audio on ../shared/data recordings.

    python scripts/bench_live.py [--mt-dir DIR] [--soak-minutes 30] [--json out.json]

Plays the shared recordings at real-time pace with pauses between them through Whisper tiny.en
int8, CTranslate2 OPUS-MT (a random model of the real shape, built here when --mt-dir is not
given, timed with a fixed decoding length) and the Piper joe voice, on 2 threads per model.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from pathlib import Path

from dubber.measure.bench.live import TYPICAL_SPANISH_TOKENS, measure_live

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def build_opus_mt_shape(folder: Path) -> Path:
    """A random-weight CTranslate2 model of the OPUS-MT shape (as build_tiny_marian.py builds)."""
    from dubber.measure.marian_builder import SHAPES, build_marian_release
    from dubber.store.convert import convert_opus_mt

    corpus = [DATA / "mt" / "test.en", DATA / "mt" / "test.es"]
    marian = build_marian_release(folder / "marian", corpus, SHAPES["opus-mt"])
    convert_opus_mt(marian, folder / "ct2", "int8")
    return folder / "ct2"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, nargs="*", help="[default: shared/data/asr/*.wav]")
    parser.add_argument("--pause", type=float, default=1.5, help="seconds between clips")
    parser.add_argument("--mt-dir", type=Path, help="CTranslate2 OPUS-MT-shaped model folder")
    parser.add_argument("--decoding-length", type=int, default=TYPICAL_SPANISH_TOKENS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--soak-minutes", type=float, help="loop the clips this long")
    parser.add_argument("--json", type=Path, help="write the full result here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    clips = args.clips or sorted((DATA / "asr").glob("*.wav"))
    with tempfile.TemporaryDirectory() as scratch:
        mt_dir = args.mt_dir or build_opus_mt_shape(Path(scratch))
        loops = 1
        if args.soak_minutes:
            from dubber.measure.bench.live import clips_with_pauses

            once = len(clips_with_pauses(clips, args.pause)) / 16000
            loops = max(1, round(args.soak_minutes * 60 / once))
        result = measure_live(
            clips,
            pause_s=args.pause,
            loops=loops,
            speed=args.speed,
            threads=args.threads,
            mt_dir=mt_dir,
            decoding_length=args.decoding_length,
        )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    brief = {k: v for k, v in result.items() if k != "lines"}
    print(json.dumps(brief, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
