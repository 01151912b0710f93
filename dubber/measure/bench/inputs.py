"""What the benchmarks run on: the shared recordings and sentences, or a sample made here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dubber.settings import RuntimeOptions, dubber_home
from dubber.store.store import Store


@dataclass
class Inputs:
    """What the benchmarks run on."""

    audio: list[Path]
    sources: list[str]
    references: list[str] | None
    speech_lines: list[str]
    corpus: list[Path] = field(default_factory=list)
    origin: str = ""


def default_data_dir() -> Path | None:
    """../shared/data from the current folder or from the repository, if it exists."""
    for base in (Path.cwd(), Path(__file__).resolve().parents[3]):
        candidate = base.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return None


def data_inputs(data: Path, limit: int | None) -> Inputs:
    """Recordings from DATA/asr (refs.tsv order), sentences from DATA/mt/test.en and test.es."""
    from dubber.measure.data import read_lines, read_manifest

    rows = read_manifest(data / "asr" / "refs.tsv")[:limit]
    sources = read_lines(data / "mt" / "test.en", "source")[:limit]
    references = read_lines(data / "mt" / "test.es", "reference")[:limit]
    corpus = [data / "mt" / "test.en", data / "mt" / "test.es"]
    return Inputs([r.file for r in rows], sources, references, references, corpus, str(data))


def generated_inputs(store: Store, runtime: RuntimeOptions, limit: int | None) -> Inputs:
    """A sample made here: the demo news script read by the English voice, its Apertium
    translation as Spanish text."""
    from dubber.dub.sample import NEWS_SCRIPT
    from dubber.engines.apertium import ApertiumTranslator

    sentences = list(NEWS_SCRIPT[:limit])
    audio = _narration(store, runtime, tuple(sentences))
    spanish = [t.text for t in ApertiumTranslator("en", "es").translate(sentences)]
    return Inputs([audio], sentences, None, spanish, origin="generated sample (demo news script)")


def bench_dir() -> Path:
    folder = dubber_home() / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _narration(store: Store, runtime: RuntimeOptions, sentences: tuple[str, ...]) -> Path:
    """The sentences read by the English voice, as a WAV cached in DUBBER_HOME/bench."""
    from dubber.dub.sample import narrate
    from dubber.engines.load import load_synthesizer
    from dubber.media.decode import write_wav
    from dubber.outputs import atomic_path

    path = bench_dir() / f"narration-{len(sentences)}.wav"
    if not path.is_file():
        english, _ = load_synthesizer(store, None, "en", runtime)
        with atomic_path(path) as tmp:
            write_wav(tmp, narrate(english, sentences), english.sample_rate)
    return path


def demo_video(store: Store, runtime: RuntimeOptions, sentences: int | None) -> Path:
    """The demo news video (first `sentences` lines of its script), cached in DUBBER_HOME/bench."""
    from dubber.dub.sample import NEWS_SCRIPT, build_demo_video
    from dubber.media.decode import read_wav

    script = NEWS_SCRIPT[:sentences]
    path = bench_dir() / f"news-{len(script)}.mp4"
    if not path.is_file():
        samples, rate = read_wav(_narration(store, runtime, script))
        build_demo_video(path, samples, rate)
    return path
