"""Benchmark of the LLM translator: load time, target tokens/s batched, and peak memory, per
runtime (OpenVINO GenAI, CTranslate2)."""

from __future__ import annotations

import itertools
import time
from functools import partial
from typing import TYPE_CHECKING

from dubber.measure.bench.inputs import Inputs
from dubber.measure.bench.sweep import Row, Sweep, params, peak_rss, stat, timed
from dubber.store.store import Store

if TYPE_CHECKING:
    from dubber.engines.llm import LLMTranslator


def bench_llm(name: str, store: Store, inputs: Inputs, sweep: Sweep) -> list[Row]:
    """One row per (LLM runtime, runtime options, beam, batch): a beam of 1 decodes greedily
    (one candidate), a wider one gives that many candidates; batch is the sequences decoded at
    once. Tokens are the first candidate's, in the model's tokenizer; load time is a fresh
    runtime's (the first setting's may include preparing the model or reading it from disk)."""
    from dubber.engines.apertium import ApertiumTranslator
    from dubber.engines.llm import LLMConfig, LLMTranslator
    from dubber.engines.llm.runtimes import load_decoder, runtime_for

    rows = []
    engines = sweep.llm_runtimes or (runtime_for(sweep.device),)
    settings = itertools.product(engines, sweep.runtimes(), sweep.beams or (1,), sweep.batch_sizes)
    for engine, runtime, beam, batch in settings:
        folder = store.prepare(name, engine)
        with peak_rss() as peak:
            started = time.perf_counter()
            decoder = load_decoder(folder, engine, runtime, batch=batch * beam)
            translator = LLMTranslator(
                decoder, LLMConfig(beam_size=beam), fallback=ApertiumTranslator("en", "es")
            )
            load = time.perf_counter() - started
            run = partial(_translate, translator, inputs.sources, beam)
            seconds, produced = timed(run, sweep)
            del translator, decoder, run  # freed before the next setting loads its own
        setting = params(runtime, llm_runtime=engine, beam=beam, batch=batch)
        row = Row("mt", name, setting, primary="tokens_per_s")
        row.higher_is_better = True
        tokens = produced[-1]
        row.metrics = {
            "tokens_per_s": stat([tokens / s for s in seconds]),
            "sentences_per_s": stat([len(inputs.sources) / s for s in seconds]),
            "ms_per_sentence": stat([s * 1000 / len(inputs.sources) for s in seconds]),
            "load_s": stat([load]),
        }
        row.peak_rss_mb = peak[0]
        row.note = "tokens = the first candidate's model tokens; batch = sequences decoded at once"
        rows.append(row)
    return rows


def _translate(translator: LLMTranslator, sources: list[str], beam: int) -> int:
    """Translate every source; returns the model tokens of the first candidates."""
    options = {"num_hypotheses": beam, "beam_size": beam} if beam > 1 else {}
    results = translator.translate(sources, **options)
    return sum(translator.count_tokens(result.text) for result in results)
