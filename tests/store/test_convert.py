"""Converting an OPUS-MT Marian release to CTranslate2 (a random-weight release built here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dubber.errors import DubberError
from dubber.store.convert import convert_opus_mt


def test_conversion_writes_a_ctranslate2_folder(tiny_model: Path) -> None:
    names = {path.name for path in tiny_model.iterdir()}
    assert {"model.bin", "config.json", "source.spm", "target.spm"} <= names
    vocabulary = json.loads((tiny_model / "shared_vocabulary.json").read_text(encoding="utf-8"))
    assert vocabulary[:2] == ["</s>", "<unk>"] and vocabulary[-1] == "<pad>"
    assert len(set(vocabulary)) == len(vocabulary)  # the Marian YAML round-tripped intact


def test_convert_refuses_a_folder_that_is_not_a_marian_release(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model", encoding="utf-8")
    with pytest.raises(DubberError, match="not an OPUS-MT Marian release.*decoder.yml"):
        convert_opus_mt(tmp_path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_convert_names_missing_release_files(marian_release: Path, tmp_path: Path) -> None:
    broken = tmp_path / "release"
    broken.mkdir()
    (broken / "decoder.yml").write_bytes((marian_release / "decoder.yml").read_bytes())
    with pytest.raises(DubberError, match=r"missing .*\.npz.*source\.spm, target\.spm"):
        convert_opus_mt(broken, tmp_path / "out")


def test_convert_rejects_corrupt_weights(marian_release: Path, tmp_path: Path) -> None:
    broken = tmp_path / "release"
    broken.mkdir()
    for source in marian_release.iterdir():
        data = b"garbage" if source.suffix == ".npz" else source.read_bytes()
        (broken / source.name).write_bytes(data)
    with pytest.raises(DubberError, match="cannot convert"):
        convert_opus_mt(broken, tmp_path / "out")
    assert not (tmp_path / "out").exists()
