"""Where dubber keeps its files, whether it may use the network, and which device it runs on."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dubber.errors import UsageError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}
FLAGS = ("DUBBER_OFFLINE", "HF_HUB_OFFLINE")


def env_flag(name: str) -> bool:
    """True when the environment variable `name` is set to a true-ish value."""
    return os.environ.get(name, "").strip().lower() in _TRUE


def validate_environment() -> None:
    """Refuse, at start-up, environment variables dubber cannot make sense of."""
    for name in FLAGS:
        value = os.environ.get(name, "").strip().lower()
        if value not in _TRUE | _FALSE:
            raise UsageError(f"{name} must be 1 or 0 (true/false, yes/no, on/off), not '{value}'")
    default_threads()
    dubber_home()


def dubber_home() -> Path:
    """The data folder: $DUBBER_HOME, else $XDG_CACHE_HOME/dubber, else ~/.cache/dubber; a
    path that exists but is not a folder is a UsageError."""
    if home := os.environ.get("DUBBER_HOME"):
        folder, where = Path(home).expanduser(), "DUBBER_HOME"
    else:
        cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        folder, where = Path(cache) / "dubber", "dubber's data folder"
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{where} {folder} is a file, not a folder: set DUBBER_HOME to a folder")
    return folder


def is_offline(flag: bool = False) -> bool:
    """No network at all: the --offline flag, DUBBER_OFFLINE=1 or HF_HUB_OFFLINE=1."""
    return flag or env_flag("DUBBER_OFFLINE") or env_flag("HF_HUB_OFFLINE")


def resolve_device(device: str = "auto") -> str:
    """'cpu' or 'cuda'; 'auto' picks CUDA when CTranslate2 sees a GPU; 'cuda' without one is a
    UsageError."""
    if device not in ("auto", "cpu", "cuda"):
        raise UsageError(f"unknown device '{device}': use auto, cpu or cuda")
    if device == "cpu":
        return device
    import ctranslate2

    gpus = ctranslate2.get_cuda_device_count()
    if device == "cuda" and gpus == 0:
        raise UsageError("--device cuda: no CUDA GPU is usable here: use --device cpu (or auto)")
    return "cuda" if gpus > 0 else "cpu"


def default_compute_type(device: str) -> str:
    """int8 on CPU, float16 on CUDA: the fastest type that keeps accuracy."""
    return "float16" if device == "cuda" else "int8"


def default_threads() -> int:
    """CPU threads for inference: $DUBBER_THREADS (a whole number of at least 1), else every
    core."""
    value = os.environ.get("DUBBER_THREADS", "").strip()
    if not value:
        return os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        raise UsageError(f"DUBBER_THREADS must be a whole number of at least 1, not '{value}'")
    return int(value)


CUDA_ONLY_TYPES = ("float16", "int8_float16", "bfloat16", "int8_bfloat16")


@dataclass(frozen=True, kw_only=True)
class RuntimeOptions:
    """How engines run: device, numeric type and CPU threads."""

    device: str = "cpu"
    compute_type: str = "int8"
    threads: int = 1

    @classmethod
    def choose(
        cls, device: str = "auto", compute_type: str | None = None, threads: int | None = None
    ) -> RuntimeOptions:
        """Fill in what the user left open with the best choice for this machine."""
        resolved = resolve_device(device)
        if resolved == "cpu" and compute_type in CUDA_ONLY_TYPES:
            raise UsageError(
                f"--compute-type {compute_type} needs a CUDA GPU: on the CPU use int8, "
                "int8_float32 or float32"
            )
        return cls(
            device=resolved,
            compute_type=compute_type or default_compute_type(resolved),
            threads=threads or default_threads(),
        )
