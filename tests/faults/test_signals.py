"""Ctrl-C at any moment of a real `dubber` process: while it starts, loads models, recognises,
speaks and mixes. Every time: exit 130, one `error:` line, no traceback, no abort, no output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.media import make_video, speech_with_pauses

pytestmark = pytest.mark.slow

# Seconds after the start: inside imports, at model load, during recognition and speech, and
# (on this machine) near the mix.
MOMENTS = (0.3, 1.0, 2.0, 3.5, 5.0, 7.0, 10.0)


@pytest.fixture(scope="module")
def news(shared_data, tmp_path_factory) -> Path:
    names = ("ljspeech_LJ001-0003.wav", "fleurs_en_005.wav", "cmuarctic_aew_a0003.wav")
    speech, _ = speech_with_pauses([shared_data / "asr" / name for name in names])
    return make_video(speech, tmp_path_factory.mktemp("news") / "news.mp4")


DUBBER = str(Path(sys.executable).with_name("dubber"))  # the program users run


def interrupt(command: list[str], after: float, cwd: Path, twice: bool = False):
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    time.sleep(after)
    process.send_signal(signal.SIGINT)
    if twice:
        time.sleep(0.05)
        process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=300)
    return process.returncode, stderr


@pytest.mark.parametrize("after", MOMENTS)
def test_ctrl_c_at_any_moment_of_a_dub(news, tmp_path, after):
    out = tmp_path / "out"
    command = [DUBBER, "dub", str(news), "-o", str(out)]
    command += ["--engine", "apertium", "--voice", "espeak:es"]
    code, stderr = interrupt(command, after, tmp_path, twice=after in (1.0, 3.5))
    if code == 0:  # it finished first: the machine was fast
        assert (out / "news.es.mp4").is_file()
        return
    assert code == 130, stderr
    assert "Traceback" not in stderr and "terminate called" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "interrupted" in errors[0], stderr
    names = [p.name for p in out.iterdir()] if out.exists() else []
    written = sorted(name for name in names if not name.startswith("."))
    # all or nothing: a Ctrl-C landing while the outputs are committed leaves the whole set
    assert written in ([], sorted(f"news.{x}" for x in (
        "es.mp4", "en.srt", "es.srt", "en.vtt", "es.vtt", "dub.json"))), written  # fmt: skip
    assert not list(out.glob(".*.part*")) if out.exists() else True


def test_ctrl_c_while_the_program_starts(tmp_path):
    for after in (0.15, 0.3, 0.5):
        code, stderr = interrupt(
            [sys.executable, "-m", "dubber", "models", "list"], after, tmp_path
        )
        assert code in (0, 130), stderr
        assert "Traceback" not in stderr, stderr
