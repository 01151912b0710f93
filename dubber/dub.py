"""The file pipeline: media in, the same media with a Spanish voice track out, in sync.

decode -> recognise (+VAD, words) -> utterances -> translate (n-best) -> choose by length ->
speak -> fit to slots -> duck and mix -> mux, plus SRT/VTT and the dub document (JSON).
Recognition runs in its own thread so translation and speech start while it continues.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dubber.audio import estimate_pitch, resample, time_stretch
from dubber.engines.base import Speech, Synthesizer, Word
from dubber.errors import UsageError
from dubber.fit import FitRules, choose_hypothesis, fit_speech
from dubber.fsutil import atomic_path, atomic_write_text
from dubber.glossary import Glossary
from dubber.media import ASR_SAMPLE_RATE, SubtitleTrack, decode_audio, mux_dub, probe
from dubber.mix import MixRules, mix, place_clips
from dubber.pipeline import PipelineEngines
from dubber.subtitles import Cue, format_srt, format_vtt, parse_srt
from dubber.transcript import DubDocument, GroupingRules, Utterance, group_words

log = logging.getLogger(__name__)

STAGES = ("recognise", "translate", "speak", "mix")
MAX_CHANNELS = 2
MIX_RATE = 48000
_DONE = object()


@dataclass(frozen=True)
class DubOptions:
    """Everything that shapes one dub besides the engines."""

    target_language: str = "es"
    source_language: str = "en"
    nbest: int = 4
    fit: FitRules = FitRules()
    mix: MixRules = MixRules()
    grouping: GroupingRules = GroupingRules()
    keep_original_audio: bool = False
    glossary: Glossary | None = None
    resume: bool = False
    transcript: Path | None = None
    from_srt: Path | None = None


@dataclass(frozen=True)
class OutputPaths:
    """Where one dub writes its files."""

    media: Path
    document: Path
    subtitles: dict[str, Path]

    @classmethod
    def beside(cls, media_out: Path, source_language: str, target_language: str) -> OutputPaths:
        """NAME.es.mp4 -> NAME.dub.json, NAME.en.srt, NAME.es.srt, NAME.en.vtt, NAME.es.vtt."""
        stem = media_out.name.removesuffix(media_out.suffix).removesuffix(f".{target_language}")
        folder = media_out.parent
        subtitles = {
            f"{lang}.{ext}": folder / f"{stem}.{lang}.{ext}"
            for lang in (source_language, target_language)
            for ext in ("srt", "vtt")
        }
        return cls(media_out, folder / f"{stem}.dub.json", subtitles)

    def all(self) -> list[Path]:
        """Every file this dub writes."""
        return [self.media, self.document, *self.subtitles.values()]


@dataclass
class DubReport:
    """What a dub did and how long each stage took."""

    outputs: OutputPaths
    document: DubDocument
    seconds: dict[str, float] = field(default_factory=dict)
    synthesized: int = 0
    reused: int = 0

    def count(self, fit: str) -> int:
        """Utterances fitted the given way (natural, rate, borrowed, stretched, overflow)."""
        return sum(u.fit == fit for u in self.document.utterances)

    @property
    def max_speedup(self) -> float:
        """Largest rate x stretch applied to any utterance."""
        return max((u.rate * u.stretch for u in self.document.utterances), default=1.0)


Progress = Callable[[str, float, float | None], None]  # stage, completed, total


class Dubber:
    """Dubs files with engines loaded once; the work folder keeps finished stages for --resume."""

    def __init__(self, engines: PipelineEngines, options: DubOptions, work_root: Path) -> None:
        self.engines = engines
        self.options = options
        self.work_root = work_root

    def dub(self, media: Path, outputs: OutputPaths, progress: Progress) -> DubReport:
        """Dub one file into `outputs`; nothing is written there unless the whole job succeeds."""
        info = probe(media)
        if not info.has_audio:
            raise UsageError(f"{media} has no audio stream to dub")
        work = WorkFolder(self.work_root, media)
        report = DubReport(outputs, self._document(media, info.duration, work, progress))
        report.seconds["recognise"] = self._timer.pop("recognise", 0.0)
        report.seconds["translate"] = self._timer.pop("translate", 0.0)
        if not report.document.utterances:
            raise UsageError(f"no speech found in {media}")
        started = time.perf_counter()
        clips = self._speak(report, work, info.duration, progress)
        report.seconds["speak"] = time.perf_counter() - started
        started = time.perf_counter()
        self._write(media, report, clips, progress)
        report.seconds["mix"] = time.perf_counter() - started
        return report

    _timer: dict[str, float]

    # -- recognition and translation ------------------------------------------------------------

    def _document(
        self, media: Path, duration: float, work: WorkFolder, progress: Progress
    ) -> DubDocument:
        self._timer = {}
        opts = self.options
        if opts.transcript:
            return DubDocument.load(opts.transcript)
        if opts.from_srt:
            return self._from_srt(media, duration)
        if opts.resume and (saved := work.load_document()):
            log.info("resuming: reusing recognition and translation from %s", work.path)
            return saved
        document = DubDocument(
            media=str(media),
            duration=duration,
            source_language=opts.source_language,
            target_language=opts.target_language,
            asr_model=self.engines.asr_model,
            translator=self.engines.translator.name,
            voice=self.engines.voices.describe(),
        )
        audio = decode_audio(media)
        self.engines.check_language(audio, media)
        translated = self._recognise_and_translate(audio, duration, progress)
        document.utterances = list(translated)
        self._estimate_pitch(audio, document.utterances)
        work.save_document(document)
        return document

    def _recognise_and_translate(
        self, audio: np.ndarray, duration: float, progress: Progress
    ) -> Iterator[Utterance]:
        """Recognition in a thread feeding utterances to translation here, batch by batch."""
        handoff: queue.Queue = queue.Queue(maxsize=64)
        failure: list[BaseException] = []

        def recognise() -> None:
            started = time.perf_counter()
            try:
                segments, _ = self.engines.recognizer.transcribe(audio, language="en")

                def words() -> Iterator[Word]:
                    for segment in segments:
                        progress("recognise", segment.end, duration)
                        yield from segment.words

                for utterance in group_words(words(), self.options.grouping):
                    handoff.put(utterance)
                progress("recognise", duration, duration)
            except BaseException as error:  # handed to the main thread
                failure.append(error)
            finally:
                self._timer["recognise"] = time.perf_counter() - started
                handoff.put(_DONE)

        thread = threading.Thread(target=recognise, name="dubber-asr", daemon=True)
        thread.start()
        done = False
        count = 0
        while not done:
            batch = [handoff.get()]
            while not handoff.empty() and len(batch) < 16:
                batch.append(handoff.get())
            if batch[-1] is _DONE:
                batch.pop()
                done = True
            if batch:
                started = time.perf_counter()
                yield from self._translate(batch)
                self._timer["translate"] = self._timer.get("translate", 0.0) + (
                    time.perf_counter() - started
                )
                count += len(batch)
                progress("translate", count, None)
        thread.join()
        if failure:
            raise failure[0]

    def _translate(self, batch: list[Utterance]) -> list[Utterance]:
        glossary = self.options.glossary
        sources = [glossary.prepare(u.source) if glossary else u.source for u in batch]
        results = self.engines.translator.translate(sources, num_hypotheses=self.options.nbest)
        for utterance, result in zip(batch, results, strict=True):
            utterance.hypotheses = list(result.hypotheses)
        return batch

    def _estimate_pitch(self, audio: np.ndarray, utterances: list[Utterance]) -> None:
        for u in utterances:
            begin, end = int(u.start * ASR_SAMPLE_RATE), int(u.end * ASR_SAMPLE_RATE)
            u.pitch_hz = estimate_pitch(audio[begin:end], ASR_SAMPLE_RATE)

    def _from_srt(self, media: Path, duration: float) -> DubDocument:
        path = self.options.from_srt
        try:
            cues = parse_srt(Path(path).read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise UsageError(f"cannot read subtitles {path}: {error}") from None
        utterances = [
            Utterance(i, c.start, min(c.end, duration), "", translation=c.text)
            for i, c in enumerate(cues)
            if c.start < duration
        ]
        return DubDocument(
            media=str(media),
            duration=duration,
            source_language=self.options.source_language,
            target_language=self.options.target_language,
            translator=f"subtitles:{Path(path).name}",
            voice=self.engines.voices.describe(),
            utterances=utterances,
        )

    # -- speech and fitting ---------------------------------------------------------------------

    def _speak(
        self, report: DubReport, work: WorkFolder, duration: float, progress: Progress
    ) -> list[tuple[float, np.ndarray]]:
        """Choose each translation by length, synthesise it (cached) and fit it to its slot."""
        utterances = report.document.utterances
        rules = self.options.fit
        clips = []
        previous_end = 0.0
        for position, u in enumerate(utterances):
            synthesizer, voice_id, predictor = self.engines.voices.for_pitch(u.pitch_hz)
            if u.hypotheses and not u.translation:
                u.translation = choose_hypothesis(u.hypotheses, u.slot, predictor, rules).text
            if self.options.glossary and (
                missing := self.options.glossary.missing(u.source, u.translation)
            ):
                log.warning("utterance %d: glossary terms not in translation: %s", u.index, missing)
            following = (
                utterances[position + 1].start if position + 1 < len(utterances) else duration
            )
            start = max(u.start, previous_end + rules.gap if position else u.start)
            window = max(following - rules.gap - start, 0.05)
            cached = _CachedVoice(synthesizer, voice_id, work, report)
            fitted = fit_speech(u.translation, cached, u.slot, window, time_stretch, rules)
            u.voice, u.rate, u.stretch, u.fit = (
                voice_id,
                round(fitted.rate, 3),
                round(fitted.stretch, 3),
                fitted.fit,
            )
            u.natural_duration = round(fitted.natural_duration, 3)
            u.placed_start = round(start, 3)
            u.placed_end = round(start + fitted.duration, 3)
            previous_end = u.placed_end
            clips.append((start, fitted.samples))
            progress("speak", position + 1, len(utterances))
        return clips

    # -- output ---------------------------------------------------------------------------------

    def _write(
        self,
        media: Path,
        report: DubReport,
        clips: list[tuple[float, np.ndarray]],
        progress: Progress,
    ) -> None:
        document, outputs, opts = report.document, report.outputs, self.options
        voice_rate = self.engines.voices.sample_rate
        info = probe(media)
        channels = min(info.audio_channels or 1, MAX_CHANNELS)
        rate = (
            max(info.audio_sample_rate or MIX_RATE, voice_rate) if not info.has_video else MIX_RATE
        )
        original = decode_audio(media, rate, channels=channels)
        if original.ndim == 1:
            original = original[:, None]
        track_length = int(np.ceil(len(original) * voice_rate / rate))
        dub = resample(place_clips(clips, track_length, voice_rate), voice_rate, rate)
        dub = np.pad(dub, (0, max(len(original) - len(dub), 0)))[: len(original)]
        regions = [(u.placed_start, u.placed_end) for u in document.utterances]
        mixed = mix(original, dub, regions, rate, opts.mix)
        progress("mix", 1, 2)
        cues = {
            opts.source_language: [
                Cue(u.start, u.end, u.source) for u in document.utterances if u.source
            ],
            opts.target_language: [
                Cue(u.placed_start, max(u.placed_end, u.start + 0.5), u.translation)
                for u in document.utterances
            ],
        }
        for name, path in outputs.subtitles.items():
            language, ext = name.split(".")
            if cues[language]:
                text = format_srt(cues[language]) if ext == "srt" else format_vtt(cues[language])
                atomic_write_text(path, text)
        tracks = [
            SubtitleTrack(outputs.subtitles[f"{lang}.srt"], lang)
            for lang in (opts.target_language, opts.source_language)
            if cues[lang]
        ]
        mux_dub(
            media,
            mixed,
            rate,
            outputs.media,
            opts.target_language,
            tracks,
            keep_original_audio=opts.keep_original_audio,
            source_language=opts.source_language,
        )
        document.save(outputs.document)
        progress("mix", 2, 2)


class _CachedVoice:
    """A synthesizer whose results are kept in the work folder, keyed by voice, rate and text."""

    def __init__(
        self, synthesizer: Synthesizer, voice_id: str, work: WorkFolder, report: DubReport
    ) -> None:
        self._synthesizer = synthesizer
        self._voice = voice_id
        self._work = work
        self._report = report
        self.name = synthesizer.name
        self.language = synthesizer.language
        self.sample_rate = synthesizer.sample_rate

    def synthesize(self, text: str, *, rate: float = 1.0) -> Speech:
        key = f"{self._voice}|{rate:.3f}|{text}"
        if (speech := self._work.load_clip(key, self.sample_rate)) is not None:
            self._report.reused += 1
            return speech
        speech = self._synthesizer.synthesize(text, rate=rate)
        self._work.save_clip(key, speech.samples)
        self._report.synthesized += 1
        return speech


class WorkFolder:
    """Finished stages of one input: its dub document and every synthesised clip."""

    def __init__(self, root: Path, media: Path) -> None:
        stat = media.stat()
        fingerprint = f"{media.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
        digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
        self.path = root / f"{media.stem}-{digest}"
        (self.path / "clips").mkdir(parents=True, exist_ok=True)

    def _document_path(self) -> Path:
        return self.path / "document.json"

    def load_document(self) -> DubDocument | None:
        """The saved document, if an earlier run got that far."""
        path = self._document_path()
        return DubDocument.load(path) if path.exists() else None

    def save_document(self, document: DubDocument) -> None:
        """Keep recognition and translation for a later --resume."""
        document.save(self._document_path())

    def _clip_path(self, key: str) -> Path:
        return self.path / "clips" / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.npy"

    def load_clip(self, key: str, sample_rate: int) -> Speech | None:
        """A clip synthesised earlier with the same voice, rate and text."""
        path = self._clip_path(key)
        return Speech(np.load(path), sample_rate) if path.exists() else None

    def save_clip(self, key: str, samples: np.ndarray) -> None:
        """Store a clip atomically."""
        target = self._clip_path(key)
        with atomic_path(target) as tmp, open(tmp, "wb") as handle:
            np.save(handle, samples.astype(np.float32))
