"""Shared fixtures: the shared data folder and an isolated DUBBER_HOME."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


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
