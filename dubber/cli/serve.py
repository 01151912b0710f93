"""`dubber serve`: the models on Triton Inference Server, for `dub --server` and `live --server`."""

from __future__ import annotations

from typing import Annotated

import typer

from dubber.cli.options import (
    ComputeTypeOption,
    Device,
    DeviceOption,
    OfflineOption,
    ThreadsOption,
    VoiceMatch,
    VoiceMatchOption,
    open_store,
    runtime_options,
)
from dubber.cli.output import console
from dubber.errors import DubberError


def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0 exposes the server to the network).")
    ] = "127.0.0.1",
    http_port: Annotated[int, typer.Option(min=1, max=65535, help="HTTP/REST port.")] = 8000,
    grpc_port: Annotated[int, typer.Option(min=1, max=65535, help="gRPC port.")] = 8001,
    metrics_port: Annotated[
        int, typer.Option(min=1, max=65535, help="Prometheus metrics port (/metrics).")
    ] = 8002,
    asr: Annotated[
        str | None, typer.Option(help="Whisper model id \\[default: best installed].")
    ] = None,
    mt: Annotated[
        str | None,
        typer.Option(
            help="Translation model id (OPUS-MT or LLM), 'llm' or 'apertium'"
            " \\[default: best installed]."
        ),
    ] = None,
    tts: Annotated[
        str | None, typer.Option(help="Voice id: MODEL\\[:STYLE] or espeak\\[:VOICE].")
    ] = None,
    voice_match: VoiceMatchOption = VoiceMatch.pitch,
    instances: Annotated[
        int, typer.Option(min=1, max=16, help="Instances of each model (parallel requests).")
    ] = 1,
    device: DeviceOption = Device.auto,
    compute_type: ComputeTypeOption = None,
    threads: ThreadsOption = None,
    offline: OfflineOption = False,
) -> None:
    """Serve speech recognition, translation and speech on Triton Inference Server.

    Models: asr, mt, tts, s2st (and info). Needs the 'serve' extra:
    pip install 'dubber[serve]' in a Python whose libpython is shared (e.g. Debian's python3.11).
    """
    try:
        import pytriton  # noqa: F401
    except ImportError:
        raise DubberError(
            "dubber serve needs PyTriton: pip install 'dubber[serve]'"
            " (in a virtual environment made with the system's python3)"
        ) from None
    from dubber.engines.bundle import EngineChoice
    from dubber.engines.load import load_engines
    from dubber.serve.server import ServeOptions, check_ports_free
    from dubber.serve.server import serve as run_server

    options = ServeOptions(
        host=host,
        http_port=http_port,
        grpc_port=grpc_port,
        metrics_port=metrics_port,
        instances=instances,
    )
    check_ports_free(options)

    choice = EngineChoice(
        asr_model=asr,
        translator=mt if mt in ("apertium", "llm") else "auto",
        mt_model=None if mt in (None, "apertium", "llm") else mt,
        voice=tts,
        match_voice_to_pitch=voice_match is VoiceMatch.pitch,
    )
    runtime = runtime_options(device, compute_type, threads)
    store = open_store(offline)
    engines = load_engines(store, runtime, choice)
    console.print(
        f"serving asr={engines.asr_model} mt={engines.mt_model}"
        f" tts={engines.voices.describe()} x{instances}"
    )

    def ready() -> None:
        console.print(
            f"ready: http://{host}:{http_port} grpc://{host}:{grpc_port}"
            f" metrics http://{host}:{metrics_port}/metrics (Ctrl-C to stop)"
        )

    run_server(engines, store, options, on_ready=ready)
