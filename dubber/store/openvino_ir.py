"""A GGUF chat model saved as OpenVINO IR, the form the CPU runtime loads in seconds.

OpenVINO GenAI reads the GGUF itself (weights kept in their 4- and 8-bit blocks, tokenizer from
its metadata) and, asked to, saves what it read as IR beside the file; that takes 15-20 s once,
where reading the GGUF at every start would take as long each time."""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path

from dubber.errors import DubberError
from dubber.outputs import atomic_dir

log = logging.getLogger(__name__)

IR_FILES = (
    "openvino_model.xml",
    "openvino_model.bin",
    "openvino_tokenizer.xml",
    "openvino_tokenizer.bin",
    "openvino_detokenizer.xml",
    "openvino_detokenizer.bin",
)


def openvino_available() -> bool:
    """Whether OpenVINO GenAI is installed (the llm extra brings it)."""
    return importlib.util.find_spec("openvino_genai") is not None


def save_openvino_ir(gguf: Path, output_dir: Path, threads: int = 2) -> None:
    """Save the GGUF chat model at `gguf` as an OpenVINO IR folder at `output_dir`, atomically."""
    import openvino_genai

    output_dir = Path(output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix=".gguf.", dir=output_dir.parent) as staging,
        atomic_dir(output_dir) as tmp,
    ):
        source = Path(staging) / "model.gguf"  # the IR is saved beside the file GenAI reads
        os.symlink(Path(gguf).resolve(), source)
        log.info("saving %s as OpenVINO IR", gguf.name)
        try:
            openvino_genai.LLMPipeline(
                str(source), "CPU", enable_save_ov_model=True, INFERENCE_NUM_THREADS=threads
            )
        except RuntimeError as error:
            problem = (str(error).strip().splitlines() or ["unknown error"])[0]
            raise DubberError(f"OpenVINO cannot read {gguf.name}: {problem}") from None
        missing = [name for name in IR_FILES if not (Path(staging) / name).is_file()]
        if missing:
            raise DubberError(
                f"OpenVINO did not save {', '.join(missing)} from {gguf.name}: nothing was kept"
            )
        for name in IR_FILES:
            shutil.move(Path(staging) / name, tmp / name)
