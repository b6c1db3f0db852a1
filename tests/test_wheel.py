"""The package as a wheel, installed like any other (not editable, not from a checkout):
it finds its bundled demo and geodata, and builds the demo.

The wheel is built offline (``--no-build-isolation``: the test extras hold setuptools) and
installed into a fresh virtual environment whose only other path is this environment's
site-packages, for the dependencies. The command then runs from an empty folder, far from
the checkout.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from dashboard import paths


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], check=False, capture_output=True, text=True, cwd=cwd, timeout=600
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The python of a virtual environment holding the wheel of this checkout."""
    root = tmp_path_factory.mktemp("wheel")
    built = _run(
        sys.executable, "-m", "pip", "wheel", paths.PROJECT_DIR, "--no-deps",
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
