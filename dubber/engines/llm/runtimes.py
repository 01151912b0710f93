"""Which runtime runs the LLM on a device, and loading it: OpenVINO GenAI on the CPU (measured
about 8x CTranslate2's throughput there, batched), CTranslate2 on CUDA."""

from __future__ import annotations

from pathlib import Path

from dubber.engines.llm.decoding import Decoder
from dubber.settings import RuntimeOptions
from dubber.store.openvino_ir import openvino_available

RUNTIMES = ("openvino", "ctranslate2")


def runtime_for(device: str) -> str:
    """The LLM runtime for `device`: OpenVINO on the CPU when its package is installed."""
    if device == "cpu" and openvino_available():
        return "openvino"
    return "ctranslate2"


def load_decoder(
    model_dir: Path, runtime_name: str, runtime: RuntimeOptions, *, batch: int | None = None
) -> Decoder:
    """The model folder prepared for `runtime_name`, loaded; `batch` sequences decoded at once
    (default: the runtime's best measured)."""
    if runtime_name == "openvino":
        from dubber.engines.llm.openvino import OpenVINODecoder

        return OpenVINODecoder(model_dir, runtime, max_sequences=batch or 32)
    from dubber.engines.llm.ctranslate2 import CTranslate2Decoder

    return CTranslate2Decoder(model_dir, runtime, batch_size=batch or 8)
