"""Speed of every stage on the user's hardware: ASR, MT, TTS, the whole dub, live latency.

Each configuration of a sweep (model x compute type x threads x beam x batch) is loaded once,
warmed up (warm-up runs are not counted), then run `repeats` times; each metric is reported as
median, min, max and spread. The results are rows that print as a table, serialise to JSON and
Markdown, and compare with an earlier JSON so that a regression is visible.
"""

from __future__ import annotations

import itertools
import logging
import os
import platform
import resource
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from dubber.errors import DubberError
from dubber.settings import RuntimeOptions, dubber_home

if TYPE_CHECKING:
    import ctranslate2
    import numpy as np

    from dubber.engines.load import EngineChoice, PipelineEngines
    from dubber.engines.types import Recognizer, Synthesizer
    from dubber.store.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

CUDA_ONLY_TYPES = ("float16", "int8_float16")
BENCH_STAGES = ("asr", "mt", "tts", "dub", "live")


@dataclass(frozen=True)
class Sweep:
    """What to vary and how to repeat. Empty `beams` means each stage's default beam."""

    device: str = "cpu"
    compute_types: tuple[str, ...] = ("int8",)
    threads: tuple[int, ...] = (1,)
    beams: tuple[int, ...] = ()
    batch_sizes: tuple[int, ...] = (16,)
    repeats: int = 3
    warmup: int = 1

    def check(self) -> None:
        """Refuse settings the device cannot run."""
        if self.device != "cuda" and (cuda := set(self.compute_types) & set(CUDA_ONLY_TYPES)):
            raise DubberError(f"{', '.join(sorted(cuda))} needs --device cuda (a CUDA GPU)")
        if self.repeats < 1 or self.warmup < 0:
            raise DubberError("--repeats must be at least 1 and --warmup at least 0")

    def runtimes(self) -> Iterator[RuntimeOptions]:
        """Every (compute type, threads) pair as runtime options."""
        for compute_type, threads in itertools.product(self.compute_types, self.threads):
            yield RuntimeOptions(self.device, compute_type, threads)


@dataclass
class Row:
    """One measured configuration: `metrics[name]` = {median, min, max, spread_pct, values}."""

    stage: str
    name: str
    params: dict[str, object]
    metrics: dict[str, dict] = field(default_factory=dict)
    primary: str = ""
    higher_is_better: bool = False
    peak_rss_mb: float = 0.0
    note: str = ""

    @property
    def key(self) -> str:
        """Identity of the configuration, to match rows across runs."""
        params = ",".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"{self.stage}|{self.name}|{params}"

    def median(self, metric: str | None = None) -> float:
        """Median of a metric (the primary one by default)."""
        return self.metrics[metric or self.primary]["median"]


def stat(values: Sequence[float]) -> dict:
    """Median, min, max and spread ((max - min) / median, in %) of repeated measurements."""
    median = statistics.median(values)
    spread = (max(values) - min(values)) / median * 100 if median else 0.0
    return {
        "median": median,
        "min": min(values),
        "max": max(values),
        "spread_pct": spread,
        "values": list(values),
    }


def timed(run: Callable[[], T], sweep: Sweep) -> tuple[list[float], list[T]]:
    """Seconds per call of `run` and what it returned, after `sweep.warmup` uncounted calls."""
    for _ in range(sweep.warmup):
        run()
    seconds, results = [], []
    for _ in range(sweep.repeats):
        started = time.perf_counter()
        results.append(run())
        seconds.append(time.perf_counter() - started)
    return seconds, results


def _rss_mb() -> float | None:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


@contextmanager
def peak_rss() -> Iterator[list[float]]:
    """Sample this process's resident memory while the block runs; yields a one-item list that
    holds the peak in MiB afterwards (where /proc is missing: the process peak so far)."""
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while True:
            peak[0] = max(peak[0], _rss_mb() or 0.0)
            if done.wait(0.02):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        done.set()
        sampler.join()
        if not peak[0]:
            scale = 2**20 if platform.system() == "Darwin" else 2**10
            peak[0] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


# ---------------------------------------------------------------- inputs


@dataclass
class Inputs:
    """What the benchmarks run on."""

    audio: list[Path]
    sources: list[str]
    references: list[str] | None
    speech_lines: list[str]
    corpus: list[Path] = field(default_factory=list)
    origin: str = ""


def default_data_dir() -> Path | None:
    """../shared/data from the current folder or from the repository, if it exists."""
    for base in (Path.cwd(), Path(__file__).resolve().parents[1]):
        candidate = base.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return None


def data_inputs(data: Path, limit: int | None) -> Inputs:
    """Recordings from DATA/asr (refs.tsv order), sentences from DATA/mt/test.en and test.es."""
    from dubber.measure.evaluate import read_lines, read_manifest

    rows = read_manifest(data / "asr" / "refs.tsv")[:limit]
    sources = read_lines(data / "mt" / "test.en", "source")[:limit]
    references = read_lines(data / "mt" / "test.es", "reference")[:limit]
    corpus = [data / "mt" / "test.en", data / "mt" / "test.es"]
    return Inputs([r.file for r in rows], sources, references, references, corpus, str(data))


def generated_inputs(store: Store, runtime: RuntimeOptions, limit: int | None) -> Inputs:
    """A sample made here: the demo news script read by the English voice, its Apertium
    translation as Spanish text."""
    from dubber.engines.apertium import ApertiumTranslator
    from dubber.media.sample import NEWS_SCRIPT

    sentences = list(NEWS_SCRIPT[:limit])
    audio = _narration(store, runtime, tuple(sentences))
    spanish = [t.text for t in ApertiumTranslator("en", "es").translate(sentences)]
    return Inputs([audio], sentences, None, spanish, origin="generated sample (demo news script)")


def _bench_dir() -> Path:
    folder = dubber_home() / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _narration(store: Store, runtime: RuntimeOptions, sentences: tuple[str, ...]) -> Path:
    """The sentences read by the English voice, as a WAV cached in DUBBER_HOME/bench."""
    from dubber.engines.choose import load_synthesizer
    from dubber.fsutil import atomic_path
    from dubber.media.ffmpeg import write_wav
    from dubber.media.sample import narrate

    path = _bench_dir() / f"narration-{len(sentences)}.wav"
    if not path.is_file():
        english, _ = load_synthesizer(store, None, "en", runtime)
        with atomic_path(path) as tmp:
            write_wav(tmp, narrate(english, sentences), english.sample_rate)
    return path


def demo_video(store: Store, runtime: RuntimeOptions, sentences: int | None) -> Path:
    """The demo news video (first `sentences` lines of its script), cached in DUBBER_HOME/bench."""
    from dubber.media.ffmpeg import read_wav
    from dubber.media.sample import NEWS_SCRIPT, build_demo_video

    script = NEWS_SCRIPT[:sentences]
    path = _bench_dir() / f"news-{len(script)}.mp4"
    if not path.is_file():
        samples, rate = read_wav(_narration(store, runtime, script))
        build_demo_video(path, samples, rate)
    return path


# ---------------------------------------------------------------- stages


def bench_asr(models: Sequence[str], inputs: Inputs, sweep: Sweep, store: Store) -> list[Row]:
    """Real-time factor of each Whisper model and setting on the recordings."""
    from dubber.engines.whisper import WhisperConfig, WhisperRecognizer
    from dubber.media.ffmpeg import ASR_SAMPLE_RATE, decode_audio

    clips = [decode_audio(path) for path in inputs.audio]
    seconds_of_audio = sum(len(c) for c in clips) / ASR_SAMPLE_RATE
    rows = []
    for model, runtime, beam in itertools.product(models, sweep.runtimes(), sweep.beams or (5,)):
        with peak_rss() as peak:
            started = time.perf_counter()
            recognizer = WhisperRecognizer(
                store.path(model), runtime, WhisperConfig(beam_size=beam)
            )
            load = time.perf_counter() - started
            seconds, _ = timed(partial(_transcribe_all, recognizer, clips), sweep)
        row = Row("asr", model, _params(runtime, beam=beam), primary="rtf")
        row.metrics = {
            "rtf": stat([s / seconds_of_audio for s in seconds]),
            "load_s": stat([load]),
            "audio_s": stat([seconds_of_audio]),
        }
        row.peak_rss_mb = peak[0]
        rows.append(row)
    return rows


def _transcribe_all(recognizer: Recognizer, clips: Sequence[np.ndarray]) -> None:
    for clip in clips:
        list(recognizer.transcribe(clip)[0])


def _params(runtime: RuntimeOptions, **more: object) -> dict[str, object]:
    return {"device": runtime.device, "compute_type": runtime.compute_type,
            "threads": runtime.threads, **more}  # fmt: skip


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

    folder = _bench_dir() / f"random-{shape}"
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
        row = Row("mt", name, _params(runtime, beam=beam, batch=batch), primary="sentences_per_s")
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
    """Apertium, then each OPUS-MT model: installed ones as they are, the others replaced by a
    random-weight model of the same shape."""
    rows = [bench_apertium(inputs, sweep)]
    for model in models:
        if store.is_installed(model):
            rows += bench_ctranslate2(model, store.path(model), inputs, sweep)
        else:
            folder = random_opus_mt(random_shape, corpus)
            name = f"{model} (random weights)"
            rows += bench_ctranslate2(name, folder, inputs, sweep, shape=random_shape)
    return rows


def bench_tts(voices: Sequence[str], inputs: Inputs, sweep: Sweep, store: Store) -> list[Row]:
    """Real-time factor and time to first audio (the first sentence) of each voice."""
    from dubber.engines.choose import load_synthesizer

    lines = inputs.speech_lines
    rows = []
    for voice, runtime in itertools.product(voices, sweep.runtimes()):
        with peak_rss() as peak:
            started = time.perf_counter()
            synthesizer, voice_id = load_synthesizer(store, voice, "es", runtime)
            load = time.perf_counter() - started
            started = time.perf_counter()
            synthesizer.synthesize(lines[0])
            cold = time.perf_counter() - started
            seconds, audio = timed(partial(_speak_all, synthesizer, lines), sweep)
            first, _ = timed(partial(synthesizer.synthesize, lines[0]), replace(sweep, warmup=0))
        row = Row("tts", voice_id, _params(runtime), primary="rtf")
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
    return sum(synthesizer.synthesize(line).duration for line in lines)


def bench_dub(media: Path, choice: EngineChoice, sweep: Sweep, store: Store) -> list[Row]:
    """Whole-file dub real-time factor and seconds per stage, engines loaded once per setting."""
    from dubber.dub.job import STAGES
    from dubber.engines.load import PipelineEngines
    from dubber.media.ffmpeg import probe

    duration = probe(media).duration
    rows = []
    for runtime in sweep.runtimes():
        with peak_rss() as peak:
            engines = PipelineEngines.load(store, runtime, choice, "en", "es", detect_language=True)
            seconds, counted = timed(partial(_dub_once, engines, media), sweep)
        row = Row("dub", media.name, _params(runtime, asr=engines.asr_model), primary="rtf")
        row.metrics = {"rtf": stat([s / duration for s in seconds])}
        row.metrics |= {f"{s}_s": stat([run[s] for run in counted]) for s in STAGES}
        row.metrics["media_s"] = stat([duration])
        row.peak_rss_mb = peak[0]
        rows.append(row)
    return rows


def _dub_once(engines: PipelineEngines, media: Path) -> dict[str, float]:
    """Dub `media` into a temporary folder; returns the seconds per stage."""
    from dubber.dub.job import Dubber, DubOptions, OutputPaths

    with tempfile.TemporaryDirectory(prefix="dubber-bench-") as folder:
        work = Path(folder)
        outputs = OutputPaths.beside(work / "out" / "dub.es.mp4", "en", "es")
        report = Dubber(engines, DubOptions(), work / "work").dub(media, outputs, lambda *_: None)
        return report.seconds


def bench_live(
    clips: Sequence[Path], asr_model: str, voice: str | None, sweep: Sweep, store
) -> list[Row]:
    """End of speech -> first translated audio, per line, with the recordings played at real-time
    pace through a live session (dubber.measure.live_bench); one row per thread count."""
    from dubber.measure.live_bench import measure_live

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
        latencies = [u["latency_end_to_audio_s"] for r in runs for u in r["utterances"]]
        captions = [u["latency_start_to_caption_s"] for r in runs for u in r["utterances"]]
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
    from dubber.engines.choose import choose_recognizer, choose_voice
    from dubber.engines.load import EngineChoice

    asr = targets.asr_models or (choose_recognizer(store, "en").model_id,)
    voices = targets.voices or (choose_voice(store, "es").model_id,)
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
    from dubber.fsutil import atomic_write_text

    path = _bench_dir() / name
    atomic_write_text(path, "".join(f"{line}\n" for line in lines))
    return path


# ---------------------------------------------------------------- results


def machine() -> dict[str, object]:
    """Where the figures come from."""
    import ctranslate2
    import onnxruntime

    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "ctranslate2": ctranslate2.__version__,
        "onnxruntime": onnxruntime.__version__,
        "cuda_devices": ctranslate2.get_cuda_device_count(),
    }


def to_json(rows: Sequence[Row], sweep: Sweep, inputs_origin: str) -> dict:
    """The report: machine, settings, every row."""
    return {
        "machine": machine(),
        "sweep": asdict(sweep),
        "inputs": inputs_origin,
        "rows": [asdict(r) for r in rows],
    }


def rows_from_json(data: dict) -> list[Row]:
    """Rows of an earlier report."""
    try:
        return [Row(**r) for r in data["rows"]]
    except (KeyError, TypeError) as error:
        raise DubberError(f"not a dubber bench report ({error}): give a file from --json") from None


@dataclass(frozen=True)
class Comparison:
    """A row against the same configuration in a baseline: slowdown > 1 means slower now."""

    key: str
    baseline: float
    current: float
    slowdown: float
    flagged: bool


def compare(rows: Sequence[Row], baseline: Sequence[Row], threshold: float) -> list[Comparison]:
    """Primary-metric ratios to the baseline; a row more than `threshold` (0.1 = 10 %) slower is
    flagged."""
    before = {r.key: r for r in baseline}
    result = []
    for row in rows:
        old = before.get(row.key)
        if old is None or old.primary != row.primary:
            continue
        new_value, old_value = row.median(), old.median()
        if not new_value or not old_value:
            continue
        slowdown = old_value / new_value if row.higher_is_better else new_value / old_value
        result.append(Comparison(row.key, old_value, new_value, slowdown, slowdown > 1 + threshold))
    return result


def format_metric(row: Row, metric: str) -> str:
    """`median ±spread%`."""
    m = row.metrics[metric]
    return f"{m['median']:.4g} ±{m['spread_pct']:.0f}%"


def describe_params(row: Row) -> str:
    """`int8 t2 beam5 batch16` style summary of a row's settings."""
    p = row.params
    parts = [str(p.get("compute_type", "")), f"t{p['threads']}" if "threads" in p else ""]
    parts += [f"{k} {p[k]}" for k in ("beam", "batch") if k in p]
    return " ".join(x for x in parts if x)


def other_metrics(row: Row) -> str:
    """Every metric but the primary one, `name median`."""
    return ", ".join(
        f"{name} {m['median']:.3g}" for name, m in row.metrics.items() if name != row.primary
    )


def markdown(rows: Sequence[Row], comparisons: Sequence[Comparison], images: dict[str, str]) -> str:
    """Tables for BENCHMARKS.md (one per stage) and the plots."""
    flagged = {c.key: c for c in comparisons}
    out = []
    for stage in BENCH_STAGES:
        chosen = [r for r in rows if r.stage == stage]
        if not chosen:
            continue
        out += [f"### {stage}", "", "| model | settings | primary (median ±spread) | other "
                "(median) | peak RSS MiB | vs baseline | note |", "| --- | --- | --- | --- | --- "
                "| --- | --- |"]  # fmt: skip
        for r in chosen:
            c = flagged.get(r.key)
            versus = (
                f"{c.slowdown:.2f}x slower{' **REGRESSION**' if c.flagged else ''}" if c else ""
            )
            out.append(
                f"| {r.name} | {describe_params(r)} | {r.primary} {format_metric(r, r.primary)} "
                f"| {other_metrics(r)} | {r.peak_rss_mb:.0f} | {versus} | {r.note} |"
            )
        out.append("")
    out += [f"![{name}]({Path(path).name})\n" for name, path in images.items()]
    return "\n".join(out)


def plots(rows: Sequence[Row], folder: Path) -> dict[str, str]:
    """Per-stage seconds of the first dub row, and a latency histogram from live rows."""
    from dubber.measure.plots import histogram, stage_times

    images = {}
    dub = next((r for r in rows if r.stage == "dub"), None)
    if dub is not None:
        seconds = {k.removesuffix("_s"): m["median"] for k, m in dub.metrics.items()
                   if k.endswith("_s") and k != "media_s"}  # fmt: skip
        path = stage_times(seconds, folder / "bench-dub-stages.png", f"dub of {dub.name}")
        images["dub stages"] = str(path)
    latencies = [v for r in rows if r.stage == "live" for v in r.metrics.get(
        "latency_s", {}).get("values", [])]  # fmt: skip
    if latencies:
        path = histogram(latencies, folder / "bench-live-latency.png", "live latency", "seconds")
        images["live latency"] = str(path)
    return images
