"""What `auto` picks for translation, and the reason `-v` prints: the LLM for file dubbing where
its fast runtime is (OpenVINO on the CPU, CTranslate2 on CUDA), Apertium for live and where
the LLM would be slower than speech."""

from __future__ import annotations

import pytest

from dubber.engines.choose import APERTIUM, Purpose, choose_translator
from dubber.engines.llm import runtimes
from dubber.store.store import Store

LLM = "qwen2.5-coder-1.5b-instruct"


@pytest.fixture
def store() -> Store:
    store = Store()
    assert store.is_installed(LLM), "the llm extra's packs are not installed"
    return store


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_file_dubbing_takes_the_llm_on_its_fast_runtime(store, device):
    choice = choose_translator(store, "en", "es", Purpose.dub, device)
    assert choice.model_id == LLM
    expected = "openvino on the CPU" if device == "cpu" else "ctranslate2 on the CUDA"
    assert expected in choice.reason and "better than Apertium" in choice.reason


def test_live_keeps_apertium_and_says_why(store):
    choice = choose_translator(store, "en", "es", Purpose.live, "cpu")
    assert choice.model_id == APERTIUM and "too slow for live" in choice.reason


def test_without_openvino_the_cpu_keeps_apertium_and_says_what_to_install(store, monkeypatch):
    monkeypatch.setattr(runtimes, "runtime_for", lambda device: "ctranslate2")
    choice = choose_translator(store, "en", "es", Purpose.dub, "cpu")
    assert choice.model_id == APERTIUM and "pip install 'dubber[llm]'" in choice.reason
