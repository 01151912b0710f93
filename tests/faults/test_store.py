"""A bad day with the model store: damaged models say which model and how to repair it, the
advice works for where the model came from, and archives Python's own zipfile writes import."""

from __future__ import annotations

import shutil
import zipfile

import pytest

from dubber.store.store import Store
from tests.helpers.cli import one_line_error, run_dubber

pytestmark = pytest.mark.slow


def test_a_truncated_whisper_model_names_the_model_and_the_repair(shared_data, tmp_path):
    home = tmp_path / "home"
    copy = tmp_path / "tiny"
    shutil.copytree(Store().prepare("whisper-tiny.en"), copy)
    assert (
        run_dubber("models", "import", str(copy), "--id", "whisper-tiny.en", home=home).returncode
        == 0
    )
    model = home / "models" / "whisper-tiny.en" / "model.bin"
    with open(model, "r+b") as handle:
        handle.truncate(1024)
    clip = str(shared_data / "asr" / "cmuarctic_aew_a0003.wav")
    done = run_dubber("transcribe", clip, "--model", "whisper-tiny.en", home=home)
    one_line_error(
        done,
        "model 'whisper-tiny.en' is damaged (model.bin is 1024 bytes, 75537502 expected)",
        "dubber models import PATH --id whisper-tiny.en",
    )


def test_a_kokoro_folder_missing_its_vocabulary_is_made_again_from_its_packs(tmp_path):
    home = tmp_path / "home"
    folder = Store(home).prepare("kokoro-82m-offline")  # joins the packs into this store
    (folder / "vocab.json").unlink()
    done = run_dubber("speak", "Hola.", "-o", str(tmp_path / "x.wav"), "--voice",
                      "kokoro-82m-offline", home=home)  # fmt: skip
    advice = "dubber models prepare kokoro-82m-offline --force"
    one_line_error(done, "vocab.json is missing", advice)
    assert not (tmp_path / "x.wav").exists()
    verified = run_dubber("models", "verify", "kokoro-82m-offline", home=home)
    assert verified.returncode == 1
    assert advice in verified.stdout
    pulled = run_dubber("models", "pull", "kokoro-82m-offline", "--force", home=home)
    one_line_error(pulled, "only distributed on PyPI", "pip install --force-reinstall")
    removed = run_dubber("models", "remove", "kokoro-82m-offline", "--yes", home=home)
    one_line_error(removed, "comes from installed PyPI packs", "pip uninstall")
    assert run_dubber(*advice.split()[1:], home=home).returncode == 0  # offline, from the packs
    spoken = run_dubber("speak", "Hola.", "-o", str(tmp_path / "x.wav"), "--voice",
                        "kokoro-82m-offline", home=home)  # fmt: skip
    assert spoken.returncode == 0, spoken.stderr
    assert (tmp_path / "x.wav").stat().st_size > 44


def test_a_zip_written_by_pythons_zipfile_imports(tmp_path):
    """zipfile.writestr leaves the file-type bits out: such members are ordinary files."""
    voice = Store().prepare("piper-en_US-joe-medium")
    archive = tmp_path / "joe.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(voice.iterdir()):
            if path.is_file() and not path.name.startswith("dubber-model"):
                zipped.writestr(f"joe/{path.name}", path.read_bytes())
    assert (
        zipped_info := zipfile.ZipFile(archive).infolist()[0]
    ).external_attr >> 16 & 0o170000 == 0
    done = run_dubber("models", "import", str(archive), home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert "piper-en_US-joe-medium" in done.stdout and zipped_info.filename.startswith("joe/")


def test_a_damaged_clip_or_document_in_the_work_folder_is_made_again(tmp_path, caplog):
    from dubber.dub.work import WorkFolder

    media = tmp_path / "news.wav"
    media.write_bytes(b"RIFF")
    work = WorkFolder(tmp_path / "work", media)
    (work.path / "clips" / "abc.npy").write_bytes(b"junk, not a clip")
    (work.path / "dub.json").write_text('{"version": 2, "media"', encoding="utf-8")
    assert work.load("abc") is None and work.load_document() is None
    assert "damaged clip" in caplog.text and "ignoring the saved dub document" in caplog.text
