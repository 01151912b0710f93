"""Live speech-to-speech translation: capture ▶ VAD ▶ ASR ▶ MT ▶ TTS ▶ output, one thread each.

Stages are joined by bounded queues. Silero VAD runs on 32 ms frames and ends an utterance after
a pause (`LiveConfig.pause_ms`); one that grows past `max_utterance_s` is cut at its quietest
frame. While an utterance goes on, its growing audio is re-transcribed every `partial_every_s`
(every `partial_soon_s` while a sentence end waits for a pass to confirm it) and the words two
consecutive passes agree on are committed (LocalAgreement-2): a committed sentence is translated
and spoken before the speaker stops. When the machine falls behind, it degrades
visibly: finished utterances waiting for ASR are merged, and a line whose speech would start more
than `max_lag_s` after it was spoken is shown but not spoken, each with a logged warning.
"""

from __future__ import annotations

import difflib
import logging
import queue
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from dubber.engines.base import Recognizer, Synthesizer, Translator
from dubber.engines.whisper import WhisperConfig, WhisperRecognizer
from dubber.live_io import RATE, AudioSource, PlacedTrack, SpeakerSink, StreamClock
from dubber.live_stats import LiveRecord
from dubber.pipeline import PipelineEngines
from dubber.subtitles import Cue, format_srt

log = logging.getLogger(__name__)

FRAME = 512  # Silero VAD frame at 16 kHz (32 ms)
_CONTEXT = 64  # samples of the previous frame Silero v5+ expects before each frame
_SENTENCE_END = re.compile(r"[.!?…][\"')\]]*$")


@dataclass(frozen=True)
class LiveConfig:
    """Endpointing, streaming and back-pressure settings."""

    pause_ms: int = 300  # silence that ends an utterance
    speculate_ms: int = 96  # silence after which ASR starts on the utterance, ahead of its end
    max_utterance_s: float = 12.0  # longer speech is cut at its quietest frame
    min_speech_ms: int = 250  # shorter bursts are ignored
    pad_ms: int = 160  # audio kept before the detected start of speech
    threshold: float = 0.5  # Silero speech probability that starts speech
    partial_every_s: float = 1.0  # re-transcribe a growing utterance this often
    partial_soon_s: float = 0.5  # ... or this soon when a sentence end waits for agreement
    queue_size: int = 4  # bound of every queue between stages
    max_lag_s: float = 6.0  # a line later than this after its speech ends is not spoken
    catch_up_rate: float = 1.25  # speaking rate while earlier speech is still playing
    beam_size: int = 1  # Whisper's and OPUS-MT's beams: greedy decoding for latency
    first_piece_chars: int = 60  # speech starts after this much text is synthesised
    vad_reset_ms: int = 800  # Silero's state is reset after this much non-speech


class SileroStream:
    """Silero VAD (the model faster-whisper ships) run frame by frame, keeping its state."""

    def __init__(self) -> None:
        import onnxruntime
        from faster_whisper.utils import get_assets_path

        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = options.intra_op_num_threads = 1
        options.log_severity_level = 4
        self._session = onnxruntime.InferenceSession(
            str(Path(get_assets_path()) / "silero_vad_v6.onnx"),
            providers=["CPUExecutionProvider"],
            sess_options=options,
        )
        self.reset()

    def reset(self) -> None:
        """Forget earlier audio."""
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._context = np.zeros((1, _CONTEXT), np.float32)

    def __call__(self, frame: np.ndarray) -> float:
        """Speech probability of one 512-sample frame."""
        window = np.concatenate([self._context, frame.reshape(1, FRAME)], axis=1)
        out, self._h, self._c = self._session.run(
            None, {"input": window.astype(np.float32), "h": self._h, "c": self._c}
        )
        self._context = window[:, -_CONTEXT:]
        return float(np.asarray(out).reshape(-1)[0])


@dataclass
class Partial:
    """The audio of an utterance still going on, for a LocalAgreement pass."""

    utterance: int
    start: int  # sample on the input's clock
    audio: np.ndarray
    speculative: bool = False  # speech has paused: likely the whole utterance


@dataclass
class Final:
    """A finished utterance (or several merged when ASR fell behind)."""

    utterance: int
    start: int
    end: int  # last sample of speech, before the pause
    endpoint_s: float
    audio: np.ndarray
    merged: int = 1


class Endpointer:
    """Turns 16 kHz audio into `Partial` and `Final` events with Silero VAD."""

    def __init__(self, config: LiveConfig, vad: SileroStream) -> None:
        self.config = config
        self._vad = vad
        self._pending = np.zeros(0, np.float32)
        self._position = 0  # samples seen
        self._preroll: deque[np.ndarray] = deque(
            maxlen=max(1, config.pad_ms * RATE // 1000 // FRAME)
        )
        self._frames: list[np.ndarray] = []
        self._probs: list[float] = []
        self._start = 0
        self._silence = 0
        self._since_partial = 0
        self._utterance = 0
        self._quiet = 0  # non-speech frames in a row while idle
        self.hurry = False  # set from the ASR thread: the next pass is wanted soon

    def feed(self, samples: np.ndarray, now: float) -> list[Partial | Final]:
        """Events the new audio completes; `now` is the input's clock."""
        data = np.concatenate([self._pending, samples])
        count = len(data) // FRAME
        self._pending = data[count * FRAME :]
        events: list[Partial | Final] = []
        for frame in data[: count * FRAME].reshape(count, FRAME):
            events.extend(self._step(frame, self._vad(frame), now))
            self._position += FRAME
        return events

    def flush(self, now: float) -> list[Final]:
        """End the utterance in progress (end of stream)."""
        return [self._finish(len(self._frames), now)] if self._long_enough() else []

    def _step(self, frame: np.ndarray, prob: float, now: float) -> list[Partial | Final]:
        cfg = self.config
        if not self._frames:
            if prob < cfg.threshold:
                self._preroll.append(frame)
                self._quiet += 1
                if self._quiet == _frames_in(cfg.vad_reset_ms):
                    self._vad.reset()  # a quiet voice after a loud one is missed otherwise
                return []
            self._quiet = 0
            self._start = self._position - FRAME * len(self._preroll)
            self._frames, self._probs = list(self._preroll), [0.0] * len(self._preroll)
            self._preroll.clear()
            self._silence = self._since_partial = 0
        self._frames.append(frame)
        self._probs.append(prob)
        self._since_partial += FRAME
        if prob >= cfg.threshold:
            self._silence = 0
        elif prob < cfg.threshold - 0.15:
            self._silence += FRAME
            if self._silence == _frames_in(cfg.speculate_ms) * FRAME and self._long_enough():
                audio = np.concatenate(self._frames)
                return [Partial(self._utterance, self._start, audio, speculative=True)]
        if self._silence >= cfg.pause_ms * RATE // 1000:
            if self._long_enough():
                return [self._finish(len(self._frames), now)]
            self._frames = []
            return []
        if len(self._frames) * FRAME >= cfg.max_utterance_s * RATE:
            half = len(self._probs) // 2
            cut = half + int(np.argmin(self._probs[half:]))
            return [self._finish(max(cut, 1), now)]
        every = cfg.partial_soon_s if self.hurry else cfg.partial_every_s
        if self._since_partial >= every * RATE:
            self._since_partial = 0
            return [Partial(self._utterance, self._start, np.concatenate(self._frames))]
        return []

    def _long_enough(self) -> bool:
        speech = len(self._frames) * FRAME - self._silence
        return bool(self._frames) and speech >= self.config.min_speech_ms * RATE // 1000

    def _finish(self, frames: int, now: float) -> Final:
        """Emit the first `frames` frames as a finished utterance; keep the rest going."""
        audio = np.concatenate(self._frames[:frames])
        trailing = self._silence if frames == len(self._frames) else 0
        event = Final(self._utterance, self._start, self._start + len(audio) - trailing, now, audio)
        self._utterance += 1
        self._start += len(audio)
        self._frames, self._probs = self._frames[frames:], self._probs[frames:]
        self._silence = self._since_partial = 0
        return event


def _frames_in(milliseconds: int) -> int:
    return max(1, milliseconds * RATE // 1000 // FRAME)


def merge(first: Final, second: Final) -> Final:
    """One utterance from two, with the silence between them shortened to 0.3 s."""
    gap = np.zeros(int(0.3 * RATE), np.float32)
    return Final(
        first.utterance,
        first.start,
        second.end,
        second.endpoint_s,
        np.concatenate([first.audio, gap, second.audio]),
        first.merged + second.merged,
    )


def _norm(word: str) -> str:
    return re.sub(r"[^\w']", "", word.lower())


@dataclass
class TimedWord:
    """A recognised word, timed in seconds from its utterance's first sample."""

    text: str
    start: float
    end: float


@dataclass
class LocalAgreement:
    """LocalAgreement-2 over the passes of one growing utterance: words two consecutive passes
    agree on are committed; a committed sentence followed by more committed words is ready."""

    previous: list[TimedWord] = field(default_factory=list)
    committed: list[TimedWord] = field(default_factory=list)
    spoken: int = 0  # committed words already handed on as lines
    heard_to: int = 0  # input sample the last pass heard up to
    first_caption_s: float | None = None

    def update(self, words: list[TimedWord]) -> list[TimedWord]:
        """Take a new pass; the words of complete sentences now safe to speak (maybe none)."""
        agreed = 0
        for old, new in zip(self.previous, words, strict=False):
            if _norm(old.text) != _norm(new.text):
                break
            agreed += 1
        if agreed > len(self.committed):
            self.committed = words[:agreed]
        self.previous = words
        ends = [
            i
            for i in range(self.spoken, len(self.committed) - 1)
            if _SENTENCE_END.search(self.committed[i].text)
        ]
        if not ends:
            return []
        piece = self.committed[self.spoken : ends[-1] + 1]
        self.spoken = ends[-1] + 1
        return piece

    def sentence_pending(self) -> bool:
        """Whether the last pass heard a sentence end not yet spoken: the pass that confirms it
        is worth running soon."""
        return any(_SENTENCE_END.search(w.text) for w in self.previous[self.spoken :])

    def rest(self, words: list[TimedWord]) -> list[TimedWord]:
        """The words of the final pass not already spoken (matched loosely by text)."""
        spoken = self.committed[: self.spoken]
        if not spoken:
            return words
        a, b = [_norm(w.text) for w in spoken], [_norm(w.text) for w in words]
        blocks = difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
        ends = [block.b + block.size for block in blocks if block.size]
        return words[max(ends) if ends else min(len(spoken), len(words)) :]


class Captions:
    """Where a session shows captions; the default shows nothing."""

    def partial(self, text: str) -> None:
        """English words of the utterance in progress."""

    def source(self, record: LiveRecord) -> None:
        """A finished English line."""

    def translation(self, record: LiveRecord) -> None:
        """Its Spanish translation."""


_DONE = None  # end-of-stream marker passed down the queues


class LiveSession:
    """One live run over an audio source; `run()` blocks until the source ends or `stop()`."""

    def __init__(
        self,
        engines: PipelineEngines,
        config: LiveConfig | None = None,
        *,
        speakers: SpeakerSink | None = None,
        track: PlacedTrack | None = None,
        srt_base: Path | None = None,
        captions: Captions | None = None,
    ) -> None:
        self.config = config or LiveConfig()
        self.engines = engines
        self._final_asr = live_recognizer(engines.recognizer, self.config, words=False)
        self._partial_asr = live_recognizer(engines.recognizer, self.config, words=True)
        self._translator = live_translator(engines.translator, self.config)
        self._voice: Synthesizer = engines.voices.for_pitch(None)[0]
        self._vad = SileroStream()
        self.speakers, self.track, self.srt_base = speakers, track, srt_base
        self.captions = captions or Captions()
        self.records: list[LiveRecord] = []
        self.warnings: list[str] = []
        self.peak_queue: dict[str, int] = {}
        self.input_seconds = 0.0
        self._queues = {
            name: queue.Queue(maxsize=self.config.queue_size if name != "capture" else 64)
            for name in ("capture", "asr", "mt", "tts", "output")
        }
        self._abort = threading.Event()
        self._errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._source: AudioSource | None = None
        self.clock = StreamClock()
        self._endpointer = Endpointer(self.config, self._vad)
        self._free_at = 0.0  # input time when the speech already placed finishes playing

    def warm_up(self) -> None:
        """Run every model once so the first utterance does not pay for lazy initialisation."""
        noise = np.random.default_rng(0).normal(0, 0.01, RATE).astype(np.float32)
        self._vad(noise[:FRAME])
        self._vad.reset()
        for recognizer in (self._final_asr, self._partial_asr):
            list(recognizer.transcribe(noise)[0])
        self._translator.translate(["Good morning, everyone."])
        self._voice.synthesize("Buenos días a todos.")

    def run(self, source: AudioSource, speed: float = 1.0) -> list[LiveRecord]:
        """Listen to `source` until it ends (or `stop()`); the lines spoken, in order."""
        self._source = source
        self.clock = StreamClock(speed)
        stages: list[tuple[str, Callable[[], None]]] = [
            ("capture", self._capture),
            ("vad", self._endpoint),
            ("asr", self._recognise),
            ("mt", self._translate),
            ("tts", self._speak),
            ("output", self._output),
        ]
        threads = [
            threading.Thread(target=self._guard, args=(work,), name=f"live-{name}", daemon=True)
            for name, work in stages
        ]
        self.clock.start()
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.2)
        except KeyboardInterrupt:
            log.warning("stopping: finishing the lines already heard")
            self.stop()
            for thread in threads:
                thread.join()
        if self._errors:
            raise self._errors[0]
        return self.records

    def stop(self) -> None:
        """Stop listening; lines already heard are still translated and spoken."""
        if self._source is not None:
            self._source.stop()

    # ---- stages -------------------------------------------------------------------------

    def _guard(self, work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as error:  # surfaced by run(); the other stages wind down
            self._errors.append(error)
            self._abort.set()
            self.stop()

    def _put(self, name: str, item: object) -> None:
        """Put, waiting while the queue is full (back-pressure) unless the session aborts."""
        target = self._queues[name]
        while not self._abort.is_set():
            try:
                target.put(item, timeout=0.1)
            except queue.Full:
                continue
            self.peak_queue[name] = max(self.peak_queue.get(name, 0), target.qsize())
            return

    def _get(self, name: str) -> object:
        while not self._abort.is_set():
            try:
                return self._queues[name].get(timeout=0.1)
            except queue.Empty:
                continue
        return _DONE

    def _warn(self, message: str) -> None:
        with self._lock:
            self.warnings.append(message)
        log.warning(message)

    def _capture(self) -> None:
        assert self._source is not None
        for chunk in self._source.chunks(self.clock):
            self.input_seconds += len(chunk) / RATE
            try:
                self._queues["capture"].put_nowait(chunk)
            except queue.Full:
                self._warn("falling behind real time: VAD is late, dropping 32 ms of audio")
            self.peak_queue["capture"] = max(
                self.peak_queue.get("capture", 0), self._queues["capture"].qsize()
            )
        self._put("capture", _DONE)

    def _endpoint(self) -> None:
        endpointer = self._endpointer
        waiting: Final | None = None  # a finished utterance the full ASR queue could not take
        while (chunk := self._get("capture")) is not _DONE:
            for event in endpointer.feed(chunk, self.clock.now()):
                if isinstance(event, Partial):
                    if waiting is None:
                        self._offer(event)
                    continue
                if waiting is not None:
                    event = merge(waiting, event)
                    self._warn(
                        f"falling behind real time: ASR is busy, merged {event.merged} "
                        "utterances into one"
                    )
                waiting = event if not self._offer(event) else None
            if waiting is not None and self._offer(waiting):
                waiting = None
        for event in ([waiting] if waiting else []) + endpointer.flush(self.clock.now()):
            self._put("asr", event)
        self._put("asr", _DONE)

    def _offer(self, event: Partial | Final) -> bool:
        try:
            self._queues["asr"].put_nowait(event)
        except queue.Full:
            return False
        self.peak_queue["asr"] = max(self.peak_queue.get("asr", 0), self._queues["asr"].qsize())
        return True

    def _recognise(self) -> None:
        states: dict[int, LocalAgreement] = {}
        while (event := self._get("asr")) is not _DONE:
            state = states.setdefault(event.utterance, LocalAgreement())
            if isinstance(event, Partial):
                if not self._queues["asr"].empty():
                    continue  # a newer pass is already waiting
                if event.speculative:
                    state.previous = transcribe_words(self._final_asr, event.audio)
                    state.heard_to = event.start + len(event.audio)
                else:
                    self._agree(event, state)
                continue
            del states[event.utterance]
            self._endpointer.hurry = False
            self._conclude(event, state)
        self._put("mt", _DONE)

    def _agree(self, event: Partial, state: LocalAgreement) -> None:
        words = transcribe_words(self._partial_asr, event.audio)
        piece = state.update(words)
        self._endpointer.hurry = state.sentence_pending()
        state.heard_to = event.start + len(event.audio)
        now = self.clock.now()
        first_line = state.first_caption_s is None or state.spoken == len(piece)
        if state.first_caption_s is None and words:
            state.first_caption_s = now
        self.captions.partial(" ".join(w.text for w in words))
        if piece:
            origin = event.start / RATE
            self._emit_line(
                " ".join(w.text for w in piece),
                origin + piece[0].start,
                origin + piece[-1].end,
                now,
                state.first_caption_s if first_line else now,
                committed_early=True,
            )

    def _conclude(self, event: Final, state: LocalAgreement) -> None:
        if state.heard_to >= event.end and state.heard_to > 0:
            words = state.previous  # the speculative pass already heard all of the speech
            log.debug("line from the speculative pass of utterance %d", event.utterance)
        else:
            words = transcribe_words(self._final_asr, event.audio)
        now = self.clock.now()
        text = " ".join(w.text for w in state.rest(words)).strip()
        if not text:
            return
        start = event.start / RATE
        if state.spoken:
            start = min(max(start, self.records[-1].speech_end_s), event.end / RATE)
        caption = state.first_caption_s if state.first_caption_s is not None else now
        self._emit_line(text, start, event.end / RATE, event.endpoint_s, caption)
        self.captions.partial("")

    def _emit_line(
        self,
        text: str,
        start: float,
        end: float,
        endpoint: float,
        caption: float,
        *,
        committed_early: bool = False,
    ) -> None:
        now = self.clock.now()
        record = LiveRecord(
            index=len(self.records) + 1,
            speech_start_s=start,
            speech_end_s=min(end, endpoint),
            endpoint_s=endpoint,
            first_caption_s=min(caption, now),
            asr_s=now,
            source=text,
            committed_early=committed_early,
        )
        with self._lock:
            self.records.append(record)
        self.captions.source(record)
        self._put("mt", record)

    def _translate(self) -> None:
        done = False
        while not done:
            batch = [self._get("mt")]
            while batch[-1] is not _DONE:  # translate whatever else is waiting in one call
                try:
                    batch.append(self._queues["mt"].get_nowait())
                except queue.Empty:
                    break
            done = batch[-1] is _DONE
            records = [r for r in batch if r is not _DONE]
            if not records:
                continue
            translations = self._translator.translate([r.source for r in records])
            now = self.clock.now()
            for record, translation in zip(records, translations, strict=True):
                record.translation, record.mt_s = translation.text, now
                self.captions.translation(record)
                self._put("tts", record)
        self._put("tts", _DONE)

    def _speak(self) -> None:
        while (record := self._get("tts")) is not _DONE:
            if self._too_late(record, self.clock.now(), "before speech synthesis"):
                continue
            behind = self._free_at > self.clock.now()
            rate = self.config.catch_up_rate if behind else 1.0
            for number, piece in enumerate(_speech_pieces(record.translation, self.config)):
                speech = self._voice.synthesize(piece, rate=rate)
                if number == 0:
                    record.tts_s = self.clock.now()
                self._put("output", (record, speech.samples))
        self._put("output", _DONE)

    def _too_late(self, record: LiveRecord, start: float, where: str) -> bool:
        lag = start - record.speech_end_s
        if lag <= self.config.max_lag_s:
            return False
        record.dropped = f"{lag:.1f} s behind {where}"
        self._warn(
            f"falling behind real time: line {record.index} would start {lag:.1f} s after its"
            " speech; shown but not spoken"
        )
        return True

    def _output(self) -> None:
        rate = self._voice.sample_rate
        while (item := self._get("output")) is not _DONE:
            record, samples = item
            start = max(self.clock.now(), self._free_at)
            if record.dropped or (
                record.first_audio_s is None and self._too_late(record, start, "at playback")
            ):
                continue
            if record.first_audio_s is None:
                record.first_audio_s = start
            record.audio_seconds = start + len(samples) / rate - record.first_audio_s
            self._free_at = start + len(samples) / rate
            if self.track is not None:
                self.track.place(start, samples)
            if self.speakers is not None:
                self.speakers.write(samples)
            self._write_subtitles()

    def _write_subtitles(self) -> None:
        if self.srt_base is None:
            return
        from dubber.fsutil import atomic_write_text

        spoken = [r for r in list(self.records) if r.first_audio_s is not None]
        english = [Cue(r.speech_start_s, r.speech_end_s, r.source) for r in spoken]
        spanish = [
            Cue(r.first_audio_s, r.first_audio_s + r.audio_seconds, r.translation) for r in spoken
        ]
        for language, cues in (("en", english), ("es", spanish)):
            atomic_write_text(subtitle_path(self.srt_base, language), format_srt(cues))


def subtitle_path(base: Path, language: str) -> Path:
    """`talk.srt` -> `talk.en.srt` / `talk.es.srt`."""
    return base.with_name(f"{base.stem}.{language}.srt")


def _speech_pieces(text: str, config: LiveConfig) -> list[str]:
    """A short first piece (so speech starts sooner), then the rest in sentence-sized pieces."""
    from dubber.text import chunk_text

    pieces = chunk_text(text, config.first_piece_chars) if text.strip() else []
    if len(pieces) <= 1:
        return pieces
    return [pieces[0], *chunk_text(" ".join(pieces[1:]), 4 * config.first_piece_chars)]


def live_translator(translator: Translator, config: LiveConfig) -> Translator:
    """The same loaded OPUS-MT model with the live beam (other engines as they are)."""
    from dubber.engines.opusmt import OpusMTTranslator

    if not isinstance(translator, OpusMTTranslator):
        return translator
    return translator.with_config(replace(translator.config, beam_size=config.beam_size))


def live_recognizer(recognizer: Recognizer, config: LiveConfig, *, words: bool) -> Recognizer:
    """The same loaded Whisper model with live decoding options (no VAD: audio is one utterance);
    a remote recogniser as it is."""
    if not isinstance(recognizer, WhisperRecognizer):
        return recognizer
    options = WhisperConfig(beam_size=config.beam_size, vad=False, word_timestamps=words)
    return recognizer.with_config(options)


def transcribe_words(recognizer: Recognizer, audio: np.ndarray) -> list[TimedWord]:
    """The words of one utterance, timed when the recogniser gives word timestamps."""
    segments, _ = recognizer.transcribe(audio)
    words: list[TimedWord] = []
    for segment in segments:
        if segment.words:
            words.extend(TimedWord(w.text, w.start, w.end) for w in segment.words)
        else:
            words.extend(TimedWord(w, segment.start, segment.end) for w in segment.text.split())
    return words
