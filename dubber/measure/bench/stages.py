"""One benchmark per stage (asr, mt, tts, dub, live), each a list of measured rows."""

from __future__ import annotations

import itertools
import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from dubber.engines.protocols import synthesize_all
from dubber.errors import DubberError
from dubber.measure.bench.inputs import Inputs, bench_dir, demo_video
from dubber.measure.bench.sweep import Row, Sweep, params, peak_rss, stat, timed
from dubber.store.store import Store

if TYPE_CHECKING:
    import ctranslate2
    import numpy as np

    from dubber.engines.bundle import EngineChoice, Engines
    from dubber.engines.protocols import Recognizer, Synthesizer
    from dubber.engines.types import TranscribeOptions
    from dubber.media.probe import MediaInfo

log = logging.getLogger(__name__)


def bench_asr(models: Sequence[str], inputs: Inputs, sweep: Sweep, store: Store) -> list[Row]:
    """Real-time factor of each Whisper model and setting on the recordings."""
    from dubber.engines.types import TranscribeOptions
    from dubber.engines.whisper import WhisperRecognizer
    from dubber.media.decode import AUDIO_RATE, decode_audio

    clips = [decode_audio(path) for path in inputs.audio]
    seconds_of_audio = sum(len(c) for c in clips) / AUDIO_RATE
    rows = []
    for model, runtime, beam in itertools.product(models, sweep.runtimes(), sweep.beams or (5,)):
        with peak_rss() as peak:
            started = time.perf_counter()
            recognizer = WhisperRecognizer(store.prepare(model), runtime)
            load = time.perf_counter() - started
            options = TranscribeOptions(beam_size=beam)
            seconds, _ = timed(partial(_transcribe_all, recognizer, clips, options), sweep)
        row = Row("asr", model, params(runtime, beam=beam), primary="rtf")
        row.metrics = {
            "rtf": stat([s / seconds_of_audio for s in seconds]),
            "load_s": stat([load]),
            "audio_s": stat([seconds_of_audio]),
        }
        row.peak_rss_mb = peak[0]
        rows.append(row)
    return rows


def _transcribe_all(
    recognizer: Recognizer, clips: Sequence[np.ndarray], options: TranscribeOptions
) -> None:
    for clip in clips:
        list(recognizer.transcribe(clip, options=options)[0])


def bench_apertium(inputs: Inputs, sweep: Sweep) -> Row:
    """Apertium translating every sentence in one batched call (it has no threads or beam)."""
    from dubber.engines.apertium import ApertiumTranslator

    translator = ApertiumTranslator("en", "es")
    with peak_rss() as peak:
        seconds, results = timed(partial(translator.translate, inputs.sources), sweep)
    words = sum(len(t.text.split()) for t in results[-1])
    row = Row("mt", "apertium", {"device": "cpu"}, primary="sentences_per_s")
    row.higher_is_better = True
    row.metrics = _mt_metrics(seconds, len(inputs.sources), words)
    row.peak_rss_mb = peak[0]
    row.note = "tokens = output words"
    return row


def _mt_metrics(seconds: list[float], sentences: int, tokens: int) -> dict[str, dict]:
    return {
        "sentences_per_s": stat([sentences / s for s in seconds]),
        "tokens_per_s": stat([tokens / s for s in seconds]),
        "ms_per_sentence": stat([s * 1000 / sentences for s in seconds]),
    }


def random_opus_mt(shape: str, corpus: Sequence[Path]) -> Path:
    """A CTranslate2 model of the OPUS-MT architecture with random weights (built once, cached
    in DUBBER_HOME/bench): its speed is a real model's speed for the same output lengths."""
    from dubber.measure.marian_builder import SHAPES, build_marian_release
    from dubber.store.convert import convert_opus_mt

    folder = bench_dir() / f"random-{shape}"
    if not (folder / "ct2" / "model.bin").is_file():
        log.info("building a random-weight %s-shaped translation model in %s", shape, folder)
        marian = build_marian_release(folder / "marian", corpus, SHAPES[shape])
        convert_opus_mt(marian, folder / "ct2")
    return folder / "ct2"


def bench_ctranslate2(
    name: str, model_dir: Path, inputs: Inputs, sweep: Sweep, *, shape: str | None = None
) -> list[Row]:
    """CTranslate2 throughput in batches. For a random-weight model of `shape`, every batch
    decodes exactly its longest reference (a random model never stops by itself)."""
    import ctranslate2
    import sentencepiece

    source_spm = sentencepiece.SentencePieceProcessor(model_file=str(model_dir / "source.spm"))
    target_spm = sentencepiece.SentencePieceProcessor(model_file=str(model_dir / "target.spm"))
    sources = source_spm.encode(inputs.sources, out_type=str)
    target_lengths = [
        len(t) + 1 for t in target_spm.encode(inputs.references or inputs.sources, out_type=str)
    ]
    fixed_length = shape is not None
    rows = []
    settings = itertools.product(sweep.runtimes(), sweep.beams or (4,), sweep.batch_sizes)
    for runtime, beam, batch in settings:
        with peak_rss() as peak:
            translator = ctranslate2.Translator(
                str(model_dir),
                device=runtime.device,
                compute_type=runtime.compute_type,
                intra_threads=runtime.threads if runtime.device == "cpu" else 0,
            )
            run = partial(
                _translate_batches, translator, sources, target_lengths, beam, batch, fixed_length
            )
            seconds, produced = timed(run, sweep)
        row = Row("mt", name, params(runtime, beam=beam, batch=batch), primary="sentences_per_s")
        row.higher_is_better = True
        row.metrics = _mt_metrics(seconds, len(sources), produced[-1])
        row.peak_rss_mb = peak[0]
        row.note = (
            f"random weights, {shape} shape, decoded to the reference lengths"
            if fixed_length
            else "tokens = target sentencepiece tokens"
        )
        rows.append(row)
    return rows


def _translate_batches(
    translator: ctranslate2.Translator,
    sources: list[list[str]],
    target_lengths: list[int],
    beam: int,
    batch: int,
    fixed_length: bool,
) -> int:
    """Translate in batches of `batch`; returns the target tokens produced (for a fixed length,
    the reference lengths)."""
    produced = 0
    for first in range(0, len(sources), batch):
        lengths = target_lengths[first : first + batch]
        limits = {"min_decoding_length": max(lengths)} if fixed_length else {}
        results = translator.translate_batch(
            sources[first : first + batch],
            beam_size=beam,
            max_batch_size=batch,
            max_decoding_length=max(lengths) if fixed_length else 256,
            **limits,
        )
        produced += sum(lengths) if fixed_length else sum(len(r.hypotheses[0]) + 1 for r in results)
    return produced


def bench_mt(
    models: Sequence[str],
    inputs: Inputs,
    sweep: Sweep,
    store: Store,
    corpus: Sequence[Path],
    random_shape: str = "opus-mt",
) -> list[Row]:
    """Apertium, then each model: LLMs and installed OPUS-MT models as they are, the other
    OPUS-MT models replaced by a random-weight model of the same shape."""
    rows = [bench_apertium(inputs, sweep)]
    for model in models:
        if store.catalogue.get(model).engine == "llm":
            from dubber.measure.bench.llm import bench_llm

            rows += bench_llm(model, store, inputs, sweep)
        elif store.is_installed(model):
            rows += bench_ctranslate2(model, store.prepare(model), inputs, sweep)
        else:
            folder = random_opus_mt(random_shape, corpus)
            name = f"{model} (random weights)"
            rows += bench_ctranslate2(name, folder, inputs, sweep, shape=random_shape)
    return rows


def bench_tts(voices: Sequence[str], inputs: Inputs, sweep: Sweep, store: Store) -> list[Row]:
    """Real-time factor and time to first audio (the first sentence) of each voice."""
    from dubber.engines.load import load_synthesizer
    from dubber.engines.voice import Voice

    lines = inputs.speech_lines
    rows = []
    for voice, runtime in itertools.product(voices, sweep.runtimes()):
        with peak_rss() as peak:
            started = time.perf_counter()
            synthesizer, voice_id = load_synthesizer(store, Voice.parse(voice), "es", runtime)
            load = time.perf_counter() - started
            started = time.perf_counter()
            synthesize_all(synthesizer, lines[0])
            cold = time.perf_counter() - started
            seconds, audio = timed(partial(_speak_all, synthesizer, lines), sweep)
            first_piece = partial(_first_piece, synthesizer, lines[0])
            first, _ = timed(first_piece, replace(sweep, warmup=0))
        row = Row("tts", str(voice_id), params(runtime), primary="rtf")
        row.metrics = {
            "rtf": stat([s / a for s, a in zip(seconds, audio, strict=True)]),
            "first_audio_s": stat(first),
            "cold_first_audio_s": stat([cold]),
            "load_s": stat([load]),
            "audio_s": stat([audio[-1]]),
        }
        row.peak_rss_mb = peak[0]
        rows.append(row)
    return rows


def _speak_all(synthesizer: Synthesizer, lines: Sequence[str]) -> float:
    """Seconds of speech for all lines, one call per line as a dub makes them."""
    return sum(synthesize_all(synthesizer, line).duration for line in lines)


def _first_piece(synthesizer: Synthesizer, text: str) -> None:
    """The first piece of speech of `text`: what a live listener waits for."""
    next(iter(synthesizer.synthesize(text)))


def bench_dub(media: Path, choice: EngineChoice, sweep: Sweep, store: Store) -> list[Row]:
    """Whole-file dub real-time factor and seconds per stage, engines loaded once per setting."""
    from dubber.dub.job import Stage
    from dubber.engines.load import load_engines
    from dubber.media.probe import probe

    info = probe(media)
    duration = info.duration
    rows = []
    for runtime in sweep.runtimes():
        with peak_rss() as peak:
            engines = load_engines(store, runtime, choice, check_language=True)
            seconds, counted = timed(partial(_dub_once, engines, info), sweep)
        row = Row("dub", media.name, params(runtime, asr=engines.asr_model), primary="rtf")
        row.metrics = {"rtf": stat([s / duration for s in seconds])}
        row.metrics |= {f"{s.value}_s": stat([run.get(s, 0.0) for run in counted]) for s in Stage}
        row.metrics["media_s"] = stat([duration])
        row.peak_rss_mb = peak[0]
        rows.append(row)
    return rows


def _dub_once(engines: Engines, media: MediaInfo) -> dict:
    """Dub `media` into a temporary folder; returns the seconds per stage."""
    from dubber.dub.job import DubJob, DubOptions
    from dubber.dub.outputs import OutputPaths

    with tempfile.TemporaryDirectory(prefix="dubber-bench-") as folder:
        work = Path(folder)
        outputs = OutputPaths.beside(work / "out" / "dub.es.mp4", "en", "es")
        job = DubJob(engines, DubOptions(), media, outputs, work / "work", lambda *_: None)
        return job.run().seconds


def bench_live(
    clips: Sequence[Path], asr_model: str, voice: str | None, sweep: Sweep, store
) -> list[Row]:
    """End of speech -> first translated audio, per line, with the recordings played at real-time
    pace through a live session (dubber.measure.live_bench); one row per thread count."""
    from dubber.measure.bench.live import measure_live

    voice_option = {"voice": voice} if voice else {}
    rows = []
    for threads in sweep.threads:
        with peak_rss() as peak:
            runs = [
                measure_live(
                    clips, threads=threads, asr_model=asr_model, store=store, **voice_option
                )
                for _ in range(sweep.repeats)
            ]
        latencies = [u["latency_end_to_audio_s"] for r in runs for u in r["lines"]]
        captions = [u["latency_start_to_caption_s"] for r in runs for u in r["lines"]]
        latencies, captions = [x for x in latencies if x], [x for x in captions if x]
        if not latencies:
            raise DubberError("the live session spoke no line: give recordings with speech")
        setup = runs[0]["setup"]
        row = Row("live", asr_model, {"device": "cpu", "compute_type": "int8", "threads": threads},
                  primary="latency_s")  # fmt: skip
        row.metrics = {
            "latency_s": stat(latencies),
            "caption_latency_s": stat(captions or [0.0]),
            "input_s": stat([r["input_seconds"] for r in runs]),
        }
        row.peak_rss_mb = peak[0]
        row.note = (
            f"live: per line, speech end to first audio; mt {setup['mt']}, tts {setup['tts']}"
        )
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Targets:
    """What to measure besides the sweep; empty means the best installed."""

    asr_models: tuple[str, ...] = ()
    mt_models: tuple[str, ...] = ("opus-mt-en-es",)
    voices: tuple[str, ...] = ()
    media: Path | None = None
    random_shape: str = "opus-mt"
    limit: int | None = None


def run_stage(
    stage: str, inputs: Inputs, sweep: Sweep, store: Store, targets: Targets
) -> list[Row]:
    """Rows for one stage: asr, mt, tts, dub or live."""
    from dubber.engines.bundle import EngineChoice
    from dubber.engines.choose import choose_recognizer, choose_voice

    asr = targets.asr_models or (choose_recognizer(store, "en").model_id,)
    voices = targets.voices or (str(choose_voice(store, "es")[0]),)
    if stage == "asr":
        return bench_asr(asr, inputs, sweep, store)
    if stage == "mt":
        corpus = inputs.corpus or [_text_file("sources.txt", inputs.sources)]
        return bench_mt(targets.mt_models, inputs, sweep, store, corpus, targets.random_shape)
    if stage == "tts":
        return bench_tts(voices, inputs, sweep, store)
    if stage == "dub":
        media = targets.media or demo_video(store, next(sweep.runtimes()), targets.limit)
        return bench_dub(media, EngineChoice(asr_model=asr[0], voice=voices[0]), sweep, store)
    if stage == "live":
        voice = targets.voices[0] if targets.voices else None
        return bench_live(inputs.audio, asr[0], voice, sweep, store)
    raise ValueError(f"unknown stage {stage}")


def _text_file(name: str, lines: Sequence[str]) -> Path:
    """Lines written to DUBBER_HOME/bench/NAME (sentencepiece trains on files)."""
    from dubber.outputs import atomic_write_text

    path = bench_dir() / name
    atomic_write_text(path, "".join(f"{line}\n" for line in lines))
    return path
