"""A short sample news video made offline: generated picture, an English voice, soft music."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dubber.engines.protocols import Synthesizer, synthesize_all
from dubber.media import ffmpeg
from dubber.outputs import atomic_path

NEWS_SCRIPT = (
    "Good evening, and welcome to the late news.",
    "The city council approved a new budget for public transport on Tuesday.",
    "Ten new bus lines will open before the end of the year.",
    "In sports, the home team won the final by two goals to one.",
    "Their captain scored the winning goal in the last minute of the match.",
    "Tomorrow will be sunny, with light wind in the afternoon.",
)
PAUSE_SECONDS = 0.8
LEAD_SECONDS = 1.0
# A soft, slowly pulsing major chord stands in for a music bed.
MUSIC = (
    "aevalsrc='(0.030*sin(2*PI*220*t)+0.022*sin(2*PI*277.2*t)+0.018*sin(2*PI*329.6*t))"
    "*(0.75+0.25*sin(2*PI*0.5*t))':s={rate}:d={seconds}"
)


def narrate(
    synthesizer: Synthesizer,
    sentences: Sequence[str] = NEWS_SCRIPT,
    max_seconds: float | None = None,
) -> np.ndarray:
    """The script read aloud with pauses between sentences and silence around it; with
    `max_seconds`, reading stops at the first sentence that ends past it."""
    rate = synthesizer.sample_rate
    pause = np.zeros(int(PAUSE_SECONDS * rate), np.float32)
    lead = np.zeros(int(LEAD_SECONDS * rate), np.float32)
    parts, length = [lead], len(lead)
    for sentence in sentences:
        if max_seconds is not None and length >= max_seconds * rate:
            break
        speech = synthesize_all(synthesizer, sentence).samples
        parts += [speech, pause]
        length += len(speech) + len(pause)
    return np.concatenate([*parts, lead])


def build_demo_video(path: Path, speech: np.ndarray, sample_rate: int) -> Path:
    """Write an H.264/AAC MP4: a test picture, `speech` over a music bed, atomically."""
    seconds = len(speech) / sample_rate
    picture = ffmpeg.generated(f"testsrc2=size=640x360:rate=25:duration={seconds:.3f}")
    music = ffmpeg.generated(MUSIC.format(rate=sample_rate, seconds=f"{seconds:.3f}"))
    voice = ffmpeg.pcm_source(speech, sample_rate)
    sound = ffmpeg.combine(
        [voice["a"], music["a"]], "amix", inputs=2, duration="first", normalize=0
    )
    encode = {
        "c:v": "libx264",
        "preset": "veryfast",
        "pix_fmt": "yuv420p",
        "c:a": "aac",
        "b:a": "128k",
    }
    with atomic_path(path) as tmp:
        made = ffmpeg.output(picture["v"], sound, path=tmp, **encode)
        ffmpeg.run_ffmpeg(made, stdin=ffmpeg.pcm_bytes(speech))
    return path
