"""Build a random-weight OPUS-MT-format Marian model and convert it as `dubber models pull` does.

    python scripts/build_tiny_marian.py OUT [--shape tiny|opus-mt] [--data ../shared/data/mt]

OUT/marian gets the Marian release (decoder.yml, .npz, .vocab.yml, source.spm, target.spm) and
OUT/ct2 the CTranslate2 model that dubber's opusmt engine runs. `--shape opus-mt` has the real
OPUS-MT en-es sizes, for speed benchmarks. The builder itself is dubber.measure.marian_builder.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from dubber.measure.marian_builder import SHAPES, build_marian_release
from dubber.store.convert import convert_opus_mt

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mt"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="folder to write marian/ and ct2/ into")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="folder with test.en and test.es"
    )
    parser.add_argument("--quantization", default="int8")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    corpus = [args.data / "test.en", args.data / "test.es"]
    if missing := [str(path) for path in corpus if not path.is_file()]:
        parser.error(f"training text not found: {', '.join(missing)}")
    marian = build_marian_release(args.output / "marian", corpus, SHAPES[args.shape], args.seed)
    convert_opus_mt(marian, args.output / "ct2", args.quantization)
    print(args.output / "ct2")


if __name__ == "__main__":
    main()
