"""The GE2E speaker encoder of resemblyzer 0.1.4, run in numpy.

A 3-layer LSTM (40 mel bands in, 256 hidden) reads a window of mel frames; its last hidden state
goes through a linear layer, a ReLU and L2 normalisation, giving a 256-d embedding. Many windows
run as one batch: each layer's input projection is one matrix product over all frames, and each
step of the recurrence one product over all windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dubber.speakers.features import HOP, SAMPLE_RATE, mel_spectrogram
from dubber.speakers.weights import read_state_dict

PARTIAL_FRAMES = 160  # 1.6 s: the window length the encoder was trained on
TARGET_DBFS = -30.0  # resemblyzer raises quieter input to this level before embedding
LAYERS = 3
HIDDEN = 256
EMBEDDING = 256
_BATCH = 128  # windows per LSTM pass


def level_gain(rms: float, target_dbfs: float = TARGET_DBFS) -> float:
    """The gain that raises speech of this RMS to `target_dbfs`: never below 1 (quieter input
    is raised, louder kept), 1 for silence; as resemblyzer."""
    return max(1.0, 10 ** (target_dbfs / 20) / rms) if rms > 0 else 1.0


def raise_to_level(audio: np.ndarray, target_dbfs: float = TARGET_DBFS) -> np.ndarray:
    """Audio scaled up so its RMS reaches `target_dbfs` (never scaled down), as resemblyzer."""
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if len(audio) else 0.0
    gain = level_gain(rms, target_dbfs)
    return (audio * gain).astype(np.float32) if gain > 1.0 else audio


class SpeakerEncoder:
    """Speaker embeddings of 16 kHz mono audio. Load once, embed many windows."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.layers: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        # i, f and o rows halved: sigmoid(x) = (1 + tanh(x / 2)) / 2, so one tanh serves all gates
        scale = np.ones(4 * HIDDEN, dtype=np.float32)
        scale[: 2 * HIDDEN] = 0.5
        scale[3 * HIDDEN :] = 0.5
        for layer in range(LAYERS):
            w_ih = weights[f"lstm.weight_ih_l{layer}"] * scale[:, None]
            w_hh = weights[f"lstm.weight_hh_l{layer}"] * scale[:, None]
            bias = (weights[f"lstm.bias_ih_l{layer}"] + weights[f"lstm.bias_hh_l{layer}"]) * scale
            self.layers.append(
                (
                    np.ascontiguousarray(w_ih.T),
                    np.ascontiguousarray(w_hh.T),
                    bias.astype(np.float32),
                )
            )
        self.linear_w = np.ascontiguousarray(weights["linear.weight"].T, dtype=np.float32)
        self.linear_b = weights["linear.bias"].astype(np.float32)

    @classmethod
    def from_torch_checkpoint(cls, path: str | Path) -> SpeakerEncoder:
        """Straight from resemblyzer's `pretrained.pt` (read without torch)."""
        return cls(read_state_dict(path))

    def embed_mels(self, mels: np.ndarray) -> np.ndarray:
        """(N, 256) unit embeddings of (N, T, 40) mel windows of one length T."""
        mels = np.asarray(mels, dtype=np.float32)
        out = np.empty((len(mels), EMBEDDING), dtype=np.float32)
        for start in range(0, len(mels), _BATCH):
            out[start : start + _BATCH] = self._forward(mels[start : start + _BATCH])
        return out

    def _forward(self, mels: np.ndarray) -> np.ndarray:
        n, steps, _ = mels.shape
        x = np.ascontiguousarray(mels.transpose(1, 0, 2))  # (T, N, features)
        for index, (w_ih, w_hh, bias) in enumerate(self.layers):
            gates_in = (x.reshape(steps * n, -1) @ w_ih + bias).reshape(steps, n, 4 * HIDDEN)
            last = index == LAYERS - 1
            outputs = None if last else np.empty((steps, n, HIDDEN), dtype=np.float32)
            h = np.zeros((n, HIDDEN), dtype=np.float32)
            c = np.zeros((n, HIDDEN), dtype=np.float32)
            gates = np.empty((n, 4 * HIDDEN), dtype=np.float32)
            for t in range(steps):
                np.matmul(h, w_hh, out=gates)
                gates += gates_in[t]
                np.tanh(gates, out=gates)
                i, f = gates[:, :HIDDEN], gates[:, HIDDEN : 2 * HIDDEN]
                g, o = gates[:, 2 * HIDDEN : 3 * HIDDEN], gates[:, 3 * HIDDEN :]
                i += 1.0  # 2 * sigmoid; the halves are folded into c's update below
                f += 1.0
                o += 1.0
                c *= f
                c += i * g
                c *= 0.5
                h = np.tanh(c)
                h *= o
                h *= 0.5
                if outputs is not None:
                    outputs[t] = h
            if outputs is not None:
                x = outputs
        embeds = np.maximum(h @ self.linear_w + self.linear_b, 0.0)
        norms = np.linalg.norm(embeds, axis=1, keepdims=True)
        return embeds / np.maximum(norms, 1e-12)

    def embed_windows(
        self,
        audio16k: np.ndarray,
        windows: Sequence[tuple[float, float]],
        background_percentile: float | None = None,
        gain: float = 1.0,
    ) -> np.ndarray:
        """(N, 256) embeddings of the (start, end) windows, in seconds, of one recording.

        The mel frames are computed once over the whole recording; windows of one length (in
        frames) run as one batch. The caller sets the level: `gain` scales the audio, as
        `raise_to_level` would.
        `background_percentile` subtracts, per band, that percentile of the recording's mel
        power (a steady background such as a music bed), keeping at least 5 % of each value.
        """
        mel = mel_spectrogram(audio16k)
        if gain != 1.0:  # the power of `gain` x audio, without scaling a copy of the audio
            mel *= np.float32(gain * gain)
        if background_percentile is not None and len(mel):
            floor = np.percentile(mel, background_percentile, axis=0).astype(np.float32)
            mel = np.maximum(mel - floor, 0.05 * mel)
        spans = [
            (int(round(start * SAMPLE_RATE / HOP)), int(round(end * SAMPLE_RATE / HOP)))
            for start, end in windows
        ]
        out = np.zeros((len(spans), EMBEDDING), dtype=np.float32)
        by_length: dict[int, list[int]] = {}
        for index, (first, stop) in enumerate(spans):
            by_length.setdefault(max(1, stop - first), []).append(index)
        for length, group in by_length.items():
            for first_row in range(0, len(group), _BATCH):
                indices = group[first_row : first_row + _BATCH]
                batch = np.zeros((len(indices), length, mel.shape[1]), dtype=np.float32)
                for row, index in enumerate(indices):
                    piece = mel[max(0, spans[index][0]) :][:length]
                    batch[row, : len(piece)] = piece
                out[indices] = self._forward(batch)
        return out

    def embed(
        self, audio16k: np.ndarray, rate: float = 1.3, min_coverage: float = 0.75
    ) -> np.ndarray:
        """One (256,) embedding of an utterance: the normalised mean of its 1.6 s partials.

        As resemblyzer's `embed_utterance` on audio raised to -30 dBFS (its silence trimming,
        which needs webrtcvad, is left to the caller).
        """
        audio = raise_to_level(np.asarray(audio16k, dtype=np.float32))
        slices = partial_slices(len(audio), rate, min_coverage)
        stop = slices[-1][1] * HOP
        if stop >= len(audio):
            audio = np.pad(audio, (0, stop - len(audio)))
        mel = mel_spectrogram(audio)
        partials = self.embed_mels(np.stack([mel[a:b] for a, b in slices]))
        mean = partials.mean(axis=0)
        return mean / max(float(np.linalg.norm(mean)), 1e-12)


def partial_slices(
    n_samples: int, rate: float = 1.3, min_coverage: float = 0.75
) -> list[tuple[int, int]]:
    """Frame ranges of the 160-frame partials covering `n_samples`, as resemblyzer cuts them."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    step = int(np.round((SAMPLE_RATE / rate) / HOP))
    if not 0 < step <= PARTIAL_FRAMES:
        raise ValueError(f"rate {rate} out of range")
    steps = max(1, n_frames - PARTIAL_FRAMES + step + 1)
    slices = [(i, i + PARTIAL_FRAMES) for i in range(0, steps, step)]
    coverage = (n_samples - slices[-1][0] * HOP) / (PARTIAL_FRAMES * HOP)
    if coverage < min_coverage and len(slices) > 1:
        slices = slices[:-1]
    return slices
