"""Load the data the page shows: the one expensive, cached step.

Which files: ``CONFLICTMAP_EVENTS`` (a path) and ``CONFLICTMAP_AREAS`` (paths joined with
``os.pathsep``), set by ``conflictmap serve``; absent, the bundled data. A control table and
its boundaries, or a list of localities, are named by the reading options
(``pipeline.AreaOptions``, in ``CONFLICTMAP_READ_SETTINGS``). Uploads come as bytes and are
built the same way from a private temporary directory; the reading options name an uploaded
table by its content's fingerprint (:func:`upload_source`).

The dataset built from files on disk is kept once per server process (``st.cache_resource``:
every session shares the same read-only object; ``st.cache_data`` would hand each run a
pickled copy, seconds and a gigabyte at a million events), keyed on each file's
fingerprint: size and modification time. A build that uses an upload is one session's
own: it is kept in that session (:data:`K_UPLOAD_BUILD`, one at a time), so it is
released when the upload is replaced or the session ends, and one user's uploads never
hold memory in the process for others. The events are kept
in the compact, date-sorted form of ``dashboard.columnar``. Builds of files on disk are
also written as Parquet next to the source (``dashboard.buildcache``), so a restart reads
them back, checked, in seconds instead of building again. Nothing here keeps state in module
globals: the caches are Streamlit's, per-session choices live in ``st.session_state``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from dashboard import buildcache, paths, schema, style
from dashboard.arealedger import AreaLedger
from dashboard.areas import last_change
from dashboard.columnar import compact_events, date_order
from dashboard.errors import DashboardError
from dashboard.report import Report
from dashboard.timewindow import (
    DateIndex,
    build_date_index,
)
from dashboard.viewstate import Options, dataset_options

if TYPE_CHECKING:
    from dashboard.pipeline import BuildSettings

EVENTS_ENV = "CONFLICTMAP_EVENTS"
AREAS_ENV = "CONFLICTMAP_AREAS"
#: Where the on-disk copies of builds go (``dashboard.buildcache``).
CACHE_ENV = buildcache.CACHE_ENV

EVENT_UPLOAD_TYPES: tuple[str, ...] = ("csv", "tsv", "txt")
AREA_UPLOAD_TYPES: tuple[str, ...] = ("geojson", "json", "gpkg", "parquet", "geoparquet", "kml")
#: A control table per unit, or a list of localities: text tables, as events are, or an
#: Excel workbook (``dashboard.readers.plaintable``).
TABLE_UPLOAD_TYPES: tuple[str, ...] = (*EVENT_UPLOAD_TYPES, "xlsx")
#: The units' polygons of a control table: the area files' formats but GeoParquet, which the
#: boundaries' reader (GDAL, through pyogrio) has no driver for here.
BOUNDARY_UPLOAD_TYPES: tuple[str, ...] = tuple(
    t for t in AREA_UPLOAD_TYPES if t not in ("parquet", "geoparquet")
)
#: The files the reading options name besides the area files (``AreaOptions.source_files``),
#: by field, with the formats an upload of each is saved as.
SOURCE_FIELDS: Mapping[str, tuple[str, ...]] = {
    "table": TABLE_UPLOAD_TYPES,
    "boundaries": BOUNDARY_UPLOAD_TYPES,
    "points": TABLE_UPLOAD_TYPES,
    "outline": BOUNDARY_UPLOAD_TYPES,
}
#: How the reading options name an upload (``upload:<fingerprint>/<name>``): its bytes are
#: the session's, put in a private folder only while a build reads them.
UPLOAD_SCHEME = "upload:"

log = logging.getLogger(__name__)

#: Session key of the build that uses this session's uploads: (its key, the Dataset).
K_UPLOAD_BUILD = "upload_build"


@dataclass(frozen=True)
class FileRef:
    """One input file: the name shown, a content fingerprint, and where it is.

    ``path`` is None for an upload; its bytes are passed to :func:`load_dataset` separately.
    """

    name: str
    fingerprint: str
    path: str | None = None

    @property
    def token(self) -> tuple[str, str, str]:
        return (self.name, self.fingerprint, self.path or "")


@dataclass
class Dataset:
    """A built dataset, ready for the page: events sorted by date, their index, the areas,
    what was set aside, and the allowlists the URL parser and the filters use."""

    events: pd.DataFrame
    areas: gpd.GeoDataFrame
    rejected: pd.DataFrame
    event_report: Report
    area_report: Report
    summary: dict[str, object]
    index: DateIndex
    options: Options
    events_name: str
    areas_names: tuple[str, ...]
    #: Identifies the inputs (names and fingerprints): a cache key for what derives from it.
    key: str = ""
    #: The PostGIS store the events come from (``serve --db``); None: all in memory. With a
    #: store, ``events`` is empty: each view asks the store (see ``view.py``).
    store: Any = None
    #: Bounding box of the located events when ``events`` does not hold them (a store).
    extent: tuple[float, float, float, float] | None = None
    #: The store's data version the dataset describes (0 for files), and its token.
    version: int = 0
    store_token: str = ""

    # Read on every run of the page (each slider step): worked out once per dataset.
    @cached_property
    def palette(self) -> dict[str, str]:
        """Each controller's colour, the same on every date and in every view."""
        return style.areas_palette(self.areas)

    @cached_property
    def last_change(self) -> dt.date | None:
        """The areas' last change when their map is carried forward after it
        (``dashboard.areas.last_change``)."""
        return last_change(self.areas)

    @cached_property
    def area_ledger(self) -> AreaLedger | None:
        """Control-area features used, repaired and set aside (from the build's summary).

        None for a store: it keeps the versions a load used, not what the load set aside
        (``conflictmap db load`` said that when it ran).
        """
        data = self.summary.get("control_areas")
        return AreaLedger.from_dict(data) if isinstance(data, dict) else None


# --- PostGIS (conflictmap serve --db, or DASHBOARD_DB) ---------------------------------------
# Nothing per event is read at start: the filters' choices, the dates with events and the
# default window come from aggregate queries (DbStore.facts), the control areas are read
# whole (the page draws them for every date). Each view then asks the database for its
# counts and for the events inside the map (see view.py). The dataset is cached per data
# version, and every run of a page asks for the newest version (one cheap query), so a load
# through any process shows in every app process on its next run.
DB_ENV = "DASHBOARD_DB"


def configured_db(environ: Mapping[str, str] | None = None) -> str | None:
    """The database URL the app reads from (``DASHBOARD_DB``), or None for the files."""
    env = os.environ if environ is None else environ
    return env.get(DB_ENV, "").strip() or None


@st.cache_resource(show_spinner=False, max_entries=2)
def db_store(url: str) -> Any:
    """One :class:`dashboard.store.DbStore` (a connection pool) per URL and process;
    DatabaseError when unreachable (not cached: the next run tries again)."""
    from dashboard.store import DbStore

    return DbStore(url)


@st.cache_resource(show_spinner="Reading the database's summary…", max_entries=2)
def load_db_dataset(url: str, token: str) -> Dataset:
    """The dataset of a PostGIS store at one data version (``token``:
    ``DbStore.token()``, see the comment above); no events in memory, ``store`` answers for
    them. DatabaseError when unreachable."""
    from dashboard.export.data import db_source
    from dashboard.store import LIGHT_COLUMNS, no_events

    source = db_source(db_store(url))
    facts, areas, name = source.facts, source.areas, source.name
    events = compact_events(no_events(LIGHT_COLUMNS))  # the columns, typed, without rows
    summary: dict[str, object] = {
        "rows_in": facts.total,
        "rows_loaded": facts.total,
        "rows_rejected": 0,
        "input_format": "postgis",
        "data_version": facts.version,
        # whom to credit (dashboard.attribution): no event is in memory to tell
        "source_formats": list(facts.source_formats),
        "geocode_methods": list(facts.geocode_methods),
    }
    key = hashlib.sha256(f"db:{name}:{facts.token}".encode()).hexdigest()[:24]
    return Dataset(
        events=events,
        areas=areas,
        rejected=pd.DataFrame(),
        event_report=Report(source=name, rows_in=facts.total, rows_loaded=facts.total),
        area_report=Report(source=name, rows_in=len(areas), rows_loaded=len(areas)),
        summary=summary,
        index=build_date_index(events[schema.EVENT_DATE]),
        options=source.options,
        events_name=source.events_name,
        areas_names=(name,),
        key=key,
        store=source.store,
        extent=facts.extent,
        version=facts.version,
        store_token=facts.token,
    )


def file_ref(path: str | Path) -> FileRef:
    """A :class:`FileRef` for a file on disk; its fingerprint changes when the file does."""
    p = Path(path).resolve()
    try:
        stat = p.stat()
        fingerprint = f"{stat.st_size}:{stat.st_mtime_ns}"
    except OSError:
        fingerprint = "missing"
    return FileRef(name=p.name, fingerprint=fingerprint, path=str(p))


def upload_ref(name: str, data: bytes) -> FileRef:
    """A :class:`FileRef` for uploaded bytes, fingerprinted by content."""
    return FileRef(name=name, fingerprint=hashlib.sha256(data).hexdigest())


def configured_read(environ: Mapping[str, str] | None = None) -> str:
    """How ``conflictmap serve`` asked the configured files to be read (JSON; "" default)."""
    from dashboard.pipeline import READ_SETTINGS_ENV

    env = os.environ if environ is None else environ
    return env.get(READ_SETTINGS_ENV, "").strip()


def configured_sources(
    environ: Mapping[str, str] | None = None,
) -> tuple[FileRef, tuple[FileRef, ...]]:
    """The events file and control-area files named by the environment, else the bundled ones."""
    env = os.environ if environ is None else environ
    events = env.get(EVENTS_ENV, "").strip()
    areas: list[str | Path] = [p for p in env.get(AREAS_ENV, "").split(os.pathsep) if p.strip()]
    events_ref = file_ref(events or paths.BUNDLED_EVENTS)
    if not areas and not _names_sources(configured_read(env)):
        areas = [paths.BUNDLED_AREAS]  # as the pipeline does when nothing is given
    area_refs = tuple(file_ref(p) for p in areas)
    return events_ref, area_refs


def _names_sources(read: str) -> bool:
    """Whether the reading options name a table or localities (never raises: a broken
    value is said by the build that reads it)."""
    try:
        return bool(source_refs(read))
    except DashboardError:
        return False


def upload_source(ref: FileRef) -> str:
    """How the reading options (``AreaOptions.table`` and the like) name an upload."""
    return f"{UPLOAD_SCHEME}{ref.fingerprint}/{ref.name}"


def _uploaded(value: str) -> FileRef | None:
    """The upload :func:`upload_source` named ``value``; None for a path."""
    if not value.startswith(UPLOAD_SCHEME):
        return None
    fingerprint, _, name = value.removeprefix(UPLOAD_SCHEME).partition("/")
    return FileRef(name=name, fingerprint=fingerprint)


def source_refs(read: str) -> dict[str, FileRef]:
    """The files the reading options name besides the area files, by field
    (:data:`SOURCE_FIELDS`): an upload as its name and content fingerprint, a file on disk
    as :func:`file_ref` gives it (so a changed file is a new build).

    Raises
    ------
    dashboard.errors.SchemaError
        ``read`` is not reading options.
    """
    from dashboard.pipeline import read_settings_from_json

    if not read:
        return {}
    options = read_settings_from_json(read).areas
    out: dict[str, FileRef] = {}
    for name in SOURCE_FIELDS:
        value = getattr(options, name)
        if value:
            out[name] = _uploaded(value) or file_ref(value)
    return out


def safe_file_name(name: str, *, allowed: Sequence[str]) -> str:
    """A harmless file name for an upload written to a temporary directory: the base name
    only, unusual characters replaced, and a suffix from ``allowed`` kept."""
    base = Path(name.replace("\\", "/")).name
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem)[:60] or "upload"
    suffix = suffix.lower()
    if suffix not in allowed:
        suffix = allowed[0]
    return f"{stem}.{suffix}"


def load_dataset(
    events: FileRef,
    areas: tuple[FileRef, ...],
    payloads: Mapping[str, bytes] | None = None,
    *,
    read: str = "",
    keep: bool = True,
) -> Dataset:
    """Build (or fetch from the cache) the dataset of one events file and its area files.

    Parameters
    ----------
    events, areas
        The inputs. An upload's bytes are in ``payloads`` under its fingerprint.
    payloads
        Bytes of uploaded inputs, by fingerprint; not part of the cache key (the
        fingerprint already is).
    read
        How to read them (encoding, date format, area options), as
        ``pipeline.read_settings_json`` writes it; "" for the defaults. Part of the key.
    keep
        With an upload among the inputs: keep the build as this session's (replacing the
        one kept before). False builds a candidate only (see :func:`keep_upload_build`).

    Raises
    ------
    dashboard.errors.DashboardError
        The pipeline refused an input; the message names the file and the problem.
    """
    event_token, area_tokens = events.token, tuple(a.token for a in areas)
    source_tokens = tuple(ref.token for ref in source_refs(read).values())
    if all(token[2] for token in (event_token, *area_tokens, *source_tokens)):
        return _build_cached(event_token, area_tokens, read, source_tokens, _payloads={})
    key = upload_build_key(events, areas, read)
    held = st.session_state.get(K_UPLOAD_BUILD)
    if held is not None and held[0] == key:
        return held[1]
    with st.spinner("Reading, validating, geocoding and joining the events…"):
        # The cached function's own body (functools.update_wrapper's __wrapped__): an
        # upload's build is the session's, never a process cache entry. Streamlit's
        # CachedFunc type does not declare the attribute update_wrapper sets.
        built = _build_cached.__wrapped__(  # type: ignore[attr-defined]
            event_token, area_tokens, read, source_tokens, dict(payloads or {})
        )
    if keep:
        keep_upload_build(events, areas, read, built)
    return built


def upload_build_key(events: FileRef, areas: Sequence[FileRef], read: str) -> str:
    """What identifies a build of these inputs read this way: each file's name and
    fingerprint (an upload's: its content), those of the table, boundaries and localities
    the reading options name too."""
    sources = tuple(ref.token for ref in source_refs(read).values())
    return repr((events.token, tuple(a.token for a in areas), read, sources))


def keep_upload_build(
    events: FileRef, areas: Sequence[FileRef], read: str, dataset: Dataset
) -> None:
    """Keep ``dataset`` as this session's build of its uploads (the one kept before is let
    go: its memory returns once nothing else uses it)."""
    # Deleted first: an assignment alone leaves the old value in Streamlit's copy of the
    # previous run's state until the next run.
    st.session_state.pop(K_UPLOAD_BUILD, None)
    st.session_state[K_UPLOAD_BUILD] = (upload_build_key(events, areas, read), dataset)


def forget_upload_build() -> None:
    """Let go of this session's build of its uploads (back to the server's files)."""
    st.session_state.pop(K_UPLOAD_BUILD, None)


def clear_build_cache() -> None:
    """Forget every build of the server's own files held by the process, as a restart
    does (the on-disk build cache stays). Uploads' builds live in their sessions."""
    _build_cached.clear()


@st.cache_resource(
    show_spinner="Reading, validating, geocoding and joining the events…",
    max_entries=4,
    ttl=dt.timedelta(hours=12),
)
def _build_cached(
    events: tuple[str, str, str],
    areas: tuple[tuple[str, str, str], ...],
    read: str,
    sources: tuple[tuple[str, str, str], ...],
    _payloads: dict[str, bytes],
) -> Dataset:
    """The build of ``events`` with ``areas`` and the ``sources`` (table, boundaries,
    localities: :func:`source_refs`) the reading options ``read`` name. Keyed on every
    file's fingerprint: ``read`` names a file on disk by its path only."""
    # Imported here so that a page that fails to import the pipeline still shows a message.
    from dashboard.pipeline import build, read_settings_from_json

    names = (events[0], tuple(a[0] for a in (*areas, *sources)))
    inputs = (events, *areas, *sources)
    on_disk = all(token[2] for token in inputs)
    # The copy on disk is keyed on the files' bytes (buildcache.disk_key), the table's and
    # boundaries' as much as the events'.
    disk_key = buildcache.disk_key([t[2] for t in inputs], read) if on_disk else None
    # The dataset's key (what the page's caches, the shared view cache among them, are
    # keyed on) holds the bytes' key too: a file rewritten with its size and time kept is
    # another dataset.
    key = hashlib.sha256(repr((events, areas, read, sources, disk_key)).encode()).hexdigest()[:24]
    if disk_key is not None:
        cached = buildcache.find_copy(Path(events[2]), disk_key)
        if cached is not None:
            return _dataset(cached, events_name=names[0], areas_names=names[1], key=key)
    with tempfile.TemporaryDirectory(prefix="conflictmap-upload-") as tmp:
        events_path = _materialise(events, _payloads, Path(tmp), EVENT_UPLOAD_TYPES, "events")
        area_paths = [
            _materialise(a, _payloads, Path(tmp), AREA_UPLOAD_TYPES, f"areas{i}")
            for i, a in enumerate(areas)
        ]
        try:
            settings = _with_upload_paths(read_settings_from_json(read), _payloads, Path(tmp))
            result = build(events_path, area_paths, settings=settings)
        except DashboardError as exc:
            # Messages name the file: show the upload's name, not our temporary folder.
            message = re.sub(re.escape(str(Path(tmp))) + r"/[^/]+/", "", str(exc))
            if message == str(exc):
                raise
            raise type(exc)(message) from None
    built = buildcache.Built.of(result)
    if disk_key is not None:
        buildcache.store_copy(Path(events[2]), disk_key, built)
    return _dataset(built, events_name=names[0], areas_names=names[1], key=key)


def _with_upload_paths(
    settings: BuildSettings, payloads: Mapping[str, bytes], tmp: Path
) -> BuildSettings:
    """``settings`` with each upload its options name (:func:`upload_source`) saved under
    ``tmp`` and named by its path there."""
    changes: dict[str, Any] = {}
    for name, allowed in SOURCE_FIELDS.items():
        upload = _uploaded(getattr(settings.areas, name) or "")
        if upload is not None:
            changes[name] = str(_materialise(upload.token, payloads, tmp, allowed, name))
    if not changes:
        return settings
    return replace(settings, areas=replace(settings.areas, **changes))


def _materialise(
    token: tuple[str, str, str],
    payloads: Mapping[str, bytes],
    tmp: Path,
    allowed: Sequence[str],
    prefix: str,
) -> Path:
    name, fingerprint, path = token
    if path:
        return Path(path)
    data = payloads[fingerprint]
    folder = tmp / prefix
    folder.mkdir()
    target = folder / safe_file_name(name, allowed=allowed)
    target.write_bytes(data)
    return target


def _dataset(
    result: buildcache.Built, *, events_name: str, areas_names: tuple[str, ...], key: str = ""
) -> Dataset:
    events = result.events
    if schema.EVENT_DATE in events:
        order = date_order(events[schema.EVENT_DATE])  # None: stored sorted (the usual case)
        if order is not None:
            events = events.iloc[order].reset_index(drop=True)
    index = build_date_index(events[schema.EVENT_DATE])
    options = dataset_options(events, index, result.areas)
    return Dataset(
        events=events,
        areas=result.areas.reset_index(drop=True),
        rejected=result.rejected,
        event_report=result.event_report,
        area_report=result.area_report,
        summary=result.summary,
        index=index,
        options=options,
        events_name=events_name,
        areas_names=areas_names,
        key=key,
    )


@st.cache_data(show_spinner=False, max_entries=4)
def load_context(
    countries: tuple[str, str, str], towns: tuple[str, str, str]
) -> tuple[gpd.GeoDataFrame | None, pd.DataFrame | None]:
    """Country outlines and towns for the "no tiles" basemap (bundled geodata); None where a
    file is missing, so the map still renders without them."""
    outlines = None
    places = None
    if countries[2] and Path(countries[2]).is_file():
        outlines = gpd.read_file(countries[2])
    if towns[2] and Path(towns[2]).is_file():
        places = pd.read_csv(towns[2], keep_default_na=False, na_values=list(schema.NA_VALUES))
    return outlines, places


def context_refs() -> tuple[FileRef, FileRef]:
    """The bundled basemap (land, water, borders, country names) and towns files."""
    return file_ref(paths.BUNDLED_BASEMAP), file_ref(paths.BUNDLED_TOWNS)
