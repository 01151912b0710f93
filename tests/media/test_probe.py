"""Probing inputs: a PCM WAV file is read from its header with no process, and says what
ffprobe says of it; anything else is ffprobe's."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dubber.media import ffmpeg, probe
from dubber.media.decode import write_wav
from tests.helpers.media import ffmpeg as run_ffmpeg
from tests.helpers.media import make_video


def wavs(folder: Path, shared_data: Path) -> list[Path]:
    """WAV files as users bring them: ours, ffmpeg's (stereo, with a LIST chunk), a recording
    from the shared data, and one cut short (its header announces more)."""
    tone = np.sin(np.linspace(0, 2000, 3 * 16000 + 7)).astype(np.float32) * 0.3
    ours = folder / "ours.wav"
    write_wav(ours, tone, 16000)
    stereo = folder / "stereo.wav"
    run_ffmpeg("-i", str(ours), "-ac", "2", "-ar", "44100", str(stereo))
    cut = folder / "cut.wav"
    cut.write_bytes(stereo.read_bytes()[: stereo.stat().st_size // 2 + 3])
    return [ours, stereo, cut, next((shared_data / "asr").glob("*.wav"))]


def test_a_wav_is_described_from_its_header_as_ffprobe_describes_it(
    shared_data, tmp_path, monkeypatch
):
    files = wavs(tmp_path, shared_data)

    def no_process(path):
        raise AssertionError(f"ffprobe ran on {path}")

    with monkeypatch.context() as patched:
        patched.setattr(ffmpeg, "probe_json", no_process)
        read = [probe.probe(path) for path in files]
    monkeypatch.setattr(probe, "_plain_wav_info", lambda _: None)
    assert read == [probe.probe(path) for path in files]
    assert read[2].duration < read[1].duration / 2 + 0.01  # as much as the cut file holds


def test_other_media_are_probed_by_ffprobe(tmp_path):
    video = make_video(np.zeros(16000, np.float32), tmp_path / "clip.mp4")
    info = probe.probe(video)
    assert info.has_video and info.has_audio and info.video_codec
    deep = tmp_path / "deep.wav"  # 24-bit: ffmpeg writes WAVE_FORMAT_EXTENSIBLE
    run_ffmpeg("-i", str(video), "-c:a", "pcm_s24le", str(deep))
    assert probe._plain_wav_info(deep) is None and probe.probe(deep).audio_channels == 1
    (tmp_path / "empty.wav").write_bytes(b"RIFF")  # announced as a WAV, nothing in it
    assert probe._plain_wav_info(tmp_path / "empty.wav") is None
