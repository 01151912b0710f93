"""The subtitle files of a live run: NAME.SOURCE.srt and NAME.TARGET.srt, rewritten whole as lines
are spoken (at a bounded rate) and once more when the run ends."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from dubber.chain.line import Line
from dubber.media.captions import layout, settle
from dubber.media.subtitles import format_srt
from dubber.outputs import atomic_write_text

REWRITE_INTERVAL_S = 2.0  # wall seconds between two rewrites while the run goes on


def subtitle_path(base: Path, language: str) -> Path:
    """`talk.srt` -> `talk.en.srt` / `talk.es.srt`."""
    return base.with_name(f"{base.stem}.{language}.srt")


class LiveSubtitles:
    """Both languages' SRT files of a run, written by the thread that places the speech."""

    def __init__(
        self, base: Path, languages: tuple[str, str], interval_s: float = REWRITE_INTERVAL_S
    ) -> None:
        self.paths = {language: subtitle_path(base, language) for language in languages}
        self.source_language, self.target_language = languages
        self.interval_s = interval_s
        self._written_at: float | None = None

    def update(self, spoken: Sequence[Line]) -> None:
        """Rewrite the files for the lines spoken so far, unless they were written lately."""
        now = time.monotonic()
        if self._written_at is None or now - self._written_at >= self.interval_s:
            self.write(spoken)
            self._written_at = now

    def write(self, spoken: Sequence[Line]) -> None:
        """Write both files for `spoken` to broadcast norms: the source text where it was
        said, the translation where its speech was placed."""
        source, target = [], []
        for line in spoken:
            source += layout(line.source, line.start, line.end)
            if line.placed_start is not None and line.placed_end is not None:
                target += layout(line.translation or "", line.placed_start, line.placed_end)
        limit = max((cue.end for cue in source + target), default=0.0)
        cues = {
            self.source_language: settle(source, self.source_language, limit),
            self.target_language: settle(target, self.target_language, limit),
        }
        for language, path in self.paths.items():
            atomic_write_text(path, format_srt(cues[language]))
