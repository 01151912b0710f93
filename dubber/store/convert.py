"""Convert an OPUS-MT Marian release to a CTranslate2 model folder."""

from __future__ import annotations

import logging
import shutil
import zipfile
from pathlib import Path

import yaml

from dubber.errors import DubberError
from dubber.outputs import atomic_dir

logger = logging.getLogger(__name__)

SENTENCEPIECE_FILES = ("source.spm", "target.spm")
# Kept beside the converted model when the release has them: OPUS-MT's licence asks for attribution.
_NOTICE_FILES = ("LICENSE", "README.md")
_QUANTIZATIONS = (
    "int8",
    "int8_float32",
    "int8_float16",
    "int8_bfloat16",
    "int16",
    "float16",
    "bfloat16",
    "float32",
)


def convert_opus_mt(marian_dir: Path, output_dir: Path, quantization: str = "int8") -> None:
    """Convert the Marian release in `marian_dir` to CTranslate2 in `output_dir`, atomically.

    The release holds decoder.yml, the .npz weights and .vocab.yml vocabularies it names, and
    source.spm / target.spm, which are copied beside the converted model.
    """
    from ctranslate2.converters import OpusMTConverter

    marian_dir = Path(marian_dir)
    if quantization not in _QUANTIZATIONS:
        raise DubberError(
            f"unknown quantization '{quantization}': choose one of {', '.join(_QUANTIZATIONS)}"
        )
    _check_release(marian_dir)
    logger.info("converting %s to CTranslate2 (%s)", marian_dir, quantization)
    with atomic_dir(Path(output_dir)) as tmp:
        try:
            OpusMTConverter(str(marian_dir)).convert(
                str(tmp), quantization=quantization, force=True
            )
        except (KeyError, ValueError, OSError, zipfile.BadZipFile) as error:
            raise DubberError(
                f"cannot convert the Marian model in {marian_dir}: {error}: "
                "re-download the OPUS-MT release"
            ) from error
        for name in SENTENCEPIECE_FILES + _NOTICE_FILES:
            if (marian_dir / name).is_file():
                shutil.copyfile(marian_dir / name, tmp / name)


def _check_release(marian_dir: Path) -> None:
    """Raise DubberError unless `marian_dir` has the files of an OPUS-MT Marian release."""
    expected = "an OPUS-MT Marian release (decoder.yml, *.npz, *.vocab.yml, source.spm, target.spm)"
    decoder = marian_dir / "decoder.yml"
    if not decoder.is_file():
        raise DubberError(f"{marian_dir} is not {expected}: decoder.yml is missing")
    try:
        config = yaml.safe_load(decoder.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise DubberError(f"{decoder} is not valid YAML: re-download the release") from error
    if not (
        isinstance(config, dict)
        and isinstance(config.get("models"), list)
        and isinstance(config.get("vocabs"), list)
        and config["models"]
        and config["vocabs"]
    ):
        raise DubberError(f"{decoder} does not list 'models' and 'vocabs': {expected} expected")
    named = [str(name) for name in config["models"][:1] + config["vocabs"]]
    missing = [name for name in (*named, *SENTENCEPIECE_FILES) if not (marian_dir / name).is_file()]
    if missing:
        raise DubberError(f"{marian_dir} is not {expected}: missing {', '.join(missing)}")
