"""`dubber dub` and `dubber demo`: progress while they work, a summary table when done."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dubber.chain.fit import FitRules
from dubber.cli.options import (
    AsrModelOption,
    ComputeTypeOption,
    Device,
    DeviceOption,
    MtModelOption,
    OfflineOption,
    ServerOption,
    TargetLanguage,
    ThreadsOption,
    TranslatorEngine,
    TranslatorOption,
    VoiceMatch,
    VoiceMatchOption,
    VoiceOption,
    open_store,
    runtime_options,
)
from dubber.cli.output import console, stage_progress
from dubber.dub.job import STAGES, DubOptions, DubReport, OutputPaths
from dubber.engines.load import EngineChoice
from dubber.errors import StoppedError, UsageError
from dubber.media.mix import Background, MixRules
from dubber.settings import RuntimeOptions
from dubber.store.store import Store


def summary_table(reports: list[DubReport]) -> Table:
    """Per file: audio length, seconds and real-time factor per stage, and how lines were fitted."""
    table = Table(title="dub summary", title_justify="left")
    for heading in ("file", "audio", *STAGES, "RTF", "lines", "sped up", "stretched", "not fit"):
        table.add_column(heading, justify="left" if heading == "file" else "right")
    for report in reports:
        duration = report.document.duration
        times = [report.seconds.get(stage, 0.0) for stage in STAGES]
        table.add_row(
            report.outputs.media.name,
            f"{duration:.1f}s",
            *(f"{t:.1f}s" for t in times),
            f"{report.real_time_factor:.2f}",
            str(len(report.document.utterances)),
            f"{report.count('rate') + report.count('borrowed')}",
            f"{report.count('stretched')} (max {report.max_speedup:.2f}x)",
            str(report.count("overflow")),
        )
    return table


def dub(
    media: Annotated[list[Path], typer.Argument(help="Video or audio files, or folders of them.")],
    to: Annotated[TargetLanguage, typer.Option("--to", help="Language to dub into.")] = (
        TargetLanguage.es
    ),
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Output file (one input) or folder \\[default: beside the input].",
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace existing outputs.")] = False,
    resume: Annotated[
        bool, typer.Option(help="Reuse the stages an interrupted run finished.")
    ] = False,
    transcript: Annotated[
        Path | None,
        typer.Option(help="Re-dub from an edited NAME.dub.json: only changed lines are re-spoken."),
    ] = None,
    from_srt: Annotated[
        Path | None, typer.Option(help="Dub from existing Spanish subtitles (no ASR, no MT).")
    ] = None,
    glossary: Annotated[
        Path | None, typer.Option(help="TSV of terms to keep or force: source<TAB>target.")
    ] = None,
    voice: VoiceOption = None,
    voice_match: VoiceMatchOption = VoiceMatch.pitch,
    background: Annotated[
        Background, typer.Option(help="Original sound under the dub.")
    ] = Background.duck,
    keep_original_audio: Annotated[
        bool, typer.Option(help="Keep the original audio as a second track (English).")
    ] = False,
    max_stretch: Annotated[
        float, typer.Option(min=1.0, max=2.0, help="Cap on pitch-preserving time-stretch.")
    ] = 1.25,
    max_rate: Annotated[
        float, typer.Option(min=1.0, max=2.0, help="Cap on the voice's own speed-up.")
    ] = 1.2,
    asr_model: AsrModelOption = None,
    engine: TranslatorOption = TranslatorEngine.auto,
    mt_model: MtModelOption = None,
    nbest: Annotated[
        int, typer.Option(min=1, max=16, help="Translation candidates to choose from by length.")
    ] = 4,
    device: DeviceOption = Device.auto,
    compute_type: ComputeTypeOption = None,
    threads: ThreadsOption = None,
    offline: OfflineOption = False,
    server: ServerOption = None,
) -> None:
    """Dub video or audio files into Spanish, in sync, keeping the background sound."""
    from dubber.chain.glossary import Glossary
    from dubber.dub.outputs import collect_inputs, plan_outputs
    from dubber.media.ffmpeg import probe

    if transcript and from_srt:
        raise UsageError("use either --transcript or --from-srt, not both")
    inputs = collect_inputs(media, to.value)
    if (transcript or from_srt) and len(inputs) > 1:
        raise UsageError("--transcript and --from-srt dub one file at a time")
    for path in inputs:
        if not probe(path).has_audio:
            raise UsageError(f"{path} has no audio stream to dub")
    plans = plan_outputs(inputs, output, "en", to.value, force)
    options = DubOptions(
        target_language=to.value,
        nbest=nbest,
        fit=FitRules(max_rate=max_rate, max_stretch=max_stretch),
        mix=MixRules(background=background),
        keep_original_audio=keep_original_audio,
        glossary=Glossary.load(glossary) if glossary else None,
        resume=resume,
        transcript=transcript,
        from_srt=from_srt,
    )
    choice = EngineChoice(
        asr_model=asr_model,
        translator=engine.value,
        mt_model=mt_model,
        voice=voice,
        match_voice_to_pitch=voice_match is VoiceMatch.pitch,
    )
    jobs = list(zip(inputs, plans, strict=True))
    store, runtime = open_store(offline), runtime_options(device, compute_type, threads)
    run_dubs(jobs, options, choice, store, runtime, server)


def run_dubs(
    jobs: list[tuple[Path, OutputPaths]],
    options: DubOptions,
    choice: EngineChoice,
    store: Store,
    runtime: RuntimeOptions,
    server: str | None = None,
) -> list[DubReport]:
    """Load the engines once (or connect to a server), dub every job with progress bars, then
    print the summary."""
    from dubber.dub.job import Dubber
    from dubber.engines.load import PipelineEngines

    with console.status("loading models and calibrating the voice"):
        if server:
            from dubber.serve.client import connect

            engines = connect(server, store.home / "calibration")
        else:
            engines = PipelineEngines.load(
                store, runtime, choice, "en", options.target_language, options.recognises
            )
    dubber = Dubber(engines, options, store.home / "work")
    reports = []
    for media, outputs in jobs:
        try:
            with stage_progress(media.name, STAGES) as progress:
                reports.append(dubber.dub.job(media, outputs, progress))
        except KeyboardInterrupt:
            raise StoppedError(
                f"interrupted while dubbing {media.name}: finished stages are kept;"
                " run the same command with --resume to continue"
            ) from None
        console.print(f"wrote {outputs.media} (+ subtitles and {outputs.document.name})")
    console.print(summary_table(reports))
    for report in reports:
        for u in report.document.utterances:
            if u.fit == "overflow":
                console.print(
                    f"[yellow]not fit[/] {report.outputs.media.name} line {u.index} "
                    f"({u.start:.1f}-{u.end:.1f} s): cut short: {u.translation}"
                )
    return reports


def demo(
    output_dir: Annotated[
        Path, typer.Option("-o", "--output-dir", help="Folder for the sample and its dub.")
    ] = Path("dubber-demo"),
    voice: Annotated[str | None, typer.Option(help="Spanish voice id.")] = None,
    device: DeviceOption = Device.auto,
    compute_type: ComputeTypeOption = None,
    threads: ThreadsOption = None,
) -> None:
    """Make a short sample news video offline (English voice, music bed) and dub it."""
    from dubber.engines.choose import load_synthesizer
    from dubber.media.sample import build_demo_video, narrate

    sample = output_dir / "news.mp4"
    store = open_store(offline=True)
    runtime = runtime_options(device, compute_type, threads)
    if not sample.exists():
        with console.status("making the sample video"):
            english, _ = load_synthesizer(store, None, "en", runtime)
            build_demo_video(sample, narrate(english), english.sample_rate)
        console.print(f"made {sample}")
    outputs = OutputPaths.beside(output_dir / "news.es.mp4", "en", "es")
    run_dubs([(sample, outputs)], DubOptions(), EngineChoice(voice=voice), store, runtime)
