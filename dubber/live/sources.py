"""Audio in and out of a live session: microphone, a file or stdin played at real-time pace,
speakers, and a WAV track with the translated speech placed where it was produced."""

from __future__ import annotations

import logging
import queue
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np

from dubber.errors import DubberError, UsageError

log = logging.getLogger(__name__)

RATE = 16000  # what the VAD and Whisper take
CHUNK_SECONDS = 0.032  # one Silero VAD frame (512 samples at 16 kHz)
NO_DEVICE_HINT = "or use --input FILE (a recording played at real-time pace)"
_CONTAINER_MAGIC = (b"RIFF", b"fLaC", b"OggS", b"ID3", b"\x1aE\xdf\xa3", b"FORM")


class StreamClock:
    """Seconds on the input's clock: wall time since `start()`, times the playback speed."""

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = speed
        self._origin: float | None = None

    def start(self) -> None:
        """Make now the input's time zero."""
        self._origin = time.monotonic()

    def now(self) -> float:
        """The input's time now (0 before `start`)."""
        return 0.0 if self._origin is None else (time.monotonic() - self._origin) * self.speed

    def sleep_until(self, input_seconds: float) -> None:
        """Wait until the input's clock reaches `input_seconds`."""
        delay = (input_seconds - self.now()) / self.speed
        if delay > 0:
            time.sleep(delay)


class AudioSource(Protocol):
    """Live 16 kHz mono float32 audio, in chunks, as it arrives; `stop()` ends the stream."""

    description: str

    def chunks(self, clock: StreamClock) -> Iterator[np.ndarray]: ...

    def stop(self) -> None: ...


class StreamResampler:
    """Linear-interpolation resampling of a stream to 16 kHz, continuous across chunks."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._step = rate / RATE
        self._position = 0.0  # next output sample, in input samples from `_tail`
        self._tail = np.zeros(0, np.float32)

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        if self.rate == RATE:
            return samples.astype(np.float32, copy=False)
        data = np.concatenate([self._tail, samples.astype(np.float32, copy=False)])
        count = int(np.floor((len(data) - 1 - self._position) / self._step)) + 1
        if len(data) < 2 or count <= 0:
            self._tail = data
            return np.zeros(0, np.float32)
        points = self._position + self._step * np.arange(count)
        out = np.interp(points, np.arange(len(data)), data).astype(np.float32)
        consumed = int(points[-1])
        self._position = points[-1] + self._step - consumed
        self._tail = data[consumed:]
        return out


def _paced(samples: Iterator[np.ndarray], clock: StreamClock, stop: list[bool]):  # noqa: ANN202
    """Release chunks no faster than the input's clock would record them."""
    position = 0
    for chunk in samples:
        if stop:
            return
        position += len(chunk)
        clock.sleep_until(position / RATE)
        yield chunk


class SamplesSource:
    """16 kHz samples played at real-time pace (times the clock's speed), `loops` times over."""

    def __init__(self, audio: np.ndarray, description: str, loops: int = 1) -> None:
        self.audio, self.loops = audio, loops
        self.description = f"{description} ({loops * len(audio) / RATE:.1f} s)"
        self._stop: list[bool] = []

    def chunks(self, clock: StreamClock) -> Iterator[np.ndarray]:
        size = int(CHUNK_SECONDS * RATE)
        pieces = (
            self.audio[i : i + size]
            for _ in range(self.loops)
            for i in range(0, len(self.audio), size)
        )
        return _paced(pieces, clock, self._stop)

    def stop(self) -> None:
        self._stop.append(True)


class FileSource(SamplesSource):
    """A recording played at real-time pace: a simulated microphone."""

    def __init__(self, path: Path) -> None:
        from dubber.media.ffmpeg import decode_audio

        try:
            audio = decode_audio(path)
        except DubberError:
            raise
        except Exception as error:  # ffmpeg's own wording varies by file
            raise DubberError(f"cannot read audio from {path}: {_first_line(error)}") from error
        if audio.size == 0:
            raise DubberError(f"{path} holds no audio: give a recording with speech")
        super().__init__(audio, path.name)


class StdinSource:
    """Raw signed 16-bit little-endian mono PCM at `rate` Hz, paced to real time."""

    def __init__(self, stream: BinaryIO | None = None, rate: int = RATE) -> None:
        self._stream = stream if stream is not None else sys.stdin.buffer
        self._resample = StreamResampler(rate)
        self._block = 2 * max(1, int(CHUNK_SECONDS * rate))
        self._head = self._stream.read(self._block)  # checked now, before models load
        if not self._head:
            raise UsageError("nothing on stdin: pipe s16le mono PCM, or use --input FILE")
        if self._head.startswith(_CONTAINER_MAGIC):
            raise UsageError(
                "stdin holds an audio file, not raw PCM: pipe s16le mono samples "
                "(ffmpeg -i IN -f s16le -ac 1 -ar 16000 -) or use --input FILE"
            )
        self.description = f"stdin (s16le mono {rate} Hz)"
        self._stop: list[bool] = []

    def chunks(self, clock: StreamClock) -> Iterator[np.ndarray]:
        return _paced(self._read(), clock, self._stop)

    def _read(self) -> Iterator[np.ndarray]:
        data = self._head
        while data:
            if len(data) % 2:  # a pipe may deliver half a sample; the rest is on its way
                data += self._stream.read(1)
                if len(data) % 2:
                    log.warning("stdin ended in half a sample: the last byte is ignored")
                    data = data[:-1]
            samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
            if (out := self._resample(samples)).size:
                yield out
            data = self._stream.read(self._block)

    def stop(self) -> None:
        self._stop.append(True)


def import_sounddevice():  # noqa: ANN201 - the sounddevice module
    """sounddevice, or a one-line DubberError when PortAudio is missing."""
    try:
        import sounddevice
    except (ImportError, OSError) as error:
        raise DubberError(
            f"no audio devices: PortAudio is not available ({_first_line(error)}); "
            f"install libportaudio2, {NO_DEVICE_HINT}"
        ) from error
    return sounddevice


def _device_info(device: str | int | None, kind: str) -> dict:
    sd = import_sounddevice()
    try:
        return dict(sd.query_devices(device, kind))
    except (ValueError, sd.PortAudioError) as error:
        what = f"{kind} device '{device}'" if device is not None else f"default {kind} device"
        raise DubberError(
            f"{what} not found ({_first_line(error)}): see 'dubber live --list-devices', "
            f"{NO_DEVICE_HINT}"
        ) from error


def list_devices() -> str:
    """PortAudio's device list, as sounddevice prints it."""
    sd = import_sounddevice()
    try:
        return str(sd.query_devices())
    except sd.PortAudioError as error:
        raise DubberError(f"cannot list audio devices ({_first_line(error)})") from error


class MicrophoneSource:
    """A sounddevice input stream at the device's own rate, resampled to 16 kHz."""

    def __init__(self, device: str | int | None = None) -> None:
        info = _device_info(device, "input")
        self._device = device
        self._rate = int(info["default_samplerate"])
        self._resample = StreamResampler(self._rate)
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=256)
        self.description = f"microphone '{info['name']}' ({self._rate} Hz)"
        self.overflows = 0

    def _callback(self, data: np.ndarray, frames: int, when, status) -> None:  # noqa: ANN001
        if status.input_overflow:
            self.overflows += 1
        try:
            self._queue.put_nowait(data[:, 0].copy())
        except queue.Full:
            self.overflows += 1

    def chunks(self, clock: StreamClock) -> Iterator[np.ndarray]:
        sd = import_sounddevice()
        try:
            stream = sd.InputStream(
                device=self._device,
                channels=1,
                samplerate=self._rate,
                dtype="float32",
                blocksize=int(CHUNK_SECONDS * self._rate),
                callback=self._callback,
            )
        except sd.PortAudioError as error:
            raise DubberError(
                f"cannot open the microphone ({_first_line(error)}): {NO_DEVICE_HINT}"
            ) from error
        with stream:
            while (data := self._queue.get()) is not None:
                if (out := self._resample(data)).size:
                    yield out
        if self.overflows:
            log.warning("the microphone dropped %d blocks: the machine fell behind", self.overflows)

    def stop(self) -> None:
        self._queue.put(None)


class SpeakerSink:
    """Plays translated speech on an output device; `write` blocks while earlier speech plays."""

    def __init__(self, device: str | int | None, sample_rate: int) -> None:
        sd = import_sounddevice()
        _device_info(device, "output")
        try:
            self._stream = sd.OutputStream(
                device=device, channels=1, samplerate=sample_rate, dtype="float32"
            )
            self._stream.start()
        except sd.PortAudioError as error:
            raise DubberError(
                f"cannot open the speakers ({_first_line(error)}): use --output FILE.wav"
            ) from error

    def write(self, samples: np.ndarray) -> None:
        self._stream.write(samples.astype(np.float32).reshape(-1, 1))

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()


class PlacedTrack:
    """Translated speech placed at input-clock times, written as one WAV at the end."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._clips: list[tuple[int, np.ndarray]] = []

    def place(self, start_s: float, samples: np.ndarray) -> None:
        self._clips.append((round(start_s * self.sample_rate), samples.astype(np.float32)))

    def render(self, min_seconds: float = 0.0) -> np.ndarray:
        """The mix: silence where nothing was spoken, at least `min_seconds` long."""
        length = max([round(min_seconds * self.sample_rate)] + [s + len(c) for s, c in self._clips])
        track = np.zeros(length, np.float32)
        for start, clip in self._clips:
            track[start : start + len(clip)] += clip
        return np.clip(track, -1.0, 1.0)

    def write(self, path: Path, min_seconds: float = 0.0) -> None:
        from dubber.media.ffmpeg import write_wav

        write_wav(path, self.render(min_seconds), self.sample_rate)


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
