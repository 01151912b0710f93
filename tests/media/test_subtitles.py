"""SubRip and WebVTT: what dubber writes reads back the same, and other tools' files read."""

from __future__ import annotations

import pytest

from dubber.media.subtitles import Cue, format_srt, format_vtt, parse_srt

CUES = [
    Cue(0.0, 1.5, "Buenas noches."),
    Cue(61.25, 63.0, "¿Qué tal?"),
    Cue(3723.456, 3725.0, "Una hora, dos minutos."),
]


@pytest.mark.parametrize("render", [format_srt, format_vtt])
def test_written_subtitles_read_back_the_same(render):
    assert parse_srt(render(CUES)) == CUES


def test_timestamps_and_numbering_follow_each_format():
    srt, vtt = format_srt(CUES), format_vtt(CUES)
    assert srt.startswith("1\n00:00:00,000 --> 00:00:01,500\nBuenas noches.\n")
    assert "3\n01:02:03,456 --> 01:02:05,000" in srt
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n")


def test_other_tools_files_read_with_markup_and_windows_line_ends():
    text = (
        "\ufeff1\r\n00:00:02,000 --> 00:00:04,000\r\n<i>Hola</i>\r\nmundo\r\n\r\n"
        "2\r\n00:00:01,000 --> 00:00:01,500\r\nPrimero\r\n\r\n"
        "3\r\n00:00:05,000 --> 00:00:05,000\r\nSin duración\r\n"
    )
    assert parse_srt(text.lstrip("\ufeff")) == [
        Cue(1.0, 1.5, "Primero"),
        Cue(2.0, 4.0, "Hola mundo"),
    ]
    with pytest.raises(ValueError, match="no subtitle cues"):
        parse_srt("just text\nno times\n")
