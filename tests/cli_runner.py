"""Run the ``conflictmap`` command in a subprocess, as a user would (``python -m dashboard``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(
    *args: str, cwd: Path | None = None, timeout: int = 600
) -> subprocess.CompletedProcess[str]:
    """``python -m dashboard ARGS``: text output captured, UTF-8, tracebacks not forced on."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    env.pop("CONFLICTMAP_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "dashboard", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )
