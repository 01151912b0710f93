"""Shared fixtures: the shared data folder, an isolated DUBBER_HOME, and a tiny random OPUS-MT
model (built once per session) for the tests that need a CTranslate2 translator."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.helpers.paths import SHARED_DATA

# A test run started in the background inherits SIGINT ignored, and so would every program the
# tests start (Python then never raises KeyboardInterrupt): Ctrl-C keeps its usual meaning.
signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data from the repo root (real recordings and translations)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared data not found at {SHARED_DATA}: clone the repo beside ../shared")
    return SHARED_DATA


@pytest.fixture(scope="session", autouse=True)
def dubber_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every test session gets its own model store and never touches the network."""
    home = tmp_path_factory.mktemp("dubber-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("DUBBER_HOME", str(home))
    mp.setenv("DUBBER_OFFLINE", "1")
    mp.setenv("HF_HUB_OFFLINE", "1")
    yield home
    mp.undo()


@pytest.fixture(scope="session")
def mt_data(shared_data: Path) -> tuple[list[str], list[str]]:
    """The shared English sentences and their Spanish references."""
    mt = shared_data / "mt"
    return (
        (mt / "test.en").read_text(encoding="utf-8").splitlines(),
        (mt / "test.es").read_text(encoding="utf-8").splitlines(),
    )


@pytest.fixture(scope="session")
def marian_release(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-weight Marian release in OPUS-MT's layout."""
    from dubber.measure.marian_builder import build_marian_release

    corpus = [shared_data / "mt" / "test.en", shared_data / "mt" / "test.es"]
    return build_marian_release(tmp_path_factory.mktemp("marian") / "release", corpus)


@pytest.fixture(scope="session")
def tiny_model(marian_release: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """That release converted to CTranslate2, as `dubber models pull` converts OPUS-MT."""
    from dubber.store.convert import convert_opus_mt

    output = tmp_path_factory.mktemp("ct2") / "opus-mt-tiny"
    convert_opus_mt(marian_release, output)
    return output


@pytest.fixture(scope="session")
def llm_translator(dubber_home: Path):
    """The LLM translator as a user gets it on this machine (OpenVINO on the CPU), its model
    prepared from the installed PyPI packs into the session store and loaded once; every test
    that needs it shares it."""
    from dubber.engines.load import load_translator
    from dubber.store.store import Store
    from tests.helpers.models import RUNTIME

    return load_translator(Store(), "llm", "en", "es", RUNTIME)


@pytest.fixture(scope="module")
def calibration(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where fake voices keep their speaking-rate calibration, one per test module."""
    return tmp_path_factory.mktemp("calibration")
