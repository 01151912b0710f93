"""A two-speaker dub for the studio's tests: the talk of `tests.dub.test_speakers` (a man's and
a woman's tone bursts in turns) and fake engines whose scripted diarizer tells them apart."""

from __future__ import annotations

from pathlib import Path

from dubber.engines.bundle import Engines
from dubber.media.decode import write_wav
from dubber.speakers.diarize import Turn
from tests.dub.test_speakers import BURSTS, SCRIPT, SECONDS, SPEAKER_OF_BURST
from tests.helpers.fakes import ScriptedDiarizer, beeps, fake_engines, fake_voices

TURNS = list(zip(BURSTS, SPEAKER_OF_BURST, strict=True))


def write_talk(path: Path) -> Path:
    """The talk as a WAV file at `path`: speaker 0 at 120 Hz, speaker 1 at 220 Hz."""
    men, women = ([span for span, who in TURNS if who == speaker] for speaker in (0, 1))
    write_wav(path, beeps(men, SECONDS, hz=120.0) + beeps(women, SECONDS, hz=220.0), 16000)
    return path


def two_speaker_engines(calibration: Path) -> Engines:
    """Fake engines with a male and a female voice and a diarizer that finds the two speakers."""
    engines = fake_engines(calibration, SCRIPT)
    engines.voices = fake_voices(calibration, match_pitch=True)
    engines.diarizer = ScriptedDiarizer([Turn(a - 0.2, b + 0.2, who) for (a, b), who in TURNS])
    return engines
