"""The house rules, executable: ``ruff check`` and ``ruff format --check`` pass on the whole
repository (the package, the tests, the benchmarks and the geodata scripts), with the
version of ruff the test extras pin."""

from __future__ import annotations

import subprocess
import sys

from dashboard import paths


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, str(paths.PROJECT_DIR)],
        check=False,
        capture_output=True,
        text=True,
        cwd=paths.PROJECT_DIR,
        timeout=300,
    )


def test_ruff_finds_nothing():
    done = _ruff("check", "--no-cache", "--output-format", "concise")
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_file_is_formatted():
    done = _ruff("format", "--check", "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr
