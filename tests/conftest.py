"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from suites import SUITE_SKIP, suite_missing

#: Fixture modules, registered once here instead of imported by name in each test module.
pytest_plugins = ["app_fixtures", "db_fixtures", "fake_sources"]

REPO_DIR = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_DIR.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public data beside the checkout (../shared/data); skip where absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real public data not found at {SHARED_DATA} (needs ../shared/data)")
    return SHARED_DATA


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say loudly which suites did not run, how many tests that is, and why."""
    counts: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        message = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        if SUITE_SKIP in message:
            reason = message.split(SUITE_SKIP, 1)[1].strip()
            counts[reason] = counts.get(reason, 0) + 1
    if not counts:
        return
    write = terminalreporter.write_line
    write("")
    write("!" * 90, red=True, bold=True)
    write(
        "NOT EVERYTHING WAS TESTED: whole suites were skipped on this machine", red=True, bold=True
    )
    for reason, n in counts.items():
        write(f"  {n} tests skipped: {reason}", red=True)
    write("  (under CI=true these fail instead)", red=True)
    write("!" * 90, red=True, bold=True)


CHROMIUM = os.environ.get("CONFLICTMAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def chromium_browser():
    """One headless Debian Chromium for the whole session.

    Playwright's sync API allows one running instance per thread, so every browser test
    shares this one (each test opens its own context or page).
    """
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        suite_missing(
            "browser",
            f"Chromium not found at {CHROMIUM} (Debian, as root: `make browser-deps`; "
            "elsewhere set CONFLICTMAP_CHROMIUM to a Chromium)",
        )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
