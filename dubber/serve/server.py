"""Triton Inference Server (through PyTriton) serving dubber's recogniser, translator and voice.

Three models share one set of engines loaded in this process: `asr` (16 kHz audio to segments
JSON), `mt` (sentences to n-best translations, dynamically batched) and `tts` (text and rate to
PCM, dynamically batched). `s2st` (audio to Spanish audio and texts) is a pipeline over them:
business logic that runs the chain `dub` runs with this server's own asr, mt and tts called
through Triton, so each stage's batcher sees the requests of every client, and its instances
keep several clients' requests in the stages at once. A fifth model, `info`, tells clients which
engines answer. Engines are warmed up before Triton starts, so the server is ready only when warm.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from dubber.chain.options import NBEST
from dubber.chain.s2st import translate_speech
from dubber.engines.bundle import EngineChoice, Engines
from dubber.engines.protocols import Synthesizer, synthesize_all
from dubber.engines.types import TranscribeOptions, Translation
from dubber.engines.voice import Voice
from dubber.engines.wire import (
    ASR,
    INFO,
    MAX_AUDIO_SECONDS,
    MAX_BEAM,
    MAX_RATE,
    MAX_SYLLABLES,
    MAX_TEXT_BYTES,
    MIN_RATE,
    MT,
    S2ST,
    TTS,
    options_from_json,
    segments_to_json,
    translation_to_json,
)
from dubber.errors import DubberError
from dubber.media.decode import AUDIO_RATE
from dubber.serve.processes import Process, descendants, end
from dubber.store.store import Store

log = logging.getLogger(__name__)

MAX_HYPOTHESES = int(NBEST.high)  # as many candidates as a dub may ask for

MAX_BATCH = 32
# s2st mostly waits on the stages it calls: enough instances for 8 clients' requests to be in
# the stages at once (each instance is a Triton stub process: about 50 MB resident)
S2ST_INSTANCES = 8
QUEUE_DELAY_US = 5000
WARM_UP_TEXT = "Hello, this is a warm-up sentence."

Requests = Sequence[Any]  # pytriton.proxy.types.Request: input name -> array, like a mapping
Responses = list[dict[str, np.ndarray]]


class BadRequest(ValueError):
    """A request the server refuses; Triton returns the message to that request's client."""


@dataclass(frozen=True, kw_only=True)
class ServeOptions:
    """Where Triton listens and how many instances of each model run."""

    host: str = "127.0.0.1"
    http_port: int = 8000
    grpc_port: int = 8001
    metrics_port: int = 8002
    instances: int = 1


def _text(value: object, what: str) -> str:
    raw = value if isinstance(value, bytes) else bytes(value)
    if len(raw) > MAX_TEXT_BYTES:
        raise BadRequest(f"{what} is {len(raw)} bytes; the limit is {MAX_TEXT_BYTES}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(f"{what} is not valid UTF-8 ({error.reason})") from None


def _audio(array: np.ndarray) -> np.ndarray:
    """16 kHz float32 mono samples (Triton has checked dtype and shape), within the limits."""
    if array.size == 0:
        raise BadRequest("audio is empty")
    if array.size > MAX_AUDIO_SECONDS * AUDIO_RATE:
        raise BadRequest(f"audio is longer than {MAX_AUDIO_SECONDS} s at {AUDIO_RATE} Hz")
    if not np.isfinite(array).all():
        raise BadRequest("audio contains NaN or infinite samples")
    return array


def _column(request: Any, name: str, rows: int, default: object) -> list:
    """Input `name` of a batched request as one value per row (`default` when absent)."""
    if name not in request:
        return [default] * rows
    values = np.asarray(request[name]).reshape(-1)
    if values.size != rows:
        raise BadRequest(f"'{name}' needs one value per text ({rows}), got {values.size}")
    return list(values)


def _bytes_out(texts: list[str]) -> np.ndarray:
    return np.array([[t.encode("utf-8")] for t in texts], dtype=np.object_)


class DubberModels:
    """The inference callables, all over one set of `Engines`; `pipeline` connects the engines
    s2st composes (this server's own models, through Triton), called at the first s2st request."""

    def __init__(self, engines: Engines, pipeline: Callable[[], Engines]) -> None:
        self.engines = engines
        self._connect_pipeline, self._pipeline = pipeline, None
        self._pipeline_lock = threading.Lock()
        default = engines.voices.for_pitch(None)
        self.voice, self.synthesizer = default.voice, default.synthesizer
        self._styled: dict[str, Synthesizer] = {
            c.voice.style: c.synthesizer for c in engines.voices.choices() if c.voice.style
        }

    # -- the engines, called once per row ------------------------------------------------------
    def transcribe(
        self, audio: np.ndarray, language: str | None, options: TranscribeOptions
    ) -> str:
        segments, info = self.engines.recognizer.transcribe(
            audio, language=language, options=options
        )
        return segments_to_json(list(segments), info)

    def translate(
        self,
        texts: list[str],
        nbest: list[int],
        beams: list[int | None],
        syllables: list[int | None] | None = None,
    ) -> list[Translation]:
        """Translate every text in as few translator calls as there are distinct settings."""
        syllables = syllables or [None] * len(texts)
        results: list[Translation | None] = [None] * len(texts)
        for n, beam in sorted(set(zip(nbest, beams, strict=True)), key=str):
            rows = [i for i, k in enumerate(zip(nbest, beams, strict=True)) if k == (n, beam)]
            limits = [syllables[i] for i in rows]
            batch = self.engines.translator.translate(
                [texts[i] for i in rows],
                num_hypotheses=n,
                beam_size=beam,
                max_syllables=limits if any(limits) else None,
            )
            for i, translation in zip(rows, batch, strict=True):
                results[i] = translation
        return [r for r in results if r is not None]

    def styled(self, style: str) -> Synthesizer:
        """The voice speaking with one of its styles (loaded once per style)."""
        if not style or style == self.synthesizer.style:
            return self.synthesizer
        if style not in self._styled:
            if style not in self.synthesizer.styles:
                raise BadRequest(f"the voice {self.voice} has no style '{style}'")
            self._styled[style] = self.synthesizer.with_style(style)
        return self._styled[style]

    def speak(self, text: str, rate: float, style: str = "") -> np.ndarray:
        if not text.strip():
            return np.zeros(0, np.float32)
        return np.asarray(synthesize_all(self.styled(style), text, rate=rate).samples, np.float32)

    def warm_up(self) -> None:
        """Run every engine once so the first client does not pay for lazy initialisation."""
        log.info("warming up the models")
        silence = np.zeros(AUDIO_RATE, np.float32)
        self.transcribe(silence, "en", TranscribeOptions())
        self.translate([WARM_UP_TEXT], [1], [None])
        self.speak(WARM_UP_TEXT, 1.0)

    # -- the Triton models ---------------------------------------------------------------------
    def asr(self, requests: Requests) -> Responses:
        """Audio (float32, 16 kHz) and an optional language to segments JSON; with task
        'detect', the spoken language and its probability instead."""
        responses = []
        for request in requests:
            audio = _audio(np.asarray(request["audio"]))
            language = _text(_column(request, "language", 1, b"")[0], "language") or None
            task = _text(_column(request, "task", 1, b"transcribe")[0], "task")
            options = _options(_text(_column(request, "options", 1, b"")[0], "options"))
            if task == "detect":
                found, probability = self.engines.recognizer.detect_language(audio)
                result = json.dumps({"language": found, "language_probability": probability})
            elif task == "transcribe":
                result = self.transcribe(audio, language, options)
            else:
                raise BadRequest(f"unknown task '{task}': use 'transcribe' or 'detect'")
            responses.append({"segments": _bytes_out([result])[0]})
        return responses

    def mt(self, requests: Requests) -> Responses:
        """Rows of UTF-8 sentences (from any number of requests) translated in one batch; a
        beam_size of 0 keeps the translator's own."""
        counts, texts, nbest, beams, syllables = [], [], [], [], []
        target = self.engines.translator.target_language
        for request in requests:
            rows = int(np.asarray(request["text"]).reshape(-1).size)
            counts.append(rows)
            texts += [_text(t, "text") for t in _column(request, "text", rows, b"")]
            for value in _column(request, "target_language", rows, target.encode()):
                if (language := _text(value, "target_language")) != target:
                    raise BadRequest(f"this server translates into '{target}', not '{language}'")
            for n in _column(request, "num_hypotheses", rows, 1):
                if not 1 <= int(n) <= MAX_HYPOTHESES:
                    raise BadRequest(f"num_hypotheses must be 1 to {MAX_HYPOTHESES}, got {n}")
                nbest.append(int(n))
            for beam in _column(request, "beam_size", rows, 0):
                if not 0 <= int(beam) <= MAX_BEAM:
                    raise BadRequest(f"beam_size must be 0 to {MAX_BEAM}, got {beam}")
                beams.append(int(beam) or None)
            for limit in _column(request, "max_syllables", rows, 0):
                if not 0 <= int(limit) <= MAX_SYLLABLES:
                    raise BadRequest(f"max_syllables must be 0 to {MAX_SYLLABLES}, got {limit}")
                syllables.append(int(limit) or None)
        results = iter(self.translate(texts, nbest, beams, syllables))
        responses = []
        for rows in counts:
            mine = [translation_to_json(next(results)) for _ in range(rows)]
            responses.append({"translations": _bytes_out(mine)})
        return responses

    def tts(self, requests: Requests) -> Responses:
        """Rows of text, rate and style (of the served voice) to PCM padded to the longest row,
        with each row's length."""
        parsed = []
        for request in requests:
            rows = int(np.asarray(request["text"]).reshape(-1).size)
            texts = [_text(t, "text") for t in _column(request, "text", rows, b"")]
            rates = [float(r) for r in _column(request, "rate", rows, 1.0)]
            styles = [_text(t, "style") for t in _column(request, "style", rows, b"")]
            if any(not MIN_RATE <= r <= MAX_RATE for r in rates):
                raise BadRequest(f"rate must be {MIN_RATE} to {MAX_RATE}")
            parsed.append(list(zip(texts, rates, styles, strict=True)))
        responses = []
        for rows in parsed:
            clips = [self.speak(text, rate, style) for text, rate, style in rows]
            width = max(len(c) for c in clips)
            audio = np.zeros((len(clips), width), np.float32)
            for i, clip in enumerate(clips):
                audio[i, : len(clip)] = clip
            responses.append(
                {
                    "audio": audio,
                    "length": np.array([[len(c)] for c in clips], np.int32),
                    "sample_rate": np.full((len(clips), 1), self.synthesizer.sample_rate, np.int32),
                }
            )
        return responses

    def pipeline(self) -> Engines:
        """The engines s2st runs the chain with (connected once)."""
        with self._pipeline_lock:
            if self._pipeline is None:
                self._pipeline = self._connect_pipeline()
            return self._pipeline

    def s2st(self, requests: Requests) -> Responses:
        """English audio to Spanish audio, with the lines' texts as JSON: the same chain as
        `dubber dub` (sentence grouping, voice by pitch), its stages the asr, mt and tts
        models."""
        responses = []
        for request in requests:
            audio = _audio(np.asarray(request["audio"]))
            result = translate_speech(audio, self.pipeline())
            texts = json.dumps(
                {
                    "source": [line.source for line in result.lines],
                    "translation": [line.translation for line in result.lines],
                    "voice": [str(line.voice) for line in result.lines],
                },
                ensure_ascii=False,
            )
            responses.append(
                {
                    "audio": result.speech.samples.astype(np.float32),
                    "sample_rate": np.array([result.speech.sample_rate], np.int32),
                    "texts": _bytes_out([texts])[0],
                }
            )
        return responses

    def info(self, requests: Requests) -> Responses:
        """Which engines answer: lets clients check what they ask for, and name and calibrate
        what they talk to."""
        translator, synthesizer = self.engines.translator, self.synthesizer
        described = json.dumps(
            {
                "asr_model": self.engines.asr_model,
                "multilingual": bool(getattr(self.engines.recognizer, "multilingual", False)),
                "translator": translator.name,
                "mt_model": self.engines.mt_model,
                "length_hints": translator.length_hints,
                "source_language": translator.source_language,
                "target_language": translator.target_language,
                "voice": str(Voice(self.voice.model)),
                "style": synthesizer.style,
                "styles": list(synthesizer.styles),
                "voice_name": synthesizer.name,
                "voice_language": synthesizer.language,
                "sample_rate": synthesizer.sample_rate,
            }
        )
        return [{"info": _bytes_out([described])[0]} for _ in requests]


def _options(text: str) -> TranscribeOptions:
    """Decoding options from their JSON (empty: the defaults)."""
    try:
        return options_from_json(text)
    except (ValueError, TypeError) as error:
        raise BadRequest(f"options are not valid decoding options ({error})") from None


def bind_models(triton: object, models: DubberModels, instances: int) -> None:
    """Declare the five models on a `pytriton.triton.Triton`."""
    from pytriton.model_config import DynamicBatcher, ModelConfig, Tensor

    def text(name: str, optional: bool = False) -> Tensor:
        return Tensor(name=name, dtype=bytes, shape=(1,), optional=optional)

    unbatched = ModelConfig(batching=False)
    batched = ModelConfig(
        max_batch_size=MAX_BATCH,
        batcher=DynamicBatcher(max_queue_delay_microseconds=QUEUE_DELAY_US),
    )
    audio_in = Tensor(name="audio", dtype=np.float32, shape=(-1,))
    specs = {
        ASR: (
            [
                audio_in,
                text("language", optional=True),
                text("task", optional=True),
                text("options", optional=True),
            ],
            [text("segments")],
            unbatched,
        ),
        MT: (
            [
                text("text"),
                text("target_language", optional=True),
                Tensor(name="num_hypotheses", dtype=np.int32, shape=(1,), optional=True),
                Tensor(name="beam_size", dtype=np.int32, shape=(1,), optional=True),
                Tensor(name="max_syllables", dtype=np.int32, shape=(1,), optional=True),
            ],
            [text("translations")],
            batched,
        ),
        TTS: (
            [
                text("text"),
                Tensor(name="rate", dtype=np.float32, shape=(1,), optional=True),
                text("style", optional=True),
            ],
            [
                Tensor(name="audio", dtype=np.float32, shape=(-1,)),
                Tensor(name="length", dtype=np.int32, shape=(1,)),
                Tensor(name="sample_rate", dtype=np.int32, shape=(1,)),
            ],
            batched,
        ),
        S2ST: (
            [audio_in],
            [
                Tensor(name="audio", dtype=np.float32, shape=(-1,)),
                Tensor(name="sample_rate", dtype=np.int32, shape=(1,)),
                text("texts"),
            ],
            unbatched,
        ),
        INFO: ([text("query", optional=True)], [text("info")], unbatched),
    }
    for name, (inputs, outputs, config) in specs.items():
        count = {INFO: 1, S2ST: max(instances, S2ST_INSTANCES)}.get(name, instances)
        triton.bind(
            model_name=name,
            infer_func=[getattr(models, name)] * count,
            inputs=inputs,
            outputs=outputs,
            config=config,
            strict=True,
        )


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` distinct ports the system says are free on `host` now (for tests and benchmarks)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind((host, 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def check_ports_free(options: ServeOptions) -> None:
    """Refuse, in one line, ports something else already listens on (before loading models)."""
    named = {"--http-port": options.http_port, "--grpc-port": options.grpc_port}
    named["--metrics-port"] = options.metrics_port
    if len(set(named.values())) < len(named):
        raise DubberError("--http-port, --grpc-port and --metrics-port must differ")
    for flag, port in named.items():
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do
            try:
                probe.bind((options.host, port))
            except OSError as error:
                raise DubberError(
                    f"cannot listen on {options.host}:{port} ({error.strerror}):"
                    f" choose another {flag}"
                ) from None


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Let SIGTERM stop the server the way Ctrl-C does (a graceful Triton shutdown)."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def pipeline_choice(engines: Engines) -> EngineChoice:
    """What a client of this server asks for to get these engines back (the same languages,
    and voices by pitch when these are)."""
    translator = engines.translator
    return EngineChoice(
        match_voice_to_pitch=engines.voices.matches_pitch,
        source_language=translator.source_language,
        target_language=translator.target_language,
    )


def own_address(options: ServeOptions) -> str:
    """Where this server's own pipeline reaches its HTTP endpoint."""
    host = "127.0.0.1" if options.host in ("0.0.0.0", "::", "") else options.host
    return f"http://{f'[{host}]' if ':' in host else host}:{options.http_port}"


def serve(
    engines: Engines,
    store: Store,
    options: ServeOptions,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Warm the engines up, start Triton and serve until SIGTERM or Ctrl-C."""
    from pytriton.triton import Triton, TritonConfig

    from dubber.engines.remote import connect

    choice = pipeline_choice(engines)
    models = DubberModels(engines, pipeline=lambda: connect(own_address(options), choice, store))
    models.warm_up()
    config = TritonConfig(
        http_address=options.host,
        http_port=options.http_port,
        grpc_address=options.host,
        grpc_port=options.grpc_port,
        metrics_address=options.host,
        metrics_port=options.metrics_port,
        allow_metrics=True,
        allow_cpu_metrics=True,
        strict_readiness=True,
        exit_timeout_secs=10,
    )
    spawned: list[Process] = []
    with _sigterm_as_interrupt():
        try:
            with Triton(config=config) as triton:
                bind_models(triton, models, options.instances)
                triton.run()
                models.pipeline()  # s2st's stages connected before the first client asks
                if on_ready is not None:
                    on_ready()
                try:
                    triton.serve()
                finally:
                    spawned = descendants(os.getpid())
        except KeyboardInterrupt:
            log.info("stopped")
        finally:
            end(spawned)
