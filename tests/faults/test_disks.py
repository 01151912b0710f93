"""A bad day with disks: the output on another file system, a full disk, read-only places, and
DUBBER_HOME that is a file or cannot be written. Real tmpfs mounts, a real `dubber` process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers.cli import one_line_error, run_dubber
from tests.helpers.disks import fill, tmpfs

pytestmark = pytest.mark.slow

FAST = ("--engine", "apertium", "--voice", "espeak:es", "--asr-model", "tiny.en")


@pytest.fixture(scope="module")
def clip(shared_data) -> Path:
    return shared_data / "asr" / "cmuarctic_aew_a0003.wav"


def test_outputs_on_another_file_system_arrive_whole(clip, tmp_path):
    """The work folder is under DUBBER_HOME, the outputs on a USB stick: all of them arrive."""
    with tmpfs(tmp_path / "usb", "64m") as usb:
        done = run_dubber("dub", str(clip), "-o", str(usb), *FAST)
        assert done.returncode == 0, done.stderr
        written = sorted(p.name for p in usb.iterdir())
        stem = clip.stem
        assert written == sorted(
            [f"{stem}.es.wav", f"{stem}.dub.json"]
            + [f"{stem}.{lang}.{ext}" for lang in ("en", "es") for ext in ("srt", "vtt")]
        )
        assert all((usb / name).stat().st_size > 0 for name in written)


@pytest.mark.parametrize("free", [0, 200_000], ids=["full", "nearly-full"])
def test_a_full_output_disk_is_one_line_and_leaves_no_output(clip, tmp_path, free):
    with tmpfs(tmp_path / "small", "8m") as disk:
        fill(disk, leave=free)
        before = set(disk.iterdir())
        done = run_dubber("dub", str(clip), "-o", str(disk), *FAST)
        one_line_error(done, "no space left on", exit_code=1)
        assert set(disk.iterdir()) == before, "nothing half-written stays behind"


def test_a_full_dubber_home_is_one_line(clip, tmp_path):
    with tmpfs(tmp_path / "home", "8m") as home:
        run_dubber("models", "list", home=home)  # the store folder, before the disk fills
        fill(home)
        done = run_dubber("dub", str(clip), "-o", str(tmp_path / "out"), *FAST, home=home)
        one_line_error(done, "no space left", exit_code=1)
        assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_a_read_only_output_folder_is_refused_before_any_work(clip, tmp_path):
    with tmpfs(tmp_path / "ro", "1m", read_only=True) as folder:
        done = run_dubber("dub", str(clip), "-o", str(folder), *FAST)
        one_line_error(done, "read-only file system", exit_code=2)


def test_dubber_home_that_is_a_file_or_read_only_is_one_line(clip, tmp_path):
    home_file = tmp_path / "home-file"
    home_file.write_text("not a folder")
    one_line_error(
        run_dubber("dub", str(clip), *FAST, home=home_file), "is a file, not a folder", exit_code=2
    )
    with tmpfs(tmp_path / "ro-home", "1m", read_only=True) as home:
        done = run_dubber("dub", str(clip), "-o", str(tmp_path / "out"), *FAST, home=home)
        one_line_error(done, "DUBBER_HOME", exit_code=1)
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        done = run_dubber("dub", str(clip), "-o", str(tmp_path / "out"), *FAST, home=locked)
        one_line_error(done, "DUBBER_HOME", exit_code=1)
