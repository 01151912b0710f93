"""Build OPUS-MT-format Marian releases with random weights, for tests and speed benchmarks.

The release has what an OPUS-MT download has: a sentencepiece model (trained here on the given
text, used as both source.spm and target.spm), the Marian vocabulary YAML, decoder.yml and an .npz
with the parameter names, shapes and `special:model.yml` that Marian writes for a post-norm
transformer with all embeddings tied. Translations are nonsense, but speed does not depend on the
weights' values, so the `opus-mt` shape times like the real model.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from dubber.outputs import atomic_dir

logger = logging.getLogger(__name__)

EOS, UNK, PAD = "</s>", "<unk>", "<pad>"


@dataclass(frozen=True)
class MarianShape:
    """Transformer sizes; `vocab_size` pads the trained vocabulary with synthetic pieces."""

    encoder_layers: int
    decoder_layers: int
    dim: int
    heads: int
    ffn_dim: int
    spm_vocab_size: int
    vocab_size: int | None = None


SHAPES = {
    "tiny": MarianShape(
        encoder_layers=2, decoder_layers=2, dim=64, heads=4, ffn_dim=128, spm_vocab_size=800
    ),
    # Helsinki-NLP/opus-mt-en-es: 6+6 layers, d_model 512, 8 heads, ffn 2048, 65001 vocabulary.
    "opus-mt": MarianShape(
        encoder_layers=6,
        decoder_layers=6,
        dim=512,
        heads=8,
        ffn_dim=2048,
        spm_vocab_size=8000,
        vocab_size=65001,
    ),
}


def build_marian_release(
    output_dir: Path, corpus: Sequence[Path], shape: MarianShape = SHAPES["tiny"], seed: int = 0
) -> Path:
    """Write a Marian release with random weights to `output_dir` (atomically) and return it.

    `corpus` is plain-text files, one sentence a line, to train the sentencepiece model on.
    """
    lines = [line for path in corpus for line in Path(path).read_text("utf-8").splitlines()]
    spm_model, pieces = _train_sentencepiece(lines, shape.spm_vocab_size)
    vocab = _marian_vocab(pieces, shape.vocab_size)
    stem = f"opus.spm{shape.spm_vocab_size}"
    weights, vocab_file = f"{stem}.transformer.model1.npz.best-perplexity.npz", f"{stem}.vocab.yml"
    logger.info("building a %d-token random Marian model in %s", len(vocab), output_dir)
    with atomic_dir(Path(output_dir)) as tmp:
        for name in ("source.spm", "target.spm"):
            (tmp / name).write_bytes(spm_model)
        (tmp / vocab_file).write_text(_vocab_yaml(vocab), encoding="utf-8")
        np.savez(tmp / weights, **_random_weights(shape, len(vocab), seed))
        decoder = {
            "relative-paths": True,
            "models": [weights],
            "vocabs": [vocab_file, vocab_file],
            "beam-size": 4,
            "normalize": 1,
            "word-penalty": 0,
            "mini-batch": 16,
            "maxi-batch": 100,
            "maxi-batch-sort": "src",
        }
        (tmp / "decoder.yml").write_text(yaml.safe_dump(decoder, sort_keys=False), "utf-8")
        (tmp / "README.md").write_text(
            "Random-weight Marian transformer built by dubber.measure.marian_builder for tests and "
            "benchmarks: its translations are meaningless.\n",
            encoding="utf-8",
        )
    return Path(output_dir)


def _train_sentencepiece(lines: Iterable[str], vocab_size: int) -> tuple[bytes, list[str]]:
    """Train a unigram model; return its bytes and its pieces in id order."""
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=1.0,
        hard_vocab_limit=False,
        num_threads=1,
        minloglevel=2,
    )
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    return model.getvalue(), pieces


def _marian_vocab(pieces: list[str], vocab_size: int | None) -> list[str]:
    """OPUS-MT's order: </s>, <unk>, the pieces, (synthetic padding), <pad> last."""
    vocab = [EOS, UNK, *(piece for piece in pieces if piece not in {EOS, UNK, "<s>"})]
    if vocab_size is not None:
        vocab += [f"<synthetic{i}>" for i in range(vocab_size - len(vocab) - 1)]
    return [*vocab, PAD]


def _vocab_yaml(vocab: list[str]) -> str:
    """Marian's vocabulary YAML, `"token": id` a line (double-quoted, so any piece is valid)."""
    quoted = (token.replace("\\", "\\\\").replace('"', '\\"') for token in vocab)
    return "".join(f'"{token}": {index}\n' for index, token in enumerate(quoted))


def _model_config(shape: MarianShape, vocab_size: int) -> dict[str, object]:
    """The `special:model.yml` Marian writes for an OPUS-MT transformer (post-norm, tied)."""
    return {
        "type": "transformer",
        "dim-vocabs": [vocab_size, vocab_size],
        "dim-emb": shape.dim,
        "enc-depth": shape.encoder_layers,
        "dec-depth": shape.decoder_layers,
        "tied-embeddings": False,
        "tied-embeddings-src": False,
        "tied-embeddings-all": True,
        "transformer-heads": shape.heads,
        "transformer-dim-ffn": shape.ffn_dim,
        "transformer-ffn-depth": 2,
        "transformer-ffn-activation": "swish",
        "transformer-preprocess": "",
        "transformer-postprocess": "dan",
        "transformer-postprocess-emb": "d",
        "transformer-decoder-autoreg": "self-attention",
        "transformer-no-projection": False,
        "transformer-tied-layers": [],
        "transformer-guided-alignment-layer": "last",
        "transformer-train-position-embeddings": False,
        "bert-train-type-embeddings": True,
        "version": "v1.9.0 (built by dubber.measure.marian_builder)",
    }


def _random_weights(shape: MarianShape, vocab_size: int, seed: int) -> dict[str, np.ndarray]:
    """Glorot-uniform matrices, zero biases, unit layer norms, under Marian's parameter names."""
    rng = np.random.default_rng(seed)
    d = shape.dim

    def matrix(rows: int, cols: int) -> np.ndarray:
        limit = np.sqrt(6.0 / (rows + cols))
        return rng.uniform(-limit, limit, (rows, cols)).astype(np.float32)

    def row(size: int, value: float = 0.0) -> np.ndarray:
        return np.full((1, size), value, dtype=np.float32)

    def attention(prefix: str) -> dict[str, np.ndarray]:
        params = {f"{prefix}_W{p}": matrix(d, d) for p in "qkvo"}
        params |= {f"{prefix}_b{p}": row(d) for p in "qkvo"}
        return params | {f"{prefix}_Wo_ln_scale": row(d, 1.0), f"{prefix}_Wo_ln_bias": row(d)}

    def ffn(prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}_W1": matrix(d, shape.ffn_dim),
            f"{prefix}_b1": row(shape.ffn_dim),
            f"{prefix}_W2": matrix(shape.ffn_dim, d),
            f"{prefix}_b2": row(d),
            f"{prefix}_ffn_ln_scale": row(d, 1.0),
            f"{prefix}_ffn_ln_bias": row(d),
        }

    params = {"Wemb": matrix(vocab_size, d)}
    for i in range(1, shape.encoder_layers + 1):
        params |= attention(f"encoder_l{i}_self") | ffn(f"encoder_l{i}_ffn")
    for i in range(1, shape.decoder_layers + 1):
        params |= attention(f"decoder_l{i}_self") | attention(f"decoder_l{i}_context")
        params |= ffn(f"decoder_l{i}_ffn")
    params["decoder_ff_logit_out_b"] = row(vocab_size)
    config = yaml.safe_dump(_model_config(shape, vocab_size), sort_keys=False).encode()
    params["special:model.yml"] = np.frombuffer(config + b"\0", dtype=np.int8)
    return params
