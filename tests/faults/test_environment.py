"""A bad day with settings: environment variables and option combinations refused at start-up,
in one line, before any model loads."""

from __future__ import annotations

import pytest

from tests.helpers.cli import one_line_error, run_dubber


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DUBBER_THREADS": "abc"},
            "DUBBER_THREADS must be a whole number of at least 1, not 'abc'",
        ),
        ({"DUBBER_THREADS": "-1"}, "not '-1'"),
        ({"DUBBER_OFFLINE": "maybe"}, "DUBBER_OFFLINE must be 1 or 0"),
    ],
)
def test_junk_in_the_environment(env, message):
    one_line_error(run_dubber("models", "list", env=env), message, exit_code=2)


@pytest.mark.parametrize(
    ("arguments", "message", "code"),
    [
        (["--device", "cpu", "--compute-type", "float16"], "float16 needs a CUDA GPU", 2),
        (["--device", "cuda"], "no CUDA GPU is usable here", 2),
        (["--asr-model", "kokoro-82m-offline"], "is a tts model, not a speech recogniser", 2),
        (["--asr-model", "whisper-huge"], "unknown model 'whisper-huge'", 1),
        (["--voice", "kokoro-82m-offline:"], "is not a voice id", 2),
    ],
    ids=["float16-on-cpu", "cuda-without-gpu", "voice-as-asr", "unknown-asr", "voice-id"],
)
def test_option_combinations_a_dub_cannot_run(shared_data, tmp_path, arguments, message, code):
    clip = shared_data / "asr" / "cmuarctic_aew_a0003.wav"
    done = run_dubber("dub", str(clip), "-o", str(tmp_path / "out"), *arguments)
    one_line_error(done, message, exit_code=code)
    assert not (tmp_path / "out").exists()


def test_transcribe_refuses_a_language_whisper_does_not_know(shared_data):
    clip = str(shared_data / "asr" / "cmuarctic_aew_a0003.wav")
    one_line_error(
        run_dubber("transcribe", clip, "--language", "xx"), "unknown language 'xx'", exit_code=2
    )
    one_line_error(
        run_dubber("transcribe", clip, "--language", "es", "--model", "tiny.en"),
        "recognises English only",
        exit_code=2,
    )
