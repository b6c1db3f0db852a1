"""The on-disk copy of a build: written once, checked every time it is read back.

The app keeps a build in memory for the life of the server; a cold build of a million rows
takes the better part of a minute. So builds of files on disk (never uploads: those stay in
the process) are also kept as Parquet: events in the compact form of
:mod:`dashboard.columnar`, areas as GeoParquet, reports and summary as JSON, and a list of
each file's size and SHA-256 (``checksums.json``).

Where a copy is written: ``CONFLICTMAP_CACHE_DIR`` when set; else a ``.conflictmap-cache``
folder next to the events file when that folder can be written (so everyone who opens a
shared data folder shares its cache); else the user's cache folder. Where one is looked
for: there first, then in the folder next to the events even when it cannot be written (a
read-only mount prepared by someone who could), then in the user's cache folder (where a
server that could not write next to the events put it); see :func:`search_dirs`.

A copy is used only when every file has the size and the SHA-256 recorded when it was
written: Parquet reads a changed byte inside a text value without complaint (a controller
served as "Xslamic State"), and a file cut short by a full disk may still parse. A copy that
fails the check, or does not read back, is reported in one WARNING line naming its folder
and what was wrong, and built again. The check costs 30 to 50 ms on the 51 MB copy of a
million events, 1.15x the unchecked read (``benchmarks/bench_buildcache.py``): each file is
read once, and the bytes hashed are the bytes parsed.

The key of a copy covers the inputs (their bytes when small, else path, size and
modification time: hashing 400 MB would cost a second of every start), how they are read,
and the source of the code that builds them; writing a new copy for an events file removes
the older copies of it. The checksums guard against damage, not against someone who may
write the folder: they can change the events file as well. Each file is opened once and
checked through that open file (a regular file, of the size recorded), and never more than
that size plus one byte is read: a file swapped or grown in between, or a named pipe put in
its place (which would block the reader for good), is refused, not read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyarrow as pa

from dashboard import paths
from dashboard.columnar import compact_events
from dashboard.errors import SettingError
from dashboard.readers import textio
from dashboard.report import ERROR, WARNING, Problem, Report

CACHE_ENV = "CONFLICTMAP_CACHE_DIR"
CACHE_FOLDER = ".conflictmap-cache"
#: Inputs up to this size are keyed on their bytes; larger ones on path, size and mtime.
HASH_MAX_BYTES = 32 * 1024 * 1024
#: The file listing every other file's size and SHA-256.
CHECKSUMS = "checksums.json"
#: The files of one copy, in the order they are read back.
STORED_FILES = ("meta.json", "events.parquet", "areas.parquet", "rejected.parquet")
#: The modules whose source keys a copy: every module the build imports (a test holds the
#: list to ``dashboard.pipeline``'s imports), the columnar form and this module.
BUILD_CODE = (
    "pipeline.py",
    "areas.py",
    "areasources.py",
    "controltable.py",
    "controlpoints.py",
    "statusnames.py",
    "arealedger.py",
    "measure.py",
    "spatial.py",
    "gazetteer.py",
    "geocoding.py",
    "dateparse.py",
    "rowwise.py",
    "validation.py",
    "textnorm.py",
    "schema.py",
    "report.py",
    "errors.py",
    "paths.py",
    "tableexport.py",
    "columnar.py",
    "buildcache.py",
    "readers/__init__.py",
    "readers/events.py",
    "readers/fastcsv.py",
    "readers/mapping.py",
    "readers/plaintable.py",
    "readers/textio.py",
)
_CACHE_VERSION = "3"
#: checksums.json is a few hundred bytes: anything much larger was not written here.
_CHECKSUMS_MAX_BYTES = 64 * 1024
#: The largest meta.json read to learn the events file of a copy written before
#: checksums.json named it (meta.json holds every problem of the reports: it can be large).
_OLD_META_MAX_BYTES = 8 * 1024 * 1024

log = logging.getLogger(__name__)


@dataclass
class Built:
    """What the page needs of a ``pipeline.BuildResult``: the part that is stored on disk."""

    events: pd.DataFrame
    areas: gpd.GeoDataFrame
    rejected: pd.DataFrame
    event_report: Report
    area_report: Report
    summary: dict[str, object]

    @classmethod
    def of(cls, result: Any) -> Built:
        """The stored part of a ``BuildResult``, events in the compact form."""
        return cls(
            events=compact_events(result.events),
            areas=result.areas,
            rejected=result.rejected,
            event_report=result.event_report,
            area_report=result.area_report,
            summary=result.summary(),
        )


# --- where ------------------------------------------------------------------------------------


def user_cache_dir() -> Path:
    """The user's cache folder for builds (``$XDG_CACHE_HOME/conflictmap``)."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "conflictmap"


def _beside(events_path: Path) -> Path | None:
    """The cache folder next to the events; None for the bundled data (inside the package)."""
    source = events_path.resolve()
    if source.parent in (paths.BUNDLED_EVENTS.resolve().parent, paths.PACKAGE_DIR):
        return None
    return source.parent / CACHE_FOLDER


def writable(folder: Path) -> bool:
    """Whether ``folder`` can be written, or made (its parent can be written)."""
    if folder.is_dir():
        return os.access(folder, os.W_OK | os.X_OK)
    return folder.parent.is_dir() and os.access(folder.parent, os.W_OK | os.X_OK)


def cache_dir(events_path: Path | None = None) -> Path:
    """Where a new copy of a build of ``events_path`` is written.

    ``CONFLICTMAP_CACHE_DIR`` when set; else ``.conflictmap-cache`` next to the events when
    that folder can be written (not for the bundled data); else :func:`user_cache_dir`.
    """
    configured = os.environ.get(CACHE_ENV, "").strip()
    if configured:
        return Path(configured)
    if events_path is not None:
        beside = _beside(events_path)
        if beside is not None and writable(beside):
            return beside
    return user_cache_dir()


def search_dirs(events_path: Path) -> list[Path]:
    """The folders a current copy of a build of ``events_path`` is looked for in, in order.

    First :func:`cache_dir` (where it would be written); then the folder next to the events
    even when it cannot be written (a copy prepared by whoever could write there is as good
    as a new one); then, unless ``CONFLICTMAP_CACHE_DIR`` is set, the user's cache folder
    (where a server that could not write next to the events put its copy).
    """
    found = [cache_dir(events_path)]
    beside = _beside(events_path)
    if beside is not None:
        found.append(beside)
    if not os.environ.get(CACHE_ENV, "").strip():
        found.append(user_cache_dir())
    unique: list[Path] = []
    for folder in found:
        if folder not in unique:
            unique.append(folder)
    return unique


# --- the key ------------------------------------------------------------------------------------


def _input_digest(digest: Any, path: Path) -> None:
    stat = path.stat()
    digest.update(path.name.encode())
    if stat.st_size <= HASH_MAX_BYTES:
        digest.update(path.read_bytes())
    else:
        digest.update(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    digest.update(b"\0")


def disk_key(inputs: Sequence[str | Path], read: str = "") -> str | None:
    """The name of the copy of a build of ``inputs`` (events first, then the area files).

    Parameters
    ----------
    inputs
        The input files, events first.
    read
        How they are read (``pipeline.read_settings_json``); "" for the defaults.

    Returns
    -------
    str or None
        32 hex digits covering the inputs, ``read``, the readers' limits (a file refused
        under one is built under a raised one) and the code that builds them; None when an
        input cannot be read or a limit setting is unusable (the build will say why).
    """
    digest = hashlib.sha256(_CACHE_VERSION.encode())
    digest.update(read.encode())
    try:
        limits = textio.limits()
    except SettingError:
        return None
    digest.update(f"\0{limits.columns}:{limits.line_bytes}\0".encode())
    try:
        for path in inputs:
            _input_digest(digest, Path(path))
        for name in BUILD_CODE:
            code = paths.PACKAGE_DIR / name
            if code.is_file():
                digest.update(code.read_bytes())
        if paths.BUNDLED_ALIASES.is_file():
            digest.update(paths.BUNDLED_ALIASES.read_bytes())
    except OSError:
        return None
    return digest.hexdigest()[:32]


# --- reading back --------------------------------------------------------------------------


class _Damaged(Exception):
    """A copy that must not be used; the message says what is wrong with it."""


def _report_from(data: dict[str, Any]) -> Report:
    report = Report(
        source=data.get("source", ""),
        rows_in=int(data.get("rows_in", 0)),
        rows_loaded=int(data.get("rows_loaded", 0)),
        rows_rejected=int(data.get("rows_rejected", 0)),
    )
    for severity in (ERROR, WARNING):
        for item in data.get(f"{severity}s", []):
            report.add(
                Problem(
                    item.get("row"),
                    item.get("column"),
                    item.get("value"),
                    item.get("message", ""),
                    severity,
                )
            )
    return report


def _restore_dtypes(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    """Parquet stores datetimes in ms; give back the units the pipeline produced."""
    for column, dtype in dtypes.items():
        if column in frame and dtype.startswith("datetime64") and str(frame[column].dtype) != dtype:
            # The name read back as a dtype, as astype would (its stubs take only known names).
            frame[column] = frame[column].astype(pd.api.types.pandas_dtype(dtype))
    return frame


def _read_at_most(path: Path, limit: int, *, expected: int | None = None) -> bytes:
    """The bytes of the regular file ``path``, which must hold at most ``limit`` of them.

    The file is opened once, and everything is checked through that open file: it is a
    regular file (a named pipe would block the reader: it is opened without waiting and
    refused), its size (``expected`` exactly, when given) is within ``limit``, and reading
    stops at ``limit + 1`` bytes, so a file swapped or grown after the size was looked at is
    refused having cost no more than that.
    """
    name = path.name
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise _Damaged(f"{name} is missing") from None
    except OSError as exc:
        raise _Damaged(f"{name} cannot be read ({_one_line(exc)})") from None
    try:
        with os.fdopen(fd, "rb") as handle:
            found = os.fstat(handle.fileno())
            if not stat.S_ISREG(found.st_mode):
                raise _Damaged(f"{name} is not a regular file")
            size = found.st_size
            if expected is not None and size != expected:
                cut = " (cut short)" if size < expected else ""
                raise _Damaged(f"{name} has {size:,} bytes where {expected:,} were written{cut}")
            if size > limit:
                raise _Damaged(f"{name} is larger than any this code writes")
            data = handle.read(limit + 1)
    except OSError as exc:
        raise _Damaged(f"{name} cannot be read ({_one_line(exc)})") from None
    if len(data) > limit:
        raise _Damaged(f"{name} grew while it was read")
    if expected is not None and len(data) != expected:
        raise _Damaged(
            f"{name} has {len(data):,} bytes where {expected:,} were written (cut short)"
        )
    return data


def _listing(folder: Path) -> dict[str, Any]:
    """The parsed checksums.json of a copy (at most ``_CHECKSUMS_MAX_BYTES`` read)."""
    data = _read_at_most(folder / CHECKSUMS, _CHECKSUMS_MAX_BYTES)
    try:
        listing = json.loads(data.decode("utf-8"))
    except ValueError as exc:
        raise _Damaged(f"{CHECKSUMS} cannot be read ({_one_line(exc)})") from None
    if not isinstance(listing, dict):
        raise _Damaged(f"{CHECKSUMS} does not list the files of a copy")
    return listing


def _checksums(folder: Path) -> dict[str, Any]:
    listed = _listing(folder).get("files")
    if not isinstance(listed, dict) or sorted(listed) != sorted(STORED_FILES):
        raise _Damaged(f"{CHECKSUMS} does not list the files of a copy")
    return listed


def _verified_bytes(folder: Path, name: str, expected: Any, *, limit: int | None = None) -> bytes:
    """The bytes of one file, read once, after checking them against ``expected``.

    ``limit``: refuse a file recorded as larger than this (none: the recorded size).
    """
    if not isinstance(expected, dict) or not isinstance(expected.get("bytes"), int):
        raise _Damaged(f"{CHECKSUMS} has no size for {name}")
    size: int = expected["bytes"]
    if size < 0 or (limit is not None and size > limit):
        raise _Damaged(f"{CHECKSUMS} records {size:,} bytes for {name}")
    data = _read_at_most(folder / name, size, expected=size)
    if hashlib.sha256(data).hexdigest() != expected.get("sha256"):
        raise _Damaged(f"{name} does not match the SHA-256 recorded when it was written")
    return data


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def read_copy(folder: Path) -> Built | None:
    """The build stored in ``folder``, checked against its checksums.

    Parameters
    ----------
    folder
        One copy: a key's folder inside a cache folder.

    Returns
    -------
    Built or None
        None when there is no copy there (silently) or when it is damaged or unreadable:
        then one WARNING line names the folder and what was wrong, and the caller builds
        again.
    """
    if not folder.is_dir():
        return None
    try:
        return _read_verified(folder)
    except _Damaged as damaged:
        log.warning("build cache %s: %s; building it again", folder, damaged)
        return None


def _read_verified(folder: Path) -> Built:
    listed = _checksums(folder)

    def verified(name: str) -> pa.BufferReader:
        # Parsed from the very bytes checked (read once); pyarrow reads them without a copy.
        return pa.BufferReader(_verified_bytes(folder, name, listed[name]))

    try:
        # One file at a time, so that each one's bytes are freed once parsed.
        meta = json.loads(_verified_bytes(folder, "meta.json", listed["meta.json"]))
        events = _restore_dtypes(pd.read_parquet(verified("events.parquet")), meta["events_dtypes"])
        areas = _restore_dtypes(gpd.read_parquet(verified("areas.parquet")), meta["areas_dtypes"])
        return Built(
            events=events,
            areas=areas,
            rejected=pd.read_parquet(verified("rejected.parquet")),
            event_report=_report_from(meta["event_report"]),
            area_report=_report_from(meta["area_report"]),
            summary=meta["summary"],
        )
    except _Damaged:
        raise
    except Exception as exc:  # noqa: BLE001 - intact bytes that do not read back
        raise _Damaged(f"the copy does not read back ({_one_line(exc)})") from None


def find_copy(events_path: Path, key: str) -> Built | None:
    """The first intact copy named ``key`` in :func:`search_dirs` of ``events_path``, or None."""
    for root in search_dirs(events_path):
        built = read_copy(root / key)
        if built is not None:
            return built
    return None


# --- writing ----------------------------------------------------------------------------------


def _file_checksum(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return {"bytes": path.stat().st_size, "sha256": digest}


def write_copy(root: Path, key: str, built: Built, *, source: str) -> None:
    """Store ``built`` as ``root/key`` (whole or not at all), then remove older copies of
    ``source``; a failure is logged, never raised (the copy is an optimisation)."""
    folder = root / key
    tmp = root / f".{key}.{os.getpid()}.tmp"
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        built.events.to_parquet(tmp / "events.parquet", index=False)
        built.areas.to_parquet(tmp / "areas.parquet", index=False)
        rejected = built.rejected.copy()
        for column in rejected.columns:  # raw text of set-aside rows: keep it as text
            if rejected[column].dtype == object:
                rejected[column] = rejected[column].map(lambda v: None if v is None else str(v))
        rejected.to_parquet(tmp / "rejected.parquet", index=False)
        meta = {
            "source": source,
            "events_dtypes": {c: str(t) for c, t in built.events.dtypes.items()},
            "areas_dtypes": {c: str(t) for c, t in built.areas.dtypes.items()},
            "event_report": built.event_report.to_dict(),
            "area_report": built.area_report.to_dict(),
            "summary": built.summary,
        }
        (tmp / "meta.json").write_text(
            json.dumps(meta, ensure_ascii=False, default=str), encoding="utf-8"
        )
        # Written last: a copy without it is incomplete, and is not used. It names the
        # events file too, so that removing stale copies reads this small file only.
        listed = {name: _file_checksum(tmp / name) for name in STORED_FILES}
        (tmp / CHECKSUMS).write_text(
            json.dumps({"files": listed, "source": source}, indent=1), encoding="utf-8"
        )
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    except Exception:  # never fail a page because the copy could not be kept
        log.warning("could not write the build cache to %s", folder, exc_info=True)
        shutil.rmtree(tmp, ignore_errors=True)
        return
    remove_older_copies(root, keep=key, source=source)


def store_copy(events_path: Path, key: str, built: Built) -> None:
    """Write ``built`` where :func:`cache_dir` says, as the copy of ``events_path`` named
    ``key``."""
    write_copy(cache_dir(events_path), key, built, source=str(events_path))


def remove_older_copies(root: Path, *, keep: str, source: str) -> None:
    """Delete the other copies in ``root`` built from the same events file (stale now).

    Each copy's events file is read from its checksums.json (at most
    ``_CHECKSUMS_MAX_BYTES``); for a copy written before checksums.json named it, from its
    meta.json, checked against checksums.json and only up to ``_OLD_META_MAX_BYTES``. Files
    larger than that, named pipes and anything that does not read are passed over: the
    folder may be written by others, and removing a copy is housekeeping.
    """
    for other in root.iterdir():
        if other.name == keep or other.name.startswith(".") or not other.is_dir():
            continue
        try:
            if _source_of(other) != source:
                continue
        except _Damaged:
            continue
        shutil.rmtree(other, ignore_errors=True)


def _source_of(folder: Path) -> object:
    """The events file a copy was built from, as written in it (None if it names none)."""
    listing = _listing(folder)
    if "source" in listing:
        return listing["source"]
    listed = _checksums(folder)
    data = _verified_bytes(folder, "meta.json", listed["meta.json"], limit=_OLD_META_MAX_BYTES)
    try:
        meta = json.loads(data.decode("utf-8"))
    except ValueError:
        return None
    return meta.get("source") if isinstance(meta, dict) else None
