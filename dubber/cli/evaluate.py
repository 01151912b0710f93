"""`dubber eval`: quality of each component and of the whole pipeline on your own data."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dubber.cli.options import (
    ComputeTypeOption,
    Device,
    DeviceOption,
    MtModelOption,
    OfflineOption,
    ThreadsOption,
    TranslatorEngine,
    open_store,
    runtime_options,
)
from dubber.cli.output import console
from dubber.errors import DubberError
from dubber.measure.reports import check_report
from dubber.settings import RuntimeOptions
from dubber.store.store import Store

app = typer.Typer(
    help="Score ASR (WER/CER), MT (BLEU/chrF), TTS (round-trip CER), S2ST (ASR-BLEU), dub sync,"
    " diarization (DER).",
    no_args_is_help=True,
)


@dataclass(frozen=True)
class Engines:
    """Where the evaluated models come from and how they run (the `eval` group's options)."""

    store: Store
    runtime: RuntimeOptions


@app.callback()
def _engines(
    ctx: typer.Context,
    device: DeviceOption = Device.auto,
    compute_type: ComputeTypeOption = None,
    threads: ThreadsOption = None,
    offline: OfflineOption = False,
) -> None:
    """Runtime options shared by every model an evaluation loads: `dubber eval --threads 2 asr`."""
    ctx.obj = Engines(open_store(offline), runtime_options(device, compute_type, threads))


JsonOption = Annotated[
    Path | None,
    typer.Option("--json", help="Write the report here (headline numbers at the top level)."),
]
OutDirOption = Annotated[
    Path | None,
    typer.Option(
        "--out-dir",
        help="Folder for the scored texts, a Markdown report and plots \\[default: beside --json].",
    ),
]
TextColumnOption = Annotated[
    str | None, typer.Option(help="Manifest column with the reference text \\[default: guessed].")
]


def _show(
    kind: str,
    report: dict,
    json_path: Path | None,
    out_dir: Path | None,
    inputs: list[Path],
    extra: Callable[[Path], dict[str, str]] | None = None,
) -> None:
    """Print the headline table on stdout and save the report files (never over `inputs`)."""
    from dubber.measure.reports import format_value, save_report, summary

    table = Table(title=f"dubber eval {kind}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in summary(report).items():
        table.add_row(escape(key), escape(format_value(value)))
    Console().print(table)
    for name, signature in report.get("signature", {}).items():
        print(f"{name} signature: {signature}")
    for path in save_report(report, kind, json_path, out_dir, extra, inputs):
        console.print(f"wrote {path}", markup=False, highlight=False)


@app.command()
def asr(
    ctx: typer.Context,
    manifest: Annotated[Path, typer.Argument(help="TSV with columns file and reference.")],
    model: Annotated[str | None, typer.Option(help="Whisper model id \\[default: best].")] = None,
    language: Annotated[str, typer.Option(help="Spoken language.")] = "en",
    text_column: TextColumnOption = None,
    plain: Annotated[
        bool,
        typer.Option(
            "--plain", help="Also score plain faster-whisper (its defaults, same model and beam)."
        ),
    ] = False,
    json_: JsonOption = None,
    out_dir: OutDirOption = None,
) -> None:
    """WER and CER (Whisper's normaliser) of a Whisper model on a manifest of recordings."""
    from dubber.engines.choose import choose_recognizer
    from dubber.engines.load import load_recognizer, resolve_model
    from dubber.engines.types import TranscribeOptions
    from dubber.measure.data import read_manifest
    from dubber.measure.evaluate import evaluate_asr

    check_report("asr", json_, out_dir, [manifest])
    rows = read_manifest(manifest, text_column)
    store, runtime = ctx.obj.store, ctx.obj.runtime
    model = resolve_model(store, model, "asr").id if model else None
    model = model or choose_recognizer(store, language).model_id
    recognizer = load_recognizer(store, model, runtime)
    baseline = None
    if plain:
        beam_size = TranscribeOptions().beam_size
        baseline = functools.partial(
            recognizer.transcribe_plain, language=language, beam_size=beam_size
        )
    with console.status(f"transcribing {len(rows)} files"):
        report = evaluate_asr(rows, recognizer, model, language, baseline)
    _show("asr", report, json_, out_dir, [manifest])


@app.command()
def mt(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="Source text, one sentence a line.")],
    reference: Annotated[Path, typer.Argument(help="Reference translations, line-aligned.")],
    engine: Annotated[TranslatorEngine, typer.Option(help="Translation engine.")] = (
        TranslatorEngine.auto
    ),
    model: MtModelOption = None,
    source_language: Annotated[str, typer.Option("--from", help="Source language.")] = "en",
    target_language: Annotated[str, typer.Option("--to", help="Target language.")] = "es",
    beam_size: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=16,
            help="Beam width \\[default: the engine's own; the LLM decodes greedily, and with"
            " a beam as dub's n-best does].",
        ),
    ] = None,
    json_: JsonOption = None,
    out_dir: OutDirOption = None,
) -> None:
    """BLEU and chrF (sacrebleu) of a translator on line-aligned source and reference files."""
    from dubber.engines.load import load_translator
    from dubber.measure.data import read_lines
    from dubber.measure.evaluate import evaluate_mt

    check_report("mt", json_, out_dir, [source, reference])
    sources, references = read_lines(source, "source"), read_lines(reference, "reference")
    translator = load_translator(
        ctx.obj.store, engine.value, source_language, target_language, ctx.obj.runtime, model
    )
    with console.status(f"translating {len(sources)} lines"):
        report = evaluate_mt(sources, references, translator, beam_size=beam_size)
    _show("mt", report, json_, out_dir, [source, reference])


@app.command()
def tts(
    ctx: typer.Context,
    textfile: Annotated[Path, typer.Argument(help="Text to speak, one sentence a line.")],
    voice: Annotated[str | None, typer.Option(help="Voice id \\[default: best installed].")] = None,
    asr_model: Annotated[
        str, typer.Option(help="Whisper model that listens (must know the language).")
    ] = "whisper-base",
    language: Annotated[str, typer.Option("--lang", help="Language of the text.")] = "es",
    lines: Annotated[int | None, typer.Option(min=1, help="Only the first N lines.")] = None,
    json_: JsonOption = None,
    out_dir: OutDirOption = None,
) -> None:
    """Intelligibility (round-trip CER/WER through Whisper) and speaking rate of a voice."""
    from dubber.engines.load import load_recognizer, load_synthesizer
    from dubber.engines.voice import Voice
    from dubber.measure.data import read_lines
    from dubber.measure.evaluate import evaluate_tts

    check_report("tts", json_, out_dir, [textfile])
    texts = [t for t in read_lines(textfile, "text") if t.strip()][:lines]
    store, runtime = ctx.obj.store, ctx.obj.runtime
    asked = Voice.parse(voice) if voice else None
    synthesizer, voice_id = load_synthesizer(store, asked, language, runtime)
    recognizer = load_recognizer(store, asr_model, runtime)
    with console.status(f"speaking and transcribing {len(texts)} lines"):
        report = evaluate_tts(texts, synthesizer, str(voice_id), recognizer, asr_model, language)
    _show("tts", report, json_, out_dir, [textfile])


@app.command()
def s2st(
    ctx: typer.Context,
    manifest: Annotated[Path, typer.Argument(help="TSV with columns file and reference_es.")],
    asr_model: Annotated[str | None, typer.Option(help="English Whisper model id.")] = None,
    engine: Annotated[TranslatorEngine, typer.Option(help="Translation engine.")] = (
        TranslatorEngine.auto
    ),
    mt_model: MtModelOption = None,
    voice: Annotated[str | None, typer.Option(help="Spanish voice id.")] = None,
    listener: Annotated[
        str, typer.Option(help="Whisper model that transcribes the Spanish speech.")
    ] = "whisper-base",
    text_column: TextColumnOption = None,
    json_: JsonOption = None,
    out_dir: OutDirOption = None,
) -> None:
    """ASR-BLEU: English speech to Spanish speech to Spanish text, scored against references."""
    from dubber.engines.bundle import EngineChoice
    from dubber.engines.load import load_engines, load_recognizer
    from dubber.measure.data import TRANSLATION_COLUMNS, read_manifest
    from dubber.measure.evaluate import evaluate_s2st

    check_report("s2st", json_, out_dir, [manifest])
    rows = read_manifest(manifest, text_column, TRANSLATION_COLUMNS)
    store, runtime = ctx.obj.store, ctx.obj.runtime
    choice = EngineChoice(
        asr_model=asr_model, translator=engine.value, mt_model=mt_model, voice=voice
    )
    engines = load_engines(store, runtime, choice)
    names = {
        "asr": engines.asr_model,
        "mt": engines.mt_model,
        "tts": engines.voices.describe(),
        "listener": listener,
    }
    heard_by = load_recognizer(store, listener, runtime)
    with console.status(f"translating {len(rows)} recordings into speech"):
        report = evaluate_s2st(rows, engines, heard_by, names)
    _show("s2st", report, json_, out_dir, [manifest])


@app.command()
def dub(
    ctx: typer.Context,
    document: Annotated[Path, typer.Argument(help="The dub document (NAME.dub.json).")],
    media: Annotated[
        Path | None,
        typer.Option(help="The dubbed file \\[default: NAME.es.* beside the document]."),
    ] = None,
    listener: Annotated[
        str, typer.Option(help="Whisper model that transcribes the Spanish speech.")
    ] = "whisper-base",
    json_: JsonOption = None,
    out_dir: OutDirOption = None,
) -> None:
    """Intelligibility of a finished dub: its track transcribed, WER against the lines spoken."""
    from dubber.dub.document import DubDocument
    from dubber.engines.load import load_recognizer
    from dubber.measure.evaluate import evaluate_dub
    from dubber.media.decode import decode_audio

    check_report("dub", json_, out_dir, [document])
    loaded = DubDocument.load(document)
    media = media or _dubbed_beside(document, loaded.target_language)
    recognizer = load_recognizer(ctx.obj.store, listener, ctx.obj.runtime)
    with console.status(f"listening to {media.name}"):
        report = evaluate_dub(loaded, decode_audio(media), recognizer, listener)
    _show("dub", report, json_, out_dir, [document, media])


@app.command()
def diarization(
    ctx: typer.Context,
    audio: Annotated[list[Path], typer.Argument(help="Recordings (any audio or video).")],
    rttm: Annotated[
        Path, typer.Option(help="Reference turns (RTTM), by each recording's file stem.")
    ],
    known_speakers: Annotated[
        bool, typer.Option(help="Give diarization each file's number of speakers.")
    ] = False,
    json_: JsonOption = None,
    out_dir: OutDirOption = None,
) -> None:
    """DER and speaker purity (pyannote.metrics, 0.25 s collar either side of a boundary) and how
    often the number of speakers is found, of dub's diarization on recordings with reference
    turns."""
    from dubber.engines.diarizer import ENCODER_MODEL, SpeakerDiarizer
    from dubber.measure.diarization import evaluate, recordings_of, rttm_lines, summary

    check_report("diarization", json_, out_dir, [*audio, rttm])
    diarizer = SpeakerDiarizer(ctx.obj.store.prepare(ENCODER_MODEL))
    recordings = recordings_of(audio, rttm)
    hypotheses: dict = {}
    with console.status(f"telling the speakers of {len(recordings)} recordings apart"):
        scores = evaluate(recordings, diarizer.encoder, None, known_speakers, hypotheses)
    report = {
        **summary(scores),
        "per_file": [dataclasses.asdict(score) for score in scores],
        "_texts": {
            "hyp.rttm": rttm_lines({r.name: hypotheses[r.name] for r in recordings}),
            "ref.rttm": rttm_lines({r.name: r.turns for r in recordings}),
        },
    }
    _show("diarization", report, json_, out_dir, [*audio, rttm])


def _dubbed_beside(document: Path, language: str) -> Path:
    """NAME.dub.json -> the NAME.es.EXT a dub wrote beside it."""
    stem = document.name.removesuffix(".dub.json")
    found = sorted(document.parent.glob(f"{stem}.{language}.*"))
    media = [p for p in found if p.suffix not in (".srt", ".vtt")]
    if not media:
        raise DubberError(f"no dubbed {stem}.{language}.* beside {document}: give --media")
    return media[0]


@app.command()
def sync(
    document: Annotated[Path, typer.Argument(help="A dub document (NAME.dub.json).")],
    json_: JsonOption = None,
    out_dir: OutDirOption = None,
) -> None:
    """Dub timing: offset of each clip from its slot, overlaps, speed-ups, how lines were fitted."""
    from dubber.dub.document import DubDocument
    from dubber.measure.evaluate import evaluate_sync
    from dubber.measure.plots import histogram

    if not document.exists():
        raise DubberError(f"dub document {document} not found: dub a file first ('dubber dub')")
    check_report("sync", json_, out_dir, [document])
    report = evaluate_sync(DubDocument.load(document))
    items = report["items"]

    def plots(folder: Path) -> dict[str, str]:
        speedups = [i["speedup"] for i in items]
        offsets = [i["offset_s"] for i in items]
        return {
            "speedup_plot": str(
                histogram(
                    speedups, folder / "sync-speedup.png", "speed-up per line", "rate x stretch"
                )
            ),
            "offset_plot": str(
                histogram(offsets, folder / "sync-offset.png", "offset from slot", "seconds")
            ),
        }

    _show("sync", report, json_, out_dir, [document], plots)
