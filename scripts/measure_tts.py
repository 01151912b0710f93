"""Measure dubber's speech synthesizers: speed and round-trip intelligibility.

For each engine, synthesize the first N sentences of ../shared/data/mt/test.es (test.en for the
English Piper voice), one sentence per call as the dub pipeline does, and report
  - load: seconds to load the voice,
  - first audio: seconds for the first call after loading (the first sentence, cold), with the
    length of the speech it returned,
  - median latency: seconds per sentence over the rest, with their median speech length,
  - RTF: synthesis seconds / audio seconds over all sentences,
  - WER: the audio transcribed back by Whisper (tiny.en for English, base for Spanish) against
    the input, after lower-casing, dropping punctuation (Whisper's basic/English normaliser) and
    accents.

Usage: python scripts/measure_tts.py [--count 10] [--threads 2] [--engines piper,kokoro,espeak]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import unicodedata
from pathlib import Path

import numpy as np

from dubber.engines.base import Speech, Synthesizer
from dubber.engines.espeak import EspeakSynthesizer
from dubber.engines.kokoro import KokoroSynthesizer
from dubber.engines.piper import PiperSynthesizer
from dubber.engines.whisper import WhisperRecognizer
from dubber.media import decode_audio, write_wav
from dubber.metrics import word_error_rate
from dubber.settings import RuntimeOptions
from dubber.store import Store

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mt"
ENGINES = {
    # name: (loader, language of the text)
    "piper": (lambda rt: PiperSynthesizer(Store().path("piper-en_US-joe-medium"), rt), "en"),
    "kokoro": (
        lambda rt: KokoroSynthesizer.from_dir(Store().path("kokoro-82m-offline"), runtime=rt),
        "es",
    ),
    "espeak": (lambda rt: EspeakSynthesizer("es"), "es"),
}
WHISPER = {"en": "whisper-tiny.en", "es": "whisper-base"}


def to_16k(speech: Speech, folder: Path) -> np.ndarray:
    """The speech as Whisper hears it: written to WAV, decoded at 16 kHz by ffmpeg."""
    write_wav(folder / "speech.wav", speech.samples, speech.sample_rate)
    return decode_audio(folder / "speech.wav")


def without_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def measure(name: str, count: int, runtime: RuntimeOptions) -> None:
    load, language = ENGINES[name]
    lines = (DATA / f"test.{language}").read_text(encoding="utf-8").splitlines()[:count]
    start = time.perf_counter()
    synthesizer: Synthesizer = load(runtime)
    loaded = time.perf_counter() - start
    speeches, seconds = [], []
    for line in lines:
        start = time.perf_counter()
        speeches.append(synthesizer.synthesize(line))
        seconds.append(time.perf_counter() - start)
    audio = sum(s.duration for s in speeches)
    recognizer = WhisperRecognizer(Store().path(WHISPER[language]), runtime)
    heard = []
    with tempfile.TemporaryDirectory() as folder:
        for speech in speeches:
            segments, _ = recognizer.transcribe(to_16k(speech, Path(folder)), language=language)
            heard.append(" ".join(s.text for s in segments))
    wer = word_error_rate(
        [without_accents(t) for t in lines], [without_accents(t) for t in heard], language
    )
    print(
        f"{name:7s} load {loaded:5.2f} s"
        f" | first audio {seconds[0]:5.2f} s ({speeches[0].duration:4.1f} s of speech)"
        f" | median latency {np.median(seconds[1:]):5.2f} s"
        f" ({np.median([s.duration for s in speeches[1:]]):4.1f} s of speech)"
        f" | audio {audio:6.1f} s"
        f" | RTF {sum(seconds) / audio:5.3f} | WER {wer:6.1%} ({WHISPER[language]})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--engines", default=",".join(ENGINES))
    args = parser.parse_args()
    runtime = RuntimeOptions(threads=args.threads)
    for name in args.engines.split(","):
        measure(name, args.count, runtime)


if __name__ == "__main__":
    main()
