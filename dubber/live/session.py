"""Live speech-to-speech translation: capture ▶ VAD ▶ ASR ▶ MT ▶ TTS ▶ output, one thread each.

Stages are joined by bounded queues. The endpointer (`live_endpoint`) turns audio into utterance
events; while an utterance goes on, its growing audio is re-transcribed and the words two
consecutive passes agree on are committed (`live_agreement`): a committed sentence is translated
and spoken before the speaker stops, and a heard sentence end asks the endpointer for the
confirming pass sooner. When the machine falls behind, it degrades visibly: finished utterances
waiting for ASR are merged, and a line whose speech would start more than `max_lag_s` after it was
spoken is shown but not spoken, each with a logged warning.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from dubber.engines.load import PipelineEngines
from dubber.engines.types import Recognizer, Translator
from dubber.engines.whisper import WhisperConfig, WhisperRecognizer
from dubber.live.agreement import LocalAgreement, transcribe_words
from dubber.live.endpoint import FRAME, Endpointer, Final, LiveConfig, Partial, SileroStream, merge
from dubber.live.sources import RATE, AudioSource, PlacedTrack, SpeakerSink, StreamClock
from dubber.live.stats import LiveRecord
from dubber.media.dsp import estimate_pitch
from dubber.media.subtitles import Cue, format_srt

log = logging.getLogger(__name__)


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
        self._voice_id: str | None = None  # the voice of the last line spoken
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
        self.engines.voices.for_pitch(None)[0].synthesize("Buenos días a todos.")

    def run(self, source: AudioSource, speed: float = 1.0) -> list[LiveRecord]:
        """Listen to `source` until it ends (or `stop()`); the lines spoken, in order."""
        self._source = source
        self.clock = StreamClock(speed)
        self._endpointer = Endpointer(self.config, self._vad)  # each run starts from silence
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
            spoken = event.audio[int(piece[0].start * RATE) : int(piece[-1].end * RATE)]
            self._emit_line(
                " ".join(w.text for w in piece),
                spoken,
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
        self._emit_line(text, event.audio, start, event.end / RATE, event.endpoint_s, caption)
        self.captions.partial("")

    def _emit_line(
        self,
        text: str,
        audio: np.ndarray,
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
            pitch_hz=estimate_pitch(audio, RATE),
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
            voice, record.voice, _ = self.engines.voices.for_pitch(record.pitch_hz, self._voice_id)
            self._voice_id = record.voice
            for number, piece in enumerate(_speech_pieces(record.translation, self.config)):
                speech = voice.synthesize(piece, rate=rate)
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
        rate = self.engines.voices.sample_rate
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
