"""Benchmark `dubber live`: end of speech -> first translated audio on ../shared/data recordings.

    python scripts/bench_live.py [--voice ID] [--busy 1] [--stand-in-mt] [--soak-minutes 30]
                                 [--repeats 3] [--json out.json] [--set FIELD=VALUE ...]

Plays the shared long recordings and speech clips at real-time pace, with pauses between them,
through what `dubber live` picks on this machine (the installed Whisper, translator and voice for
live use), on 2 threads. `--busy N` keeps N other processes spinning on the CPU meanwhile (the
"machine busy with another job" case). `--stand-in-mt` (or `--mt-dir`) times a random-weight
OPUS-MT-shaped translator instead, whose output is noise: the English is spoken, and every figure
it gives is labelled STAND-IN.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import multiprocessing
import statistics
import tempfile
from contextlib import contextmanager
from pathlib import Path

from dubber.live.config import LiveConfig
from dubber.measure.bench.live import TYPICAL_SPANISH_TOKENS, clips_with_pauses, measure_live

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def build_opus_mt_shape(folder: Path) -> Path:
    """A random-weight CTranslate2 model of the OPUS-MT shape (as build_tiny_marian.py builds)."""
    from dubber.measure.marian_builder import SHAPES, build_marian_release
    from dubber.store.convert import convert_opus_mt

    corpus = [DATA / "mt" / "test.en", DATA / "mt" / "test.es"]
    marian = build_marian_release(folder / "marian", corpus, SHAPES["opus-mt"])
    convert_opus_mt(marian, folder / "ct2", "int8")
    return folder / "ct2"


def _spin() -> None:
    while True:
        pass


@contextmanager
def busy(processes: int):
    """`processes` other processes keeping a core each busy while the block runs."""
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(processes)]
    for spinner in spinners:
        spinner.start()
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.terminate()
            spinner.join()


def live_config(settings: list[str]) -> LiveConfig:
    """LiveConfig with FIELD=VALUE settings, each value read as its field's default is typed."""
    defaults = LiveConfig()
    changes = {}
    for setting in settings:
        name, _, value = setting.partition("=")
        if name not in {f.name for f in dataclasses.fields(LiveConfig)}:
            raise SystemExit(f"unknown LiveConfig field {name!r}")
        default = getattr(defaults, name)
        if default is None or value.lower() == "none":
            changes[name] = None if value.lower() == "none" else float(value)
        elif isinstance(default, bool):
            changes[name] = value.lower() in ("1", "true", "yes")
        else:
            changes[name] = type(default)(value)
    return dataclasses.replace(defaults, **changes)


def brief(run: dict) -> dict:
    """The headline figures of one run."""
    keys = (
        "dropped",
        "latency_end_to_audio_s",
        "latency_start_to_caption_s",
        "lag_max_s",
        "stage_seconds",
        "stage_waits_s",
        "drift",
        "input_seconds",
        "load_average",
        "setup",
    )
    return {key: run[key] for key in keys if key in run}


def medians(runs: list[dict]) -> dict:
    """Median over runs of the headline latencies, and the worst drop count and lag."""

    def median(path: tuple[str, str]) -> float | None:
        values = [r[path[0]][path[1]] for r in runs if r[path[0]][path[1]] is not None]
        return round(statistics.median(values), 3) if values else None

    return {
        "runs": len(runs),
        "end_to_audio_p50_s": median(("latency_end_to_audio_s", "p50")),
        "end_to_audio_p95_s": median(("latency_end_to_audio_s", "p95")),
        "start_to_caption_p50_s": median(("latency_start_to_caption_s", "p50")),
        "dropped_max": max(r["dropped"] for r in runs),
        "lag_max_s": max((r["lag_max_s"] or 0.0) for r in runs),
        "lines": [len(r["lines"]) for r in runs],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--clips",
        type=Path,
        nargs="*",
        help="[default: shared/data/longform/*.wav, then shared/data/asr/*.wav]",
    )
    parser.add_argument("--pause", type=float, default=1.5, help="seconds between clips")
    parser.add_argument("--asr", help="Whisper model id [default: as dubber live picks]")
    parser.add_argument("--voice", help="voice id [default: as dubber live picks]")
    parser.add_argument(
        "--stand-in-mt",
        action="store_true",
        help="time a random-weight OPUS-MT-shaped translator (labelled STAND-IN)",
    )
    parser.add_argument("--mt-dir", type=Path, help="that stand-in's CTranslate2 folder")
    parser.add_argument("--decoding-length", type=int, default=TYPICAL_SPANISH_TOKENS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--voice-threads", type=int, help="voice threads [default: --threads]")
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--busy", type=int, default=0, help="other CPU-bound processes to run")
    parser.add_argument("--repeats", type=int, default=1, help="runs; medians are reported")
    parser.add_argument("--soak-minutes", type=float, help="loop the clips this long")
    parser.add_argument("--json", type=Path, help="write every run in full here")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a LiveConfig setting to try (e.g. catch_up_s=2); repeat for several",
    )
    args = parser.parse_args(argv)
    config = live_config(args.set)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    clips = args.clips or [
        *sorted((DATA / "longform").glob("*.wav")),
        *sorted((DATA / "asr").glob("*.wav")),
    ]
    loops = 1
    if args.soak_minutes:
        once = len(clips_with_pauses(clips, args.pause)) / 16000
        loops = max(1, round(args.soak_minutes * 60 / once))
    with tempfile.TemporaryDirectory() as scratch, busy(args.busy):
        mt_dir = args.mt_dir
        if args.stand_in_mt and mt_dir is None:
            mt_dir = build_opus_mt_shape(Path(scratch))
        runs = [
            measure_live(
                clips,
                pause_s=args.pause,
                loops=loops,
                speed=args.speed,
                threads=args.threads,
                asr_model=args.asr,
                voice=args.voice,
                voice_threads=args.voice_threads,
                mt_dir=mt_dir,
                decoding_length=args.decoding_length,
                config=config,
            )
            for _ in range(args.repeats)
        ]
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1, ensure_ascii=False), encoding="utf-8")
    summary = {
        "busy_processes": args.busy,
        "settings": args.set,
        "medians": medians(runs),
        "last_run": brief(runs[-1]),
    }
    print(json.dumps(summary, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
