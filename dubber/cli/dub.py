"""`dubber dub` and `dubber demo`: progress while they work, a summary table when done."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from dubber.chain.fit import FitOutcome, FitRules
from dubber.chain.line import Line
from dubber.chain.options import BACKGROUND, DUCK_DB, MAX_RATE, MAX_STRETCH, NBEST
from dubber.cli.options import (
    AsrModelOption,
    ComputeTypeOption,
    Device,
    DeviceOption,
    FromOption,
    MtModelOption,
    OfflineOption,
    ServerOption,
    SourceLanguage,
    TargetLanguage,
    ThreadsOption,
    ToOption,
    TranslatorEngine,
    TranslatorOption,
    VoiceMatch,
    VoiceMatchOption,
    VoiceOption,
    open_store,
    option,
    runtime_options,
)
from dubber.cli.output import console, loading_status, stage_progress
from dubber.cli.studio import PortOption
from dubber.dub.batch import DubRequest
from dubber.dub.job import DubOptions, DubReport, Stage
from dubber.engines.bundle import EngineChoice
from dubber.errors import UsageError
from dubber.media.mix import Background, MixRules
from dubber.settings import RuntimeOptions
from dubber.store.store import Store

WIDE_SUMMARY = 120  # columns the summary needs for a column per figure


def summary_table(reports: Sequence[DubReport], width: int = WIDE_SUMMARY) -> Table:
    """Per file: audio length, seconds and real-time factor per stage, how lines were fitted,
    and how many the dub flagged for an editor; narrower than WIDE_SUMMARY, the figures of a
    file as one wrapped sentence beside its whole name."""
    if width < WIDE_SUMMARY:
        return _narrow_summary(reports)
    table = Table(title="dub summary", title_justify="left")
    headings = ("file", "audio", *(s.value for s in Stage), "RTF", "lines", "sped up", "stretched")
    for heading in (*headings, "not fit", "flagged"):
        table.add_column(heading, justify="left" if heading == "file" else "right")
    for report in reports:
        times = [report.seconds.get(stage, 0.0) for stage in Stage]
        table.add_row(
            escape(report.outputs.media.name),
            f"{report.document.duration:.1f}s",
            *(f"{t:.1f}s" for t in times),
            f"{report.real_time_factor:.2f}",
            str(len(report.document.lines)),
            f"{report.count(FitOutcome.rate) + report.count(FitOutcome.borrowed)}",
            f"{report.count(FitOutcome.stretched)} (max {report.max_speedup:.2f}x)",
            str(report.count(FitOutcome.overflow)),
            str(report.flagged),
        )
    return table


def _narrow_summary(reports: Sequence[DubReport]) -> Table:
    table = Table("file", "dub", title="dub summary", title_justify="left", show_lines=True)
    for report in reports:
        times = ", ".join(f"{s.value} {report.seconds.get(s, 0.0):.1f}s" for s in Stage)
        fitted = report.count(FitOutcome.rate) + report.count(FitOutcome.borrowed)
        text = (
            f"{report.document.duration:.1f}s of audio at RTF {report.real_time_factor:.2f}"
            f" ({times}); {len(report.document.lines)} lines: {fitted} sped up,"
            f" {report.count(FitOutcome.stretched)} stretched (max {report.max_speedup:.2f}x),"
            f" {report.count(FitOutcome.overflow)} not fit, {report.flagged} flagged"
        )
        table.add_row(Text(report.outputs.media.name, overflow="fold"), text)
    return table


def dub(
    media: Annotated[list[Path], typer.Argument(help="Video or audio files, or folders of them.")],
    to: ToOption = TargetLanguage.es,
    source: FromOption = SourceLanguage.en,
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
    document: Annotated[
        Path | None,
        typer.Option(
            "--document",
            "--transcript",
            help="Re-dub from an edited NAME.dub.json: only changed lines are re-spoken.",
        ),
    ] = None,
    from_srt: Annotated[
        Path | None, typer.Option(help="Dub from existing Spanish subtitles (no ASR, no MT).")
    ] = None,
    glossary: Annotated[
        Path | None, typer.Option(help="TSV of terms to keep or force: source<TAB>target.")
    ] = None,
    voice: VoiceOption = None,
    voice_match: VoiceMatchOption = VoiceMatch.pitch,
    speakers: Annotated[
        int,
        typer.Option(
            min=0,
            max=20,
            help="How many speakers (0: found by diarization; 1: one, no diarization). Each"
            " speaker gets a voice of their own.",
        ),
    ] = 0,
    voice_map: Annotated[
        Path | None,
        typer.Option(help='JSON of speaker (label or name) to voice: {"S1": "MODEL:STYLE"}.'),
    ] = None,
    speaker_labels: Annotated[
        bool, typer.Option(help="Subtitles name the speaker where the speaker changes.")
    ] = False,
    background: Annotated[Background, option(BACKGROUND)] = BACKGROUND.default,
    duck_db: Annotated[float, option(DUCK_DB)] = DUCK_DB.default,
    keep_original_audio: Annotated[
        bool, typer.Option(help="Keep the original audio as a second track (English).")
    ] = False,
    max_stretch: Annotated[float, option(MAX_STRETCH)] = MAX_STRETCH.default,
    max_rate: Annotated[float, option(MAX_RATE)] = MAX_RATE.default,
    asr_model: AsrModelOption = None,
    engine: TranslatorOption = TranslatorEngine.auto,
    mt_model: MtModelOption = None,
    nbest: Annotated[int, option(NBEST)] = NBEST.default,
    device: DeviceOption = Device.auto,
    compute_type: ComputeTypeOption = None,
    threads: ThreadsOption = None,
    offline: OfflineOption = False,
    server: ServerOption = None,
    json_: Annotated[
        bool,
        typer.Option("--json", help="Print the summary as JSON on standard output (no table)."),
    ] = False,
) -> None:
    """Dub video or audio files into Spanish, in sync, keeping the background sound."""
    from dubber.chain.cast import read_voice_map
    from dubber.chain.glossary import Glossary
    from dubber.dub.batch import plan_dubs

    if document and from_srt:
        raise UsageError("use either --document or --from-srt, not both")
    options = DubOptions(
        target_language=to.value,
        source_language=source.value,
        nbest=nbest,
        fit=FitRules(max_rate=max_rate, max_stretch=max_stretch),
        mix=MixRules(background=background, duck_db=duck_db),
        keep_original_audio=keep_original_audio,
        glossary=Glossary.load(glossary) if glossary else None,
        resume=resume,
        document=document,
        from_srt=from_srt,
        speakers=speakers or None,
        voice_map=read_voice_map(voice_map) if voice_map else None,
        speaker_labels=speaker_labels,
    )
    # A voice asked for by style, or one voice for all, is kept for every line unless a voice
    # map says otherwise.
    one_voice = voice_match is VoiceMatch.off or (voice is not None and ":" in voice)
    choice = EngineChoice(
        asr_model=asr_model,
        translator=engine.value,
        mt_model=mt_model,
        voice=voice,
        match_voice_to_pitch=voice_match is VoiceMatch.pitch,
        source_language=source.value,
        target_language=to.value,
        diarize=speakers != 1 and (voice_map is not None or not one_voice),
    )
    requests = plan_dubs(media, output, options, force)
    store, runtime = open_store(offline), runtime_options(device, compute_type, threads)
    run_dubs(requests, options, choice, store, runtime, server, as_json=json_)


def run_dubs(
    requests: Sequence[DubRequest],
    options: DubOptions,
    choice: EngineChoice,
    store: Store,
    runtime: RuntimeOptions,
    server: str | None = None,
    as_json: bool = False,
) -> list[DubReport]:
    """Load the engines once, dub every file with progress bars, then print the summary (a
    table, or `as_json` on standard output) and the lines that did not fit."""
    from dubber.dub.batch import dub_files
    from dubber.engines.load import load_engines

    with loading_status(store, "loading models and calibrating the voice"):
        engines = load_engines(
            store, runtime, choice, check_language=options.recognises, server=server
        )
    stages = [stage.value for stage in Stage]
    progress = lambda name: stage_progress(name, stages)  # noqa: E731
    reports = []
    for report in dub_files(requests, options, engines, store.home / "work", progress):
        console.print(
            f"wrote {report.outputs.media} (+ subtitles and {report.outputs.document.name})"
        )
        reports.append(report)
    if as_json:
        print(json.dumps([report.summary() for report in reports], indent=2, ensure_ascii=False))
    else:
        console.print(summary_table(reports, console.width))
    for report in reports:
        for line in report.document.lines:
            print_line_notes(report.outputs.media.name, line)
    return reports


def print_line_notes(name: str, line: Line) -> None:
    """What the editor should check of a line: cut short, or flagged by the dub."""
    where = escape(f"{name} line {line.index} ({line.start:.1f}-{line.end:.1f} s)")
    if line.fit is FitOutcome.overflow:
        console.print(f"[yellow]not fit[/] {where}: cut short: {escape(line.translation or '')}")
    for kind in ("fallback", "untranslated", "unsure"):
        if kind in line.flags:
            console.print(f"[yellow]check[/] {where}: {kind}: {escape(line.flags[kind])}")


def demo(
    output_dir: Annotated[
        Path, typer.Option("-o", "--output-dir", help="Folder for the sample and its dub.")
    ] = Path("dubber-demo"),
    voice: Annotated[str | None, typer.Option(help="Spanish voice id.")] = None,
    studio: Annotated[
        bool,
        typer.Option(
            "--studio", help="Open the sample in the studio (a web page) to dub it there."
        ),
    ] = False,
    port: PortOption = 0,
    device: DeviceOption = Device.auto,
    compute_type: ComputeTypeOption = None,
    threads: ThreadsOption = None,
) -> None:
    """Make a short sample news video offline (English voice, music bed) and dub it, here or in
    the studio."""
    from dubber.dub.batch import plan_dubs
    from dubber.dub.sample import build_demo_video, narrate
    from dubber.engines.load import load_synthesizer
    from dubber.outputs import check_writable_folder

    if output_dir.exists() and not output_dir.is_dir():
        raise UsageError(f"{output_dir} is a file: --output-dir names a folder for the demo")
    check_writable_folder(output_dir)
    sample = output_dir / "news.mp4"
    store = open_store(offline=True)
    runtime = runtime_options(device, compute_type, threads)
    if not sample.exists():
        with console.status("making the sample video"):
            english, _ = load_synthesizer(store, None, "en", runtime)
            build_demo_video(sample, narrate(english), english.sample_rate)
        console.print(f"made {sample}", markup=False, highlight=False)
    if studio:
        from dubber.cli.studio import run_studio

        run_studio(output_dir, "127.0.0.1", port, store, runtime, fragment=f"file={sample.name}")
        return
    options = DubOptions()
    requests = plan_dubs([sample], output_dir / "news.es.mp4", options, force=True)
    run_dubs(requests, options, EngineChoice(voice=voice), store, runtime)
