"""`dubber bench`: how fast each stage and the whole pipeline run on this machine."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dubber.cli.options import Device, DeviceOption, OfflineOption, TranslatorEngine, open_store
from dubber.cli.output import console
from dubber.errors import DubberError, UsageError
from dubber.store.store import Store


class Stage(str, Enum):
    """What to benchmark."""

    asr = "asr"
    mt = "mt"
    tts = "tts"
    dub = "dub"
    live = "live"
    all = "all"


def _list(text: str | None, convert: type = str) -> tuple:
    """`a,b,c` -> (a, b, c) converted; empty or None -> ()."""
    try:
        return tuple(convert(x.strip()) for x in (text or "").split(",") if x.strip())
    except ValueError:
        raise UsageError(f"'{text}' is not a comma-separated list of {convert.__name__}") from None


def _default_mt(store: Store, engine: TranslatorEngine) -> tuple[str, ...]:
    """The translation models to measure when --mt-models is not given."""
    from dubber.engines.load import default_llm

    if engine is TranslatorEngine.llm:
        return (default_llm(store),)
    return () if engine is TranslatorEngine.apertium else ("opus-mt-en-es",)


def bench(
    stages: Annotated[
        list[Stage] | None, typer.Argument(help="Stages to measure \\[default: all].")
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            help="Folder with asr/refs.tsv and mt/test.en, test.es \\[default: "
            "../shared/data if present, else a generated sample]."
        ),
    ] = None,  # fmt: skip
    media: Annotated[
        Path | None, typer.Option(help="File to dub \\[default: the generated demo video].")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Use only the first N clips / sentences.")
    ] = None,
    asr_models: Annotated[
        str | None, typer.Option(help="Whisper model ids, comma-separated \\[default: best].")
    ] = None,
    engine: Annotated[
        TranslatorEngine,
        typer.Option(help="MT engine: llm measures the LLM translator (--mt-models: which)."),
    ] = TranslatorEngine.auto,
    mt_models: Annotated[
        str | None,
        typer.Option(
            help="Translation model ids \\[default: opus-mt-en-es; with --engine llm the best"
            " LLM]; OPUS-MT models not installed run as random-weight models."
        ),
    ] = None,
    voices: Annotated[
        str | None, typer.Option(help="Voice ids, comma-separated \\[default: best Spanish].")
    ] = None,
    compute_types: Annotated[
        str, typer.Option(help="int8, int8_float32, float32 (+ float16, int8_float16 on CUDA).")
    ] = "int8",
    threads: Annotated[
        str | None, typer.Option(help="CPU thread counts, comma-separated \\[default: all].")
    ] = None,
    beams: Annotated[str | None, typer.Option(help="Beam sizes \\[default: ASR 5, MT 4].")] = None,
    batch_sizes: Annotated[
        str, typer.Option(help="MT batch sizes (for the LLM on OpenVINO: sequences at once).")
    ] = "16",
    llm_runtimes: Annotated[
        str | None,
        typer.Option(
            help="LLM runtimes: openvino, ctranslate2 \\[default: the device's: OpenVINO on the"
            " CPU, CTranslate2 on CUDA]."
        ),
    ] = None,
    repeats: Annotated[int, typer.Option(min=1, help="Measured runs per setting.")] = 3,
    warmup: Annotated[int, typer.Option(min=0, help="Uncounted runs first.")] = 1,
    random_shape: Annotated[
        str, typer.Option(help="Shape of the random MT model: opus-mt (real sizes) or tiny.")
    ] = "opus-mt",
    json_: Annotated[Path | None, typer.Option("--json", help="Write the results here.")] = None,
    markdown: Annotated[
        Path | None, typer.Option(help="Write Markdown tables (and PNG plots beside them).")
    ] = None,
    compare: Annotated[
        Path | None, typer.Option(help="An earlier --json: show ratios, flag regressions.")
    ] = None,
    threshold: Annotated[
        float, typer.Option(min=0.0, help="Flag rows slower than baseline by more (0.1 = 10 %).")
    ] = 0.1,
    device: DeviceOption = Device.auto,
    offline: OfflineOption = False,
) -> None:
    """Measure speed per stage (ASR RTF, MT sentences/s, TTS RTF and first audio, dub RTF) over
    sweeps of models, compute types, threads, beams and batch sizes."""
    from dubber.measure.bench import results
    from dubber.measure.bench.inputs import data_inputs, default_data_dir, generated_inputs
    from dubber.measure.bench.stages import Targets, run_stage
    from dubber.measure.bench.sweep import Sweep
    from dubber.measure.marian_builder import SHAPES
    from dubber.settings import default_threads, resolve_device

    chosen = set(stages or [Stage.all])
    wanted = [s.value for s in Stage if s != Stage.all and (s in chosen or Stage.all in chosen)]
    if random_shape not in SHAPES:
        raise UsageError(f"--random-shape must be one of {', '.join(SHAPES)}")
    from dubber.outputs import OutputPlan

    plan = OutputPlan([compare] if compare else [], force=True)
    if json_:
        plan.add(json_, "results", formats=(".json",))
    if markdown:
        plan.add(markdown, "Markdown tables", formats=(".md",))
    plan.check()
    baseline = results.load_baseline(compare) if compare else None
    sweep = Sweep(
        device=resolve_device(device.value),
        compute_types=_list(compute_types),
        threads=_list(threads, int) or (default_threads(),),
        beams=_list(beams, int),
        batch_sizes=_list(batch_sizes, int) or (16,),
        llm_runtimes=_list(llm_runtimes),
        repeats=repeats,
        warmup=warmup,
    )
    sweep.check()
    store = open_store(offline)
    data = data or default_data_dir()
    with console.status("preparing inputs"):
        first = next(sweep.runtimes())
        inputs = data_inputs(data, limit) if data else generated_inputs(store, first, limit)
    targets = Targets(
        asr_models=_list(asr_models),
        mt_models=_list(mt_models) or _default_mt(store, engine),
        voices=_list(voices),
        media=media,
        random_shape=random_shape,
        limit=limit,
    )
    rows = []
    for stage in wanted:
        with console.status(f"benchmarking {stage}"):
            rows += run_stage(stage, inputs, sweep, store, targets)
    comparisons = results.compare(rows, baseline, threshold) if baseline else []
    _print(rows, comparisons, inputs.origin)
    if json_:
        results.write_json(json_, rows, comparisons, sweep, inputs.origin)
        console.print(f"wrote {json_}", markup=False, highlight=False)
    if markdown:
        results.write_markdown(markdown, rows, comparisons)
        console.print(f"wrote {markdown}", markup=False, highlight=False)
    if any(c.flagged for c in comparisons):
        raise DubberError(
            f"{sum(c.flagged for c in comparisons)} setting(s) slower than the baseline by more "
            f"than {threshold:.0%}"
        )


def _print(rows: list, comparisons: list, origin: str) -> None:
    from dubber.measure.bench.results import describe_params, format_metric, other_metrics

    versus = {c.key: c for c in comparisons}
    table = Table(title=f"dubber bench on {origin}")
    for column in ("stage", "model", "settings", "primary (median ±spread)", "other (median)",
                   "peak RSS MiB"):  # fmt: skip
        table.add_column(column)
    if comparisons:
        table.add_column("vs baseline")
    for r in rows:
        primary = f"{r.primary} {format_metric(r, r.primary)}"
        cells = [r.stage, r.name, *map(escape, (describe_params(r), primary, other_metrics(r)))]
        cells.append(f"{r.peak_rss_mb:.0f}")
        if comparisons:
            c = versus.get(r.key)
            flag = " [bold red]REGRESSION[/]" if c and c.flagged else ""
            cells.append(f"{c.slowdown:.2f}x slower{flag}" if c else "")
        table.add_row(*cells)
    Console().print(table)
    for note in sorted({r.note for r in rows if r.note}):
        print(f"note: {note}")
