"""Latency records of a live session: per-utterance stage times, the end table and `--stats` JSON.

Every time is in seconds on the input's clock: 0 is the first captured sample, and a file played
at `--speed 4` advances the clock four seconds per wall-clock second.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from rich.table import Table

from dubber.fsutil import atomic_write_text

# The stage times of a spoken line, in the order the pipeline reaches them.
STAGE_FIELDS = (
    "speech_start_s",
    "speech_end_s",
    "endpoint_s",
    "asr_s",
    "mt_s",
    "tts_s",
    "first_audio_s",
)


@dataclass
class LiveRecord:
    """One spoken line: an utterance, or a sentence committed from a long one while it went on."""

    index: int
    speech_start_s: float
    speech_end_s: float
    endpoint_s: float = 0.0  # VAD (or LocalAgreement) decided the line was complete
    first_caption_s: float | None = None  # first English caption (partial or final) shown
    asr_s: float = 0.0
    mt_s: float = 0.0
    tts_s: float = 0.0
    first_audio_s: float | None = None  # first translated sample played or placed
    audio_seconds: float = 0.0
    source: str = ""
    translation: str = ""
    committed_early: bool = False  # a sentence spoken while the speaker went on
    pitch_hz: float | None = None  # the speaker's median pitch over the line
    voice: str = ""  # the voice that spoke it (matched to the pitch when there are two)
    dropped: str | None = None  # why the line was not spoken, when it was not

    @property
    def end_to_audio(self) -> float | None:
        """End of speech to first translated audio sample."""
        return None if self.first_audio_s is None else self.first_audio_s - self.speech_end_s

    @property
    def start_to_caption(self) -> float | None:
        """Start of speech to first English caption."""
        if self.first_caption_s is None:
            return None
        return self.first_caption_s - self.speech_start_s

    def stage_times(self) -> list[float]:
        """The stage times reached so far, in pipeline order."""
        values = [getattr(self, name) for name in STAGE_FIELDS]
        return [v for v in values if v is not None]


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


def summarise(records: list[LiveRecord]) -> dict:
    """The `--stats` document: every line, and the latency percentiles."""
    spoken = [r.end_to_audio for r in records if r.end_to_audio is not None]
    captions = [r.start_to_caption for r in records if r.start_to_caption is not None]
    played = [r for r in records if r.first_audio_s is not None]
    stages = {
        f"{earlier[:-2]}->{later[:-2]}": percentiles(
            [getattr(r, later) - getattr(r, earlier) for r in played]
        )
        for earlier, later in zip(STAGE_FIELDS[1:-1], STAGE_FIELDS[2:], strict=True)
    }
    return {
        "utterances": [
            {
                **{k: _rounded(v) for k, v in asdict(record).items()},
                "latency_end_to_audio_s": _rounded(record.end_to_audio),
                "latency_start_to_caption_s": _rounded(record.start_to_caption),
            }
            for record in records
        ],
        "latency_end_to_audio_s": percentiles(spoken),
        "latency_start_to_caption_s": percentiles(captions),
        "stage_seconds": stages,
        "dropped": sum(r.dropped is not None for r in records),
    }


def _rounded(value: object) -> object:
    return round(value, 3) if isinstance(value, float) else value


def write_stats(path: Path, records: list[LiveRecord]) -> None:
    """Write the `--stats` JSON atomically."""
    atomic_write_text(path, json.dumps(summarise(records), ensure_ascii=False, indent=1) + "\n")


def latency_table(records: list[LiveRecord]) -> Table:
    """Per line and p50/p95/max: end of speech to first audio, start of speech to first caption."""
    table = Table(title="live latency (seconds on the input's clock)", title_justify="left")
    for heading in ("#", "speech", "end->audio", "start->caption", "English", "Spanish"):
        table.add_column(heading, justify="left" if heading in ("English", "Spanish") else "right")
    for r in records:
        audio = "dropped" if r.dropped else _seconds(r.end_to_audio)
        table.add_row(
            str(r.index),
            f"{r.speech_start_s:.1f}-{r.speech_end_s:.1f}",
            audio,
            _seconds(r.start_to_caption),
            _clip(r.source),
            _clip(r.translation),
        )
    summary = summarise(records)
    for name in ("p50", "p95", "max"):
        table.add_row(
            name,
            "",
            _seconds(summary["latency_end_to_audio_s"][name]),
            _seconds(summary["latency_start_to_caption_s"][name]),
            "",
            "",
            style="bold",
        )
    return table


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _clip(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
