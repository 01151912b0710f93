"""The file pipeline: media in, the same media with a Spanish voice track out, in sync.

decode -> recognise (+VAD, words) -> utterances -> translate (n-best) -> choose by length ->
speak -> fit to slots -> duck and mix -> mux, plus SRT/VTT and the dub document (JSON).
Recognition runs in its own thread: translation and the first take of each line's speech happen
while it goes on. Audio tracks live on disk, so memory stays flat with input length.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dubber.chain.fit import FitRules, choose_hypothesis, first_rate, fit_speech
from dubber.chain.glossary import Glossary
from dubber.chain.line import DubDocument, GroupingRules, Utterance, group_words
from dubber.engines.load import PipelineEngines
from dubber.engines.types import Hypothesis, Speech, Synthesizer, Word
from dubber.errors import UsageError
from dubber.fsutil import atomic_path, atomic_write_text
from dubber.media.dsp import estimate_pitch, time_stretch
from dubber.media.ffmpeg import ASR_SAMPLE_RATE, SubtitleTrack, decode_audio, mux_dub, probe
from dubber.media.mix import DubTrack, MixRules, RawAudio, duck_gain, write_gain
from dubber.media.subtitles import Cue, format_srt, format_vtt, parse_srt

log = logging.getLogger(__name__)

STAGES = ("recognise", "translate", "speak", "mix")
TRANSLATION_BATCH = 16
_DONE = object()

Progress = Callable[[str, float, float | None], None]  # stage, completed, total


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

    @property
    def recognises(self) -> bool:
        """Whether dubs recognise speech (not when the text comes from a transcript or SRT)."""
        return self.transcript is None and self.from_srt is None


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
    wall_seconds: float = 0.0

    @property
    def real_time_factor(self) -> float:
        """Wall time of the whole job over the input's duration (stages overlap)."""
        return self.wall_seconds / self.document.duration

    def count(self, fit: str) -> int:
        """Utterances fitted the given way (natural, rate, borrowed, stretched, overflow)."""
        return sum(u.fit == fit for u in self.document.utterances)

    @property
    def max_speedup(self) -> float:
        """Largest rate x stretch applied to any utterance."""
        return max((u.rate * u.stretch for u in self.document.utterances), default=1.0)

    def add_time(self, stage: str, seconds: float) -> None:
        """Count `seconds` towards a stage."""
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds


class Dubber:
    """Dubs files with engines loaded once; the work folder keeps finished stages for --resume."""

    def __init__(self, engines: PipelineEngines, options: DubOptions, work_root: Path) -> None:
        self.engines = engines
        self.options = options
        self.work_root = work_root

    def dub(self, media: Path, outputs: OutputPaths, progress: Progress) -> DubReport:
        """Dub one file into `outputs`; nothing is written there unless the whole job succeeds."""
        began = time.perf_counter()
        info = probe(media)
        if not info.has_audio:
            raise UsageError(f"{media} has no audio stream to dub")
        work = WorkFolder(self.work_root, media)
        document = DubDocument(
            media=str(media),
            duration=info.duration,
            source_language=self.options.source_language,
            target_language=self.options.target_language,
            asr_model=self.engines.asr_model,
            translator=self.engines.translator.name,
            voice=self.engines.voices.describe(),
        )
        report = DubReport(outputs, document)
        report.document = self._utterances(media, report, work, progress)
        if not report.document.utterances:
            raise UsageError(f"no speech found in {media}")
        started = time.perf_counter()
        track = DubTrack(work.path / "dub.f32", info.duration, self.engines.voices.sample_rate)
        self._speak(report, work, track, progress)
        report.add_time("speak", time.perf_counter() - started)
        started = time.perf_counter()
        self._write(media, report, work, track.close(), progress)
        report.add_time("mix", time.perf_counter() - started)
        report.wall_seconds = time.perf_counter() - began
        return report

    # -- recognition and translation ------------------------------------------------------------

    def _utterances(
        self, media: Path, report: DubReport, work: WorkFolder, progress: Progress
    ) -> DubDocument:
        """The document to speak: edited, from subtitles, resumed, or recognised and translated."""
        opts = self.options
        if opts.transcript:
            return DubDocument.load(opts.transcript)
        if opts.from_srt:
            report.document.translator = f"subtitles:{opts.from_srt.name}"
            report.document.utterances = _utterances_from_srt(
                opts.from_srt, report.document.duration
            )
            return report.document
        if opts.resume:
            if saved := work.load_document():
                log.info("resuming: reusing recognition and translation from %s", work.path)
                return saved
            log.info("resuming: recognition starts again; speech already made is reused")
        audio = decode_audio(media)
        self.engines.check_language(audio, media)
        for u in self._recognise_and_translate(audio, report, progress):
            started = time.perf_counter()
            begin, end = int(u.start * ASR_SAMPLE_RATE), int(u.end * ASR_SAMPLE_RATE)
            u.pitch_hz = estimate_pitch(audio[begin:end], ASR_SAMPLE_RATE)
            spoken = report.document.utterances
            self._first_take(u, work, report, spoken[-1].voice if spoken else None)
            spoken.append(u)
            report.add_time("speak", time.perf_counter() - started)
        work.save_document(report.document)
        return report.document

    def _recognise_and_translate(
        self, audio: np.ndarray, report: DubReport, progress: Progress
    ) -> Iterator[Utterance]:
        """Recognition in a thread feeding utterances to translation here, batch by batch."""
        handoff: queue.Queue = queue.Queue(maxsize=4 * TRANSLATION_BATCH)
        failure: list[BaseException] = []
        duration = report.document.duration

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
                report.add_time("recognise", time.perf_counter() - started)
                handoff.put(_DONE)

        threading.Thread(target=recognise, name="dubber-asr", daemon=True).start()
        done, count = False, 0
        while not done:
            batch = [handoff.get()]
            while not handoff.empty() and len(batch) < TRANSLATION_BATCH:
                batch.append(handoff.get())
            if batch[-1] is _DONE:
                batch.pop()
                done = True
            if batch:
                started = time.perf_counter()
                self._translate(batch)
                report.add_time("translate", time.perf_counter() - started)
                count += len(batch)
                progress("translate", count, None)
                yield from batch
        if failure:
            raise failure[0]

    def _translate(self, batch: list[Utterance]) -> None:
        glossary = self.options.glossary or Glossary({})
        protected = [glossary.protect(u.source) for u in batch]
        results = self.engines.translator.translate(
            [text for text, _ in protected], num_hypotheses=self.options.nbest
        )
        for utterance, result, (_, terms) in zip(batch, results, protected, strict=True):
            utterance.hypotheses = [
                Hypothesis(glossary.restore(h.text, terms), h.score) for h in result.hypotheses
            ]

    # -- speech and fitting ---------------------------------------------------------------------

    def _voice(
        self, u: Utterance, work: WorkFolder, report: DubReport, previous: str | None = None
    ) -> _CachedVoice:
        """The line's voice (the one it has, else by the speaker's pitch, keeping the previous
        line's voice near the boundary), with its translation chosen by length."""
        voices = self.engines.voices
        chosen = (u.voice and voices.by_id(u.voice)) or voices.for_pitch(u.pitch_hz, previous)
        synthesizer, voice_id, predict = chosen
        if u.hypotheses and not u.translation:
            u.translation = choose_hypothesis(u.hypotheses, u.slot, predict, self.options.fit).text
        u.voice = voice_id
        return _CachedVoice(synthesizer, voice_id, predict, work, report)

    def _first_take(
        self, u: Utterance, work: WorkFolder, report: DubReport, previous: str | None
    ) -> None:
        """Speak a line as soon as it is translated, at the rate its predicted length calls for
        (cached, so fitting later finds it), while recognition continues."""
        voice = self._voice(u, work, report, previous)
        voice.synthesize(u.translation, rate=first_rate(voice.predict(u.translation), u.slot))

    def _speak(
        self, report: DubReport, work: WorkFolder, track: DubTrack, progress: Progress
    ) -> None:
        """Fit each line into its slot (re-speaking faster where needed) and place it."""
        utterances = report.document.utterances
        rules, glossary = self.options.fit, self.options.glossary
        previous_end = None
        for position, u in enumerate(utterances):
            voice = self._voice(
                u, work, report, utterances[position - 1].voice if position else None
            )
            if glossary and (missing := glossary.missing(u.source, u.translation)):
                log.warning(
                    "line %d: glossary terms missing from the translation: %s", u.index, missing
                )
            following = (
                utterances[position + 1].start
                if position + 1 < len(utterances)
                else report.document.duration
            )
            start = u.start if previous_end is None else max(u.start, previous_end + rules.gap)
            window = max(following - rules.gap - start, 0.05)
            fitted = fit_speech(
                u.translation,
                voice,
                u.slot,
                window,
                time_stretch,
                rules,
                voice.predict(u.translation),
            )
            u.rate, u.stretch, u.fit = fitted.rate, round(fitted.stretch, 3), fitted.fit
            u.placed_start, u.placed_end = round(start, 3), round(start + fitted.duration, 3)
            previous_end = u.placed_end
            track.add(start, fitted.samples)
            progress("speak", position + 1, len(utterances))

    # -- output ---------------------------------------------------------------------------------

    def _write(
        self, media: Path, report: DubReport, work: WorkFolder, voice: RawAudio, progress: Progress
    ) -> None:
        """Mux the media, then move subtitles and the document into place beside it."""
        document, outputs, opts = report.document, report.outputs, self.options
        regions = [(u.placed_start, u.placed_end) for u in document.utterances]
        gain = write_gain(work.path / "gain.f32", duck_gain(regions, document.duration, opts.mix))
        staged = {name: work.path / f"staged.{name}" for name in outputs.subtitles}
        cues = _cues(document, opts)
        for name, path in staged.items():
            language, ext = name.split(".")
            atomic_write_text(path, (format_srt if ext == "srt" else format_vtt)(cues[language]))
        tracks = [
            SubtitleTrack(staged[f"{lang}.srt"], lang)
            for lang in (opts.target_language, opts.source_language)
            if cues[lang]
        ]
        progress("mix", 1, 2)
        mux_dub(
            media, voice, gain, outputs.media, opts.target_language, tracks,
            keep_original_audio=opts.keep_original_audio, source_language=opts.source_language,
        )  # fmt: skip
        for name, path in staged.items():
            os.replace(path, outputs.subtitles[name])
        document.save(outputs.document)
        for scratch in (voice.path, gain.path):
            scratch.unlink(missing_ok=True)
        progress("mix", 2, 2)


def _cues(document: DubDocument, options: DubOptions) -> dict[str, list[Cue]]:
    """Source subtitles at the original timing; target subtitles where the dub speaks them."""
    utterances = document.utterances
    target = []
    for u, following in zip(utterances, [*utterances[1:], None], strict=True):
        end = max(u.placed_end, u.start + 0.5)
        limit = following.placed_start if following else document.duration
        target.append(Cue(u.placed_start, min(end, limit), u.translation))
    return {
        options.source_language: [Cue(u.start, u.end, u.source) for u in utterances if u.source],
        options.target_language: target,
    }


def _utterances_from_srt(path: Path, duration: float) -> list[Utterance]:
    try:
        cues = parse_srt(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UsageError(f"cannot read subtitles {path}: {error}") from None
    return [
        Utterance(i, c.start, min(c.end, duration), "", translation=c.text)
        for i, c in enumerate(cues)
        if c.start < duration
    ]


class _CachedVoice:
    """A synthesizer whose results are kept in the work folder, keyed by voice, rate and text."""

    def __init__(
        self,
        synthesizer: Synthesizer,
        voice_id: str,
        predict: Callable[[str], float],
        work: WorkFolder,
        report: DubReport,
    ) -> None:
        self._synthesizer = synthesizer
        self._voice = voice_id
        self._work = work
        self._report = report
        self.predict = predict
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
        with atomic_path(self._clip_path(key)) as tmp, open(tmp, "wb") as handle:
            np.save(handle, samples.astype(np.float32))
