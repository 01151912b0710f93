"""Benchmark of the LLM translator: load time, target tokens/s batched, and peak memory."""

from __future__ import annotations

import itertools
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from dubber.measure.bench.inputs import Inputs
from dubber.measure.bench.sweep import Row, Sweep, params, peak_rss, stat, timed

if TYPE_CHECKING:
    from dubber.engines.llm import LLMTranslator


def bench_llm(name: str, model_dir: Path, inputs: Inputs, sweep: Sweep) -> list[Row]:
    """One row per (runtime, beam, batch): a beam of 1 decodes greedily (one candidate), a wider
    one gives that many candidates. Tokens are the first candidate's, in the model's tokenizer;
    load time is a fresh Generator's (the first setting's may include reading from disk)."""
    from dubber.engines.apertium import ApertiumTranslator
    from dubber.engines.llm import LLMConfig, LLMTranslator

    rows = []
    settings = itertools.product(sweep.runtimes(), sweep.beams or (1,), sweep.batch_sizes)
    for runtime, beam, batch in settings:
        with peak_rss() as peak:
            started = time.perf_counter()
            translator = LLMTranslator(
                model_dir,
                runtime,
                LLMConfig(batch_size=batch * beam, beam_size=beam),
                fallback=ApertiumTranslator("en", "es"),
            )
            load = time.perf_counter() - started
            run = partial(_translate, translator, inputs.sources, beam)
            seconds, produced = timed(run, sweep)
            del translator, run  # freed before the next setting loads its own
        row = Row("mt", name, params(runtime, beam=beam, batch=batch), primary="tokens_per_s")
        row.higher_is_better = True
        tokens = produced[-1]
        row.metrics = {
            "tokens_per_s": stat([tokens / s for s in seconds]),
            "sentences_per_s": stat([len(inputs.sources) / s for s in seconds]),
            "ms_per_sentence": stat([s * 1000 / len(inputs.sources) for s in seconds]),
            "load_s": stat([load]),
        }
        row.peak_rss_mb = peak[0]
        row.note = "tokens = the first candidate's model tokens; batch = texts decoded together"
        rows.append(row)
    return rows


def _translate(translator: LLMTranslator, sources: list[str], beam: int) -> int:
    """Translate every source; returns the model tokens of the first candidates."""
    options = {"num_hypotheses": beam, "beam_size": beam} if beam > 1 else {}
    results = translator.translate(sources, **options)
    return sum(translator.count_tokens(result.text) for result in results)
