"""A live run's subtitle files: both languages, rewritten at a bounded rate, whole at the end."""

from __future__ import annotations

from dubber.chain.line import Line
from dubber.live.subtitles import LiveSubtitles
from dubber.media.subtitles import parse_srt


def spoken(index: int) -> Line:
    line = Line(index=index, start=2.0 * index, end=2.0 * index + 1.5, source=f"Line {index}.")
    line.translation, line.placed_start, line.placed_end = f"Línea {index}.", 2.0 * index + 1, 9.0
    return line


def cues(subtitles: LiveSubtitles, language: str) -> list[str]:
    return [cue.text for cue in parse_srt(subtitles.paths[language].read_text(encoding="utf-8"))]


def test_files_are_named_by_the_run_s_languages(tmp_path):
    subtitles = LiveSubtitles(tmp_path / "talk.srt", ("en", "fr"))
    subtitles.write([spoken(1)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["talk.en.srt", "talk.fr.srt"]
    assert cues(subtitles, "en") == ["Line 1."] and cues(subtitles, "fr") == ["Línea 1."]


def test_rewrites_wait_for_the_interval_and_the_end_writes_everything(tmp_path):
    subtitles = LiveSubtitles(tmp_path / "talk.srt", ("en", "es"), interval_s=60.0)
    subtitles.update([spoken(1)])
    subtitles.update([spoken(1), spoken(2)])  # too soon after the first: not written
    assert cues(subtitles, "es") == ["Línea 1."]
    subtitles.write([spoken(1), spoken(2)])
    assert cues(subtitles, "es") == ["Línea 1.", "Línea 2."]
    often = LiveSubtitles(tmp_path / "often.srt", ("en", "es"), interval_s=0.0)
    often.update([spoken(1)])
    often.update([spoken(1), spoken(2)])
    assert cues(often, "en") == ["Line 1.", "Line 2."]
