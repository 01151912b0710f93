"""The PyPI model packs: find their files and turn split packs into one model folder."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
from collections.abc import Callable
from pathlib import Path

from dubber.store.catalogue import FileEntry, Packs
from dubber.store.hub import ProgressHook

Located = dict[str, tuple[Path, ...]]


def locate(packs: Packs) -> Located | None:
    """Each model file's pack resources on disk, or None unless every pack and file is installed.

    Packages are found without importing them (some import heavy runtimes at import time).
    """
    for package in packs.packages:
        try:
            importlib.metadata.distribution(package)
        except importlib.metadata.PackageNotFoundError:
            return None
    located = {name: tuple(_resource(ref) for ref in refs) for name, refs in packs.files.items()}
    if not all(path is not None and path.is_file() for paths in located.values() for path in paths):
        return None
    return located


def _resource(ref: str) -> Path | None:
    """'module/relative/path' as a path inside the installed module's folder."""
    module, _, relative = ref.partition("/")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / relative


def usable_folder(located: Located) -> Path | None:
    """The pack folder itself when it already holds every model file under its own name."""
    folders = {paths[0].parent for paths in located.values()}
    whole = all(len(paths) == 1 and paths[0].name == name for name, paths in located.items())
    return folders.pop() if whole and len(folders) == 1 else None


def materialise(
    located: Located, folder: Path, progress: ProgressHook | None = None
) -> list[FileEntry]:
    """Write each model file into `folder`, joining its resources in order; describe them.
    `progress` is told each file's bytes written and its size."""
    written = []
    for name, paths in located.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        total = sum(path.stat().st_size for path in paths)
        with open(target, "wb") as sink:
            report = _reporter(progress, name, total) if progress else None
            written.append(FileEntry.of(name, *paths, sink=sink, on_chunk=report))
    return written


def _reporter(progress: ProgressHook, name: str, total: int) -> Callable[[int], None]:
    return lambda done: progress(name, done, total)


def packed_bytes(located: Located) -> int:
    """The size of the model files the packs give."""
    return sum(path.stat().st_size for paths in located.values() for path in paths)


def install_command(packs: Packs, distribution: str = "dubber") -> str:
    """How to install the packs: dubber's extra that lists them all, read from its metadata
    (`pip install 'dubber[offline]'`), else the packages themselves (with the manifest's pip
    options: `pip install --no-deps resemblyzer`)."""
    packages = packs.packages
    try:
        requirements = importlib.metadata.requires(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        requirements = []
    extras: dict[str, set[str]] = {}
    for requirement in requirements:
        name, _, marker = requirement.partition(";")
        if "extra ==" not in marker:
            continue
        extra = marker.split("extra ==", 1)[1].strip().strip("'\"")
        package = re.split(r"[<>=!~\[ ]", name.strip(), maxsplit=1)[0]
        extras.setdefault(extra, set()).add(_normalised(package))
    wanted = {_normalised(package) for package in packages}
    for extra, listed in sorted(extras.items(), key=lambda item: len(item[1])):
        if wanted <= listed:
            return f"pip install '{distribution}[{extra}]'"
    return " ".join(["pip install", *packs.pip_options, *packages])


def _normalised(package: str) -> str:
    return re.sub(r"[-_.]+", "-", package).lower()
