"""The package as a wheel, installed like any other (not editable, not from a checkout):
it finds its bundled demo and geodata, builds the demo, and serves the dashboard.

The wheel is built offline (``--no-build-isolation``: the test extras hold setuptools) and
installed into a fresh virtual environment whose only other path is this environment's
site-packages, for the dependencies. The command then runs from an empty folder, far from
the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from procs import free_port, stop, wait_healthy

from dashboard import paths


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], check=False, capture_output=True, text=True, cwd=cwd, timeout=600
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The python of a virtual environment holding the wheel of this checkout."""
    root = tmp_path_factory.mktemp("wheel")
    # Built from the files the Dockerfile copies, in a folder of their own: a checkout's
    # build/ folder (setuptools adds to it, never removes) and the copies the app makes in
    # static/vendor/ at run time must not reach the wheel.
    source = root / "src"
    for name in ("pyproject.toml", "README.md", "events.csv"):
        source.mkdir(exist_ok=True)
        shutil.copy2(paths.PROJECT_DIR / name, source / name)
    skip = shutil.ignore_patterns("__pycache__", "vendor", "*.pyc")
    for folder in ("geodata", "dashboard"):
        shutil.copytree(paths.PROJECT_DIR / folder, source / folder, ignore=skip)
    built = _run(
        sys.executable, "-m", "pip", "wheel", source, "--no-deps",
        "--no-build-isolation", "--no-index", "-w", root / "dist", "-q",
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (root / "dist").glob("conflictmap-*.whl")
    made = _run(sys.executable, "-m", "venv", "--without-pip", root / "env")
    assert made.returncode == 0, made.stderr
    python = root / "env" / "bin" / "python"
    purelib = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
                   .stdout.strip())  # fmt: skip
    deps = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (purelib / "deps.pth").write_text("\n".join(sorted(deps)) + "\n", encoding="utf-8")
    done = _run(
        sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
        "-q", wheel,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return python


def test_the_installed_package_finds_its_bundled_data(installed, tmp_path):
    where = _run(
        installed,
        "-c",
        "import dashboard, dashboard.paths as p; print(dashboard.__file__); "
        "print(p.BUNDLED_DIR); print(p.BUNDLED_AREAS.is_file(), p.BUNDLED_ALIASES.is_file())",
        cwd=tmp_path,
    )
    assert where.returncode == 0, where.stderr
    package, bundled, found = where.stdout.splitlines()
    env = installed.parent.parent
    assert Path(package).is_relative_to(env)  # the wheel's copy, not this checkout
    assert Path(bundled) == env / "share" / "conflictmap"
    assert found == "True True"


def test_the_installed_command_builds_the_demo(installed, tmp_path):
    events = installed.parent.parent / "share" / "conflictmap" / "events.csv"
    done = _run(installed, "-m", "dashboard", "build", events, "-o", tmp_path / "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "every row and control-area feature used" in done.stdout + done.stderr
    assert (tmp_path / "out").exists()


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_the_installed_command_serves_the_dashboard(installed, tmp_path):
    port = free_port()
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    env.pop("DASHBOARD_PASSWORD", None)
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(installed), "-m", "dashboard", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        # A condition wait: generous, so that a busy machine slows it down but never fails it.
        try:
            wait_healthy(f"{base}/_stcore/health", server, deadline_s=180)
        except (RuntimeError, TimeoutError) as exc:
            raise AssertionError(f"{exc}: {log_path.read_text(errors='replace')}") from None
        # The page, and the map's own script and Leaflet served from the installed package.
        status, page = _get(f"{base}/")
        assert status == 200 and b"<html" in page.lower(), (status, page[:200])
        status, script = _get(f"{base}/app/static/vendor/conflictmap/conflictmap.js")
        assert status == 200 and b"L.ConflictMap" in script
        status, leaflet = _get(f"{base}/app/static/vendor/leaflet/leaflet.js")
        assert status == 200 and len(leaflet) > 100_000
    finally:
        stop(server)
