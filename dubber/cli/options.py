"""Command-line options shared by several commands."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import typer

from dubber.chain.options import MATCH_VOICE_TO_PITCH, Option
from dubber.settings import RuntimeOptions, is_offline
from dubber.store.store import Store


class Device(str, Enum):
    """Where models run."""

    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class ComputeType(str, Enum):
    """CTranslate2 numeric types (float16 and int8_float16 need CUDA)."""

    int8 = "int8"
    int8_float32 = "int8_float32"
    int8_float16 = "int8_float16"
    float16 = "float16"
    float32 = "float32"


class SourceLanguage(str, Enum):
    """Languages dubber translates speech from."""

    en = "en"


class TargetLanguage(str, Enum):
    """Languages dubber speaks."""

    es = "es"


class TranslatorEngine(str, Enum):
    """Translation engines: neural OPUS-MT, an LLM, rule-based Apertium, or the best installed."""

    auto = "auto"
    opusmt = "opusmt"
    llm = "llm"
    apertium = "apertium"


class VoiceMatch(str, Enum):
    """Whether to pick a male or female voice by each speaker's pitch."""

    pitch = "pitch"
    off = "off"


AsrModelOption = Annotated[
    str | None, typer.Option(help="Whisper model id, or a faster-whisper name such as tiny.en.")
]
FromOption = Annotated[SourceLanguage, typer.Option("--from", help="Language that is spoken.")]
ToOption = Annotated[TargetLanguage, typer.Option("--to", help="Language to translate into.")]
TranslatorOption = Annotated[TranslatorEngine, typer.Option(help="Translation engine.")]
MtModelOption = Annotated[
    str | None, typer.Option(help="Translation model id (OPUS-MT or LLM, see dubber models).")
]
VoiceOption = Annotated[
    str | None, typer.Option(help="Voice id: MODEL\\[:STYLE] or espeak\\[:VOICE].")
]
VoiceMatchOption = Annotated[VoiceMatch, typer.Option(help=MATCH_VOICE_TO_PITCH.help)]
ServerOption = Annotated[
    str | None,
    typer.Option(
        help="Run the models on a dubber server (dubber serve), e.g. http://host:8000, or on"
        " several, comma-separated: requests are spread over those that answer."
    ),
]
DeviceOption = Annotated[Device, typer.Option(help="Run models on the CPU or a CUDA GPU.")]
ComputeTypeOption = Annotated[
    ComputeType | None,
    typer.Option(help="Numeric type \\[default: int8 on CPU, float16 on CUDA]."),
]
ThreadsOption = Annotated[
    int | None, typer.Option(min=1, help="CPU threads per model \\[default: all cores].")
]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace existing outputs.")]
OfflineOption = Annotated[
    bool, typer.Option("--offline", help="Never use the network (also DUBBER_OFFLINE=1).")
]


def option(declared: Option, *names: str) -> Any:
    """A Typer option built from the chain's declaration of it (help, bounds)."""
    return typer.Option(*names, min=declared.low, max=declared.high, help=declared.help)


def runtime_options(
    device: Device, compute_type: ComputeType | None, threads: int | None
) -> RuntimeOptions:
    """The runtime the options ask for, with what they leave open chosen for this machine."""
    return RuntimeOptions.choose(
        device.value, compute_type.value if compute_type else None, threads
    )


def open_store(offline: bool) -> Store:
    """The model store, offline when the flag or the environment says so; a model fetched or
    prepared on its first use shows its progress."""
    from dubber.cli.output import DownloadBars

    return Store(offline=is_offline(offline), progress=DownloadBars())
