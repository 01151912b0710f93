"""Planning and committing outputs on real file systems: folders, read-only places, other file
systems, and files that appear whole or not at all."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from dubber.errors import DubberError, UsageError
from dubber.outputs import OutputPlan, atomic_path, staged
from tests.helpers.disks import tmpfs


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB file system."""
    with tmpfs(tmp_path / "small", "256k") as folder:
        yield folder


@pytest.fixture
def other_disk(tmp_path):
    """A second file system, as a USB stick or another disk would be."""
    with tmpfs(tmp_path / "usb", "64m") as folder:
        yield folder


def test_a_folder_or_an_unwritable_place_is_refused_before_any_work(tmp_path):
    (tmp_path / "out.wav").mkdir()
    plan = OutputPlan()
    plan.add(tmp_path / "out.wav", "speech")
    with pytest.raises(UsageError, match="out.wav is a folder: give a file name for the speech"):
        plan.check()
    (tmp_path / "a-file").write_text("x")
    plan = OutputPlan()
    plan.add(tmp_path / "a-file" / "out.wav", "speech")
    with pytest.raises(UsageError, match="not writable .*a-file is not a folder"):
        plan.check()
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    plan = OutputPlan()
    plan.add(locked / "out.wav", "speech")
    if os.geteuid() == 0:  # root may write anywhere: a read-only mount stands in below
        return
    with pytest.raises(UsageError, match="not writable"):
        plan.check()


def test_a_read_only_file_system_is_refused_before_any_work(small_disk):
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    plan = OutputPlan()
    plan.add(small_disk / "out.wav", "speech")
    with pytest.raises(UsageError, match="read-only file system"):
        plan.check()


def test_a_full_disk_is_one_error_and_leaves_nothing(small_disk):
    with (
        pytest.raises(DubberError, match=f"no space left on {small_disk}"),
        atomic_path(small_disk / "big.bin") as tmp,
    ):
        tmp.write_bytes(b"\0" * (1024 * 1024))
    assert list(small_disk.iterdir()) == []


def test_a_check_that_fails_keeps_the_old_file(tmp_path):
    target = tmp_path / "speech.wav"
    target.write_bytes(b"the old one")

    def refuse(path: Path) -> None:
        raise DubberError("incomplete")

    with pytest.raises(DubberError, match="incomplete"), atomic_path(target, refuse) as tmp:
        tmp.write_bytes(b"a broken new one")
    assert target.read_bytes() == b"the old one" and list(tmp_path.iterdir()) == [target]


def test_an_output_on_another_file_system_is_staged_on_that_one(tmp_path, other_disk):
    target = other_disk / "news.es.srt"
    with atomic_path(target) as tmp:
        assert os.stat(tmp).st_dev == os.stat(other_disk).st_dev != os.stat(tmp_path).st_dev
        tmp.write_text("1\n00:00:00,000 --> 00:00:01,000\nHola\n", encoding="utf-8")
    assert target.read_text(encoding="utf-8").endswith("Hola\n")
    assert [p.name for p in other_disk.iterdir()] == ["news.es.srt"]


@pytest.mark.parametrize("moment", ["creating", "committing", "cleaning up"])
def test_a_ctrl_c_while_files_are_created_committed_or_removed_leaves_all_or_none(
    tmp_path, monkeypatch, moment
):
    """A real SIGINT sent to this process at each critical moment of `staged`: it is delivered
    once the moment has passed, and the targets are all written or none, with no temporary left."""
    targets = [tmp_path / f"news.{kind}" for kind in ("mp4", "srt", "vtt")]
    calls = {"creating": os.chmod, "committing": os.replace, "cleaning up": Path.unlink}
    real = calls[moment]

    def interrupted_once(*args, **kwargs):
        if not interrupted_once.sent:
            interrupted_once.sent = True
            os.kill(os.getpid(), signal.SIGINT)  # delivered at once to this, the main thread
        return real(*args, **kwargs)

    interrupted_once.sent = False
    owner = Path if moment == "cleaning up" else os
    monkeypatch.setattr(owner, real.__name__, interrupted_once)
    with pytest.raises(KeyboardInterrupt), staged(targets) as temps:
        for tmp in temps.values():
            tmp.write_text("whole")
        if moment == "cleaning up":
            raise RuntimeError("the work failed")  # the temporaries are removed, not committed
    assert interrupted_once.sent
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written in ([], sorted(t.name for t in targets)), written
    assert all(t.read_text() == "whole" for t in targets if t.exists())
    if moment == "committing":
        assert all(t.exists() for t in targets)  # the commit that had begun went to its end
