"""Fakes for the serving side, on top of `tests.helpers.fakes`: recording engines, an engine
cache and event hub for the studio, an in-process ASGI client for its routes, and a Triton
loopback that hands the remote engines' requests to `DubberModels` (checked against the models
`bind_models` declares) so client and server are tested together with no Triton process."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dubber.engines.bundle import EngineChoice, Engines
from dubber.engines.language import LanguageCheck
from dubber.engines.types import Segment, Speech, TranscribeOptions, TranscriptionInfo
from dubber.engines.voice import Voice
from dubber.engines.voices import VoiceBank
from dubber.serve.server import DubberModels, bind_models
from dubber.studio.events import EventHub
from dubber.studio.jobs import DubQueue
from dubber.studio.library import Library
from dubber.studio.live import LiveDemo
from dubber.studio.studio import Studio
from tests.helpers.fakes import BeepSynthesizer, EchoTranslator, ScriptedRecognizer
from tests.studio.running import Answer


def until(condition: Callable[[], Any], timeout: float = 10.0, what: str = "it") -> Any:
    """Wait for `condition()` to be truthy and return it; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.01)
    return value


# -- engines -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heard:
    """One call of the recording recogniser."""

    task: str
    samples: int
    language: str | None
    options: TranscribeOptions | None


class RecordingRecognizer(ScriptedRecognizer):
    """The scripted recogniser, multilingual, recording every call (task, audio length,
    language and decoding options)."""

    multilingual = True

    def __init__(self, script: Sequence[str]) -> None:
        super().__init__(script)
        self.heard: list[Heard] = []

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        self.heard.append(Heard("detect", len(audio), None, None))
        return "en", 0.75

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        language: str | None = None,
        options: TranscribeOptions = TranscribeOptions(),
    ) -> tuple[Iterator[Segment], TranscriptionInfo]:
        self.heard.append(Heard("transcribe", len(audio), language, options))
        return super().transcribe(audio, language=language, options=options)


class StyledBeeps(BeepSynthesizer):
    """The beep voice with styles, each a loudness; records the styles it was switched to."""

    styles = ("loud", "soft")
    GAINS = {None: 1.0, "loud": 1.0, "soft": 0.5}

    def __init__(self, style: str | None = None, switched: list[str] | None = None) -> None:
        super().__init__()
        self.style, self.styles = style, StyledBeeps.styles
        self.switched = [] if switched is None else switched

    def with_style(self, style: str) -> StyledBeeps:
        self.switched.append(style)
        return StyledBeeps(style, self.switched)

    def synthesize(self, text: str, *, rate: float = 1.0) -> Iterator[Speech]:
        for piece in super().synthesize(text, rate=rate):
            yield Speech(piece.samples * self.GAINS[self.style], piece.sample_rate)


def served_engines(calibration_dir: Path, script: Sequence[str]) -> Engines:
    """Engines as a server runs them, with no model: the recording recogniser, the echo
    translator and the styled beep voice (calibrated into `calibration_dir`)."""
    voices = VoiceBank.build(StyledBeeps(), Voice("fake-tts"), False, calibration_dir)
    return Engines(
        "fake-asr", RecordingRecognizer(script), "fake-mt", EchoTranslator(), voices,
        LanguageCheck(),
    )  # fmt: skip


# -- the studio --------------------------------------------------------------------------------


class FakeEngineCache:
    """The studio's `EngineCache` with the same engines for every choice, recording what was
    asked for; `gate` holds a load until set, `failure` makes loads raise it."""

    def __init__(self, engines: Engines) -> None:
        self.engines = engines
        self.asked: list[tuple[str, EngineChoice]] = []
        self.gate: threading.Event | None = None
        self.failure: BaseException | None = None

    def _load(self, how: str, choice: EngineChoice) -> Engines:
        self.asked.append((how, choice))
        if self.gate is not None and not self.gate.wait(10):
            raise AssertionError("the engine gate was never opened")
        if self.failure is not None:
            raise self.failure
        return self.engines

    def get(self, choice: EngineChoice, check_language: bool = False) -> Engines:
        return self._load("get", choice)

    def speaking(self, voices: str, choice: EngineChoice) -> Engines:
        return self._load(f"speaking {voices}", choice)


class RecordingHub(EventHub):
    """An event hub that also keeps every event published, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._record = threading.Lock()

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        with self._record:
            self.events.append((kind, json.loads(json.dumps(data))))
        super().publish(kind, data)

    def of(self, kind: str, **match: Any) -> list[dict[str, Any]]:
        """The data of the events named `kind` whose fields include `match`."""
        with self._record:
            return [
                data
                for name, data in self.events
                if name == kind and all(data.get(k) == v for k, v in match.items())
            ]


def fake_studio(folder: Path, engines: Engines, work: Path) -> tuple[Studio, FakeEngineCache]:
    """A studio over `folder` as `Studio.open` assembles one, its engines from a fake cache
    and its events recorded (in `studio.hub`)."""
    library, hub, cache = Library(folder), RecordingHub(), FakeEngineCache(engines)
    dubs = DubQueue(library, cache, hub, work)
    live = LiveDemo(library, cache, hub)
    voices = [{"id": engines.voices.describe(), "label": "beeps, not neural: fake"}]
    return Studio(library, dubs, live, hub, voices, None), cache


class PageClient:
    """Requests to an ASGI app in this process, as the studio's page sends them (with its
    session token); `events` reads its server-sent event stream meanwhile."""

    def __init__(self, app: Any, token: str) -> None:
        self.app, self.token = app, token

    async def _call(
        self,
        method: str,
        path: str,
        body: bytes,
        headers: dict[str, str],
        gone: asyncio.Event | None = None,
        on_body: Callable[[bytes], None] = lambda _: None,
    ) -> Answer:
        """One ASGI request; the client disconnects once `gone` is set (by default, once the
        answer is complete)."""
        answer, asked, complete = Answer(0, {}, b""), [False], asyncio.Event()
        gone = gone or complete
        raw = [(b"host", b"127.0.0.1"), *((k.encode(), v.encode()) for k, v in headers.items())]
        scope = {
            "type": "http", "method": method, "path": path, "raw_path": path.encode(),
            "query_string": b"", "headers": raw, "scheme": "http", "http_version": "1.1",
            "root_path": "", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000),
        }  # fmt: skip

        async def receive() -> dict[str, Any]:
            if not asked[0]:
                asked[0] = True
                return {"type": "http.request", "body": body, "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer.status = message["status"]
                answer.headers = {k.decode(): v.decode() for k, v in message["headers"]}
            elif message["type"] == "http.response.body":
                answer.body += message.get("body", b"")
                on_body(message.get("body", b""))
                if not message.get("more_body", False):
                    complete.set()

        await self.app(scope, receive, send)
        return answer

    def _headers(self, body: bytes, token: bool, json_body: bool) -> dict[str, str]:
        headers = {"content-length": str(len(body))}
        if token:
            headers["x-dubber-token"] = self.token
        if json_body:
            headers["content-type"] = "application/json"
        return headers

    def request(
        self, method: str, path: str, body: dict | bytes | None = None, token: bool = True
    ) -> Answer:
        """One request, answered in full (`body` a dict is sent as JSON)."""
        payload = json.dumps(body).encode() if isinstance(body, dict) else body or b""
        headers = self._headers(payload, token, isinstance(body, dict))
        return asyncio.run(self._call(method, path, payload, headers))

    def events(
        self,
        then: Callable[[], Any],
        enough: Callable[[list[tuple[str, dict]]], bool],
        timeout: float = 10.0,
    ) -> list[tuple[str, dict]]:
        """Listen on /api/events, run `then()` in a thread once connected, and return the
        events (name, data) received by the time `enough(events)` holds."""
        received: list[tuple[str, dict]] = []

        async def run() -> None:
            gone, connected, pending = asyncio.Event(), asyncio.Event(), [""]

            def on_body(chunk: bytes) -> None:
                *blocks, pending[0] = (pending[0] + chunk.decode()).split("\n\n")
                for block in blocks:
                    connected.set()
                    fields = dict(line.partition(": ")[::2] for line in block.splitlines())
                    if "event" in fields:
                        received.append((fields["event"], json.loads(fields["data"])))

            headers = self._headers(b"", True, False)
            stream = asyncio.ensure_future(
                self._call("GET", "/api/events", b"", headers, gone, on_body)
            )
            await asyncio.wait_for(connected.wait(), timeout)
            action = asyncio.ensure_future(asyncio.to_thread(then))
            deadline = time.monotonic() + timeout
            while not enough(received):
                if time.monotonic() > deadline:
                    raise AssertionError(f"after {timeout} s only these events: {received}")
                await asyncio.sleep(0.01)
            gone.set()
            assert (await asyncio.wait_for(stream, timeout)).status == 200
            await action

        asyncio.run(run())
        return received


# -- the server ----------------------------------------------------------------------------------


@dataclass
class Bound:
    """One model `bind_models` declared on the fake Triton."""

    infer_funcs: list[Callable]
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    max_batch: int  # 0: no batch axis


class FakeTriton:
    """Takes `bind_models`' declarations, as `pytriton.triton.Triton.bind` would."""

    def __init__(self) -> None:
        self.models: dict[str, Bound] = {}

    def bind(self, *, model_name, infer_func, inputs, outputs, config, strict) -> None:
        assert strict and model_name not in self.models
        self.models[model_name] = Bound(
            list(infer_func),
            {t.name: t for t in inputs},
            {t.name: t for t in outputs},
            config.max_batch_size if config.batching else 0,
        )

    @property
    def batched(self) -> set[str]:
        """The models with a batch axis."""
        return {name for name, bound in self.models.items() if bound.max_batch}


def _mismatch(tensor: Any, array: np.ndarray, batched: bool) -> str | None:
    """What Triton would refuse about `array` for the declared `tensor`, if anything."""
    if tensor.dtype is bytes:
        if array.dtype.kind not in "OS":
            return f"'{tensor.name}' must be BYTES, not {array.dtype}"
    elif array.dtype != np.dtype(tensor.dtype):
        return f"'{tensor.name}' must be {np.dtype(tensor.dtype)}, not {array.dtype}"
    shape = array.shape[1:] if batched else array.shape
    if len(shape) != len(tensor.shape) or any(
        want not in (-1, got) for want, got in zip(tensor.shape, shape, strict=True)
    ):
        return f"unexpected shape {array.shape} for '{tensor.name}' (declared {tensor.shape})"
    return None


class TritonLoopback:
    """PyTriton's client (`ModelClient`, `create_client_from_url`) answered in this process by
    `models` as `bind_models` declares them: inputs and outputs checked against the declared
    names, dtypes and shapes, a refusal raised as Triton's error with the server's traceback.
    `failures` are raised, one per call, before any is answered; `sent` keeps every request and
    `answered_by` the address of each; a server in `dead` refuses connections, as a killed one,
    and `kill_after` = (address, n) kills that server once n requests have been answered: the
    next request to it loses its connection mid-answer, and later ones are refused."""

    URL = "http://127.0.0.1:8000"

    def __init__(self, models: DubberModels) -> None:
        triton = FakeTriton()
        bind_models(triton, models, instances=1)
        self.models = triton.models
        self.sent: list[tuple[str, dict[str, np.ndarray]]] = []
        self.failures: list[BaseException] = []
        self.answered_by: list[str] = []
        self.dead: set[str] = set()
        self.kill_after: tuple[str, int] | None = None
        self._dying: set[str] = set()  # killed while a request was on its way
        self.opened = self.closed = 0
        self.live = True

    def install(self, monkeypatch: Any) -> TritonLoopback:
        """Answer PyTriton clients made from now on (until `monkeypatch` undoes it)."""
        import pytriton.client
        import pytriton.client.utils

        monkeypatch.setattr(pytriton.client, "ModelClient", self._model_client)
        monkeypatch.setattr(pytriton.client.utils, "create_client_from_url", self._server)
        return self

    def rows(self, model: str) -> list[int]:
        """The number of rows of each request sent to a batched `model`."""
        return [len(next(iter(inputs.values()))) for name, inputs in self.sent if name == model]

    def _server(self, url: str, network_timeout_s: float | None = None) -> Any:
        loopback = self

        class Server:
            def is_server_live(self) -> bool:
                if not loopback.live or url in loopback.dead:
                    raise ConnectionRefusedError(f"nothing listens at {url}")
                return True

            def close(self) -> None:
                pass

        return Server()

    def _model_client(self, url: str, model: str, **_: Any) -> Any:
        self.opened += 1
        loopback = self

        class Client:
            def infer_sample(self, **inputs: np.ndarray) -> dict[str, np.ndarray]:
                return loopback._answer(url, model, False, inputs)

            def infer_batch(self, **inputs: np.ndarray) -> dict[str, np.ndarray]:
                return loopback._answer(url, model, True, inputs)

            def close(self) -> None:
                loopback.closed += 1

        return Client()

    def _answer(self, url: str, model: str, batch: bool, inputs: dict[str, np.ndarray]) -> dict:
        import http.client

        if url in self._dying:
            self._dying.discard(url)
            raise http.client.HTTPException("connection closed.")  # as geventhttpclient says
        if url in self.dead:
            raise ConnectionRefusedError(f"nothing listens at {url}")
        answer = self._infer(model, batch, inputs)
        self.answered_by.append(url)
        if self.kill_after is not None and len(self.answered_by) == self.kill_after[1]:
            self.dead.add(self.kill_after[0])
            self._dying.add(self.kill_after[0])
        return answer

    def _infer(self, model: str, batch: bool, inputs: dict[str, np.ndarray]) -> dict:
        from pytriton.client.exceptions import (
            PyTritonClientInferenceServerError,
            PyTritonClientModelDoesntSupportBatchingError,
        )

        if self.failures:
            raise self.failures.pop(0)
        bound, batched = self.models[model], bool(self.models[model].max_batch)
        if batch and not batched:
            raise PyTritonClientModelDoesntSupportBatchingError(f"{model} has no batch axis")
        self.sent.append((model, inputs))
        problems = [f"unknown input '{name}'" for name in set(inputs) - set(bound.inputs)]
        if batched and any(len(array) > bound.max_batch for array in inputs.values()):
            problems.append(f"batch larger than the max of {bound.max_batch}")
        problems += [
            f"missing input '{name}'"
            for name, tensor in bound.inputs.items()
            if not tensor.optional and name not in inputs
        ]
        problems += [
            problem
            for name, array in inputs.items()
            if name in bound.inputs
            and (problem := _mismatch(bound.inputs[name], np.asarray(array), batched))
        ]
        if problems:
            raise PyTritonClientInferenceServerError(f"[request id: ] {'; '.join(problems)}")
        try:
            (answer,) = bound.infer_funcs[0]([inputs])
        except Exception as error:
            told = "".join(traceback.format_exception(error))
            raise PyTritonClientInferenceServerError(
                "Error occurred during inference request. Message: Failed to process the"
                f" request(s) for model '{model}_0', message: {told}"
            ) from None
        assert set(answer) == set(bound.outputs), (model, set(answer))
        for name, array in answer.items():
            assert _mismatch(bound.outputs[name], array, batched) is None, (model, name)
        return answer
