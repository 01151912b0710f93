"""Engines that run on a `dubber serve` server: the same protocols as the local engines.

`connect(url)` returns a `PipelineEngines` whose recogniser, translator and voice are remote, so
`dubber dub --server URL` and `dubber live --server URL` run the same pipeline with the stages on
the server. Transient failures (server starting, queue full, connection dropped) are retried a
bounded number of times with backoff; a refused request becomes a one-line `DubberError`.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dubber.engines.types import Segment, Speech, TranscriptionInfo, Translation
from dubber.errors import DubberError
from dubber.serve.wire import (
    ASR,
    ASR_SAMPLE_RATE,
    INFO,
    MT,
    TTS,
    segments_from_json,
    translation_from_json,
)

if TYPE_CHECKING:
    from dubber.engines.load import PipelineEngines

log = logging.getLogger(__name__)

MT_ROWS_PER_REQUEST = 32  # the server's max_batch_size for mt
_REASON = re.compile(r"^[\w.]*(?:Error|Exception|BadRequest): (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a transient failure is retried."""

    attempts: int = 4
    first_delay: float = 0.5
    connect_timeout: float = 5.0
    inference_timeout: float = 600.0


class ServerConnection:
    """One model on one server; a Triton client per thread (they are not thread-safe)."""

    def __init__(self, url: str, model: str, retry: RetryPolicy) -> None:
        self.url, self.model, self.retry = url, model, retry
        self._local = threading.local()

    def _client(self) -> Any:
        from pytriton.client import ModelClient
        from pytriton.client.warnings import NotSupportedTimeoutWarning

        client = getattr(self._local, "client", None)
        if client is None:
            # PyTriton warns whenever the wait-for-server and inference timeouts differ
            warnings.filterwarnings("ignore", category=NotSupportedTimeoutWarning)
            client = ModelClient(
                self.url,
                self.model,
                init_timeout_s=self.retry.connect_timeout,
                inference_timeout_s=self.retry.inference_timeout,
            )
            self._local.client = client
        return client

    def _drop_client(self) -> None:
        client = getattr(self._local, "client", None)
        self._local.client = None
        if client is not None:
            client.close()

    def infer(self, batched: bool, **inputs: np.ndarray) -> dict[str, np.ndarray]:
        """Run one request, retrying transient failures; refusals raise DubberError at once."""
        from pytriton.client.exceptions import (
            PyTritonClientInferenceServerError,
            PyTritonClientModelUnavailableError,
            PyTritonClientQueueFullError,
            PyTritonClientTimeoutError,
        )

        transient = (
            PyTritonClientTimeoutError,
            PyTritonClientModelUnavailableError,
            PyTritonClientQueueFullError,
            OSError,  # connection refused or reset
        )
        delay, attempt = self.retry.first_delay, 1
        while True:
            try:
                client = self._client()
                return (client.infer_batch if batched else client.infer_sample)(**inputs)
            except PyTritonClientInferenceServerError as error:
                raise _refusal(self.model, str(error)) from None
            except transient as error:
                self._drop_client()
                if attempt >= self.retry.attempts:
                    raise unreachable(self.url) from error
                log.info("%s: %s; retrying in %.1f s", self.model, type(error).__name__, delay)
                time.sleep(delay)
                delay, attempt = delay * 2, attempt + 1


def unreachable(url: str) -> DubberError:
    """The one-line error for a server that does not answer."""
    return DubberError(f"cannot reach dubber server at {url}: start it with 'dubber serve'")


def _refusal(model: str, message: str) -> DubberError:
    """The server's reason (its last exception line, else its message) as one line."""
    reasons = _REASON.findall(message)
    reason = reasons[-1] if reasons else message.partition("Message: ")[2] or message
    reason = " ".join(reason.split())
    return DubberError(f"the dubber server refused the {model} request: {reason}")


def _utf8(texts: Sequence[str]) -> np.ndarray:
    return np.array([[t.encode("utf-8")] for t in texts], dtype=np.object_)


def _text(array: np.ndarray) -> str:
    return bytes(np.asarray(array).reshape(-1)[0]).decode("utf-8")


class RemoteRecognizer:
    """`Recognizer` served by the `asr` model."""

    def __init__(self, connection: ServerConnection, name: str, multilingual: bool) -> None:
        self._connection = connection
        self.name = name
        self.multilingual = multilingual

    def _ask(self, audio: np.ndarray, language: str | None, task: str) -> str:
        samples = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
        result = self._connection.infer(
            False, audio=samples, language=_utf8([language or ""])[0], task=_utf8([task])[0]
        )
        return _text(result["segments"])

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """The most likely spoken language of (up to 30 s of) 16 kHz audio."""
        found = json.loads(self._ask(audio[: 30 * ASR_SAMPLE_RATE], None, "detect"))
        return found["language"], float(found["language_probability"])

    def transcribe(
        self, audio: np.ndarray, *, language: str | None = None
    ) -> tuple[Iterator[Segment], TranscriptionInfo]:
        """Transcribe 16 kHz mono float32 audio on the server."""
        segments, info = segments_from_json(self._ask(audio, language, "transcribe"))
        return iter(segments), info


class RemoteTranslator:
    """`Translator` served by the `mt` model (which batches requests from every client)."""

    def __init__(
        self, connection: ServerConnection, name: str, source_language: str, target_language: str
    ) -> None:
        self._connection = connection
        self.name = name
        self.source_language = source_language
        self.target_language = target_language

    def translate(self, texts: Sequence[str], *, num_hypotheses: int = 1) -> list[Translation]:
        """Translate each text, up to `MT_ROWS_PER_REQUEST` texts per request."""
        results: list[Translation] = []
        for start in range(0, len(texts), MT_ROWS_PER_REQUEST):
            chunk = list(texts[start : start + MT_ROWS_PER_REQUEST])
            answer = self._connection.infer(
                True,
                text=_utf8(chunk),
                target_language=_utf8([self.target_language] * len(chunk)),
                num_hypotheses=np.full((len(chunk), 1), num_hypotheses, np.int32),
            )
            rows = np.asarray(answer["translations"]).reshape(-1)
            results += [
                translation_from_json(source, bytes(row).decode("utf-8"))
                for source, row in zip(chunk, rows, strict=True)
            ]
        return results


class RemoteSynthesizer:
    """`Synthesizer` served by the `tts` model."""

    def __init__(
        self, connection: ServerConnection, name: str, language: str, sample_rate: int
    ) -> None:
        self._connection = connection
        self.name = name
        self.language = language
        self.sample_rate = sample_rate

    def synthesize(self, text: str, *, rate: float = 1.0) -> Speech:
        """Speak `text` on the server at `rate`."""
        answer = self._connection.infer(
            True, text=_utf8([text]), rate=np.array([[rate]], np.float32)
        )
        length = int(np.asarray(answer["length"]).reshape(-1)[0])
        samples = np.asarray(answer["audio"], np.float32).reshape(-1)[:length]
        return Speech(samples.copy(), int(np.asarray(answer["sample_rate"]).reshape(-1)[0]))


def server_info(url: str, retry: RetryPolicy = RetryPolicy()) -> dict[str, Any]:
    """Which engines the server runs; DubberError when it cannot be reached."""
    _check_reachable(url, retry)
    answer = ServerConnection(url, INFO, retry).infer(False, query=_utf8([""])[0])
    return json.loads(_text(answer["info"]))


def _check_reachable(url: str, retry: RetryPolicy) -> None:
    """Fail fast, in one line, when nothing listens at `url`."""
    from pytriton.client.exceptions import PyTritonClientInvalidUrlError
    from pytriton.client.utils import create_client_from_url

    try:
        client = create_client_from_url(url, network_timeout_s=retry.connect_timeout)
    except PyTritonClientInvalidUrlError as error:
        raise DubberError(f"'{url}' is not a server address: use e.g. http://HOST:8000") from error
    try:
        client.is_server_live()
    except Exception as error:  # tritonclient raises socket and gRPC errors of many kinds
        raise unreachable(url) from error
    finally:
        client.close()


def connect(
    url: str, calibration_dir: Path | None = None, retry: RetryPolicy = RetryPolicy()
) -> PipelineEngines:
    """`PipelineEngines` whose stages run on the `dubber serve` server at `url`.

    The voice's speaking rate is calibrated once per voice id and kept in `calibration_dir`
    (default: DUBBER_HOME/calibration, shared with local voices of the same id).
    """
    from dubber.engines.load import PipelineEngines
    from dubber.engines.voices import VoiceBank
    from dubber.settings import dubber_home

    try:
        import pytriton.client  # noqa: F401
    except ImportError:
        raise DubberError("talking to a dubber server needs pip install 'dubber[serve]'") from None
    calibration_dir = calibration_dir or dubber_home() / "calibration"

    info = server_info(url, retry)
    recognizer = RemoteRecognizer(
        ServerConnection(url, ASR, retry), info["asr_model"], info["multilingual"]
    )
    translator = RemoteTranslator(
        ServerConnection(url, MT, retry),
        info["translator"],
        info["source_language"],
        info["target_language"],
    )
    synthesizer = RemoteSynthesizer(
        ServerConnection(url, TTS, retry),
        info["voice_name"],
        info["voice_language"],
        info["sample_rate"],
    )
    voices = VoiceBank.build(synthesizer, info["voice"], False, calibration_dir)
    detector = recognizer if recognizer.multilingual else None
    return PipelineEngines(info["asr_model"], recognizer, translator, voices, detector)
