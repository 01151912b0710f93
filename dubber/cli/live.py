"""`dubber live`: English speech in (microphone, file or stdin), Spanish speech and captions out."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from dubber.chain.line import Line
from dubber.chain.options import MAX_RATE, MAX_STRETCH
from dubber.cli.options import (
    AsrModelOption,
    ComputeTypeOption,
    Device,
    DeviceOption,
    ForceOption,
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
from dubber.cli.output import console
from dubber.errors import UsageError
from dubber.live.config import LiveConfig
from dubber.live.session import Captions
from dubber.live.stats import stats_json
from dubber.media.decode import AUDIO_RATE


class TerminalCaptions(Captions):
    """English partial (dim) and final lines, Spanish finals: live on a terminal, else printed."""

    def __init__(self) -> None:
        self._lines: list[Text] = []
        self._partial = ""
        self._live = Live(console=console, auto_refresh=False, transient=True)

    def __enter__(self) -> TerminalCaptions:
        if console.is_terminal:
            self._live.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._live.stop()

    def partial(self, text: str) -> None:
        self._partial = text
        self._refresh()

    def source(self, line: Line) -> None:
        self._show(Text.assemble(("EN ", "bold cyan"), line.source))

    def translation(self, line: Line) -> None:
        self._show(Text.assemble(("ES ", "bold green"), line.translation))

    def _show(self, line: Text) -> None:
        if not console.is_terminal:
            console.print(line, soft_wrap=True)
            return
        self._live.console.print(line, soft_wrap=True)
        self._refresh()

    def _refresh(self) -> None:
        if console.is_terminal:
            self._live.update(Text(f"… {self._partial}", style="dim"), refresh=True)


LIVE_MAX_RATE = MAX_RATE.with_default(
    LiveConfig.max_rate, "Cap on the voice's speed-up to catch up."
)
LIVE_MAX_STRETCH = MAX_STRETCH.with_default(
    LiveConfig.max_stretch, "Cap on time-stretch on top of it."
)


def live(
    input_: Annotated[
        str | None,
        typer.Option(
            "--input",
            "-i",
            help="Audio file played at real-time pace, or '-' for raw s16le mono PCM on stdin"
            " (default: the microphone).",
        ),
    ] = None,
    to: ToOption = TargetLanguage.es,
    source: FromOption = SourceLanguage.en,
    rate: Annotated[
        int, typer.Option(min=8000, max=192000, help="Sample rate of PCM on stdin (Hz).")
    ] = AUDIO_RATE,
    speed: Annotated[
        float, typer.Option(min=0.25, max=32.0, help="Play --input FILE this many times faster.")
    ] = 1.0,
    mic: Annotated[
        str | None,
        typer.Option("--mic", help="Microphone: a device number or part of its name."),
    ] = None,
    output_device: Annotated[
        str | None, typer.Option(help="Speakers: a device number or part of its name.")
    ] = None,
    list_devices: Annotated[
        bool, typer.Option("--list-devices", help="List audio devices and exit.")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="WAV of the Spanish speech, placed when it was produced."
        ),
    ] = None,
    speakers: Annotated[
        bool | None,
        typer.Option(help="Play the Spanish speech (default: on unless --output is given)."),
    ] = None,
    diarize: Annotated[
        bool,
        typer.Option(
            help="Tell speakers apart: each keeps a voice of their own (the speaker encoder"
            " costs 25-130 ms a line)."
        ),
    ] = False,
    srt: Annotated[
        Path | None,
        typer.Option(help="Subtitles as they go: NAME.srt gives NAME.en.srt and NAME.es.srt."),
    ] = None,
    stats: Annotated[
        Path | None, typer.Option(help="Write per-utterance latencies as JSON here.")
    ] = None,
    json_: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the latencies as JSON on standard output (no table) at the end."
        ),
    ] = False,
    pause_ms: Annotated[
        int, typer.Option(min=100, max=3000, help="Silence that ends an utterance (ms).")
    ] = LiveConfig.pause_ms,
    max_utterance: Annotated[
        float, typer.Option(min=2.0, max=30.0, help="Cut longer speech at a pause (s).")
    ] = LiveConfig.max_utterance_s,
    max_lag: Annotated[
        float,
        typer.Option(min=1.0, help="Do not speak a line still later than this after it (s)."),
    ] = LiveConfig.max_lag_s,
    max_rate: Annotated[float, option(LIVE_MAX_RATE)] = LIVE_MAX_RATE.default,
    max_stretch: Annotated[float, option(LIVE_MAX_STRETCH)] = LIVE_MAX_STRETCH.default,
    duplex: Annotated[
        bool,
        typer.Option(
            help="Translate what the microphone hears while the speakers play (headphones);"
            " by default that is muted so dubber does not translate itself."
        ),
    ] = False,
    asr_model: AsrModelOption = None,
    engine: TranslatorOption = TranslatorEngine.auto,
    mt_model: MtModelOption = None,
    voice: VoiceOption = None,
    voice_match: VoiceMatchOption = VoiceMatch.pitch,
    voice_threads: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="CPU threads of the voice \\[default: --threads]; fewer leave "
            "more to recognition on a small machine.",
        ),
    ] = None,  # fmt: skip
    glossary: Annotated[
        Path | None, typer.Option(help="TSV of terms to keep or force: source<TAB>target.")
    ] = None,
    force: ForceOption = False,
    device: DeviceOption = Device.auto,
    compute_type: ComputeTypeOption = None,
    threads: ThreadsOption = None,
    offline: OfflineOption = False,
    server: ServerOption = None,
) -> None:
    """Translate English speech into Spanish speech and captions as it is spoken."""
    from dubber.chain.glossary import Glossary
    from dubber.engines.bundle import EngineChoice
    from dubber.engines.choose import Purpose
    from dubber.engines.load import load_engines
    from dubber.live.devices import list_devices as device_list
    from dubber.live.run import LiveOutputs, open_source, run_live

    if list_devices:
        print(device_list())
        return
    outputs = LiveOutputs(
        speakers=speakers if speakers is not None else output is None,
        output_device=_device_id(output_device),
        wav=output,
        srt=srt,
        stats=stats,
    )
    if speed != 1.0 and input_ in (None, "-"):
        raise UsageError("--speed plays a file faster: it needs --input FILE")
    inputs = [Path(input_)] if input_ not in (None, "-") else []
    outputs.plan(inputs, force, (source.value, to.value)).check()
    audio_source = open_source(input_, rate, _device_id(mic))
    choice = EngineChoice(
        asr_model=asr_model,
        translator=engine.value,
        mt_model=mt_model,
        voice=voice,
        match_voice_to_pitch=voice_match is VoiceMatch.pitch,
        source_language=source.value,
        target_language=to.value,
        purpose=Purpose.live,
        voice_threads=voice_threads,
        diarize=diarize,
    )
    engines = load_engines(
        open_store(offline), runtime_options(device, compute_type, threads), choice, server=server
    )
    config = LiveConfig(
        pause_ms=pause_ms, max_utterance_s=max_utterance, max_lag_s=max_lag, max_rate=max_rate,
        max_stretch=max_stretch, duplex=duplex,
    )  # fmt: skip
    terms = Glossary.load(glossary) if glossary else None
    with TerminalCaptions() as captions:
        session = run_live(
            engines, audio_source, config, outputs, speed=speed, captions=captions, glossary=terms,
            on_listening=lambda what: console.print(
                f"listening to {what} (Ctrl-C stops)", highlight=False
            ),
        )  # fmt: skip
    if json_:
        sys.stdout.write(stats_json(session.lines, session.report()))
    else:
        console.print(latency_table(session.lines))


def latency_table(lines: list[Line]) -> Table:
    """Per line and p50/p95/max: end of speech to first audio, start of speech to first caption."""
    from dubber.live.stats import end_to_audio, start_to_caption, summarise

    table = Table(title="live latency (seconds on the input's clock)", title_justify="left")
    for heading in ("#", "speech", "end->audio", "start->caption", "English", "Spanish"):
        table.add_column(heading, justify="left" if heading in ("English", "Spanish") else "right")
    for line in lines:
        audio = "dropped" if line.dropped else _seconds(end_to_audio(line))
        table.add_row(
            str(line.index),
            f"{line.start:.1f}-{line.end:.1f}",
            audio,
            _seconds(start_to_caption(line)),
            escape(_clip(line.source)),
            escape(_clip(line.translation)),
        )
    summary = summarise(lines)
    for name in ("p50", "p95", "max"):
        table.add_row(
            name,
            "",
            _seconds(summary["latency_end_to_audio_s"][name]),
            _seconds(summary["latency_start_to_caption_s"][name]),
            "",
            "",
            style="bold",
        )
    return table


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _clip(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _device_id(device: str | None) -> str | int | None:
    """A PortAudio device index when the option is a number, else the name fragment."""
    return int(device) if device is not None and device.isdigit() else device
