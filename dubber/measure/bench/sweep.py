"""Measuring well: sweeps of settings, warm-up runs not counted, repeats reported as median
and spread, and the peak memory of a run."""

from __future__ import annotations

import itertools
import os
import platform
import resource
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from dubber.errors import DubberError
from dubber.settings import CUDA_ONLY_TYPES, RuntimeOptions

T = TypeVar("T")

BENCH_STAGES = ("asr", "mt", "tts", "dub", "live")


@dataclass(frozen=True)
class Sweep:
    """What to vary and how to repeat. Empty `beams` means each stage's default beam."""

    device: str = "cpu"
    compute_types: tuple[str, ...] = ("int8",)
    threads: tuple[int, ...] = (1,)
    beams: tuple[int, ...] = ()
    batch_sizes: tuple[int, ...] = (16,)
    llm_runtimes: tuple[str, ...] = ()  # empty: the device's
    repeats: int = 3
    warmup: int = 1

    def check(self) -> None:
        """Refuse settings the device cannot run."""
        if self.device != "cuda" and (cuda := set(self.compute_types) & set(CUDA_ONLY_TYPES)):
            raise DubberError(f"{', '.join(sorted(cuda))} needs --device cuda (a CUDA GPU)")
        if self.repeats < 1 or self.warmup < 0:
            raise DubberError("--repeats must be at least 1 and --warmup at least 0")
        from dubber.engines.llm.runtimes import RUNTIMES

        if unknown := set(self.llm_runtimes) - set(RUNTIMES):
            raise DubberError(
                f"unknown LLM runtime {', '.join(sorted(unknown))}: choose {', '.join(RUNTIMES)}"
            )
        if self.device == "cuda" and "openvino" in self.llm_runtimes:
            raise DubberError("the LLM runs on OpenVINO on the CPU only: use ctranslate2 on CUDA")

    def runtimes(self) -> Iterator[RuntimeOptions]:
        """Every (compute type, threads) pair as runtime options."""
        for compute_type, threads in itertools.product(self.compute_types, self.threads):
            yield RuntimeOptions(device=self.device, compute_type=compute_type, threads=threads)


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


def params(runtime: RuntimeOptions, **more: object) -> dict[str, object]:
    """A row's settings: the runtime's and `more`."""
    return {"device": runtime.device, "compute_type": runtime.compute_type,
            "threads": runtime.threads, **more}  # fmt: skip


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
