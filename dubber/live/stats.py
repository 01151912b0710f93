"""Latency of a live session's lines: per-line stage times, percentiles and the `--stats` JSON.

Every time is in seconds on the input's clock: 0 is the first captured sample, and a file played
at `--speed 4` advances the clock four seconds per wall-clock second.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dubber.chain.line import Line, Stamp
from dubber.outputs import atomic_write_text

# The times a spoken line reaches, in pipeline order: speech ends, the endpointer closes it,
# recognition, translation, its first piece of speech, its first sample played.
LATENCY_STAGES = ("speech_end", "endpoint", "asr", "mt", "tts", "first_audio")


def stage_times(line: Line) -> dict[str, float]:
    """The times of LATENCY_STAGES the line has reached."""
    times = {"speech_end": line.end}
    times |= {s.value: line.stamps[s] for s in (Stamp.endpoint, Stamp.asr, Stamp.mt, Stamp.tts)
              if s in line.stamps}  # fmt: skip
    if line.placed_start is not None:
        times["first_audio"] = line.placed_start
    return times


def end_to_audio(line: Line) -> float | None:
    """End of speech to the first translated sample played."""
    return None if line.placed_start is None else line.placed_start - line.end


def start_to_caption(line: Line) -> float | None:
    """Start of speech to the first English caption shown."""
    shown = line.stamps.get(Stamp.first_caption)
    return None if shown is None else shown - line.start


def percentiles(values: list[float]) -> dict[str, float | None]:
    """p50, p95 and max (None when there are no values)."""
    if not values:
        return {"p50": None, "p95": None, "max": None}
    array = np.asarray(values, dtype=np.float64)
    return {
        "p50": round(float(np.percentile(array, 50)), 3),
        "p95": round(float(np.percentile(array, 95)), 3),
        "max": round(float(array.max()), 3),
    }


def line_record(line: Line) -> dict:
    """One line of the `--stats` document."""
    return {
        "index": line.index,
        "speech_start_s": _rounded(line.start),
        "speech_end_s": _rounded(line.end),
        "source": line.source,
        "translation": line.translation,
        "voice": str(line.voice) if line.voice else "",
        "pitch_hz": _rounded(line.pitch_hz),
        "rate": line.rate,
        "audio_seconds": _rounded(
            line.placed_end - line.placed_start if line.placed_start is not None else 0.0
        ),
        "committed_early": line.committed_early,
        "dropped": line.dropped,
        "first_caption_s": _rounded(line.stamps.get(Stamp.first_caption)),
        "times_s": {name: _rounded(t) for name, t in stage_times(line).items()},
        "latency_end_to_audio_s": _rounded(end_to_audio(line)),
        "latency_start_to_caption_s": _rounded(start_to_caption(line)),
    }


def summarise(lines: list[Line]) -> dict:
    """The `--stats` document: every line, and the latency percentiles."""
    spoken = [v for v in map(end_to_audio, lines) if v is not None]
    captions = [v for v in map(start_to_caption, lines) if v is not None]
    played = [stage_times(line) for line in lines if line.placed_start is not None]
    stages = {
        f"{earlier}->{later}": percentiles(
            [t[later] - t[earlier] for t in played if earlier in t and later in t]
        )
        for earlier, later in zip(LATENCY_STAGES, LATENCY_STAGES[1:], strict=False)
    }
    return {
        "lines": [line_record(line) for line in lines],
        "latency_end_to_audio_s": percentiles(spoken),
        "latency_start_to_caption_s": percentiles(captions),
        "stage_seconds": stages,
        "dropped": sum(line.dropped is not None for line in lines),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def stats_json(lines: list[Line], extra: dict | None = None) -> str:
    """The `--stats` JSON (with `extra` top-level fields)."""
    return json.dumps(summarise(lines) | (extra or {}), ensure_ascii=False, indent=1) + "\n"


def write_stats(path: Path, lines: list[Line], extra: dict | None = None) -> None:
    """Write the `--stats` JSON atomically (with `extra` top-level fields)."""
    atomic_write_text(path, stats_json(lines, extra))
