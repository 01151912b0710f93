"""Debian's Chromium, headless, driven through Selenium and Debian's chromium-driver; and
waiting on the page."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"
# Headless as root on a machine with no network: no sandbox, no GPU, nothing fetched.
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required", "--window-size=1440,900",
    "--disable-dev-shm-usage",
)  # fmt: skip


def chromium(profile: Path) -> Any:
    """A headless Chromium with a fresh profile in `profile`; skipped, saying how to install
    it, where Debian's chromium and chromium-driver are missing."""
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        pytest.skip("needs Debian's chromium and chromium-driver: bash scripts/setup.sh")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(shutil.which(DRIVER) or DRIVER), options=options)


def wait_for(driver: Any, script: str, timeout: float = 60, what: str = "") -> Any:
    """Run `script` (a JavaScript expression) until it is truthy; its value."""
    return until(lambda: driver.execute_script(f"return ({script});"), timeout, what or script)


def until(check: Callable[[], Any], timeout: float, what: str, poll: float = 0.1) -> Any:
    """Call `check` until it returns something truthy, for at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)


def console_errors(driver: Any) -> list[str]:
    """The page's console errors so far (a 4xx a test asked for excepted by the caller)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
