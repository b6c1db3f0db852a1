"""Browser fixtures: a real `streamlit run` server and headless Debian Chromium (Playwright).

Helpers live in ``browser_helpers``; waits are on conditions only, never fixed sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_helpers import (
    ARTIFACTS,
    PAGE_TIMEOUT_MS,
    Server,
    run_server,
)
from playwright.sync_api import expect

# An assertion on the page waits for what it expects as long as the page itself may take
# under load (Playwright's own default is 5 s): a loaded machine draws later, not wrongly.
expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def bundled_server(artifacts) -> Iterator[Server]:
    """The app on the bundled data."""
    with run_server({}, artifacts / "server-bundled.log") as server:
        yield server


@pytest.fixture(scope="session")
def browser(chromium_browser):
    return chromium_browser


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.page_errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()


# --- helpers the tests share ----------------------------------------------------------------


@pytest.fixture(scope="session")
def tiny_server(tmp_path_factory, artifacts) -> Iterator[Server]:
    """The app on the hand-made inputs of ``app_fixtures`` (answers known by hand)."""
    from app_fixtures import write_inputs

    events, areas = write_inputs(tmp_path_factory.mktemp("tiny"))
    env = {"CONFLICTMAP_EVENTS": str(events), "CONFLICTMAP_AREAS": str(areas)}
    with run_server(env, artifacts / "server-tiny.log") as server:
        yield server
