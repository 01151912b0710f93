"""Decoding an input's audio: in memory, or mapped from a raw file so long inputs stay cheap."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pytest

from dubber.errors import UsageError
from dubber.media import decode, ffmpeg
from dubber.media.decode import MappedAudio, decode_audio, write_wav
from dubber.media.probe import probe
from tests.helpers.media import make_video

RATE = 16000


def resident_kb(samples: np.ndarray) -> int:
    """Resident memory (kB) of the mapping that holds `samples`, from /proc/self/smaps."""
    address = samples.__array_interface__["data"][0]
    inside, total = False, 0
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()[0]
        if "-" in head and all(c in "0123456789abcdef-" for c in head):
            begin, end = (int(x, 16) for x in head.split("-"))
            inside = begin <= address < end
        elif inside and head == "Rss:":
            total += int(line.split()[1])
    return total


@pytest.fixture
def noise_wav(tmp_path) -> tuple[Path, np.ndarray]:
    samples = np.random.default_rng(0).uniform(-0.5, 0.5, 60 * RATE).astype(np.float32)
    path = tmp_path / "noise.wav"
    write_wav(path, samples, RATE)
    return path, decode_audio(path)


def test_mapped_audio_holds_the_same_samples_and_leaves_no_file(noise_wav, tmp_path):
    path, decoded = noise_wav
    raw = tmp_path / "work" / "audio.f32"
    raw.parent.mkdir()
    audio = MappedAudio(path, raw)
    assert np.array_equal(audio.samples, decoded)
    assert not raw.exists()
    with pytest.raises(ValueError):
        audio.samples[0] = 1.0  # the input's audio cannot be changed through the map


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="reads Linux's /proc")
def test_released_audio_leaves_memory_and_reads_back_the_same(noise_wav, tmp_path):
    path, decoded = noise_wav
    audio = MappedAudio(path, tmp_path / "audio.f32")
    assert float(np.abs(audio.samples).sum()) > 0  # every page read
    before = resident_kb(audio.samples)
    audio.release(50 * RATE)
    after = resident_kb(audio.samples)
    assert before >= 60 * RATE * 4 // 1024 * 0.9
    assert after <= before * 0.3
    assert np.array_equal(audio.samples[: 50 * RATE], decoded[: 50 * RATE])


def test_a_16_khz_mono_wav_is_read_with_no_process_into_the_samples_ffmpeg_gives(
    noise_wav, tmp_path, monkeypatch
):
    path, _ = noise_wav
    cut = tmp_path / "cut.wav"  # cut inside a sample: its header announces more
    cut.write_bytes(path.read_bytes()[:100_001])

    def no_process(*_, **__):
        raise AssertionError("ffmpeg ran")

    with monkeypatch.context() as patched:
        patched.setattr(ffmpeg, "run", no_process)
        read, short = decode_audio(path), decode_audio(cut)
        mapped = np.array(MappedAudio(path, tmp_path / "a.f32").samples)
    narrow = tmp_path / "8k.wav"  # another rate: resampled by ffmpeg
    write_wav(narrow, read[: 8000 * 3], 8000)
    assert len(decode_audio(narrow)) == pytest.approx(3 * RATE, abs=32)
    monkeypatch.setattr(decode, "_decode_plain_wav", lambda *_: None)
    assert np.array_equal(read, decode_audio(path)) and np.array_equal(read, mapped)
    assert np.array_equal(short, decode_audio(cut)) and len(short) < len(read)
    assert np.array_equal(mapped, MappedAudio(path, tmp_path / "b.f32").samples)


def test_a_file_with_no_audio_or_no_samples_is_a_usage_error(tmp_path):
    silent_video = make_video(None, tmp_path / "picture.mp4", seconds=1)
    with pytest.raises(UsageError, match="has no audio stream"):
        MappedAudio(silent_video, tmp_path / "a.f32")
    empty = tmp_path / "empty.wav"
    write_wav(empty, np.zeros(0, np.float32), RATE)
    with pytest.raises(UsageError, match="holds no decodable audio"):
        MappedAudio(empty, tmp_path / "b.f32")
    assert not list(tmp_path.glob("*.f32"))


def test_file_names_that_look_like_options_or_protocols_reach_ffmpeg_as_files(tmp_path):
    samples = np.sin(np.linspace(0, 100, 8000)).astype(np.float32)
    for name in ("-talk.wav", "clip:1.wav"):
        with contextlib.chdir(tmp_path):
            write_wav(Path(name), samples, 16000)
            assert probe(Path(name)).duration == pytest.approx(0.5, abs=0.01)
            assert len(decode_audio(Path(name))) == pytest.approx(8000, abs=2)
