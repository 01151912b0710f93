"""The live benchmark: recordings with pauses between them, played at real-time pace through a
`LiveSession`, with end-of-speech -> first-audio latency, per-stage times and memory over time.

By default the session runs what `dubber live` picks on this machine (the installed Whisper,
translator and voice for live use). To time a translator that cannot be installed here, `mt_dir`
may point at a random-weight model of the OPUS-MT shape (`scripts/build_tiny_marian.py OUT --shape
opus-mt`): its speed is the real model's, but its output is noise, so `StandInTranslator` times it
with a fixed decoding length and passes the English text on to be spoken. Every figure made so is
labelled a stand-in in the result's setup.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dubber.chain.line import Line
from dubber.engines.bundle import EngineChoice
from dubber.engines.choose import Purpose
from dubber.engines.load import load_engines
from dubber.engines.types import Hypothesis, Translation
from dubber.live.config import LiveConfig
from dubber.live.session import LiveSession
from dubber.live.sources import SamplesSource
from dubber.live.stats import end_to_audio, percentiles, summarise
from dubber.media.decode import AUDIO_RATE, decode_audio
from dubber.media.dsp import join_with_pauses
from dubber.settings import RuntimeOptions
from dubber.store.store import Store

log = logging.getLogger(__name__)

TYPICAL_SPANISH_TOKENS = 32  # a 20-25 word Spanish sentence in OPUS-MT's sentencepiece units


class StandInTranslator:
    """Runs a (random-weight) OPUS-MT model for its timing; returns the source text unchanged."""

    name = "opusmt-timing"
    length_hints = False
    source_language, target_language = "en", "es"

    def __init__(self, model_dir: Path, runtime: RuntimeOptions, decoding_length: int) -> None:
        from dubber.engines.opusmt import OpusMTConfig, OpusMTTranslator

        config = OpusMTConfig(max_decoding_length=decoding_length)
        self.model = OpusMTTranslator(model_dir, runtime, config)

    def translate(
        self,
        texts: Sequence[str],
        *,
        num_hypotheses: int = 1,
        beam_size: int | None = None,
        max_syllables: Sequence[int | None] | None = None,
    ) -> list[Translation]:
        self.model.translate(texts, num_hypotheses=num_hypotheses, beam_size=beam_size)
        return [Translation(text, (Hypothesis(text, 0.0),)) for text in texts]


def clips_with_pauses(clips: Sequence[Path], pause_s: float) -> np.ndarray:
    """The recordings at 16 kHz, with `pause_s` of silence before, between and after them."""
    gap = int(pause_s * AUDIO_RATE)
    edge = np.zeros(0, np.float32)
    return join_with_pauses([edge, *map(decode_audio, clips), edge], gap)


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _sample_memory(session: LiveSession, every_s: float, out: list, done: threading.Event) -> None:
    while not done.wait(every_s):
        out.append((round(session.clock.now(), 1), round(_rss_mb(), 1)))


def measure_live(
    clips: Sequence[Path],
    *,
    pause_s: float = 1.5,
    loops: int = 1,
    speed: float = 1.0,
    threads: int = 2,
    asr_model: str | None = None,
    voice: str | None = None,
    voice_threads: int | None = None,
    mt_dir: Path | None = None,
    decoding_length: int = TYPICAL_SPANISH_TOKENS,
    config: LiveConfig | None = None,
    memory_every_s: float = 10.0,
    store: Store | None = None,
) -> dict:
    """Play `clips` (with pauses, `loops` times) through a live session; the stats document plus
    the run's setup, memory samples and, for loops > 1, first-vs-last-tenth latency."""
    runtime = RuntimeOptions.choose("cpu", "int8", threads)
    choice = EngineChoice(
        asr_model=asr_model, voice=voice, match_voice_to_pitch=False, purpose=Purpose.live,
        voice_threads=voice_threads,
    )  # fmt: skip
    engines = load_engines(store or Store(), runtime, choice)
    config = config or LiveConfig()
    if mt_dir is not None:
        engines.translator = StandInTranslator(mt_dir, runtime, decoding_length)
    session = LiveSession(engines, config)
    session.warm_up()
    audio = clips_with_pauses(clips, pause_s)
    memory: list[tuple[float, float]] = [(0.0, round(_rss_mb(), 1))]
    done = threading.Event()
    sampler = threading.Thread(
        target=_sample_memory, args=(session, memory_every_s, memory, done), daemon=True
    )
    sampler.start()
    began = time.monotonic()
    lines = session.run(SamplesSource(audio, "benchmark clips", loops), speed)
    wall = time.monotonic() - began
    done.set()
    sampler.join()
    memory.append((round(session.clock.now(), 1), round(_rss_mb(), 1)))
    result = summarise(lines)
    result.update({k: v for k, v in session.report().items() if k != "warnings"})
    result.update(
        input_seconds=round(session.input_seconds, 1),
        wall_seconds=round(wall, 1),
        load_average=os.getloadavg(),
        rss_mb=memory,
        warnings=session.warnings,
        peak_queue=session.peak_queue,
        setup={
            "clips": [p.name for p in clips],
            "pause_s": pause_s,
            "loops": loops,
            "speed": speed,
            "threads": threads,
            "voice_threads": voice_threads or threads,
            "asr": f"{engines.asr_model} int8 beam {session.config.beam_size}",
            "mt": (
                f"STAND-IN: random-weight OPUS-MT shape, {decoding_length} tokens, English spoken"
                if mt_dir
                else engines.mt_model
            ),
            "tts": engines.voices.describe(),
            "pause_ms": session.config.pause_ms,
        },
    )
    if loops > 1:
        result["drift"] = drift(lines, session.input_seconds)
    return result


def drift(lines: list[Line], duration: float) -> dict:
    """End-to-audio latency percentiles of the lines in the first and in the last tenth."""
    tenth = duration / 10

    def window(lo: float, hi: float) -> dict:
        latencies = ((end_to_audio(line), line.end) for line in lines)
        values = [v for v, end in latencies if v is not None and lo <= end < hi]
        return percentiles(values)

    return {"first_tenth": window(0, tenth), "last_tenth": window(duration - tenth, duration)}
