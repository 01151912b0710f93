"""`dubber live`: English speech in (microphone, file or stdin), Spanish speech and captions out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.live import Live
from rich.text import Text

from dubber.cli.options import (
    AsrModelOption,
    ComputeTypeOption,
    Device,
    MtModelOption,
    OfflineOption,
    ServerOption,
    ThreadsOption,
    TranslatorEngine,
    TranslatorOption,
    VoiceMatch,
    VoiceMatchOption,
    VoiceOption,
    open_store,
    runtime_options,
)
from dubber.cli.output import console
from dubber.errors import UsageError
from dubber.live.session import Captions, LiveConfig
from dubber.live.stats import LiveRecord


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

    def source(self, record: LiveRecord) -> None:
        self._show(Text.assemble(("EN ", "bold cyan"), record.source))

    def translation(self, record: LiveRecord) -> None:
        self._show(Text.assemble(("ES ", "bold green"), record.translation))

    def _show(self, line: Text) -> None:
        if not console.is_terminal:
            console.print(line, soft_wrap=True)
            return
        self._live.console.print(line, soft_wrap=True)
        self._refresh()

    def _refresh(self) -> None:
        if console.is_terminal:
            self._live.update(Text(f"… {self._partial}", style="dim"), refresh=True)


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
    rate: Annotated[
        int, typer.Option(min=8000, max=192000, help="Sample rate of PCM on stdin (Hz).")
    ] = 16000,
    speed: Annotated[
        float, typer.Option(min=0.25, max=32.0, help="Play --input FILE this many times faster.")
    ] = 1.0,
    device: Annotated[
        str | None,
        typer.Option("--device", help="Microphone: a device number or part of its name."),
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
    srt: Annotated[
        Path | None,
        typer.Option(help="Subtitles as they go: NAME.srt gives NAME.en.srt and NAME.es.srt."),
    ] = None,
    stats: Annotated[
        Path | None, typer.Option(help="Write per-utterance latencies as JSON here.")
    ] = None,
    pause_ms: Annotated[
        int, typer.Option(min=100, max=3000, help="Silence that ends an utterance (ms).")
    ] = LiveConfig.pause_ms,
    max_utterance: Annotated[
        float, typer.Option(min=2.0, max=30.0, help="Cut longer speech at a pause (s).")
    ] = LiveConfig.max_utterance_s,
    max_lag: Annotated[
        float, typer.Option(min=1.0, help="Do not speak a line later than this after it (s).")
    ] = LiveConfig.max_lag_s,
    asr_model: AsrModelOption = None,
    engine: TranslatorOption = TranslatorEngine.auto,
    mt_model: MtModelOption = None,
    voice: VoiceOption = None,
    voice_match: VoiceMatchOption = VoiceMatch.pitch,
    model_device: Annotated[
        Device, typer.Option(help="Run models on the CPU or a CUDA GPU.")
    ] = Device.auto,
    compute_type: ComputeTypeOption = None,
    threads: ThreadsOption = None,
    offline: OfflineOption = False,
    server: ServerOption = None,
) -> None:
    """Translate English speech into Spanish speech and captions as it is spoken."""
    from dubber.engines.load import EngineChoice, PipelineEngines
    from dubber.live.session import LiveSession
    from dubber.live.sources import (
        FileSource,
        MicrophoneSource,
        PlacedTrack,
        SpeakerSink,
        StdinSource,
    )
    from dubber.live.sources import (
        list_devices as device_list,
    )
    from dubber.live.stats import latency_table, write_stats

    if list_devices:
        print(device_list())
        return
    if speed != 1.0 and (input_ is None or input_ == "-"):
        raise UsageError("--speed only applies to --input FILE")
    if input_ not in (None, "-"):
        source_path = Path(input_)
        for target in (output, stats, srt):
            if target is not None and target.resolve() == source_path.resolve():
                raise UsageError(f"refusing to overwrite the input {source_path}")
        source = FileSource(source_path)
    elif input_ == "-":
        source = StdinSource(rate=rate)
    else:
        source = MicrophoneSource(_device_id(device))
    play = speakers if speakers is not None else output is None
    store = open_store(offline)
    if server:
        from dubber.serve.client import connect

        engines = connect(server, store.home / "calibration")
    else:
        engines = PipelineEngines.load(
            store,
            runtime_options(model_device, compute_type, threads),
            EngineChoice(asr_model, engine.value, mt_model, voice, voice_match is VoiceMatch.pitch),
        )
    rate_out = engines.voices.sample_rate
    sink = SpeakerSink(_device_id(output_device), rate_out) if play else None
    track = PlacedTrack(rate_out) if output is not None else None
    config = LiveConfig(pause_ms=pause_ms, max_utterance_s=max_utterance, max_lag_s=max_lag)
    with TerminalCaptions() as captions:
        session = LiveSession(
            engines, config, speakers=sink, track=track, srt_base=srt, captions=captions
        )
        session.warm_up()
        console.print(f"listening to {source.description} (Ctrl-C stops)", highlight=False)
        try:
            records = session.run(source, speed)
        finally:
            if sink is not None:
                sink.close()
            if track is not None and output is not None:
                track.write(output, session.input_seconds)
            if stats is not None:
                write_stats(stats, session.records)
    console.print(latency_table(records))


def _device_id(device: str | None) -> str | int | None:
    """A PortAudio device index when the option is a number, else the name fragment."""
    return int(device) if device is not None and device.isdigit() else device
