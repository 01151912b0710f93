"""Dubbing several files (fast tier, fake engines): short files translated together in one
call, longer ones alone, each file's outputs its own, and Ctrl-C keeping finished stages."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest

from dubber.dub import batch
from dubber.dub.batch import dub_files, file_groups, plan_dubs
from dubber.dub.document import DubDocument
from dubber.dub.job import DubOptions, Stage
from dubber.errors import StoppedError
from dubber.media.decode import write_wav
from tests.helpers.fakes import beeps, fake_engines

SCRIPT = (
    "The council met on Monday.",
    "It approved 12 new schools for the city.",
    "Work starts in March.",
)
OPTIONS = DubOptions(nbest=2)


def clip(folder: Path, name: str, spans: list[tuple[float, float]], seconds: float) -> Path:
    path = folder / name
    write_wav(path, beeps(spans, seconds), 16000)
    return path


@pytest.fixture
def clips(tmp_path: Path) -> list[Path]:
    """Three short clips of two or three 'sentences' each."""
    folder = tmp_path / "in"
    folder.mkdir()
    return [
        clip(folder, "a.wav", [(0.5, 2.0), (2.6, 4.5)], 5.0),
        clip(folder, "b.wav", [(0.3, 1.8), (2.5, 4.0), (4.6, 6.0)], 6.5),
        clip(folder, "c.wav", [(1.0, 3.0)], 4.0),
    ]


@contextmanager
def no_progress(_: str):
    yield lambda *_: None


def run(paths: list[Path], tmp_path: Path, engines, options: DubOptions = OPTIONS, stages=None):
    requests = plan_dubs(paths, tmp_path / "out", options, force=False)

    @contextmanager
    def progress(name: str):
        def report(stage: Stage, completed: float, total: float | None) -> None:
            if stages is not None:
                stages.append((name, stage))

        yield report

    return list(dub_files(requests, options, engines, tmp_path / "work", progress))


def test_short_files_are_translated_in_one_call(clips, tmp_path):
    engines = fake_engines(tmp_path / "calibration", SCRIPT)
    stages: list[tuple[str, Stage]] = []
    reports = run(clips, tmp_path, engines, stages=stages)
    translate_calls = [c for c in engines.translator.calls if c.max_syllables is None]
    assert len(translate_calls) == 1
    assert len(translate_calls[0].texts) == 6  # 2 + 3 + 1 lines
    assert [len(r.document.lines) for r in reports] == [2, 3, 1]
    for path, report in zip(clips, reports, strict=True):
        assert report.outputs.media.name == f"{path.stem}.es.wav"
        assert report.outputs.media.is_file()
        saved = DubDocument.load(report.outputs.document)
        assert saved.media == str(path)
        assert [line.source for line in saved.lines] == [SCRIPT[i] for i in range(len(saved.lines))]
        assert all(line.translation.startswith("es: ") for line in saved.lines)
    # the group's recognition and translation show under the group, speech under each file
    assert ("3 files", Stage.translate) in stages
    assert {name for name, stage in stages if stage is Stage.speak} == {
        "a.wav",
        "b.wav",
        "c.wav",
    }


def test_files_over_the_group_length_are_translated_apart(clips, tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "GROUP_SECONDS", 11.0)  # a + b: 11.5 s, b + c: 10.5 s
    requests = plan_dubs(clips, tmp_path / "out", OPTIONS, force=False)
    assert [[r.media.path.name for r in g] for g in file_groups(requests)] == [
        ["a.wav"],
        ["b.wav", "c.wav"],
    ]
    engines = fake_engines(tmp_path / "calibration", SCRIPT)
    run(clips, tmp_path, engines)
    translate_calls = [c for c in engines.translator.calls if c.max_syllables is None]
    assert [len(c.texts) for c in translate_calls] == [2, 4]


def test_a_batch_dubs_each_file_as_it_would_alone(clips, tmp_path):
    together = run(clips, tmp_path / "together", fake_engines(tmp_path / "cal", SCRIPT))
    for path, report in zip(clips, together, strict=True):
        alone = run([path], tmp_path / f"alone-{path.stem}", fake_engines(tmp_path / "cal", SCRIPT))
        assert [(ln.start, ln.translation, ln.placed_start) for ln in alone[0].document.lines] == [
            (ln.start, ln.translation, ln.placed_start) for ln in report.document.lines
        ]


def test_ctrl_c_while_translating_the_group_keeps_nothing_half_done(clips, tmp_path):
    engines = fake_engines(tmp_path / "calibration", SCRIPT)

    def interrupted(*_, **__):
        raise KeyboardInterrupt

    engines.translator.translate = interrupted
    with pytest.raises(StoppedError, match="--resume"):
        run(clips, tmp_path, engines)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_resume_reuses_the_documents_of_a_group(clips, tmp_path):
    engines = fake_engines(tmp_path / "calibration", SCRIPT)
    first = run(clips, tmp_path, engines)
    for report in first:
        report.outputs.media.unlink()
    engines = fake_engines(tmp_path / "calibration", SCRIPT)
    resumed = DubOptions(nbest=2, resume=True)
    requests = plan_dubs(clips, tmp_path / "out", resumed, force=True)
    again = list(dub_files(requests, resumed, engines, tmp_path / "work", no_progress))
    assert engines.recognizer.calls == 0 and engines.translator.calls == []
    for resumed_report, first_report in zip(again, first, strict=True):
        lines, before = resumed_report.document.lines, first_report.document.lines
        assert [(ln.source, ln.translation, ln.start) for ln in lines] == [
            (ln.source, ln.translation, ln.start) for ln in before
        ]
        assert [ln.placed_end for ln in lines] == pytest.approx(
            [ln.placed_end for ln in before], abs=0.005
        )
