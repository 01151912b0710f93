"""Diarization with the GE2E speaker encoder of the resemblyzer pack, read without torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dubber.speakers.diarize import Turn, diarize
from dubber.speakers.encoder import SpeakerEncoder

ENCODER_MODEL = "resemblyzer-ge2e"


def checkpoint_in(folder: Path) -> Path:
    """The encoder's weights in the model's store folder: resemblyzer's torch checkpoint."""
    return folder / "pretrained.pt"


class SpeakerDiarizer:
    """Speaker turns from Silero VAD, GE2E embeddings of sliding windows and clustering."""

    name = ENCODER_MODEL

    def __init__(self, folder: Path) -> None:
        self.encoder = SpeakerEncoder.from_torch_checkpoint(checkpoint_in(folder))

    def diarize(self, audio: np.ndarray, speakers: int | None = None) -> list[Turn]:
        """Turns of 16 kHz mono `audio`; `speakers` fixes how many there are."""
        return diarize(audio, speakers, encoder=self.encoder)

    def embed(self, audio: np.ndarray) -> np.ndarray:
        """The voice of one speaker's 16 kHz speech as a unit vector."""
        return self.encoder.embed(audio)
