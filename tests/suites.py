"""Whole suites a machine cannot run (no Chromium, no PostgreSQL with PostGIS).

Without them the tests that need them are skipped, and the end of the run says so loudly
(``conftest.pytest_terminal_summary``); under ``CI=true`` they fail instead, so a CI
machine can never pass without running them.
"""

from __future__ import annotations

import os

import pytest

#: Skips of whole suites that this machine cannot run start with this (see ``suite_missing``).
SUITE_SKIP = "suite skipped on this machine:"


def ci_requires_every_suite() -> bool:
    """Under ``CI=true`` a missing browser or database fails the run instead of skipping."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def suite_missing(suite: str, reason: str) -> None:
    """Skip the tests that need ``suite`` (a browser, a database) with ``reason``, said
    again loudly at the end of the run; under ``CI=true``, fail instead."""
    if ci_requires_every_suite():
        pytest.fail(f"{reason} (CI=true: the {suite} tests must run; nothing is skipped)")
    pytest.skip(f"{SUITE_SKIP} {suite} tests: {reason}")
