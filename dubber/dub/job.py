"""One file's dub: media in, the same media with a Spanish voice track out, in sync.

decode -> recognise (+VAD, words) -> lines -> translate (n-best) -> choose by length -> speak ->
fit to slots -> duck and mix -> mux, plus SRT/VTT and the dub document. Recognition runs in its
own thread: translation and the first take of each line's speech happen while it goes on. Audio
tracks live on disk, so memory stays flat with the input's length.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from dubber.chain.cast import (
    CastMember,
    VoicePrints,
    apply_voice_map,
    assign_voices,
    voice_lines,
)
from dubber.chain.fit import FitOutcome, FitRules
from dubber.chain.glossary import Glossary
from dubber.chain.grouping import GroupingRules, SpeakerOf
from dubber.chain.line import Line
from dubber.chain.options import NBEST
from dubber.chain.speak import Speaker, measure_pitch
from dubber.chain.transcribe import recognise_lines
from dubber.chain.translate import shorten_lines, translate_lines
from dubber.dub.document import DubDocument
from dubber.dub.flags import flag_lines
from dubber.dub.outputs import OutputPaths
from dubber.dub.work import LastMix, WorkFolder
from dubber.engines.bundle import Engines
from dubber.engines.voice import Voice
from dubber.errors import UsageError
from dubber.inputs import read_text
from dubber.media.decode import AUDIO_RATE, MappedAudio
from dubber.media.dsp import estimate_pitch
from dubber.media.mix import DubTrack, MixRules, RawAudio, duck_gain, write_gain
from dubber.media.mux import SubtitleTrack, mux_dub
from dubber.media.patch import (
    can_patch,
    changed_frames,
    changed_spans,
    frames_seconds,
    patch_dub,
)
from dubber.media.probe import MediaInfo
from dubber.media.subtitles import format_srt, format_vtt, parse_srt
from dubber.outputs import staged
from dubber.speakers.diarize import Turn, speaker_at

log = logging.getLogger(__name__)

TRANSLATION_BATCH = 16
PATCH_MARGIN_S = 0.5  # around a change of the voice or the ducking: splices fall in the same sound
PATCH_AT_MOST = 0.5  # of the file's length; a re-dub that changes more is mixed whole
_DONE = object()


class Stage(str, Enum):
    """The stages of a dub, as progress and the summary name them."""

    recognise = "recognise"
    translate = "translate"
    speak = "speak"
    mix = "mix"


Progress = Callable[[Stage, float, float | None], None]  # stage, completed, total


@dataclass(frozen=True, kw_only=True)
class DubOptions:
    """Everything that shapes one dub besides the engines."""

    target_language: str = "es"
    source_language: str = "en"
    nbest: int = NBEST.default
    fit: FitRules = FitRules()
    mix: MixRules = MixRules()
    grouping: GroupingRules = GroupingRules()
    keep_original_audio: bool = False
    glossary: Glossary | None = None
    resume: bool = False
    document: Path | None = None  # an edited NAME.dub.json to dub from
    from_srt: Path | None = None
    speakers: int | None = None  # how many speakers diarization finds (None: it counts them)
    voice_map: dict[str, Voice] | None = None  # speaker (label or name) -> voice
    speaker_labels: bool = False  # subtitles name the speaker where the speaker changes

    @property
    def recognises(self) -> bool:
        """Whether dubs recognise speech (not when the text comes from a document or SRT)."""
        return self.document is None and self.from_srt is None


@dataclass
class DubReport:
    """What a dub did and how long each stage took."""

    outputs: OutputPaths
    document: DubDocument
    seconds: dict[Stage, float] = field(default_factory=dict)
    synthesized: int = 0
    reused: int = 0
    wall_seconds: float = 0.0
    remixed: float = 0.0  # seconds of the dub track mixed and encoded (all, unless patched)
    diarize_seconds: float = 0.0  # of the recognise stage, telling the speakers apart

    @property
    def real_time_factor(self) -> float:
        """Wall time of the whole job over the input's duration (stages overlap)."""
        return self.wall_seconds / self.document.duration

    def count(self, fit: FitOutcome) -> int:
        """Lines fitted the given way."""
        return sum(line.fit is fit for line in self.document.lines)

    @property
    def max_speedup(self) -> float:
        """Largest rate x stretch applied to any line."""
        return max((line.speedup for line in self.document.lines), default=1.0)

    @property
    def flagged(self) -> int:
        """Lines the dub flagged for an editor."""
        return sum(bool(line.flags) for line in self.document.lines)

    def add_time(self, stage: Stage, seconds: float) -> None:
        """Count `seconds` towards a stage."""
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def summary(self) -> dict[str, Any]:
        """The summary table's figures and the files written, for `dub --json`."""
        lines = self.document.lines
        return {
            "media": str(self.outputs.media),
            "document": str(self.outputs.document),
            "subtitles": {kind: str(path) for kind, path in self.outputs.subtitles.items()},
            "engines": {
                "asr": self.document.asr_model,
                "mt": self.document.translator,
                "tts": self.document.voice,
            },
            "audio_seconds": round(self.document.duration, 3),
            "seconds": {stage.value: round(self.seconds.get(stage, 0.0), 3) for stage in Stage},
            "wall_seconds": round(self.wall_seconds, 3),
            "real_time_factor": round(self.real_time_factor, 4),
            "lines": len(lines),
            "fit": {outcome.value: self.count(outcome) for outcome in FitOutcome},
            "max_speedup": round(self.max_speedup, 3),
            "flagged": self.flagged,
            "speakers": len(self.document.speakers),
            "diarize_seconds": round(self.diarize_seconds, 3),
            "spoken": self.synthesized,
            "reused": self.reused,
        }


class DubJob:
    """The dub of one file, with the engines loaded once for every file of a batch; its work
    folder keeps finished stages for --resume and post-edits."""

    def __init__(
        self,
        engines: Engines,
        options: DubOptions,
        media: MediaInfo,
        outputs: OutputPaths,
        work_root: Path,
        progress: Progress,
        given: DubDocument | None = None,
        prints: VoicePrints | None = None,
    ) -> None:
        """`given` is `given_document(options, media)` when the caller has read it already;
        `prints` are the speakers of the batch so far (one speaker keeps a label and a voice
        from file to file)."""
        if not media.has_audio:
            raise UsageError(f"{media.path} has no audio stream to dub")
        self.engines, self.options, self.media = engines, options, media
        self.progress = progress
        self.work = WorkFolder(work_root, media.path)
        self.speaker = Speaker(engines.voices, options.fit, cache=self.work)
        self.prints = prints or VoicePrints(engines.voices.styles)
        document = DubDocument(
            media=str(media.path),
            duration=media.duration,
            source_language=options.source_language,
            target_language=options.target_language,
            asr_model=engines.asr_model,
            translator=engines.translator.name,
            voice=engines.voices.describe(),
        )
        self.report = DubReport(outputs, document)
        self._prepared = False  # the document is made (by prepare_together)
        self.given = given if given is not None else given_document(options, media)

    def run(self) -> DubReport:
        """Dub the file into its outputs; nothing is written there unless the whole job works."""
        began = time.perf_counter()
        report = self.report
        if not self._prepared:
            report.document = self._document()
        if not report.document.lines:
            raise UsageError(f"no speech found in {self.media.path}")
        started = time.perf_counter()
        track = DubTrack(
            self.work.path / "dub.f32", self.media.duration, self.engines.voices.sample_rate
        )
        self._speak(track)
        report.add_time(Stage.speak, time.perf_counter() - started)
        started = time.perf_counter()
        self._write(track.close())
        report.add_time(Stage.mix, time.perf_counter() - started)
        report.synthesized, report.reused = (
            self.speaker.counts.synthesized,
            self.speaker.counts.reused,
        )
        report.wall_seconds = time.perf_counter() - began
        return report

    # -- recognition and translation ------------------------------------------------------------

    def _document(self) -> DubDocument:
        """The document to speak: edited, from subtitles, resumed, or recognised and translated."""
        if (given := self._given_document()) is not None:
            return given
        audio = self._audio()
        return self._spoken(self._recognise_and_translate(audio))

    def _given_document(self) -> DubDocument | None:
        """The document when it need not be recognised: edited, from subtitles, or resumed."""
        if self.given is not None:
            self.given.voice = self.engines.voices.describe()
            self._cast_voices(self.given)
            return self.given
        if self.options.resume:
            if saved := self.work.load_document():
                log.info("resuming: reusing recognition and translation from %s", self.work.path)
                return saved
            log.info("resuming: recognition starts again; speech already made is reused")
        return None

    def _audio(self) -> MappedAudio:
        """The input's audio, checked to be in the source language."""
        audio = MappedAudio(self.media.path, self.work.path / "audio.f32")
        self.engines.check_language(
            audio.samples, str(self.media.path), self.options.source_language
        )
        return audio

    def _spoken(self, lines: Iterable[Line]) -> DubDocument:
        """The document of the translated `lines`, each with the first take of its speech,
        saved for --resume."""
        document = self.report.document
        for line in lines:
            started = time.perf_counter()
            spoken = document.lines
            self.speaker.first_take(line, spoken[-1].voice if spoken else None)
            spoken.append(line)
            self.report.add_time(Stage.speak, time.perf_counter() - started)
        self.work.save_document(document)
        return document

    def _recognise_and_translate(self, audio: MappedAudio) -> Iterator[Line]:
        """Recognition in a thread feeding lines to translation here, batch by batch; the thread
        is stopped and joined before this returns, however it ends."""
        handoff: queue.Queue = queue.Queue(maxsize=4 * TRANSLATION_BATCH)
        failure: list[BaseException] = []
        stop = threading.Event()

        def recognise() -> None:
            started = time.perf_counter()
            try:
                for line in self._lines(audio.samples):
                    while not stop.is_set():
                        try:
                            handoff.put(line, timeout=0.1)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
            except BaseException as error:  # handed to the main thread
                failure.append(error)
            finally:
                self.report.add_time(Stage.recognise, time.perf_counter() - started)
                handoff.put(_DONE)

        worker = threading.Thread(target=recognise, name="dubber-asr", daemon=True)
        worker.start()
        try:
            yield from self._translate_batches(handoff, audio)
        finally:
            _stop_and_join(worker, stop, handoff)
        if failure:
            raise failure[0]

    def _translate_batches(self, handoff: queue.Queue, audio: MappedAudio) -> Iterator[Line]:
        """Translate what recognition hands over, a batch at a time; the audio before a
        translated batch is let go."""
        done, count = False, 0
        while not done:
            batch = [handoff.get()]
            while not handoff.empty() and len(batch) < TRANSLATION_BATCH:
                batch.append(handoff.get())
            if batch[-1] is _DONE:
                batch.pop()
                done = True
            if batch:
                translate_together([Recognised(self, batch, audio.samples)])
                audio.release(round(batch[-1].end * AUDIO_RATE))
                count += len(batch)
                self.progress(Stage.translate, count, None)
                yield from batch

    def _recognised(self) -> Recognised | None:
        """The file's recognised lines, not yet translated, with its audio; None when its
        document is given (edited, from subtitles, resumed)."""
        if (given := self._given_document()) is not None:
            self.report.document, self._prepared = given, True
            return None
        audio = self._audio().samples
        started = time.perf_counter()
        lines = list(self._lines(audio))
        self.report.add_time(Stage.recognise, time.perf_counter() - started)
        return Recognised(self, lines, audio)

    def _lines(self, audio: np.ndarray) -> Iterator[Line]:
        """The recognised lines of `audio`, as recognition goes, with its progress; with a
        diarizer, each line one speaker's and spoken with that speaker's voice."""
        speaker_of = self._diarize(audio)
        lines = recognise_lines(
            self.engines.recognizer,
            audio,
            language=self.options.source_language,
            grouping=self.options.grouping,
            on_progress=lambda done, _: self.progress(Stage.recognise, done, self.media.duration),
            speaker_of=speaker_of,
        )
        for line in lines:
            voice_lines([line], self.report.document.speakers)
            yield line

    def _diarize(self, audio: np.ndarray) -> SpeakerOf | None:
        """Tell the speakers apart (unless there is no diarizer or one speaker is asked for):
        the document's cast, each speaker with a voice of their own; who speaks when."""
        diarizer = self.engines.diarizer
        if diarizer is None or self.options.speakers == 1:
            return None
        started = time.perf_counter()
        turns = diarizer.diarize(audio, self.options.speakers)
        self.report.diarize_seconds = time.perf_counter() - started
        if len({turn.speaker for turn in turns}) < 2 and not self.options.voice_map:
            return None  # one speaker: voiced by pitch, line by line, as without diarization
        document = self.report.document
        labels: dict[int, str] = {}  # diarization's speaker numbers -> the batch's labels
        for number in dict.fromkeys(turn.speaker for turn in turns):
            speech = _speech_of(audio, turns, number)
            label = self.prints.identify(
                diarizer.embed(speech), estimate_pitch(speech, AUDIO_RATE), labels.values()
            )
            labels[number] = label
            known = self.prints.cast[label]
            document.speakers[label] = CastMember(label, known.name, known.voice, known.pitch_hz)
        self._cast_voices(document)
        cast = ", ".join(f"{m.name}={m.voice}" for m in document.speakers.values())
        log.info("%d speakers: %s", len(document.speakers), cast)
        return functools.partial(_speaker_between, turns, labels)

    def _cast_voices(self, document: DubDocument) -> None:
        """The voice map's voices, then a distinct voice for every other speaker; each line of a
        speaker with a voice is spoken with it."""
        styles = self.engines.voices.styles
        if self.options.voice_map:
            apply_voice_map(document.speakers, self.options.voice_map, styles)
        assign_voices(document.speakers, styles)
        voice_lines(document.lines, document.speakers)

    @classmethod
    def prepare_together(cls, jobs: Sequence[DubJob]) -> None:
        """Recognise every job's file, then translate all their lines in one call (short files
        alone make batches too small for a batched translator), and make their documents."""
        recognised = [found for job in jobs if (found := job._recognised()) is not None]
        translate_together(recognised)
        if recognised:
            count = sum(len(found.lines) for found in recognised)
            recognised[0].job.progress(Stage.translate, count, count)
        for found in recognised:
            found.job.report.document = found.job._spoken(found.lines)
            found.job._prepared = True

    # -- speech and fitting ---------------------------------------------------------------------

    def _speak(self, track: DubTrack) -> None:
        """Fit each line into its slot (re-speaking faster where needed) and place it."""
        lines, rules, glossary = self.report.document.lines, self.options.fit, self.options.glossary
        previous_end = None
        for position, line in enumerate(lines):
            previous = lines[position - 1].voice if position else None
            following = (
                lines[position + 1].start if position + 1 < len(lines) else self.media.duration
            )
            start = (
                line.start if previous_end is None else max(line.start, previous_end + rules.gap)
            )
            window = max(following - rules.gap - start, 0.05)
            fitted = self.speaker.fit(line, start, window, previous)
            if glossary and (missing := glossary.missing(line.source, line.translation)):
                log.warning(
                    "line %d: glossary terms missing from the translation: %s", line.index, missing
                )
            previous_end = line.placed_end
            track.add(start, fitted.samples)
            self.progress(Stage.speak, position + 1, len(lines))

    # -- output ---------------------------------------------------------------------------------

    def _write(self, voice: RawAudio) -> None:
        """Mux the media and write the subtitles and the document beside their final names,
        then put them all in place together: a dub's outputs appear whole or not at all."""
        document, outputs, opts = self.report.document, self.report.outputs, self.options
        regions = [(line.placed_start, line.placed_end) for line in document.lines]
        gain_path = self.work.path / "gain.f32"
        gain = write_gain(gain_path, duck_gain(regions, document.duration, opts.mix))
        cues = document.subtitles(self.options.speaker_labels)
        last, frames = self._patch_plan(voice, gain)
        self.progress(Stage.mix, 1, 2)
        with staged(outputs.all()) as temps:
            for name, path in outputs.subtitles.items():
                language, ext = name.split(".")
                render = format_srt if ext == "srt" else format_vtt
                temps[path].write_text(render(cues[language]), encoding="utf-8")
            tracks = [
                SubtitleTrack(temps[outputs.subtitles[f"{lang}.srt"]], lang)
                for lang in (opts.target_language, opts.source_language)
                if cues[lang]
            ]
            if last is not None:
                patch_dub(
                    self.media, outputs.media, voice, gain, last.gain_db, frames,
                    temps[outputs.media], opts.target_language, tracks, self.work.path,
                    keep_original_audio=opts.keep_original_audio,
                    source_language=opts.source_language,
                )  # fmt: skip
                gain_db, self.report.remixed = last.gain_db, frames_seconds(frames)
            else:
                gain_db = mux_dub(
                    self.media, voice, gain, temps[outputs.media], opts.target_language, tracks,
                    keep_original_audio=opts.keep_original_audio,
                    source_language=opts.source_language,
                )  # fmt: skip
                self.report.remixed = document.duration
            document.spoken_edits = len(document.history)  # this dub speaks every edit so far
            flag_lines(document.lines, opts.target_language)
            temps[outputs.document].write_text(document.to_json(), encoding="utf-8")
        self.work.keep_mix(voice, gain, gain_db, outputs.media, opts.keep_original_audio)
        self.progress(Stage.mix, 2, 2)

    def _patch_plan(self, voice: RawAudio, gain: RawAudio) -> tuple[LastMix | None, list[range]]:
        """The last mix and the frames of the dub track a re-dub must encode again, when the
        output is still the file the last dub from this work folder wrote and patching it is
        worth it; else (None, []): the dub is mixed and muxed whole."""
        outputs, keep = self.report.outputs, self.options.keep_original_audio
        last = self.work.last_mix(outputs.media)
        if (
            last is None
            or last.keep_original_audio != keep
            or not can_patch(outputs.media, self.media)
        ):
            return None, []
        spans = changed_spans(last.voice, voice) + changed_spans(last.gain, gain)
        padded = [(start - PATCH_MARGIN_S, end + PATCH_MARGIN_S) for start, end in spans]
        frames = changed_frames(padded, self.media.duration)
        seconds = frames_seconds(frames)
        if seconds > PATCH_AT_MOST * self.media.duration:
            return None, []
        log.info("re-dub: %.1f of %.1f s of the dub track change", seconds, self.media.duration)
        return last, frames


@dataclass
class Recognised:
    """A job's recognised lines waiting for translation, and the audio they were heard in."""

    job: DubJob
    lines: list[Line]
    audio: np.ndarray


def translate_together(recognised: Sequence[Recognised]) -> None:
    """Translate the lines of one or more jobs in one translator call; each line gets its pitch
    (for its voice), and lines that cannot fit their slots are asked, again in one call, for
    shorter translations. The time is shared out among the jobs by their lines."""
    lines = [line for found in recognised for line in found.lines]
    if not lines:
        return
    engines, options = recognised[0].job.engines, recognised[0].job.options
    started = time.perf_counter()
    translate_lines(
        lines, engines.translator, glossary=options.glossary, num_hypotheses=options.nbest
    )
    wanted: list[tuple[Line, int]] = []
    for found in recognised:
        for line in found.lines:
            measure_pitch(line, found.audio)
            if (target := found.job.speaker.syllables_to_fit(line)) is not None:
                wanted.append((line, target))
    if wanted:
        shorten_lines(
            [line for line, _ in wanted], [target for _, target in wanted],
            engines.translator, glossary=options.glossary, num_hypotheses=options.nbest,
        )  # fmt: skip
    seconds = time.perf_counter() - started
    for found in recognised:
        found.job.report.add_time(Stage.translate, seconds * len(found.lines) / len(lines))


def _speaker_between(
    turns: Sequence[Turn], labels: dict[int, str], start: float, end: float
) -> str | None:
    """The label of who speaks most from `start` to `end`."""
    speaker = speaker_at(turns, start, end)
    return None if speaker is None else labels[speaker]


def _speech_of(
    audio: np.ndarray, turns: Sequence[Turn], speaker: int, seconds: float = 30.0
) -> np.ndarray:
    """The speaker's first `seconds` of speech."""
    pieces, length = [], 0
    for turn in turns:
        if turn.speaker == speaker and length < seconds * AUDIO_RATE:
            piece = audio[round(turn.start * AUDIO_RATE) : round(turn.end * AUDIO_RATE)]
            pieces.append(piece)
            length += len(piece)
    return np.concatenate(pieces)


def _stop_and_join(worker: threading.Thread, stop: threading.Event, handoff: queue.Queue) -> None:
    """Stop the recognition thread and wait for it, even through more Ctrl-C: a thread left
    inside CTranslate2 when the interpreter exits aborts the process."""
    stop.set()
    while worker.is_alive():
        try:
            handoff.get(timeout=0.1)  # make room so the worker can hand over its end and stop
        except queue.Empty:
            continue
        except KeyboardInterrupt:
            log.warning("stopping recognition; one moment")
    worker.join()


def _check_inside(lines: list[Line], media: MediaInfo, source: Path) -> None:
    """Refuse lines timed after the end of the media: the text belongs to another file."""
    for number, line in enumerate(lines, start=1):
        if line.start >= media.duration:
            raise UsageError(
                f"{source}: line {number} starts at {line.start:.1f} s, after the end of "
                f"{media.path.name} ({media.duration:.1f} s): is it the text of another file?"
            )


def given_document(options: DubOptions, media: MediaInfo) -> DubDocument | None:
    """The document to dub `media` from when the text is given (an edited document or
    subtitles), read and checked against the media; None when speech is recognised."""
    if options.document:
        edited = DubDocument.load(options.document)
        _check_inside(edited.lines, media, options.document)
        return edited
    if options.from_srt:
        return DubDocument(
            media=str(media.path),
            duration=media.duration,
            source_language=options.source_language,
            target_language=options.target_language,
            translator=f"subtitles:{options.from_srt.name}",
            lines=_lines_from_srt(options.from_srt, media),
        )
    return None


def _lines_from_srt(path: Path, media: MediaInfo) -> list[Line]:
    try:
        cues = parse_srt(read_text(path, "subtitles"))
    except ValueError as error:
        raise UsageError(f"cannot read subtitles {path}: {error}") from None
    lines = [
        Line(i, c.start, min(c.end, media.duration), "", translation=c.text)
        for i, c in enumerate(cues)
    ]
    _check_inside(lines, media, path)
    return lines
