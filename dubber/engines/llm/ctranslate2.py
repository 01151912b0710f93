"""The LLM on CTranslate2 (a Generator folder converted from the GGUF): the runtime for CUDA.

The static prefix is forwarded once and its state kept (`static_prompt`). Prompts are decoded
several at a time, sorted by length (CTranslate2 forwards a batch's prompts at once only up to
the shortest)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from dubber.engines.llm.decoding import Candidate, Request
from dubber.engines.llm.prompts import END
from dubber.errors import DubberError
from dubber.settings import RuntimeOptions

FILES = ("config.json", "model.bin", "tokenizer.json", "vocabulary.json")


class CTranslate2Decoder:
    """A CTranslate2 Generator folder of a ChatML model (model.bin, tokenizer.json)."""

    runtime = "ctranslate2"

    def __init__(
        self,
        model_dir: Path,
        runtime: RuntimeOptions | None = None,
        *,
        batch_size: int = 8,
        length_bucket: int = 8,
    ) -> None:
        import ctranslate2
        import tokenizers

        model_dir = Path(model_dir)
        runtime = runtime or RuntimeOptions()
        missing = [name for name in FILES if not (model_dir / name).is_file()]
        if missing:
            raise DubberError(
                f"{model_dir} is not a CTranslate2 LLM folder (missing {', '.join(missing)}):"
                " install it again with 'dubber models import' or reinstall its packs"
            )
        self.batch_size = batch_size  # decoded sequences (texts x beam): bounds memory
        self.length_bucket = length_bucket  # greedy batches hold prompts this close in length
        cpu = runtime.device == "cpu"
        self._generator = ctranslate2.Generator(
            str(model_dir),
            device=runtime.device,
            compute_type=runtime.compute_type,
            intra_threads=runtime.threads if cpu else 0,
        )
        self._tokenizer = tokenizers.Tokenizer.from_file(str(model_dir / "tokenizer.json"))

    def generate(self, requests: Sequence[Request]) -> list[list[Candidate]]:
        results: list[list[Candidate]] = [[] for _ in requests]
        groups = itertools.groupby(
            sorted(range(len(requests)), key=lambda i: (requests[i].static, requests[i].beam)),
            key=lambda i: (requests[i].static, requests[i].beam),
        )
        for (static, beam), members in groups:
            chosen = list(members)
            found = self._generate(static, [requests[i] for i in chosen], beam)
            for i, candidates in zip(chosen, found, strict=True):
                results[i] = candidates
        return results

    def _generate(self, static: str, requests: list[Request], beam: int) -> list[list[Candidate]]:
        inputs = [self._tokens(request.turn) for request in requests]
        prefix = self._tokens(static)
        results: list[list[Candidate]] = [[] for _ in inputs]
        # Beam search has no per-token callback to stop a filler: it groups equal lengths only.
        width = self.length_bucket if beam == 1 else 1
        size = max(1, self.batch_size // beam)
        for chosen, forward in batches([len(tokens) for tokens in inputs], size, width):
            batch = [inputs[i] for i in chosen]
            if forward < len(batch[0]):  # a filler of that length: stopped at its first token
                batch.append(batch[0][:forward])
            generated = self._generator.generate_batch(
                batch,
                static_prompt=prefix,
                include_prompt_in_result=False,
                end_token=END,
                max_length=max(requests[i].limit for i in chosen),
                beam_size=beam,
                num_hypotheses=beam,
                return_scores=True,
                callback=_stopper(len(chosen)) if beam == 1 else None,
            )
            for i, result in zip(chosen, generated[: len(chosen)], strict=True):
                results[i] = [
                    Candidate(
                        self._tokenizer.decode(ids, skip_special_tokens=True),
                        float(score),
                        len(ids) >= requests[i].limit,
                    )
                    for ids, score in zip(result.sequences_ids, result.scores, strict=True)
                ]
        return results

    def _tokens(self, text: str) -> list[str]:
        ids = self._tokenizer.encode(text, add_special_tokens=False).ids
        return [self._tokenizer.id_to_token(i) for i in ids]

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)


def _stopper(filler: int) -> Callable[[Any], bool]:
    """A generation callback that ends the filler prompt's decoding at its first token."""
    return lambda step: step.batch_id == filler


def batches(lengths: Sequence[int], size: int, width: int) -> list[tuple[list[int], int]]:
    """Indices of prompts of `lengths` in batches of at most `size`, shortest first, each with
    how many prompt tokens it forwards at once (the rest are fed one by one).

    CTranslate2 forwards a batch's prompts at once only up to the shortest; fed one by one,
    later tokens come out slightly different in floating point, which can change a word. So
    that a text translates the same in any batch, the tokens forwarded at once depend on its
    own length only: its length rounded down to a multiple of `width`, shared by the batch
    (a filler prompt of that length is added when no member has it)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    found: list[tuple[list[int], int]] = []
    for forward, group in itertools.groupby(order, key=lambda i: lengths[i] - lengths[i] % width):
        members = list(group)
        found += [(members[i : i + size], forward) for i in range(0, len(members), size)]
    return found
