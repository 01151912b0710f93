"""Re-dub of one edited line, as the studio's "Re-dub changed lines" runs it (not a test).

Dubs the read newscast of `bench_dub.py` (N minutes, built once) in this process, then edits one
line at a time (a different line each repeat, spread over the file), saves the document and
dubs it again from that document into the same outputs: one clip is spoken again, the rest come
from the clip cache, and the dub track is patched where it changed. Each repeat is timed twice
in one run: patched (the earlier output is the one this work folder wrote) and mixed whole (the
output touched first, so the patch is refused). The translator does not take part in a re-dub.

Usage: python scripts/bench_redub.py [--minutes 10] [--engine apertium] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from dubber.dub.document import DubDocument
from dubber.dub.job import DubJob, DubOptions, Stage
from dubber.dub.outputs import OutputPaths
from dubber.engines.bundle import EngineChoice
from dubber.engines.load import load_engines
from dubber.media.probe import probe
from dubber.settings import RuntimeOptions
from dubber.store.store import Store

sys.path.insert(0, str(Path(__file__).parent))
from bench_dub import build_read_news  # noqa: E402  (the same newscast as the dub benchmark)

EDITS = ("Esta frase la corrigió una persona.", "Una persona corrigió esta frase, dijo.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--engine", default="apertium", help="translator of the first dub")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/dubber-bench"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    media = probe(build_read_news(args.work / f"input-read-{args.minutes:g}min.mp4", args.minutes))
    choice = EngineChoice(translator=args.engine)
    engines = load_engines(Store(), RuntimeOptions(threads=2), choice, check_language=True)
    outputs = OutputPaths.beside(args.work / f"redub-{time.time_ns()}.es.mp4", "en", "es")
    work_root = args.work / f"work-{time.time_ns()}"

    stages: dict[str, list[float]] = {"speak": [], "mix": []}

    def dub(options: DubOptions) -> tuple[float, float]:
        report = DubJob(engines, options, media, outputs, work_root, lambda *_: None).run()
        if options.document is not None and report.remixed < media.duration:
            for stage in (Stage.speak, Stage.mix):
                stages[stage.value].append(report.seconds[stage])
        return report.wall_seconds, report.remixed

    dub(DubOptions())
    runs: dict[str, list[float]] = {"patched": [], "whole": []}
    remixed = []
    for repeat in range(args.repeats):
        for how in ("patched", "whole"):
            document = DubDocument.load(outputs.document)
            line = (repeat + 1) * len(document.lines) // (args.repeats + 1)
            document.lines[line].translation = EDITS[(repeat + (how == "whole")) % 2]
            document.save(outputs.document)
            if how == "whole":
                outputs.media.touch()  # no longer the file the last dub wrote
            seconds, mixed = dub(DubOptions(document=outputs.document))
            runs[how].append(seconds)
            if how == "patched":
                remixed.append(mixed)
    result = {
        "input_s": round(media.duration, 1),
        "redub_patched_s": [round(s, 2) for s in runs["patched"]],
        "redub_whole_s": [round(s, 2) for s in runs["whole"]],
        "median_patched_s": round(statistics.median(runs["patched"]), 2),
        "median_whole_s": round(statistics.median(runs["whole"]), 2),
        "patched_track_s": [round(s, 1) for s in remixed],
        "patched_speak_mix_s": [round(statistics.median(v), 2) for v in stages.values()],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
