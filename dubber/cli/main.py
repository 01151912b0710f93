"""The `dubber` command line: parses arguments, calls one function per command, prints."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.logging import RichHandler

from dubber import __version__
from dubber.cli import bench as cli_bench
from dubber.cli import dub as cli_dub
from dubber.cli import eval as cli_eval
from dubber.cli import live as cli_live
from dubber.cli import serve as cli_serve
from dubber.cli.models import app as models_app
from dubber.cli.options import (
    ComputeTypeOption,
    Device,
    DeviceOption,
    OfflineOption,
    TargetLanguage,
    ThreadsOption,
    TranslatorEngine,
    open_store,
    runtime_options,
)
from dubber.cli.output import console, stage_progress
from dubber.errors import DubberError, StoppedError, UsageError

app = typer.Typer(
    name="dubber",
    help="Dub English speech into Spanish: video and audio files, or live from a microphone.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
app.command()(cli_dub.dub)
app.command()(cli_dub.demo)
app.command()(cli_live.live)
app.command()(cli_serve.serve)
app.add_typer(cli_eval.app, name="eval")
app.command()(cli_bench.bench)
app.add_typer(models_app, name="models", help="List, pull, import, verify and remove models.")


def _version(value: bool) -> None:
    if value:
        print(f"dubber {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: Annotated[
        int,
        typer.Option(
            "-v", "--verbose", count=True, help="Say more: -v which engines and why, -vv debug."
        ),
    ] = 0,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Only show errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Dub English speech into Spanish."""
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    if quiet:
        level = logging.ERROR
    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False, show_time=False)],
        force=True,
    )


def _write_or_print(text: str, output: Path | None) -> None:
    from dubber.fsutil import atomic_write_text

    if output is None:
        sys.stdout.write(text)
    else:
        atomic_write_text(output, text)
        console.print(f"wrote {output}")


@app.command()
def transcribe(
    media: Annotated[Path, typer.Argument(help="Audio or video file (anything ffmpeg reads).")],
    model: Annotated[
        str | None, typer.Option(help="Whisper model id \\[default: best installed].")
    ] = None,
    srt: Annotated[bool, typer.Option("--srt", help="Write SubRip subtitles.")] = False,
    vtt: Annotated[bool, typer.Option("--vtt", help="Write WebVTT subtitles.")] = False,
    json_: Annotated[
        bool, typer.Option("--json", help="Write JSON with segments and word timings.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here instead of stdout.")
    ] = None,
    language: Annotated[
        str | None, typer.Option(help="Spoken language \\[default: detect, or en].")
    ] = None,
    device: DeviceOption = Device.auto,
    compute_type: ComputeTypeOption = None,
    threads: ThreadsOption = None,
    offline: OfflineOption = False,
) -> None:
    """Transcribe speech in an audio or video file to text, SRT, WebVTT or JSON."""
    from dubber.chain.transcribe import TranscriptFormat, render_transcript, transcribe_file
    from dubber.engines.choose import load_recognizer
    from dubber.media.ffmpeg import probe

    chosen = [f for f, on in (("srt", srt), ("vtt", vtt), ("json", json_)) if on]
    if len(chosen) > 1:
        raise UsageError("choose one of --srt, --vtt, --json")
    fmt = TranscriptFormat(chosen[0] if chosen else "text")
    if not probe(media).has_audio:
        raise UsageError(f"{media} has no audio stream")
    if output is not None and output.resolve() == media.resolve():
        raise UsageError(f"refusing to overwrite the input {media}")
    recognizer = load_recognizer(
        open_store(offline), model, runtime_options(device, compute_type, threads)
    )
    with stage_progress(media.name, ["recognise"]) as report:
        segments, info = transcribe_file(
            media,
            recognizer,
            on_progress=lambda done, total: report("recognise", done, total),
            language=language,
        )
    _write_or_print(render_transcript(segments, info, fmt), output)


@app.command()
def translate(
    text: Annotated[str, typer.Argument(help="Text, '-' for standard input, or a text file.")],
    to: Annotated[TargetLanguage, typer.Option("--to", help="Target language.")],
    source: Annotated[str, typer.Option("--from", help="Source language.")] = "en",
    engine: Annotated[TranslatorEngine, typer.Option(help="Translation engine.")] = (
        TranslatorEngine.auto
    ),
    model: Annotated[str | None, typer.Option(help="OPUS-MT model id.")] = None,
    nbest: Annotated[int, typer.Option(min=1, max=16, help="Hypotheses per line (JSON).")] = 1,
    json_: Annotated[
        bool, typer.Option("--json", help="One JSON object per line, with n-best and scores.")
    ] = False,
    device: DeviceOption = Device.auto,
    compute_type: ComputeTypeOption = None,
    threads: ThreadsOption = None,
    offline: OfflineOption = False,
) -> None:
    """Translate text, one output line per input line."""
    import json

    from dubber.chain.transcribe import read_text_argument, translate_lines
    from dubber.engines.choose import load_translator

    lines = read_text_argument(text, sys.stdin)
    translator = load_translator(
        open_store(offline),
        engine.value,
        source,
        to.value,
        runtime_options(device, compute_type, threads),
        model_id=model,
    )
    for result in translate_lines(lines, translator, num_hypotheses=nbest):
        if json_:
            record = {
                "source": result.source,
                "translation": result.text,
                "hypotheses": [{"text": h.text, "score": h.score} for h in result.hypotheses],
            }
            print(json.dumps(record, ensure_ascii=False))
        else:
            print(result.text)


@app.command()
def speak(
    text: Annotated[str, typer.Argument(help="Text to speak, or '-' for standard input.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="WAV file to write.")],
    voice: Annotated[
        str | None,
        typer.Option(
            help="Voice id: MODEL\\[:STYLE] or espeak\\[:VOICE] \\[default: best installed]."
        ),
    ] = None,
    rate: Annotated[
        float, typer.Option(min=0.5, max=2.0, help="Speaking rate (1.3 = 30 % faster).")
    ] = 1.0,
    language: Annotated[
        TargetLanguage, typer.Option("--lang", help="Language of the text.")
    ] = TargetLanguage.es,
    device: DeviceOption = Device.auto,
    compute_type: ComputeTypeOption = None,
    threads: ThreadsOption = None,
    offline: OfflineOption = False,
) -> None:
    """Speak text into a WAV file."""
    from dubber.chain.transcribe import speak_to_file
    from dubber.engines.choose import load_synthesizer

    if text == "-":
        text = sys.stdin.read()
    if not text.strip():
        raise UsageError("nothing to speak: the text is empty")
    synthesizer, _ = load_synthesizer(
        open_store(offline), voice, language.value, runtime_options(device, compute_type, threads)
    )
    speech = speak_to_file(text, synthesizer, output, rate=rate)
    console.print(f"wrote {output} ({speech.duration:.1f} s, {synthesizer.name})")


def main() -> None:
    """Entry point: run the app; a DubberError becomes one line on stderr and an exit code."""
    try:
        app()
    except DubberError as error:
        console.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        console.print("[bold red]error:[/] interrupted")
        sys.exit(StoppedError.exit_code)
