"""Where a live session's audio comes from: a microphone, or a file or stdin played at
real-time pace, as 16 kHz mono float32 chunks."""

from __future__ import annotations

import logging
import queue
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np

from dubber.errors import DubberError, UsageError
from dubber.live.clock import StreamClock
from dubber.live.devices import NO_DEVICE_HINT, device_info, first_line, import_sounddevice
from dubber.media.decode import AUDIO_RATE

log = logging.getLogger(__name__)

CHUNK_SECONDS = 0.032  # one Silero VAD frame (512 samples at 16 kHz)
_CONTAINER_MAGIC = (b"RIFF", b"fLaC", b"OggS", b"ID3", b"\x1aE\xdf\xa3", b"FORM")


class AudioSource(Protocol):
    """Live 16 kHz mono float32 audio, in chunks, as it arrives; `stop()` ends the stream."""

    description: str

    def chunks(self, clock: StreamClock) -> Iterator[np.ndarray]: ...

    def stop(self) -> None: ...


class StreamResampler:
    """Linear-interpolation resampling of a stream to 16 kHz, continuous across chunks."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._step = rate / AUDIO_RATE
        self._position = 0.0  # next output sample, in input samples from `_tail`
        self._tail = np.zeros(0, np.float32)

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        if self.rate == AUDIO_RATE:
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
        clock.sleep_until(position / AUDIO_RATE)
        yield chunk


class SamplesSource:
    """16 kHz samples played at real-time pace (times the clock's speed), `loops` times over."""

    def __init__(self, audio: np.ndarray, description: str, loops: int = 1) -> None:
        self.audio, self.loops = audio, loops
        self.description = f"{description} ({loops * len(audio) / AUDIO_RATE:.1f} s)"
        self._stop: list[bool] = []

    def chunks(self, clock: StreamClock) -> Iterator[np.ndarray]:
        size = int(CHUNK_SECONDS * AUDIO_RATE)
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
        from dubber.media.decode import decode_audio

        try:
            audio = decode_audio(path)
        except DubberError:
            raise
        except Exception as error:  # ffmpeg's own wording varies by file
            raise DubberError(f"cannot read audio from {path}: {first_line(error)}") from error
        if audio.size == 0:
            raise DubberError(f"{path} holds no audio: give a recording with speech")
        super().__init__(audio, path.name)


class StdinSource:
    """Raw signed 16-bit little-endian mono PCM at `rate` Hz, paced to real time."""

    def __init__(self, stream: BinaryIO | None = None, rate: int = AUDIO_RATE) -> None:
        self._stream = stream if stream is not None else sys.stdin.buffer
        self._resample = StreamResampler(rate)
        self._block = 2 * max(1, int(CHUNK_SECONDS * rate))
        self._head = self._stream.read(self._block)  # checked now, before models load
        if not self._head:
            raise UsageError("nothing on stdin: pipe s16le mono PCM, or use --input FILE")
        if self._head.startswith(_CONTAINER_MAGIC):
            raise UsageError(
                "stdin holds an audio file, not raw PCM: pipe s16le mono samples "
                f"(ffmpeg -i IN -f s16le -ac 1 -ar {AUDIO_RATE} -) or use --input FILE"
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


class MicrophoneSource:
    """A sounddevice input stream at the device's own rate, resampled to 16 kHz."""

    def __init__(self, device: str | int | None = None) -> None:
        info = device_info(device, "input")
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
                f"cannot open the microphone ({first_line(error)}): {NO_DEVICE_HINT}"
            ) from error
        with stream:
            while (data := self._queue.get()) is not None:
                if (out := self._resample(data)).size:
                    yield out
        if self.overflows:
            log.warning("the microphone dropped %d blocks: the machine fell behind", self.overflows)

    def stop(self) -> None:
        self._queue.put(None)
