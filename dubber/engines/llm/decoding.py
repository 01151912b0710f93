"""What the LLM translator asks of a runtime: decode prompts that share a static prefix, up to a
beam of candidates each, and count tokens. One implementation per runtime (CTranslate2,
OpenVINO GenAI); tests give a scripted one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Candidate:
    """One decoded output of the model, before it is checked."""

    text: str
    score: float
    truncated: bool = False  # the length limit was reached before the end token


@dataclass(frozen=True)
class Request:
    """One prompt to continue: the shared `static` prefix, then `turn`, generating at most
    `limit` tokens and keeping up to `beam` candidates (1: greedy)."""

    static: str
    turn: str
    limit: int
    beam: int = 1


class Decoder(Protocol):
    """A loaded chat model on one runtime."""

    runtime: str  # "ctranslate2" | "openvino"

    def generate(self, requests: Sequence[Request]) -> list[list[Candidate]]:
        """Each request's candidates, best first, decoded together as the runtime batches
        best; the end token stops a candidate and is not part of its text."""
        ...

    def count_tokens(self, text: str) -> int:
        """How many model tokens `text` is."""
        ...
