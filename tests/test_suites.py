"""Suites this machine cannot run are skipped loudly, and never under CI=true.

The browser suite is run in a child pytest with Chromium pointed at a path that does not
exist (as on a machine without it); the database check is asked about a machine whose
PostgreSQL programs cannot be found.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pgcluster

TESTS = Path(__file__).resolve().parent
BROWSER_TEST = "test_layers_events_encoding.py::test_javascript_decodes_what_python_encoded"


def _child_pytest(**env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "CI"}
    environ.update(CONFLICTMAP_CHROMIUM="/nonexistent/chromium", **env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(TESTS / BROWSER_TEST)],
        capture_output=True,
        text=True,
        cwd=TESTS.parent,
        env=environ,
        timeout=300,
        check=False,
    )


def test_without_chromium_the_browser_tests_are_skipped_and_the_run_says_so_loudly():
    proc = _child_pytest()
    out = proc.stdout
    assert proc.returncode == 0, out[-2000:]
    assert "1 skipped" in out
    assert "NOT EVERYTHING WAS TESTED" in out
    assert "1 tests skipped: browser tests: Chromium not found at /nonexistent/chromium" in out


def test_under_ci_a_missing_chromium_fails_the_run():
    proc = _child_pytest(CI="true")
    out = proc.stdout
    assert proc.returncode == 1, out[-2000:]
    assert "CI=true: the browser tests must run; nothing is skipped" in out
    assert "NOT EVERYTHING WAS TESTED" not in out


def test_a_machine_without_postgresql_programs_is_named_as_such(monkeypatch, tmp_path):
    monkeypatch.setattr(pgcluster, "PG_BIN_DIRS", (str(tmp_path),))
    monkeypatch.setenv("PATH", str(tmp_path))
    reason = pgcluster.missing_server()
    assert reason is not None and "PostgreSQL's initdb not found" in reason


def test_a_postgresql_without_postgis_is_named_as_such(monkeypatch, tmp_path):
    bin_dir = tmp_path / "lib" / "postgresql" / "99" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("initdb", "pg_ctl"):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    monkeypatch.setattr(pgcluster, "PG_BIN_DIRS", (str(bin_dir),))
    monkeypatch.setattr(pgcluster, "SHARE_DIRS", (tmp_path / "share",))
    reason = pgcluster.missing_server()
    assert reason is not None and "PostGIS is not installed" in reason
