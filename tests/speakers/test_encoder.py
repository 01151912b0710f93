"""The torch-free reader of resemblyzer's checkpoint, the mel features and the numpy encoder."""

from __future__ import annotations

import pickle
import sys
import types

import numpy as np
import pytest

from dubber.media.decode import decode_audio
from dubber.speakers.encoder import HIDDEN, SpeakerEncoder
from dubber.speakers.features import hz_to_mel, mel_filterbank, mel_spectrogram, mel_to_hz
from dubber.speakers.weights import (
    MAGIC,
    PROTOCOL_VERSION,
    CheckpointError,
    read_legacy_checkpoint,
    read_state_dict,
)

SHAPES = {
    **{f"lstm.weight_ih_l{i}": (1024, 40 if i == 0 else 256) for i in range(3)},
    **{f"lstm.weight_hh_l{i}": (1024, 256) for i in range(3)},
    **{f"lstm.bias_{kind}_l{i}": (1024,) for i in range(3) for kind in ("ih", "hh")},
    "linear.weight": (256, 256),
    "linear.bias": (256,),
}


@pytest.mark.slow  # the real speaker encoder
def test_reads_the_real_checkpoint_without_torch(checkpoint):
    weights = read_state_dict(checkpoint)
    assert "torch" not in sys.modules
    assert {k: v.shape for k, v in weights.items() if k in SHAPES} == SHAPES
    assert all(v.dtype == np.float32 and np.isfinite(v).all() for v in weights.values())


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned",))


def _legacy(main: object, storages: dict[str, np.ndarray] | None = None) -> bytes:
    """A legacy torch.save file around `main` (its storages' bytes appended)."""
    head = b"".join(
        pickle.dumps(x, protocol=2)
        for x in (MAGIC, PROTOCOL_VERSION, {"little_endian": True, "protocol_version": 1001})
    )
    storages = storages or {}
    body = pickle.dumps(main, protocol=2) + pickle.dumps(list(storages), protocol=2)
    for data in storages.values():
        body += len(data).to_bytes(8, "little") + data.astype("<f4").tobytes()
    return head + body


def test_refuses_a_pickle_that_names_another_global(tmp_path):
    for payload in (_Evil(), {"model_state": {"w": _Evil()}}, {"f": print}):
        with pytest.raises(CheckpointError, match="refusing"):
            read_legacy_checkpoint(_legacy(payload))
    with pytest.raises(CheckpointError, match="magic"):
        read_legacy_checkpoint(pickle.dumps(123))
    with pytest.raises(CheckpointError):
        read_legacy_checkpoint(b"\x80\x02garbage")


@pytest.fixture
def fake_torch(monkeypatch):
    """Stand-ins named like torch's, so pickle writes the globals a real checkpoint has."""
    torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")
    storage = type("FloatStorage", (), {"__module__": "torch"})
    torch.FloatStorage = storage

    def _rebuild_tensor_v2(*args):  # pragma: no cover - never called here
        raise AssertionError

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    return storage, _rebuild_tensor_v2


def _tensor_file(fake_torch, data: np.ndarray, offset: int, shape: tuple, stride: tuple) -> bytes:
    storage_type, rebuild = fake_torch

    class Tensor:
        def __reduce__(self):
            return (rebuild, (Storage(), offset, shape, stride, False, {}))

    class Storage:
        pass

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return ("storage", storage_type, "k0", "cpu", len(data), None)
            return None

    import io

    buf = io.BytesIO()
    Pickler(buf, protocol=2).dump({"model_state": {"w": Tensor()}})
    head = _legacy(0)[: -len(pickle.dumps(0, protocol=2) + pickle.dumps([], protocol=2))]
    tail = pickle.dumps(["k0"], protocol=2) + len(data).to_bytes(8, "little") + data.tobytes()
    return head + buf.getvalue() + tail


def test_rebuilds_strided_tensors_and_refuses_out_of_bounds(fake_torch):
    data = np.arange(12, dtype="<f4")
    raw = _tensor_file(fake_torch, data, 1, (3, 2), (1, 3))  # a transposed view
    expected = np.lib.stride_tricks.as_strided(data[1:], (3, 2), (4, 12))
    assert np.array_equal(read_state_dict(raw)["w"], expected)
    with pytest.raises(CheckpointError, match="past its storage"):
        read_state_dict(_tensor_file(fake_torch, data, 4, (3, 4), (4, 1)))


def test_mel_features_follow_slaney():
    assert hz_to_mel(1000.0) == pytest.approx(15.0)
    hz = np.array([0.0, 300.0, 1000.0, 4321.0, 8000.0])
    assert mel_to_hz(hz_to_mel(hz)) == pytest.approx(hz)
    bank = mel_filterbank()
    assert bank.shape == (40, 201) and (bank >= 0).all()
    area = bank.sum(axis=1) * (16000 / 400)  # each triangle has unit area in Hz
    assert area[10:] == pytest.approx(1.0, rel=0.05)
    tone = np.sin(2 * np.pi * 1000 * np.arange(16000) / 16000).astype(np.float32)
    mel = mel_spectrogram(tone)
    assert mel.shape == (101, 40)
    assert np.argmax(mel[50]) == np.argmin(
        np.abs(mel_to_hz(np.linspace(0, hz_to_mel(8000), 42))[1:-1] - 1000)
    )


def _naive_lstm_embedding(weights: dict[str, np.ndarray], mels: np.ndarray) -> np.ndarray:
    sigmoid = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    x = mels.astype(np.float64)
    for layer in range(3):
        w_ih, w_hh = weights[f"lstm.weight_ih_l{layer}"], weights[f"lstm.weight_hh_l{layer}"]
        b = weights[f"lstm.bias_ih_l{layer}"] + weights[f"lstm.bias_hh_l{layer}"]
        h, c, out = np.zeros((len(x), HIDDEN)), np.zeros((len(x), HIDDEN)), []
        for t in range(x.shape[1]):
            i, f, g, o = np.split(x[:, t] @ w_ih.T + h @ w_hh.T + b, 4, axis=1)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
            out.append(h)
        x = np.stack(out, axis=1)
    e = np.maximum(h @ weights["linear.weight"].T + weights["linear.bias"], 0)
    return e / np.linalg.norm(e, axis=1, keepdims=True)


def test_batched_lstm_matches_a_plain_one():
    rng = np.random.default_rng(0)
    weights = {
        k: (0.2 * rng.standard_normal(s) + (0.1 if k == "linear.bias" else 0)).astype(np.float32)
        for k, s in SHAPES.items()
    }
    mels = rng.random((3, 20, 40)).astype(np.float32)
    got = SpeakerEncoder(weights).embed_mels(mels)
    assert got == pytest.approx(_naive_lstm_embedding(weights, mels), abs=1e-4)


@pytest.mark.slow  # the real speaker encoder
def test_one_speaker_closer_than_two(encoder, shared_data):
    asr = shared_data / "asr"
    same = [
        encoder.embed(decode_audio(asr / f"librispeech_1089-{i}.wav"))
        for i in ("134686-0001", "134691-0000")
    ]
    others = [
        encoder.embed(decode_audio(asr / f"{name}.wav"))
        for name in (
            "ljspeech_LJ001-0007",
            "cmuarctic_aew_a0003",
            "jfk_inaugural_1961",
            "fleurs_en_009",
        )
    ]
    assert all(np.linalg.norm(e) == pytest.approx(1.0, abs=1e-5) for e in same + others)
    within = float(same[0] @ same[1])
    across = max(float(s @ o) for s in same for o in others)
    assert within > across + 0.1, (within, across)
    windows = encoder.embed_windows(
        decode_audio(asr / "jfk_inaugural_1961.wav"), [(0.5, 2.0), (3.0, 4.5)]
    )
    assert windows.shape == (2, 256)
