"""The speaker encoder's weights, found by the model store in the installed resemblyzer pack
(CI installs it as the setup script does: `pip install --no-deps resemblyzer==0.1.4`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dubber.engines.diarizer import ENCODER_MODEL, checkpoint_in
from dubber.speakers.encoder import SpeakerEncoder
from dubber.store.store import Store


@pytest.fixture(scope="session")
def checkpoint() -> Path:
    """resemblyzer's pretrained.pt."""
    return checkpoint_in(Store().prepare(ENCODER_MODEL))


@pytest.fixture(scope="session")
def encoder(checkpoint: Path) -> SpeakerEncoder:
    return SpeakerEncoder.from_torch_checkpoint(checkpoint)
