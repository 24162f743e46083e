"""A real headless Chromium (Debian's package), driven by Playwright.

Where Chromium is missing the browser tests skip with a reason, unless
SURVEY_REQUIRE_BROWSER=1 (set by .ci/run) makes them fail.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Server

CHROMIUM = os.environ.get("SURVEY_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def playwright_driver():  # type: ignore[no-untyped-def]
    """Playwright, once Chromium is known to be there; tests that need other
    browser flags launch their own browser from it."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("SURVEY_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests are required (SURVEY_REQUIRE_BROWSER=1): {reason}")
        pytest.skip(f"browser tests skipped: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def chromium_browser(playwright_driver):  # type: ignore[no-untyped-def]
    browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
    yield browser
    browser.close()


@pytest.fixture
def page(chromium_browser):  # type: ignore[no-untyped-def]
    context = chromium_browser.new_context()
    yield context.new_page()
    context.close()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Server]:
    """The product as `make run` starts it, on its own SQLite file."""
    survey = str(Path(sys.executable).with_name("survey"))
    server = Server([survey], {"SURVEY_DATABASE_URL": f"sqlite:///{tmp_path / 'survey.db'}"})
    server.wait_ready()
    yield server
    server.stop()
