"""The LLM translator: prompts, output checks, and the runtimes that decode the model."""

from dubber.engines.llm.checks import SHORTEST_REWRITE, clean_output, keeps_numbers, rejection
from dubber.engines.llm.decoding import Candidate, Decoder, Request
from dubber.engines.llm.translator import LLMConfig, LLMTranslator

__all__ = [
    "SHORTEST_REWRITE",
    "Candidate",
    "Decoder",
    "LLMConfig",
    "LLMTranslator",
    "Request",
    "clean_output",
    "keeps_numbers",
    "rejection",
]
