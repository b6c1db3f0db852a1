"""Where the bundled data lives (found relative to the package, never the current
directory), and the one check that an input path is a file that can be read."""

from __future__ import annotations

import os
import stat
import sysconfig
from pathlib import Path

from dashboard.errors import InputFileError

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
#: Where a wheel installs the bundled demo and geodata (``[tool.setuptools.data-files]``
#: in pyproject.toml), under the environment's (or the user's) data prefix.
SHARE_SUBDIR = Path("share") / "conflictmap"


def _bundled_dir() -> Path:
    """The folder holding ``events.csv`` and ``geodata/``: the checkout the package runs
    from (a clone, an editable install), else where a wheel put them."""
    if (PROJECT_DIR / "geodata").is_dir() and (PROJECT_DIR / "events.csv").is_file():
        return PROJECT_DIR
    # The install's own record of its files (any prefix: a venv, --user, --prefix).
    try:
        from importlib.metadata import PackageNotFoundError, distribution

        for record in distribution("conflictmap").files or ():
            if record.name == "events.csv" and "conflictmap" in record.parts:
                folder = Path(str(record.locate())).resolve().parent
                if (folder / "geodata").is_dir():
                    return folder
    except PackageNotFoundError:
        pass
    schemes = [sysconfig.get_default_scheme(), sysconfig.get_preferred_scheme("user")]
    for scheme in dict.fromkeys(schemes):
        candidate = Path(sysconfig.get_path("data", scheme)) / SHARE_SUBDIR
        if (candidate / "geodata").is_dir():
            return candidate
    return PROJECT_DIR  # nothing installed: the messages name the checkout's paths


BUNDLED_DIR = _bundled_dir()
BUNDLED_EVENTS = BUNDLED_DIR / "events.csv"
GEODATA_DIR = BUNDLED_DIR / "geodata"
BUNDLED_AREAS = GEODATA_DIR / "control_areas.geojson"
BUNDLED_ALIASES = GEODATA_DIR / "gazetteer_aliases.csv"
#: Coarse outlines of Syria, Iraq and their neighbours: an input of the control-area build.
BUNDLED_COUNTRIES = GEODATA_DIR / "countries.geojson"
#: The map without tiles (land, lakes, rivers, borders, country names), from Natural Earth.
BUNDLED_BASEMAP = GEODATA_DIR / "basemap.geojson"
BUNDLED_TOWNS = GEODATA_DIR / "towns.csv"

_NOT_REGULAR = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe"))


def check_input_file(path: Path) -> int:
    """Refuse a path that is not a non-empty regular file we may read; return its size.

    A named pipe or a device would block or never end, so only regular files pass.

    Raises
    ------
    InputFileError
        Missing (or a link to nothing), not a regular file, unreadable, or empty; the
        message starts with the path.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if path.is_symlink():
            raise InputFileError(
                f"{path}: file not found (a link to {os.readlink(path)!r}, which does not exist)"
            ) from None
        raise InputFileError(f"{path}: file not found") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _NOT_REGULAR if test(mode)), "a device or socket")
        raise InputFileError(f"{path}: not a regular file ({kind})")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise InputFileError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    size = path.stat().st_size
    if size == 0:
        raise InputFileError(f"{path}: the file is empty")
    return size
