"""Earlier dubs of a folder's files, kept when a file is dubbed again from scratch so that none of
an editor's work is lost: each version holds the dub document and outputs as they were, and
restoring one puts them back together."""

from __future__ import annotations

import errno
import os
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

from dubber.errors import UsageError
from dubber.outputs import staged
from dubber.studio.library import outputs_for

FOLDER = ".dubber-versions"  # hidden: the library does not list it
_NAME = re.compile(r"^\d{8}T\d{6}(-\d+)?$")


class Versions:
    """The kept versions of the dubs in `root` (the studio's folder)."""

    def __init__(self, root: Path) -> None:
        self.root = root / FOLDER

    def names(self, media: Path) -> list[str]:
        """The versions kept of `media`'s dub, oldest first."""
        folder = self.root / media.name
        if not folder.is_dir():
            return []
        return sorted(entry.name for entry in folder.iterdir() if _NAME.match(entry.name))

    def keep(self, media: Path) -> str | None:
        """Keep `media`'s current dub (document and outputs, linked where the file system
        allows, else copied) as a new version; its name, or None when it has no dub."""
        present = [path for path in outputs_for(media).all() if path.is_file()]
        if outputs_for(media).document not in present:
            return None
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        taken = set(self.names(media))
        name = next(
            candidate
            for candidate in (stamp, *(f"{stamp}-{n}" for n in range(1, 1000)))
            if candidate not in taken
        )
        folder = self.root / media.name / name
        folder.mkdir(parents=True)
        for path in present:
            _link_or_copy(path, folder / path.name)
        return name

    def restore(self, media: Path, name: str) -> None:
        """Put version `name` of `media`'s dub back in place of the current one, all its files
        together (the current one is kept as a version first)."""
        if name not in self.names(media):
            raise UsageError(f"{media.name} has no kept version '{name[:40]}'")
        folder = self.root / media.name / name
        targets = [path for path in outputs_for(media).all() if (folder / path.name).is_file()]
        self.keep(media)
        with staged(targets) as temps:
            for target in targets:
                shutil.copyfile(folder / target.name, temps[target])


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError as error:
        if error.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        shutil.copy2(source, target)
