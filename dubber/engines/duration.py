"""How long a voice takes to say a text: a per-voice model measured once and kept on disk."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from dubber.engines.protocols import Synthesizer, synthesize_all
from dubber.engines.voice import Voice
from dubber.outputs import atomic_write_text

log = logging.getLogger(__name__)

_LETTERS = re.compile(r"[^\W_]", re.UNICODE)
_PAUSES = re.compile(r"[,;:.!?…]")
CALIBRATION_TEXTS = (
    "Buenas noches.",
    "El equipo local ganó el partido por dos goles a uno en el último minuto.",
    "Según el informe publicado hoy, la economía creció un tres por ciento durante el último "
    "trimestre, impulsada por las exportaciones y el turismo.",
)


def _features(text: str) -> list[int]:
    """Letters, pauses inside the text, and the constant term."""
    return [len(_LETTERS.findall(text)), len(_PAUSES.findall(text.rstrip(".!?…"))), 1]


@dataclass(frozen=True)
class DurationModel:
    """Spoken seconds of a text at rate 1 for one voice: a fit on letters and pauses."""

    seconds_per_letter: float
    seconds_per_pause: float
    offset: float

    def predict(self, text: str, rate: float = 1.0) -> float:
        """Predicted duration of `text` spoken at `rate`."""
        letters, pauses, _ = _features(text)
        seconds = self.offset + letters * self.seconds_per_letter + pauses * self.seconds_per_pause
        return max(seconds, 0.0) / rate

    @classmethod
    def calibrate(
        cls, synthesizer: Synthesizer, texts: Sequence[str] = CALIBRATION_TEXTS
    ) -> DurationModel:
        """Measure the voice on a few sentences and fit the model by least squares."""
        rows = [_features(text) for text in texts]
        durations = [synthesize_all(synthesizer, text).duration for text in texts]
        solution, *_ = np.linalg.lstsq(np.array(rows, float), np.array(durations), rcond=None)
        per_letter, per_pause, offset = (float(v) for v in solution)
        return cls(max(per_letter, 1e-3), max(per_pause, 0.0), offset)


def calibrated(synthesizer: Synthesizer, voice: Voice, folder: Path) -> DurationModel:
    """The voice's duration model, measured once and kept in `folder`; a damaged file is
    measured again."""
    path = folder / f"{str(voice).replace(':', '_').replace('/', '_')}.json"
    try:
        return DurationModel(**json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        log.info("calibrating speaking rate of %s", voice)
    except (OSError, ValueError, TypeError) as error:
        log.warning("%s is damaged (%s): measuring %s again", path, error, voice)
    model = DurationModel.calibrate(synthesizer)
    atomic_write_text(path, json.dumps(asdict(model)))
    return model
