"""The component commands: `transcribe`, `translate` and `speak`, one stage each."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from dubber.cli.options import (
    ComputeTypeOption,
    Device,
    DeviceOption,
    ForceOption,
    MtModelOption,
    OfflineOption,
    TargetLanguage,
    ThreadsOption,
    TranslatorEngine,
    open_store,
    runtime_options,
)
from dubber.cli.output import console, stage_progress, write_or_print
from dubber.errors import UsageError


def transcribe(
    media: Annotated[Path, typer.Argument(help="Audio or video file (anything ffmpeg reads).")],
    model: Annotated[
        str | None,
        typer.Option(help="Whisper model id or faster-whisper name \\[default: best installed]."),
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
    force: ForceOption = False,
    device: DeviceOption = Device.auto,
    compute_type: ComputeTypeOption = None,
    threads: ThreadsOption = None,
    offline: OfflineOption = False,
) -> None:
    """Transcribe speech in an audio or video file to text, SRT, WebVTT or JSON."""
    from dubber.chain.transcribe import (
        TranscriptFormat,
        recognise,
        render_transcript,
        transcript_options,
    )
    from dubber.engines.load import load_recognizer
    from dubber.media.decode import decode_audio
    from dubber.media.probe import probe

    chosen = [f for f, on in (("srt", srt), ("vtt", vtt), ("json", json_)) if on]
    if len(chosen) > 1:
        raise UsageError("choose one of --srt, --vtt, --json")
    fmt = TranscriptFormat(chosen[0] if chosen else "text")
    from dubber.outputs import OutputPlan

    info = probe(media)
    if not info.has_audio:
        raise UsageError(f"{media} has no audio stream")
    if output is not None:
        plan = OutputPlan(inputs=[media], force=force)
        plan.add(output, "transcript")
        plan.check()
    runtime = runtime_options(device, compute_type, threads)
    recognizer = load_recognizer(open_store(offline), model, runtime)
    language = check_language(recognizer, model, language)
    with stage_progress(media.name, ["recognise"]) as report:
        segments, found = recognise(
            recognizer,
            decode_audio(media),
            language=language,
            options=transcript_options(fmt),
            on_progress=lambda done, total: report("recognise", done, total),
        )
        segments = list(segments)
    write_or_print(render_transcript(segments, found, fmt), output)


def translate(
    text: Annotated[str, typer.Argument(help="Text, '-' for standard input, or a text file.")],
    to: Annotated[TargetLanguage, typer.Option("--to", help="Target language.")],
    source: Annotated[str, typer.Option("--from", help="Source language.")] = "en",
    engine: Annotated[TranslatorEngine, typer.Option(help="Translation engine.")] = (
        TranslatorEngine.auto
    ),
    model: MtModelOption = None,
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
    from dubber.engines.load import load_translator
    from dubber.inputs import read_text_argument

    lines = read_text_argument(text, sys.stdin.buffer)
    translator = load_translator(
        open_store(offline),
        engine.value,
        source,
        to.value,
        runtime_options(device, compute_type, threads),
        model_id=model,
    )
    for result in translator.translate(lines, num_hypotheses=nbest):
        if json_:
            record = {
                "source": result.source,
                "translation": result.text,
                "hypotheses": [{"text": h.text, "score": h.score} for h in result.hypotheses],
            }
            print(json.dumps(record, ensure_ascii=False))
        else:
            print(result.text)


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
    force: ForceOption = False,
    device: DeviceOption = Device.auto,
    compute_type: ComputeTypeOption = None,
    threads: ThreadsOption = None,
    offline: OfflineOption = False,
) -> None:
    """Speak text into a WAV file."""
    from dubber.engines.load import load_synthesizer
    from dubber.engines.phonemes import check_request
    from dubber.engines.protocols import synthesize_all
    from dubber.engines.voice import Voice
    from dubber.inputs import read_stdin
    from dubber.media.decode import write_wav
    from dubber.outputs import OutputPlan

    if text == "-":
        text = read_stdin(sys.stdin.buffer, "text")
    check_request(text, rate)
    plan = OutputPlan(force=force)
    plan.add(output, "speech", formats=(".wav",))
    plan.check()
    synthesizer, _ = load_synthesizer(
        open_store(offline),
        Voice.parse(voice) if voice else None,
        language.value,
        runtime_options(device, compute_type, threads),
    )
    speech = synthesize_all(synthesizer, text, rate=rate)
    write_wav(output, speech.samples, speech.sample_rate)
    console.print(
        f"wrote {output} ({speech.duration:.1f} s, {synthesizer.name})",
        markup=False,
        highlight=False,
    )


def check_language(recognizer: object, model: str | None, language: str | None) -> str | None:
    """The language to decode, checked against Whisper's and the model's."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    if language is None:
        return None
    if language not in _LANGUAGE_CODES:
        raise UsageError(f"unknown language '{language}': use a Whisper language code (en, es …)")
    if language != "en" and not getattr(recognizer, "multilingual", True):
        raise UsageError(f"{model or 'this model'} recognises English only: drop --language")
    return language
