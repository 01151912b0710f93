"""Whole-job speed and memory of `dubber dub` on a long input (not a test).

Builds, once, a video of N minutes under a generated picture (copied as is by the dub), with as
its sound track either (`--speech call`) the recording ../shared/data/longform, looped past its
77 s, or (`--speech read`) a newscast that never repeats: the English Piper voice reading
../shared/data/mt/test.en over a music bed. Dubs it in this process and prints the real-time
factor of the whole job and of each stage (stages overlap, so they add up to more than the whole),
and the memory (RSS) of this process: its peak, and its median over the first and the last
quarter of the dub (sampled every second: a dub whose memory is flat has the two alike); ffmpeg
streams the mix with a small, fixed footprint.

Usage: python scripts/bench_dub.py [--minutes 10] [--speech call|read] [--voice ID] [--engine E]
                                   [--threads 2] [--nbest N]
                                   [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import statistics
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from dubber.chain.fit import FitOutcome
from dubber.dub.job import DubJob, DubOptions, Stage
from dubber.dub.outputs import OutputPaths
from dubber.dub.sample import build_demo_video, narrate
from dubber.engines.bundle import EngineChoice
from dubber.engines.load import load_engines
from dubber.engines.piper import PiperSynthesizer
from dubber.media import ffmpeg
from dubber.media.probe import probe
from dubber.settings import RuntimeOptions
from dubber.store.store import Store

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LONGFORM = SHARED_DATA / "longform" / "06-ibm-earnings-1min.wav"
NEWS_TEXT = SHARED_DATA / "mt" / "test.en"
READER = "piper-en_US-joe-medium"


def build_read_news(path: Path, minutes: float) -> Path:
    """A newscast of `minutes` that never repeats: English sentences read over a music bed."""
    if not path.exists():
        reader = PiperSynthesizer(Store().path(READER), RuntimeOptions(threads=2))
        sentences = NEWS_TEXT.read_text(encoding="utf-8").splitlines()
        speech = narrate(reader, sentences, max_seconds=minutes * 60)
        if len(speech) < minutes * 60 * reader.sample_rate:
            raise SystemExit(f"{NEWS_TEXT} reads for less than {minutes:g} minutes")
        build_demo_video(path, speech, reader.sample_rate)
    return path


def build_call(path: Path, minutes: float) -> Path:
    """Picture + the long recording looped to `minutes`, as MP4 (H.264, AAC)."""
    if not path.exists():
        seconds = minutes * 60
        picture = ffmpeg.generated(f"testsrc2=size=640x360:rate=25:duration={seconds}")
        speech = ffmpeg.source(LONGFORM, stream_loop=-1)["a"]
        encode = {"c:v": "libx264", "preset": "ultrafast", "pix_fmt": "yuv420p", "c:a": "aac"}
        ffmpeg.run_ffmpeg(
            ffmpeg.output(
                picture["v"], speech, path=path, t=seconds, ar=48000, shortest=None, **encode
            )
        )
    return path


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RssSampler:
    """This process's resident memory (MB), read from /proc every `period` s in a thread."""

    def __init__(self, period: float = 1.0) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(period,), daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self, period: float) -> None:
        while not self._stop.wait(period):
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    self.samples.append(int(line.split()[1]) / 1024)

    def quarters(self) -> tuple[float, float]:
        """Median RSS over the first and over the last quarter of the samples."""
        quarter = max(len(self.samples) // 4, 1)
        first, last = self.samples[:quarter], self.samples[-quarter:]
        return statistics.median(first or [0]), statistics.median(last or [0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--speech", choices=("call", "read"), default="call")
    parser.add_argument("--voice", default=None, help="voice id [default: best installed]")
    parser.add_argument("--engine", default="auto", help="translator: auto, apertium, llm, opusmt")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--no-diarize", action="store_true", help="do not tell speakers apart (dub does)"
    )
    parser.add_argument(
        "--nbest", type=int, default=None, help="candidates per line [default: dub's]"
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/dubber-bench"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    ffmpeg.binary("ffmpeg")
    store = Store()
    media = args.work / f"input-{args.speech}-{args.minutes:g}min.mp4"
    build = build_read_news if args.speech == "read" else build_call
    # In a child process, so that the reader's voice does not count towards the dub's memory.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as child:
        child.submit(build, media, args.minutes).result()
    started = time.perf_counter()
    choice = EngineChoice(translator=args.engine, voice=args.voice, diarize=not args.no_diarize)
    engines = load_engines(store, RuntimeOptions(threads=args.threads), choice, check_language=True)
    load_seconds = time.perf_counter() - started
    outputs = OutputPaths.beside(args.work / f"out-{time.time_ns()}.es.mp4", "en", "es")
    work_root = args.work / f"work-{time.time_ns()}"
    options = DubOptions() if args.nbest is None else DubOptions(nbest=args.nbest)
    job = DubJob(engines, options, probe(media), outputs, work_root, lambda *_: None)
    with RssSampler() as rss:
        report = job.run()
    first_quarter, last_quarter = rss.quarters()
    total, duration = report.wall_seconds, report.document.duration
    result = {
        "input_s": round(duration, 1),
        "mt": engines.mt_model,
        "nbest": options.nbest,
        "voice": engines.voices.describe(),
        "load_s": round(load_seconds, 1),
        "total_s": round(total, 1),
        "rtf": round(total / duration, 3),
        **{f"{s.value}_rtf": round(report.seconds.get(s, 0) / duration, 3) for s in Stage},
        "diarize_rtf": round(report.diarize_seconds / duration, 4),
        "speakers": len(report.document.speakers),
        "lines": len(report.document.lines),
        "not_fit": report.count(FitOutcome.overflow),
        "peak_rss_mb": round(peak_rss_mb()),
        "rss_first_quarter_mb": round(first_quarter),
        "rss_last_quarter_mb": round(last_quarter),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
