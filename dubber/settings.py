"""Where dubber keeps its files, whether it may use the network, and which device it runs on."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TRUE = {"1", "true", "yes", "on"}


def env_flag(name: str) -> bool:
    """True when the environment variable `name` is set to a true-ish value."""
    return os.environ.get(name, "").strip().lower() in _TRUE


def dubber_home() -> Path:
    """The data folder: $DUBBER_HOME, else $XDG_CACHE_HOME/dubber, else ~/.cache/dubber."""
    if home := os.environ.get("DUBBER_HOME"):
        return Path(home).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "dubber"


def is_offline(flag: bool = False) -> bool:
    """No network at all: the --offline flag, DUBBER_OFFLINE=1 or HF_HUB_OFFLINE=1."""
    return flag or env_flag("DUBBER_OFFLINE") or env_flag("HF_HUB_OFFLINE")


def resolve_device(device: str = "auto") -> str:
    """'cpu' or 'cuda'; 'auto' picks CUDA when CTranslate2 sees a GPU."""
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def default_compute_type(device: str) -> str:
    """int8 on CPU, float16 on CUDA: the fastest type that keeps accuracy."""
    return "float16" if device == "cuda" else "int8"


def default_threads() -> int:
    """CPU threads for inference: $DUBBER_THREADS, else every core."""
    return int(os.environ.get("DUBBER_THREADS") or os.cpu_count() or 1)


@dataclass(frozen=True)
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
        return cls(
            device=resolved,
            compute_type=compute_type or default_compute_type(resolved),
            threads=threads or default_threads(),
        )
