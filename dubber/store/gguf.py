"""Convert a GGUF chat model (qwen2 architecture) to a CTranslate2 int8 Generator folder.

Torch-free and streaming: each tensor is dequantized with `gguf` (numpy) a block of rows at a
time and quantized to int8 right away with CTranslate2's own per-row formula, so the peak memory
is about the int8 model plus the memory-mapped GGUF. Q, K and V are fused as CTranslate2's Qwen2
loader fuses them, and `tokenizer.json` is built from the GGUF's vocabulary and merges as
transformers builds it (byte-level BPE, Qwen2's split pattern). The folder holds model.bin,
config.json, vocabulary.json and tokenizer.json; running it needs only ctranslate2 and tokenizers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dubber.errors import DubberError
from dubber.outputs import atomic_dir

if TYPE_CHECKING:
    from gguf import GGUFReader

log = logging.getLogger(__name__)

MAGIC = b"GGUF"
ARCHITECTURES = ("qwen2",)
FILES = ("config.json", "model.bin", "tokenizer.json", "vocabulary.json")
_ROWS = 4096  # rows dequantized at a time: bounds the float32 copy to a few tens of MB
_CONTROL, _USER_DEFINED = 3, 4  # GGUF token types
_QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)


@dataclass(frozen=True)
class GGUFInfo:
    """What a GGUF file says it holds."""

    architecture: str
    name: str | None
    layers: int
    tensors: int


def is_gguf(path: Path) -> bool:
    """True when `path` is a file that starts with the GGUF magic."""
    try:
        with open(path, "rb") as stream:
            return stream.read(4) == MAGIC
    except OSError:
        return False


def inspect_gguf(path: Path) -> GGUFInfo:
    """Read a GGUF's header; DubberError when it is not a whole GGUF of a supported architecture."""
    return _describe(_open(Path(path)), Path(path))


def convert_gguf(path: Path, output_dir: Path) -> None:
    """Convert the GGUF at `path` to a CTranslate2 int8 folder at `output_dir`, atomically."""
    path = Path(path)
    reader = _open(path)
    info = _describe(reader, path)
    log.info("converting %s (%s, %d layers) to CTranslate2 int8", path.name, info.name, info.layers)
    with atomic_dir(Path(output_dir)) as tmp:
        spec = _Qwen2(reader).spec()
        spec.validate()
        spec.optimize(quantization=None)  # already int8: CTranslate2 must not quantize again
        spec.save(str(tmp))
        del spec
        _tokenizer(reader).save(str(tmp / "tokenizer.json"))


def _open(path: Path) -> GGUFReader:
    try:
        from gguf import GGUFReader
    except ImportError:
        raise DubberError(
            "converting a GGUF model needs the gguf package: pip install 'dubber[llm]'"
        ) from None
    if not is_gguf(path):
        raise DubberError(f"{path} is not a GGUF file (no GGUF magic): give a .gguf model file")
    try:
        reader = GGUFReader(path)
    except (ValueError, KeyError, IndexError, TypeError, OverflowError):
        raise DubberError(
            f"{path} is a damaged or truncated GGUF file ({path.stat().st_size} bytes):"
            " download it again"
        ) from None
    end = max((t.data_offset + t.n_bytes for t in reader.tensors), default=0)
    if end > path.stat().st_size:
        raise DubberError(
            f"{path} is truncated ({path.stat().st_size} bytes, its tensors need {end}):"
            " download it again"
        )
    return reader


def _describe(reader: GGUFReader, path: Path) -> GGUFInfo:
    architecture = str(_field(reader, "general.architecture", path))
    if architecture not in ARCHITECTURES:
        raise DubberError(
            f"{path} holds a '{architecture}' model: dubber converts only"
            f" {', '.join(ARCHITECTURES)} GGUF chat models (Qwen2 / Qwen2.5)"
        )
    name = reader.fields.get("general.name")
    return GGUFInfo(
        architecture=architecture,
        name=str(_field(reader, "general.name", path)) if name is not None else None,
        layers=int(_field(reader, f"{architecture}.block_count", path)),
        tensors=len(reader.tensors),
    )


def _field(reader: GGUFReader, key: str, path: Path | None = None) -> Any:
    """A metadata value: a string, a number, or a list of either."""
    from gguf import GGUFValueType

    field = reader.fields.get(key)
    if field is None:
        raise DubberError(f"{path or 'the GGUF file'} lacks '{key}': it is not a usable chat model")

    def value(index: int, kind: GGUFValueType) -> Any:
        part = field.parts[index]
        return bytes(part).decode("utf-8") if kind == GGUFValueType.STRING else part[0].item()

    if field.types[0] == GGUFValueType.ARRAY:
        return [value(index, field.types[-1]) for index in field.data]
    return value(field.data[0], field.types[0])


def int8_rows(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CTranslate2's int8 quantization (ctranslate2.specs.model_spec), one scale per row."""
    weights = np.asarray(weights, dtype=np.float32)
    amax = np.amax(np.absolute(weights), axis=1)
    amax[amax == 0] = 127.0
    amax = np.maximum(amax, np.float32(127) / np.finfo(np.float32).max)
    scale = (127.0 / amax).astype(np.float32)
    return np.rint(weights * scale[:, None]).astype(np.int8), scale


class _Qwen2:
    """The CTranslate2 decoder spec of a qwen2 GGUF, tensor by tensor."""

    def __init__(self, reader: GGUFReader) -> None:
        self.reader = reader
        self.tensors = {tensor.name: tensor for tensor in reader.tensors}

    def spec(self) -> Any:
        from ctranslate2.specs import common_spec, transformer_spec

        value = self._value
        heads, kv_heads = value("attention.head_count"), value("attention.head_count_kv")
        spec = transformer_spec.TransformerDecoderModelSpec.from_config(
            value("block_count"),
            heads,
            activation=common_spec.Activation.SWISH,
            pre_norm=True,
            ffn_glu=True,
            rms_norm=True,
            rotary_dim=0,
            rotary_interleave=False,
            rotary_base=float(value("rope.freq_base")),
            num_heads_kv=None if kv_heads == heads else kv_heads,
        )
        decoder = spec.decoder
        decoder.scale_embeddings = False
        decoder.embeddings.weight, decoder.embeddings.weight_scale = self._int8("token_embd.weight")
        decoder.layer_norm.gamma = self._dense("output_norm.weight")
        # Models with tied embeddings store no separate output matrix.
        head = "output" if "output.weight" in self.tensors else "token_embd"
        self._linear(decoder.projection, [head])
        for index, layer in enumerate(decoder.layer):
            prefix = f"blk.{index}."
            layer.self_attention.layer_norm.gamma = self._dense(prefix + "attn_norm.weight")
            layer.ffn.layer_norm.gamma = self._dense(prefix + "ffn_norm.weight")
            qkv = [prefix + f"attn_{part}" for part in "qkv"]
            self._linear(layer.self_attention.linear[0], qkv, biased=True)
            self._linear(layer.self_attention.linear[1], [prefix + "attn_output"])
            self._linear(layer.ffn.linear_0, [prefix + "ffn_gate"])
            self._linear(layer.ffn.linear_0_noact, [prefix + "ffn_up"])
            self._linear(layer.ffn.linear_1, [prefix + "ffn_down"])
        tokens = _field(self.reader, "tokenizer.ggml.tokens")
        spec.register_vocabulary(tokens)
        has_bos = "tokenizer.ggml.bos_token_id" in self.reader.fields
        start = "tokenizer.ggml.bos_token_id" if has_bos else "tokenizer.ggml.padding_token_id"
        spec.config.bos_token = tokens[_field(self.reader, start)]
        spec.config.eos_token = tokens[_field(self.reader, "tokenizer.ggml.eos_token_id")]
        spec.config.unk_token = ""
        spec.config.layer_norm_epsilon = float(value("attention.layer_norm_rms_epsilon"))
        return spec

    def _value(self, key: str) -> Any:
        return _field(self.reader, f"qwen2.{key}")

    def _tensor(self, name: str) -> Any:
        try:
            return self.tensors[name]
        except KeyError:
            raise DubberError(
                f"the GGUF file has no tensor '{name}': it is not a qwen2 model"
            ) from None

    def _dense(self, name: str, rows: slice = slice(None)) -> np.ndarray:
        from gguf.quants import dequantize

        tensor = self._tensor(name)
        try:
            dense = dequantize(tensor.data[rows], tensor.tensor_type)
        except NotImplementedError:
            raise DubberError(
                f"the GGUF file's {tensor.tensor_type.name} tensors cannot be read by this gguf"
                " version: upgrade it (pip install -U gguf) or use a Q4_K_M/Q8_0 file"
            ) from None
        return np.ascontiguousarray(dense, dtype=np.float32)

    def _int8(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """int8 rows and their scales, dequantized a block of rows at a time (per-row scales
        make this identical to quantizing the whole matrix)."""
        total = self._tensor(name).data.shape[0]
        blocks = [
            int8_rows(self._dense(name, slice(start, start + _ROWS)))
            for start in range(0, total, _ROWS)
        ]
        return np.concatenate([q for q, _ in blocks]), np.concatenate([s for _, s in blocks])

    def _linear(self, spec: Any, names: list[str], biased: bool = False) -> None:
        """Set a linear layer from the GGUF matrices `names` (their `.weight`, and `.bias` if
        `biased`), fused in order."""
        parts = [self._int8(f"{name}.weight") for name in names]
        spec.weight = np.concatenate([q for q, _ in parts])
        spec.weight_scale = np.concatenate([s for _, s in parts])
        if biased:
            spec.bias = np.concatenate([self._dense(f"{name}.bias") for name in names])


def _tokenizer(reader: GGUFReader) -> Any:
    """The byte-level BPE tokenizer of the GGUF, as transformers' GGUF loader builds it."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        pre_tokenizers,
        processors,
    )

    tokens = _field(reader, "tokenizer.ggml.tokens")
    types = _field(reader, "tokenizer.ggml.token_type")
    merges = [tuple(merge.split(" ")) for merge in _field(reader, "tokenizer.ggml.merges")]
    tokenizer = Tokenizer(
        models.BPE(
            vocab={token: index for index, token in enumerate(tokens)},
            merges=merges,
            continuing_subword_prefix="",
            end_of_word_suffix="",
            fuse_unk=False,
            byte_fallback=False,
        )
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_QWEN2_SPLIT), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.TemplateProcessing(single="$A", pair="$A $B:1")
    tokenizer.add_special_tokens(
        [
            AddedToken(token, normalized=False, special=True)
            for token, kind in zip(tokens, types, strict=True)
            if kind == _CONTROL
        ]
    )
    tokenizer.add_tokens(
        [
            AddedToken(token, normalized=False, special=False)
            for token, kind in zip(tokens, types, strict=True)
            if kind == _USER_DEFINED
        ]
    )
    return tokenizer
