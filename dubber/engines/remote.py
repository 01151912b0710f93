"""Engines that run on a `dubber serve` server: the same protocols as the local engines.

`connect(url, choice)` returns `Engines` whose recogniser, translator and voice are remote, so
`dubber dub --server URL` and `dubber live --server URL` run the same pipeline with the stages on
the server; with several servers (`--server URL,URL`) requests go to each healthy one in turn,
and one that fails is left out while another takes its requests. Per-call options (decoding
beams, VAD, voice styles) are forwarded; a choice the server cannot honour (another model or
voice) is refused, never dropped. Transient failures (server starting, queue full, connection
dropped) are retried a bounded number of times, on another server when there is one, else with
backoff; a refused request becomes a one-line `DubberError`.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dubber.engines.bundle import EngineChoice
from dubber.engines.types import (
    Segment,
    Speech,
    TranscribeOptions,
    TranscriptionInfo,
    Translation,
)
from dubber.engines.voice import Voice
from dubber.engines.wire import (
    ASR,
    INFO,
    MT,
    TTS,
    options_to_json,
    segments_from_json,
    translation_from_json,
)
from dubber.errors import DubberError, UsageError
from dubber.media.decode import AUDIO_RATE
from dubber.store.store import Store

if TYPE_CHECKING:
    from dubber.engines.bundle import Engines

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


class ServerPool:
    """The servers a client spreads its requests over: each request goes to the next healthy
    one in turn; one that fails (refused connection, reset, timeout) is left out for `cooldown`
    seconds and its request goes to another. Every request asr, mt and tts take can be asked
    again elsewhere: none changes anything on a server."""

    def __init__(self, urls: Sequence[str], cooldown: float = 30.0) -> None:
        if not urls:
            raise UsageError("--server needs at least one address")
        self.urls, self.cooldown = tuple(dict.fromkeys(urls)), cooldown
        self.answered: dict[str, int] = dict.fromkeys(self.urls, 0)  # requests each answered
        self._down: dict[str, float] = {}
        self._turn = 0
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, servers: str) -> ServerPool:
        """`http://a:8000,http://b:8000`: one address or several, comma-separated."""
        return cls([url.strip() for url in servers.split(",") if url.strip()])

    def healthy(self) -> list[str]:
        """The servers not left out now (all of them when every one is)."""
        now = time.monotonic()
        return [url for url in self.urls if self._down.get(url, 0.0) <= now] or list(self.urls)

    def pick(self) -> str:
        """The server for the next request."""
        with self._lock:
            healthy = self.healthy()
            self._turn += 1
            return healthy[self._turn % len(healthy)]

    def failed(self, url: str) -> bool:
        """Leave `url` out for a while; whether another server can take its requests."""
        with self._lock:
            if self._down.get(url, 0.0) <= time.monotonic() and len(self.urls) > 1:
                log.warning(
                    "dubber server %s does not answer: its requests go to the others for %.0f s",
                    url,
                    self.cooldown,
                )
            now = time.monotonic()
            self._down[url] = now + self.cooldown
            return any(self._down.get(other, 0.0) <= now for other in self.urls if other != url)

    def done(self, url: str) -> None:
        """Count a request `url` answered."""
        with self._lock:
            self.answered[url] += 1


class ServerConnection:
    """One model on a pool of servers; a Triton client per thread and server (they are not
    thread-safe)."""

    def __init__(self, servers: ServerPool | str, model: str, retry: RetryPolicy) -> None:
        self.pool = servers if isinstance(servers, ServerPool) else ServerPool([servers])
        self.model, self.retry = model, retry
        self._local = threading.local()

    def _clients(self) -> dict[str, Any]:
        if not hasattr(self._local, "clients"):
            self._local.clients = {}
        return self._local.clients

    def _client(self, url: str) -> Any:
        from pytriton.client import ModelClient
        from pytriton.client.warnings import NotSupportedTimeoutWarning

        clients = self._clients()
        if url not in clients:
            # PyTriton warns whenever the wait-for-server and inference timeouts differ
            warnings.filterwarnings("ignore", category=NotSupportedTimeoutWarning)
            clients[url] = ModelClient(
                url,
                self.model,
                init_timeout_s=self.retry.connect_timeout,
                inference_timeout_s=self.retry.inference_timeout,
            )
        return clients[url]

    def _drop_client(self, url: str) -> None:
        client = self._clients().pop(url, None)
        if client is not None:
            client.close()

    def infer(self, batched: bool, **inputs: np.ndarray) -> dict[str, np.ndarray]:
        """Run one request on the next healthy server, asking another when one fails and
        retrying with backoff when none answers; refusals raise DubberError at once."""
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
            http.client.HTTPException,  # the connection closed mid-answer (a killed server)
        )
        delay, attempt = self.retry.first_delay, 1
        attempts = self.retry.attempts * len(self.pool.urls)
        while True:
            url = self.pool.pick()
            try:
                client = self._client(url)
                answer = (client.infer_batch if batched else client.infer_sample)(**inputs)
            except PyTritonClientInferenceServerError as error:
                raise _refusal(self.model, str(error)) from None
            except transient as error:
                self._drop_client(url)
                another = self.pool.failed(url)
                if attempt >= attempts:
                    raise unreachable(", ".join(self.pool.urls)) from error
                attempt += 1
                if not another:  # nobody else to ask: give the servers time
                    log.info("%s: %s; retrying in %.1f s", self.model, type(error).__name__, delay)
                    time.sleep(delay)
                    delay *= 2
                continue
            self.pool.done(url)
            return answer


class UnreachableError(DubberError):
    """No dubber server answers at an address."""


def unreachable(url: str) -> UnreachableError:
    """The one-line error for a server that does not answer."""
    return UnreachableError(f"cannot reach dubber server at {url}: start it with 'dubber serve'")


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

    def _ask(
        self, audio: np.ndarray, language: str | None, task: str, options: TranscribeOptions
    ) -> str:
        samples = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
        result = self._connection.infer(
            False,
            audio=samples,
            language=_utf8([language or ""])[0],
            task=_utf8([task])[0],
            options=_utf8([options_to_json(options)])[0],
        )
        return _text(result["segments"])

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """The most likely spoken language of (up to 30 s of) 16 kHz audio."""
        found = json.loads(self._ask(audio[: 30 * AUDIO_RATE], None, "detect", TranscribeOptions()))
        return found["language"], float(found["language_probability"])

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        language: str | None = None,
        options: TranscribeOptions = TranscribeOptions(),
    ) -> tuple[Iterator[Segment], TranscriptionInfo]:
        """Transcribe 16 kHz mono float32 audio on the server, with these decoding options."""
        segments, info = segments_from_json(self._ask(audio, language, "transcribe", options))
        return iter(segments), info


class RemoteTranslator:
    """`Translator` served by the `mt` model (which batches requests from every client)."""

    def __init__(
        self,
        connection: ServerConnection,
        name: str,
        source_language: str,
        target_language: str,
        length_hints: bool = False,
    ) -> None:
        self._connection = connection
        self.name = name
        self.source_language = source_language
        self.target_language = target_language
        self.length_hints = length_hints

    def translate(
        self,
        texts: Sequence[str],
        *,
        num_hypotheses: int = 1,
        beam_size: int | None = None,
        max_syllables: Sequence[int | None] | None = None,
    ) -> list[Translation]:
        """Translate each text, up to `MT_ROWS_PER_REQUEST` texts per request."""
        limits = list(max_syllables or [None] * len(texts))
        results: list[Translation] = []
        for start in range(0, len(texts), MT_ROWS_PER_REQUEST):
            chunk = list(texts[start : start + MT_ROWS_PER_REQUEST])
            rows = len(chunk)
            syllables = [limit or 0 for limit in limits[start : start + MT_ROWS_PER_REQUEST]]
            answer = self._connection.infer(
                True,
                text=_utf8(chunk),
                target_language=_utf8([self.target_language] * rows),
                num_hypotheses=np.full((rows, 1), num_hypotheses, np.int32),
                beam_size=np.full((rows, 1), beam_size or 0, np.int32),
                max_syllables=np.array(syllables, np.int32).reshape(rows, 1),
            )
            translated = np.asarray(answer["translations"]).reshape(-1)
            results += [
                translation_from_json(source, bytes(row).decode("utf-8"))
                for source, row in zip(chunk, translated, strict=True)
            ]
        return results


class RemoteSynthesizer:
    """`Synthesizer` served by the `tts` model, speaking with any style of the served voice."""

    def __init__(
        self,
        connection: ServerConnection,
        name: str,
        language: str,
        sample_rate: int,
        style: str | None,
        styles: tuple[str, ...],
    ) -> None:
        self._connection = connection
        self.name, self.language, self.sample_rate = name, language, sample_rate
        self.style, self.styles = style, styles

    def with_style(self, style: str) -> RemoteSynthesizer:
        """The served voice with another of its styles."""
        if style not in self.styles:
            raise DubberError(f"the server's voice has no style '{style}'")
        return RemoteSynthesizer(
            self._connection, self.name, self.language, self.sample_rate, style, self.styles
        )

    def synthesize(self, text: str, *, rate: float = 1.0) -> Iterator[Speech]:
        """Speak `text` on the server at `rate` (one piece: the server answers whole clips)."""
        answer = self._connection.infer(
            True,
            text=_utf8([text]),
            rate=np.array([[rate]], np.float32),
            style=_utf8([self.style or ""]),
        )
        length = int(np.asarray(answer["length"]).reshape(-1)[0])
        samples = np.asarray(answer["audio"], np.float32).reshape(-1)[:length]
        yield Speech(samples.copy(), int(np.asarray(answer["sample_rate"]).reshape(-1)[0]))


def server_info(url: str, retry: RetryPolicy = RetryPolicy()) -> dict[str, Any]:
    """Which engines the server runs; DubberError when it cannot be reached."""
    _check_reachable(url, retry)
    answer = ServerConnection(url, INFO, retry).infer(False, query=_utf8([""])[0])
    return json.loads(_text(answer["info"]))


def pool_info(pool: ServerPool, retry: RetryPolicy) -> dict[str, Any]:
    """The engines the pool's servers run, which must be the same on every one; a server that
    does not answer now is left out (an error when none answers)."""
    infos: dict[str, dict[str, Any]] = {}
    for url in pool.urls:
        try:
            infos[url] = server_info(url, retry)
        except UnreachableError as error:
            if len(pool.urls) == 1:
                raise
            log.warning("%s", error)
            pool.failed(url)
    if not infos:
        raise unreachable(", ".join(pool.urls))
    (first, info), *others = infos.items()
    for url, other in others:
        differ = sorted(key for key in {*info, *other} if info.get(key) != other.get(key))
        if differ:
            raise UsageError(
                f"{url} serves other engines than {first} ({', '.join(differ)} differ):"
                " every --server must run the same models"
            )
    return info


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


def check_choice(info: dict[str, Any], choice: EngineChoice, url: str, store: Store) -> Voice:
    """The voice the server should speak with; UsageError for whatever in `choice` the server
    does not run (it cannot load other models for one client)."""
    catalogue = store.catalogue

    def refuse(option: str, asked: str, served: str, restart: str) -> UsageError:
        return UsageError(
            f"the server at {url} runs {served}, not {asked}: drop {option}, or start the server"
            f" with 'dubber serve {restart} {asked}'"
        )

    if choice.asr_model and catalogue.get(choice.asr_model).id != info["asr_model"]:
        raise refuse("--asr-model", choice.asr_model, info["asr_model"], "--asr")
    wanted = choice.mt_model or choice.translator
    served_mt = ("auto", info["translator"], info["mt_model"])
    if wanted not in served_mt and (
        wanted in ("apertium", "opusmt", "llm") or catalogue.get(wanted).id not in served_mt
    ):
        raise refuse("--engine/--mt-model", wanted, info["mt_model"], "--mt")
    if (choice.source_language, choice.target_language) != (
        info["source_language"], info["target_language"],
    ):  # fmt: skip
        raise UsageError(
            f"the server at {url} translates {info['source_language']}->"
            f"{info['target_language']}, not {choice.source_language}->{choice.target_language}"
        )
    served = Voice(info["voice"], info["style"])
    if not choice.voice:
        return Voice(info["voice"])
    asked = Voice.parse(choice.voice)
    model = asked.model if asked.model == "espeak" else catalogue.get(asked.model).id
    if model != served.model:
        raise refuse("--voice", choice.voice, str(served), "--tts")
    if asked.style and asked.style not in (*info["styles"], served.style):
        raise UsageError(f"the server's voice {served.model} has no style '{asked.style}'")
    return Voice(model, asked.style)


def connect(
    url: str,
    choice: EngineChoice | None = None,
    store: Store | None = None,
    retry: RetryPolicy = RetryPolicy(),
) -> Engines:
    """`Engines` whose stages run on the `dubber serve` server at `url` (or the servers, comma-
    separated), honouring `choice`
    (voice styles and pitch matching included) or refusing what the server does not run.

    The voice's speaking rate is calibrated once per voice id and kept in the store's
    calibration folder (shared with local voices of the same id).
    """
    from dubber.engines.bundle import Engines
    from dubber.engines.language import LanguageCheck
    from dubber.engines.voices import VoiceBank

    try:
        import pytriton.client  # noqa: F401
    except ImportError:
        raise DubberError("talking to a dubber server needs pip install 'dubber[serve]'") from None
    choice, store = choice or EngineChoice(), store or Store()
    pool = ServerPool.parse(url)
    info = pool_info(pool, retry)
    voice = check_choice(info, choice, pool.urls[0], store)
    recognizer = RemoteRecognizer(
        ServerConnection(pool, ASR, retry), info["asr_model"], info["multilingual"]
    )
    translator = RemoteTranslator(
        ServerConnection(pool, MT, retry),
        info["translator"],
        info["source_language"],
        info["target_language"],
        bool(info.get("length_hints", False)),
    )
    synthesizer: RemoteSynthesizer = RemoteSynthesizer(
        ServerConnection(pool, TTS, retry),
        info["voice_name"],
        info["voice_language"],
        info["sample_rate"],
        info["style"],
        tuple(info["styles"]),
    )
    if voice.style and voice.style != synthesizer.style:
        synthesizer = synthesizer.with_style(voice.style)
    calibration = store.home / "calibration"
    voices = VoiceBank.build(synthesizer, voice, choice.match_voice_to_pitch, calibration)
    language = LanguageCheck(recognizer if recognizer.multilingual else None)
    return Engines(info["asr_model"], recognizer, info["mt_model"], translator, voices, language)
