"""Text to speech with Kokoro-82M (ONNX) fed espeak-ng phonemes of the target language."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from dubber.engines.onnx import onnx_session
from dubber.engines.phonemes import check_request, phonemize
from dubber.engines.types import Speech
from dubber.errors import DubberError
from dubber.media.dsp import trim_silence, with_pauses
from dubber.settings import RuntimeOptions
from dubber.text import chunk_text, split_sentences

log = logging.getLogger(__name__)

SAMPLE_RATE = 24000
MAX_TOKENS = 510  # the model's context is 512, two of which are the padding tokens around the text
STYLE_SIZE = 256
# Kokoro writes espeak-ng's multi-letter phonemes (tied in espeak's output) as single letters.
_KOKORO_LETTERS = {
    "aɪ": "I",
    "aʊ": "W",
    "eɪ": "A",
    "oʊ": "O",
    "əʊ": "Q",
    "ɔɪ": "Y",
    "dz": "ʣ",
    "dʒ": "ʤ",
    "ts": "ʦ",
    "tʃ": "ʧ",
}
_OFFLINE_DEFAULT_STYLE = "jm_kumo"  # Whisper-base round-trip WER 7.6 % on Spanish (GUIDE.md)
_HUB_DEFAULT_STYLE = "ef_dora"


def kokoro_phonemes(ipa: str) -> str:
    """espeak-ng IPA in Kokoro's notation (the one its non-English voices were trained on)."""
    for letters, letter in _KOKORO_LETTERS.items():
        ipa = ipa.replace(letters, letter)
    return ipa


class KokoroSynthesizer:
    """Kokoro-82M loaded once, speaking with one of its styles (voices)."""

    name = "kokoro"
    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        model: Path,
        vocab: dict[str, int],
        styles: dict[str, np.ndarray | Path],
        style: str,
        language: str = "es",
        runtime: RuntimeOptions | None = None,
        sentence_pause: float = 0.3,
    ) -> None:
        """`styles` maps names to style vectors (510, 1, 256), or to raw float32 files of them."""
        self.runtime = runtime or RuntimeOptions()
        self.language = language
        self.sentence_pause = sentence_pause
        self._vocab = vocab
        self._styles = styles
        self._select(style)
        self._session = onnx_session(model, self.runtime)
        inputs = {i.name for i in self._session.get_inputs()}
        token_inputs = [name for name in ("tokens", "input_ids") if name in inputs]
        if not token_inputs or not {"style", "speed"} <= inputs:
            names = ", ".join(sorted(inputs))
            raise DubberError(f"{model} is not a Kokoro model (its inputs are {names})")
        self._token_input = token_inputs[0]
        log.debug("loaded Kokoro %s (style %s, phonemes %s)", model, style, language)

    @classmethod
    def from_dir(
        cls,
        model_dir: Path,
        style: str | None = None,
        language: str = "es",
        runtime: RuntimeOptions | None = None,
    ) -> KokoroSynthesizer:
        """Load a Kokoro folder: the offline pack (model.onnx, voices.npz, vocab.json) or the Hub
        layout (onnx/model_quantized.onnx, voices/NAME.bin, tokenizer.json)."""
        model_dir = Path(model_dir)
        styles: dict[str, np.ndarray | Path]
        if (model_dir / "model.onnx").is_file():
            missing = [n for n in ("voices.npz", "vocab.json") if not (model_dir / n).is_file()]
            if missing:
                raise DubberError(f"{model_dir} is missing {', '.join(missing)}")
            model = model_dir / "model.onnx"
            vocab = json.loads((model_dir / "vocab.json").read_text(encoding="utf-8"))["vocab"]
            with np.load(model_dir / "voices.npz") as voices:
                styles = {name: voices[name] for name in voices.files}
            default = _OFFLINE_DEFAULT_STYLE
        elif (model_dir / "onnx" / "model_quantized.onnx").is_file():
            model = model_dir / "onnx" / "model_quantized.onnx"
            tokenizer = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
            vocab = tokenizer["model"]["vocab"]
            styles = {path.stem: path for path in (model_dir / "voices").glob("*.bin")}
            default = _HUB_DEFAULT_STYLE
        else:
            raise DubberError(
                f"{model_dir} is not a Kokoro model folder: expected model.onnx, voices.npz and"
                " vocab.json, or onnx/model_quantized.onnx, voices/ and tokenizer.json"
            )
        return cls(model, vocab, styles, style or default, language=language, runtime=runtime)

    @property
    def styles(self) -> tuple[str, ...]:
        """The style names this model has."""
        return tuple(sorted(self._styles))

    def with_style(self, style: str) -> KokoroSynthesizer:
        """The same loaded model speaking with another style."""
        twin = copy.copy(self)
        twin._select(style)
        return twin

    def _select(self, style: str) -> None:
        if style not in self._styles:
            available = ", ".join(self.styles) or "none"
            raise DubberError(f"Kokoro has no style '{style}': choose one of {available}")
        vector = self._styles[style]
        if isinstance(vector, Path):
            vector = np.fromfile(vector, dtype=np.float32)
        self.style = style
        self._style = np.asarray(vector, np.float32).reshape(-1, STYLE_SIZE)

    def token_chunks(self, text: str) -> list[list[int]]:
        """Token ids of `text`, one list per sentence, sentences longer than the model's limit
        split at clause (else word) boundaries."""
        chunks = []
        for sentence in split_sentences(text):
            ipa = kokoro_phonemes(" ".join(phonemize(sentence, self.language)))
            for piece in chunk_text(ipa, MAX_TOKENS):
                tokens = [self._vocab[symbol] for symbol in piece if symbol in self._vocab]
                if tokens:
                    chunks.append(tokens)
        return chunks

    def synthesize(self, text: str, *, rate: float = 1.0) -> Iterator[Speech]:
        """Speak `text` a sentence (or clause) at a time; `rate` is the model's speed factor
        (1.25 speaks 25 % faster)."""
        text = check_request(text, rate)
        audio = (self._infer(tokens, rate) for tokens in self.token_chunks(text))
        pause = round(self.sentence_pause * SAMPLE_RATE / rate)
        for samples in with_pauses(audio, pause):
            yield Speech(samples, SAMPLE_RATE)

    def _infer(self, tokens: list[int], rate: float) -> np.ndarray:
        style = self._style[min(len(tokens), len(self._style)) - 1]
        feeds = {
            self._token_input: np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": style.reshape(1, STYLE_SIZE),
            "speed": np.array([rate], dtype=np.float32),
        }
        audio = np.asarray(self._session.run(None, feeds)[0], np.float32).reshape(-1)
        peak = float(np.max(np.abs(audio), initial=0.0))
        return trim_silence(audio / peak if peak > 1.0 else audio, SAMPLE_RATE)
