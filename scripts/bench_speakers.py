"""One voice per speaker, end to end (not a test): `dubber dub` with its default engines on the
joined multi-speaker set (dubber/measure/diarization.py), scored against the reference turns.

For every file: the speakers diarization found, the share of each line's time that its majority
reference speaker speaks (line purity), whether every line of one reference speaker is spoken
with one voice (voice consistency, by lines), whether two reference speakers share a voice, and
the real-time factor diarization adds to the dub.

    .venv/bin/python scripts/bench_speakers.py [--count 20] [--seed 0] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from dubber.dub.job import DubJob, DubOptions
from dubber.dub.outputs import OutputPaths
from dubber.engines.bundle import EngineChoice
from dubber.engines.load import load_engines
from dubber.measure.diarization import Recording, RefTurn, build_joined_set
from dubber.media.decode import AUDIO_RATE, write_wav
from dubber.media.probe import probe
from dubber.settings import RuntimeOptions
from dubber.store.store import Store

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "asr"


def majority(turns: tuple[RefTurn, ...], start: float, end: float) -> tuple[str | None, float]:
    """The reference speaker who speaks most of [start, end], and their share of it."""
    said: Counter[str] = Counter()
    for turn in turns:
        said[turn.speaker] += max(0.0, min(end, turn.end) - max(start, turn.start))
    if not said or end <= start:
        return None, 0.0
    speaker, seconds = said.most_common(1)[0]
    return speaker, seconds / max(sum(said.values()), 1e-9)


def score(recording: Recording, job: DubJob) -> dict:
    """What the dub of one recording did with its speakers."""
    report = job.run()
    lines = report.document.lines
    voices: dict[str, Counter[str]] = {}
    purity = []
    for line in lines:
        speaker, share = majority(recording.turns, line.start, line.end)
        purity.append(share)
        if speaker is not None:
            voices.setdefault(speaker, Counter())[str(line.voice)] += 1
    consistent = sum(c.most_common(1)[0][1] for c in voices.values()) / max(len(lines), 1)
    main_voice = [c.most_common(1)[0][0] for c in voices.values()]
    return {
        "file": recording.name,
        "seconds": round(recording.duration, 1),
        "music": recording.music,
        "speakers": recording.speakers,
        "found": len(report.document.speakers) or 1,
        "lines": len(lines),
        "line_purity": round(statistics.fmean(purity), 4) if purity else 0.0,
        "voice_consistency": round(consistent, 4),
        "shared_voices": len(main_voice) - len(set(main_voice)),
        "diarize_rtf": round(report.diarize_seconds / recording.duration, 4),
        "rtf": round(report.real_time_factor, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    engines = load_engines(Store(), RuntimeOptions(threads=2), EngineChoice(diarize=True))
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for recording in build_joined_set(args.data, args.count, args.seed):
            media = folder / f"{recording.name}.wav"
            write_wav(media, recording.audio, AUDIO_RATE)
            outputs = OutputPaths.beside(folder / f"{recording.name}.es.wav", "en", "es")
            job = DubJob(engines, DubOptions(), probe(media), outputs, folder / "work", _quiet)
            rows.append(score(recording, job))

    table = Table(title=f"one voice per speaker: dub of the joined set (seed {args.seed})")
    for column in rows[0]:
        table.add_column(column, justify="left" if column == "file" else "right")
    for row in rows:
        table.add_row(*(str(value) for value in row.values()))
    console = Console(width=160)
    console.print(table)
    audio = sum(r["seconds"] for r in rows)
    figures = {
        "files": len(rows),
        "count_right": sum(r["found"] == r["speakers"] for r in rows) / len(rows),
        "line_purity_mean": statistics.fmean(r["line_purity"] for r in rows),
        "voice_consistency_mean": statistics.fmean(r["voice_consistency"] for r in rows),
        "files_with_a_shared_voice": sum(r["shared_voices"] > 0 for r in rows),
        "diarize_rtf": sum(r["diarize_rtf"] * r["seconds"] for r in rows) / audio,
        "voice": engines.voices.describe(),
        "asr": engines.asr_model,
        "mt": engines.mt_model,
    }
    console.print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps({**figures, "per_file": rows}, indent=2) + "\n")


def _quiet(*_: object) -> None:
    """No progress display."""


if __name__ == "__main__":
    main()
