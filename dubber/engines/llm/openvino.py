"""The LLM on OpenVINO GenAI (the IR saved once from the GGUF): the runtime for the CPU.

OpenVINO's continuous-batching scheduler decodes every prompt of a call together, up to
`max_sequences` at a time, each decode step costing about the same for 1 or 32 sequences; the
static prefix (system turn and worked example) is computed once and reused from the prefix
cache; the KV cache has a fixed size, so a long file does not grow memory.

OpenVINO maps the weights file and, at the first inference, repacks the weights into buffers of
its own; the mapped pages would then stay resident (1.1 GB) though hardly read again. The model
is warmed up at load while those pages are dropped as they are read (`madvise`), so that the
process holds the weights once."""

from __future__ import annotations

import ctypes
import functools
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import openvino as ov
import openvino_genai

from dubber.engines.llm.decoding import Candidate, Request
from dubber.engines.llm.prompts import END
from dubber.errors import DubberError
from dubber.settings import RuntimeOptions
from dubber.store.openvino_ir import IR_FILES

CACHE_BLOCK = 32  # tokens per KV-cache block on the CPU (a multiple of any smaller block size)
# KV-cache blocks per sequence decoded at once: 8 x 32 tokens (about 14 KB a token) hold a line's
# turn and its translation; 256 blocks for dub's 32 sequences is 115 MB, and 640 was 190 MB
# more for no speed (BENCHMARKS.md).
BLOCKS_PER_SEQUENCE = 8


class OpenVINODecoder:
    """An OpenVINO IR folder of a ChatML model, with its tokenizer and detokenizer."""

    runtime = "openvino"

    def __init__(
        self,
        model_dir: Path,
        runtime: RuntimeOptions | None = None,
        *,
        max_sequences: int = 32,
    ) -> None:
        model_dir = Path(model_dir)
        runtime = runtime or RuntimeOptions()
        missing = [name for name in IR_FILES if not (model_dir / name).is_file()]
        if missing:
            raise DubberError(
                f"{model_dir} is not an OpenVINO LLM folder (missing {', '.join(missing)}):"
                " remove it, and dubber saves it again from the model's GGUF on next use"
            )
        scheduler = openvino_genai.SchedulerConfig()
        scheduler.enable_prefix_caching = True
        scheduler.max_num_seqs = max_sequences
        scheduler.cache_size = 0  # sized by blocks instead
        scheduler.num_kv_blocks = BLOCKS_PER_SEQUENCE * max_sequences
        scheduler.dynamic_split_fuse = True
        scheduler.max_num_batched_tokens = 128  # tokens a step: 64-256 gave the same speed
        self._pipeline = openvino_genai.ContinuousBatchingPipeline(
            str(model_dir),
            scheduler,
            "CPU",
            {"INFERENCE_NUM_THREADS": runtime.threads},
        )
        self._tokenizer = self._pipeline.get_tokenizer()
        (self._end,) = self._encode(END)
        self._cached: set[str] = set()
        with _pages_dropped(model_dir / "openvino_model.bin"):  # the repacking happens now
            self._run([[self._end]], [self._config(Request("", "", 1))])

    def generate(self, requests: Sequence[Request]) -> list[list[Candidate]]:
        if not requests:
            return []
        for static in {r.static for r in requests} - self._cached:
            self._cache_prefix(static)
        results = self._run(
            [self._encode(r.static + r.turn) for r in requests], [self._config(r) for r in requests]
        )
        found = []
        for request, result in zip(requests, results, strict=True):
            ranked = sorted(
                zip(result.m_generation_ids, result.m_scores, strict=True),
                key=lambda pair: -pair[1],
            )
            found.append(
                [
                    Candidate(
                        self._tokenizer.decode([i for i in ids if i != self._end]),
                        float(score),
                        len(ids) >= request.limit and (not ids or ids[-1] != self._end),
                    )
                    for ids, score in ranked
                ]
            )
        return found

    def _run(
        self, prompts: list[list[int]], configs: list[openvino_genai.GenerationConfig]
    ) -> list:
        tensors = [ov.Tensor(np.array([ids], dtype=np.int64)) for ids in prompts]
        return self._pipeline.generate(tensors, configs)

    def _cache_prefix(self, static: str) -> None:
        """Compute the whole KV blocks of `static` once, alone, so that the prompts decoded
        together after it find them in the prefix cache (prompts that start together would
        each compute it). Only whole blocks: a cached block the prefix fills in part gave
        other prompts wrong outputs (OpenVINO GenAI 2026.4, measured)."""
        ids = self._encode(static)
        whole = ids[: len(ids) // CACHE_BLOCK * CACHE_BLOCK]
        if whole:
            self._run([whole], [self._config(Request("", "", 1))])
        self._cached.add(static)

    def _config(self, request: Request) -> openvino_genai.GenerationConfig:
        config = openvino_genai.GenerationConfig()
        config.max_new_tokens = request.limit
        config.stop_token_ids = {self._end}
        config.apply_chat_template = False
        if request.beam > 1:
            config.num_beams = request.beam
            config.num_return_sequences = request.beam
        return config

    def _encode(self, text: str) -> list[int]:
        encoded = self._tokenizer.encode(text, add_special_tokens=False)
        return [int(i) for i in encoded.input_ids.data[0]]

    def count_tokens(self, text: str) -> int:
        return len(self._encode(text))


_MADV_DONTNEED = 4  # Linux: drop the pages; a read-only file mapping reloads them from the file


@contextmanager
def _pages_dropped(file: Path, every: float = 0.05) -> Iterator[None]:
    """While the block runs and once after it, drop this process's resident pages of the
    read-only mappings of `file` (Linux; elsewhere nothing is done)."""
    if not sys.platform.startswith("linux"):
        yield
        return
    done = threading.Event()

    def drop_until_done() -> None:
        while not done.wait(every):
            _drop_pages(file)

    dropper = threading.Thread(target=drop_until_done, name="drop-pages", daemon=True)
    dropper.start()
    try:
        yield
    finally:
        done.set()
        dropper.join()
        _drop_pages(file)


@functools.cache
def _madvise() -> ctypes._CFuncPtr:
    madvise = ctypes.CDLL(None, use_errno=True).madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    return madvise


def _drop_pages(file: Path) -> None:
    name = str(file.resolve())
    with open("/proc/self/maps", encoding="utf-8") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            # read-only mappings only (OpenVINO maps the weights shared, read-only): nothing
            # was written to them, so nothing can be lost; a page read again is mapped again
            if len(fields) == 6 and fields[5].rstrip("\n") == name and fields[1][:3] == "r--":
                start, end = (int(x, 16) for x in fields[0].split("-"))
                _madvise()(start, end - start, _MADV_DONTNEED)
