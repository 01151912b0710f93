"""Which names reach a file of the served folder (no server, no model)."""

from __future__ import annotations

import os

import pytest

from dubber.studio.paths import PathRefused, inside, relative_name


@pytest.fixture
def root(tmp_path):
    folder = tmp_path / "served"
    (folder / "clips").mkdir(parents=True)
    (folder / "news.mp4").write_bytes(b"x")
    (folder / "clips" / "a.mp4").write_bytes(b"x")
    (tmp_path / "secret.txt").write_text("not yours")
    return folder


def test_plain_names_inside_are_reached(root):
    assert inside(root, "news.mp4") == (root / "news.mp4").resolve()
    assert inside(root, "clips/a.mp4") == (root / "clips" / "a.mp4").resolve()
    assert relative_name(root, inside(root, "clips/a.mp4")) == "clips/a.mp4"


@pytest.mark.parametrize(
    "name",
    [
        "../secret.txt",
        "clips/../../secret.txt",
        "..",
        "/etc/passwd",
        "//etc/passwd",
        "clips//a.mp4",
        "./news.mp4",
        "clips\\..\\..\\secret.txt",
        "news.mp4\x00.txt",
        ".hidden.mp4",
        "clips/.news.part.mp4",
        "",
        "a" * 2000,
    ],
)
def test_anything_else_is_refused(root, name):
    with pytest.raises(PathRefused):
        inside(root, name)


def test_a_symlink_out_is_refused_and_one_inside_is_followed(root, tmp_path):
    os.symlink(tmp_path / "secret.txt", root / "out.mp4")
    os.symlink(tmp_path, root / "up")
    os.symlink(root / "news.mp4", root / "alias.mp4")
    for name in ("out.mp4", "up/secret.txt"):
        with pytest.raises(PathRefused, match="leads out"):
            inside(root, name)
    assert inside(root, "alias.mp4") == (root / "news.mp4").resolve()
