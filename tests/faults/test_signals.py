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

# Where the signal lands, as the program's own log (-vv) announces it: model loading, the voice's
# calibration, then each stage of the dub. The test fails if the moment never comes.
MOMENTS = {
    "loading": "speech recognition: whisper-tiny.en",
    "calibrating": "calibrating speaking rate",
    "recognising": "news.mp4: recognise started",
    "translating": "news.mp4: translate started",
    "speaking": "news.mp4: speak started",
    "mixing": "news.mp4: mix started",
}
TWICE = ("calibrating", "speaking")  # a second Ctrl-C 50 ms after the first


@pytest.fixture(scope="module")
def news(shared_data, tmp_path_factory) -> Path:
    names = ("ljspeech_LJ001-0003.wav", "fleurs_en_005.wav", "cmuarctic_aew_a0003.wav")
    speech, _ = speech_with_pauses([shared_data / "asr" / name for name in names])
    return make_video(speech, tmp_path_factory.mktemp("news") / "news.mp4")


DUBBER = str(Path(sys.executable).with_name("dubber"))  # the program users run


def interrupt_at(
    command: list[str], moment: str, cwd: Path, twice: bool = False, env: dict | None = None
):
    """Run `command`, send SIGINT as soon as a line of its stderr contains `moment`; returns
    the exit code and all of stderr. Fails if the line never came."""
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )  # fmt: skip
    seen = []
    for line in process.stderr:
        seen.append(line)
        if moment in line:
            process.send_signal(signal.SIGINT)
            if twice:
                time.sleep(0.05)
                process.send_signal(signal.SIGINT)
            break
    else:
        process.wait(timeout=300)
        pytest.fail(f"the program ended ({process.returncode}) before {moment!r}: {seen}")
    seen.append(process.stderr.read())
    return process.wait(timeout=300), "".join(seen)


def interrupt(command: list[str], after: float, cwd: Path):
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(after)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=300)
    return process.returncode, stderr.decode()


@pytest.mark.parametrize("moment", MOMENTS)
def test_ctrl_c_at_each_stage_of_a_dub(news, tmp_path, moment):
    out = tmp_path / "out"
    command = [DUBBER, "-vv", "dub", str(news), "-o", str(out)]
    command += ["--engine", "apertium", "--voice", "espeak:es"]
    # a voice calibrates once per store: a fresh one for that moment
    home = {"DUBBER_HOME": str(tmp_path / "home")} if moment == "calibrating" else None
    code, stderr = interrupt_at(command, MOMENTS[moment], tmp_path, twice=moment in TWICE, env=home)
    assert code == 130, stderr[-2000:]
    assert "Traceback" not in stderr and "terminate called" not in stderr, stderr[-2000:]
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "interrupted" in errors[0], stderr[-2000:]
    names = [p.name for p in out.iterdir()] if out.exists() else []
    written = sorted(name for name in names if not name.startswith("."))
    # all or nothing: a Ctrl-C landing while the outputs are committed leaves the whole set
    kinds = ("es.mp4", "en.srt", "es.srt", "en.vtt", "es.vtt", "dub.json")
    whole = sorted(f"news.{kind}" for kind in kinds)
    assert written in ([], whole), written
    assert not list(out.glob(".*.part*")) if out.exists() else True


def test_ctrl_c_while_the_program_starts(tmp_path):
    for after in (0.15, 0.3, 0.5):
        code, stderr = interrupt(
            [sys.executable, "-m", "dubber", "models", "list"], after, tmp_path
        )
        # 130, or ended by the signal itself (what a shell also reports as 130): the interrupt
        # can land while the interpreter is still handing over to dubber's own handling
        assert code in (0, 130, -signal.SIGINT), stderr
        assert "Traceback" not in stderr, stderr
