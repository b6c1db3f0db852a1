"""The sidebar: your own data (uploads and the validation report), filters, layers."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from dashboard import schema
from dashboard import viewstate as S
from dashboard.aggregate import POINTS_MAX
from dashboard.app import session as K
from dashboard.app.guard import take_upload_refusal
from dashboard.app.loaders import (
    AREA_UPLOAD_TYPES,
    BOUNDARY_UPLOAD_TYPES,
    EVENT_UPLOAD_TYPES,
    TABLE_UPLOAD_TYPES,
    Dataset,
    FileRef,
    configured_read,
    configured_sources,
    forget_upload_build,
    keep_upload_build,
    load_dataset,
    source_refs,
    upload_ref,
    upload_source,
)
from dashboard.app.safetext import md
from dashboard.errors import DashboardError
from dashboard.tableexport import to_csv_bytes
from dashboard.timewindow import FILTER_LABELS

if TYPE_CHECKING:  # the pipeline is imported when used, as everywhere in the page
    from dashboard.pipeline import AreaOptions

log = logging.getLogger(__name__)

# Session keys of the data source (uploads are per session, never module globals).
K_SRC_EVENTS = "src_events"  # FileRef of an uploaded events file, or None
K_SRC_AREAS = "src_areas"  # tuple of FileRef of uploaded area files (() for a table), or None
K_PAYLOADS = "src_payloads"  # {fingerprint: bytes} of accepted uploads
K_UPLOAD_ERROR = "upload_error"  # (file name, message) of the last refused upload
K_UPLOAD_OK = "upload_ok"  # plain text of the last accepted upload
K_UP_EVENTS = "up_events"
K_UP_AREAS = "up_areas"
# Control from a table per unit (with its boundaries) or a list of localities: the
# reading options (K_SRC_READ) name these uploads (loaders.upload_source).
K_UP_TABLE = "up_table"
K_UP_BOUNDARIES = "up_boundaries"
K_UP_POINTS = "up_points"
K_IN_MAX_DISTANCE = "in_max_distance"
K_IN_UNIT_MATCHES = "in_unit_matches"
K_USE_SOURCES = "use_area_sources"
K_SRC_READ = "src_read"  # how the accepted uploads are read (pipeline.read_settings_json)
# The reading options' inputs, set before an upload.
K_IN_ENCODING = "in_encoding"
K_IN_DATE_FORMAT = "in_date_format"
K_IN_CONTROLLER_FIELD = "in_controller_field"
K_IN_CONTROLLER = "in_controller"
K_IN_DATE_FIELD = "in_date_field"

MAX_UPLOAD_BYTES = 200 * 1024 * 1024

PRECISION_LABELS = {1: "1 · town", 2: "2 · near town", 3: "3 · region"}


@dataclass(frozen=True)
class Sources:
    events: FileRef
    areas: tuple[FileRef, ...]
    payloads: dict[str, bytes]
    uploaded: bool
    read: str = ""
    """How the files are read (``pipeline.read_settings_json``; "" the defaults)."""

    @property
    def key(self) -> str:
        parts = [self.events.fingerprint, *(a.fingerprint for a in self.areas), self.read]
        # A table on disk is named by its path in ``read``: its fingerprint goes in too. A
        # broken ``read`` is said by the build.
        with contextlib.suppress(DashboardError):
            parts += [ref.fingerprint for ref in source_refs(self.read).values()]
        return "|".join(parts)


def current_sources() -> Sources:
    """The inputs this session shows: its accepted uploads, else the configured files."""
    ss = st.session_state
    configured_events, configured_areas = configured_sources()
    events = ss.get(K_SRC_EVENTS) or configured_events
    # () after a table or localities upload: no area file, the reading options name them.
    uploaded_areas = ss.get(K_SRC_AREAS)
    areas = configured_areas if uploaded_areas is None else uploaded_areas
    uploaded = bool(ss.get(K_SRC_EVENTS)) or uploaded_areas is not None
    return Sources(
        events=events,
        areas=tuple(areas),
        payloads=dict(ss.get(K_PAYLOADS, {})),
        uploaded=uploaded,
        read=ss.get(K_SRC_READ, "") if uploaded else configured_read(),
    )


def _read_from_inputs(sources: AreaOptions | None) -> str:
    """The reading options typed in the Data section over the server's (``serve``'s
    options: its renames and dates stay), as the build's JSON key.

    ``sources`` gives the control table, its boundaries and the localities to read (their
    fields of :class:`AreaOptions`; the others are not read); None: none, the area files
    only.
    """
    from dashboard.pipeline import (
        AreaOptions,
        BuildSettings,
        read_settings_from_json,
        read_settings_json,
    )

    ss = st.session_state

    def text(key: str) -> str | None:
        value = str(ss.get(key) or "").strip()
        return value or None

    base = read_settings_from_json(configured_read())
    given = sources or AreaOptions()
    settings = replace(
        base,
        encoding=text(K_IN_ENCODING),
        date_format=text(K_IN_DATE_FORMAT),
        areas=replace(
            base.areas,
            controller_field=text(K_IN_CONTROLLER_FIELD) or schema.CONTROLLER,
            controller=text(K_IN_CONTROLLER),
            date_field=text(K_IN_DATE_FIELD),
            table=given.table,
            boundaries=given.boundaries,
            unit_field=given.unit_field,
            unit_matches=given.unit_matches,
            points=given.points,
            outline=given.outline,
            max_distance_km=given.max_distance_km,
        ),
    )
    return "" if settings == BuildSettings() else read_settings_json(settings)


def _sources_in_use() -> AreaOptions:
    """The table, boundaries and localities the data shown is read from (none: area files
    only), which an events upload keeps."""
    from dashboard.pipeline import read_settings_from_json

    return read_settings_from_json(current_sources().read).areas


def _input_defaults() -> dict[str, str]:
    """The reading inputs as the server reads its files (``serve``'s options), so that an
    upload of events alone reads the server's area files as the server does."""
    from dashboard.pipeline import read_settings_from_json

    base = read_settings_from_json(configured_read())
    return {
        K_IN_ENCODING: base.encoding or "",
        K_IN_DATE_FORMAT: base.date_format or "",
        K_IN_CONTROLLER_FIELD: ""
        if base.areas.controller_field == schema.CONTROLLER
        else base.areas.controller_field,
        K_IN_CONTROLLER: base.areas.controller or "",
        K_IN_DATE_FIELD: base.areas.date_field or "",
    }


def _try_load(
    events: FileRef, areas: tuple[FileRef, ...], payloads: dict[str, bytes], read: str
) -> tuple[str | None, Dataset | None]:
    """Build the candidate data: (None, the build) when usable (and then kept as the
    session's build), else (a plain-text reason, None) and the build in use stays."""
    uploads = (events, *areas, *source_refs(read).values())
    names = ", ".join(ref.name for ref in uploads if ref.path is None) or "the files"
    try:
        # Said while it works (a callback's output goes to the top of the page); the
        # gazetteer of the data's countries is loaded once per process, for every session.
        with st.spinner(f"Reading {names}: validating, geocoding, joining with the areas…"):
            # Not kept yet: a refused candidate must not replace the build in use.
            candidate = load_dataset(events, areas, payloads, read=read, keep=False)
    except DashboardError as exc:
        return str(exc), None
    except Exception as exc:  # a user's file must never crash the page
        log.exception("upload could not be built")
        return f"the file could not be read ({type(exc).__name__}); nothing was changed", None
    if candidate.event_report.rows_loaded == 0:
        report = candidate.event_report
        first = report.errors[0].to_text() if report.errors else "no rows"
        return (
            (
                f"no usable event rows ({report.rows_in} read, {report.rows_rejected} set "
                f"aside; {first})"
            ),
            None,
        )
    if len(candidate.areas) == 0:
        errors = candidate.area_report.errors
        first = f" (the first set aside: {errors[0].message})" if errors else ""
        return f"no usable control areas in the file(s){first}", None
    if any(ref.path is None for ref in uploads):
        keep_upload_build(events, areas, read, candidate)
    else:  # an areas upload refused earlier left the server's files: nothing to keep
        forget_upload_build()
    return None, candidate


def _texts(messages: object) -> list[str]:
    """A summary's list of messages as text; none when it has no such list."""
    return [str(m) for m in messages] if isinstance(messages, list | tuple) else []


def upload_outcome(lead: str, ds: Dataset, *, most: int = 3, sources: bool = False) -> str:
    """The success message of an upload: what was loaded, what was set aside, how the
    places were found, and the build's first warnings (the report has them all).

    With ``sources`` (a control table or localities were uploaded): also how many of their
    rows were used, the first rows set aside with why (for a table, the closest units and
    the ``--unit-match`` that would settle each), and what the reading found.
    """
    summary = ds.summary
    lines = [
        (
            f"{lead} {summary.get('rows_in', 0):,} rows: {summary.get('rows_loaded', 0):,} "
            f"loaded, {summary.get('rows_rejected', 0):,} set aside."
        )
    ]
    counts = summary.get("geocoded")
    geocoded = {k: v for k, v in counts.items() if v} if isinstance(counts, Mapping) else {}
    if set(geocoded) - {"given"}:
        lines.append("Places: " + ", ".join(f"{k} {v:,}" for k, v in geocoded.items()) + ".")
    areas = summary.get("control_areas")
    notes = [
        f"Warning: {n}" for n in _texts(summary.get("notes")) + _texts(summary.get("file_problems"))
    ]
    if sources and ds.area_ledger is not None:
        lines += _sources_outcome(ds, most=2)
        # How the table was read (its columns, statuses kept as written), after the
        # events' own warnings.
        notes += [f"Note: {n}" for n in ds.area_ledger.notes]
    elif isinstance(areas, Mapping) and areas.get("set_aside"):
        lines.append(f"Control areas: {areas.get('set_aside'):,} features set aside.")
    lines += notes[:most]
    if len(notes) > most:
        lines.append(f"{len(notes) - most} more warnings in the validation report below.")
    return "\n\n".join(lines)


def _sources_outcome(ds: Dataset, *, most: int) -> list[str]:
    """Rows of the uploaded table or localities used and set aside, the first with why."""
    ledger = ds.area_ledger
    if ledger is None:
        return []
    used = ledger.used + ledger.repaired
    kinds = ", ".join(f"{n:,} {kind}" for kind, n in ledger.by_kind.items())
    aside = f", {ledger.set_aside:,} set aside" + (f" ({kinds})" if kinds else "")
    rows_of = "rows of "
    if ledger.noun.startswith(rows_of):  # one table: "control.csv: 120 of 149 rows used"
        head = f"{ledger.noun.removeprefix(rows_of)}: {used:,} of {ledger.features_in:,} rows"
    else:
        head = f"Control areas: {used:,} of {ledger.features_in:,} {ledger.noun}"
    lines = [f"{head} used{aside}."]
    records = ds.summary.get("control_area_features_not_used_as_read")
    aside_rows = [
        r
        for r in (records if isinstance(records, list) else [])
        if isinstance(r, Mapping) and r.get("outcome") == "set aside"
    ]
    one_file = len({r.get("file") for r in aside_rows}) == 1  # named in the line above
    for record in aside_rows[:most]:
        where = "" if one_file else f"{record.get('file')} "
        lines.append(f"Set aside, {where}row {record.get('feature')}: {record.get('reason')}")
    if len(aside_rows) > most:
        lines.append(
            f"{len(aside_rows) - most:,} more set aside: every one is listed, with why, in "
            "the validation report below."
        )
    return lines


def _clear_messages() -> None:
    ss = st.session_state
    ss[K_UPLOAD_ERROR] = None
    ss[K_UPLOAD_OK] = None


def _on_events_upload() -> None:
    ss = st.session_state
    upload = ss.get(K_UP_EVENTS)
    if upload is None or not hasattr(upload, "getvalue"):  # removed, or a DeletedFile
        return
    _clear_messages()
    data = upload.getvalue()
    name = upload.name
    if len(data) > MAX_UPLOAD_BYTES:
        ss[K_UPLOAD_ERROR] = (name, f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
        return
    ref = upload_ref(name, data)
    sources = current_sources()
    payloads = {**sources.payloads, ref.fingerprint: data}
    read = _read_from_inputs(_sources_in_use())  # the table or localities in use stay
    problem, built = _try_load(ref, sources.areas, payloads, read)
    if problem or built is None:
        ss[K_UPLOAD_ERROR] = (name, problem or "it could not be built")
        return
    ss.pop(K_PAYLOADS, None)  # the replaced bytes go now, not after the next run
    ss[K_PAYLOADS] = _keep_payloads(payloads, ref, sources.areas, read)
    ss[K_SRC_READ] = read
    ss[K_SRC_EVENTS] = ref
    ss[K_UPLOAD_ERROR] = None
    ss[K_UPLOAD_OK] = upload_outcome(f"Events now from {name}:", built)


def _on_areas_upload() -> None:
    ss = st.session_state
    uploads = [u for u in ss.get(K_UP_AREAS) or [] if hasattr(u, "getvalue")]
    if not uploads:
        return
    _clear_messages()
    refs: list[FileRef] = []
    payloads = dict(current_sources().payloads)
    for upload in uploads:
        data = upload.getvalue()
        if len(data) > MAX_UPLOAD_BYTES:
            ss[K_UPLOAD_ERROR] = (
                upload.name,
                f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB",
            )
            return
        ref = upload_ref(upload.name, data)
        refs.append(ref)
        payloads[ref.fingerprint] = data
    sources = current_sources()
    read = _read_from_inputs(None)  # these files replace a table or localities in use
    problem, built = _try_load(sources.events, tuple(refs), payloads, read)
    names = ", ".join(u.name for u in uploads)
    if problem or built is None:
        ss[K_UPLOAD_ERROR] = (names, problem or "they could not be built")
        return
    ss.pop(K_PAYLOADS, None)
    ss[K_PAYLOADS] = _keep_payloads(payloads, sources.events, tuple(refs), read)
    ss[K_SRC_READ] = read
    ss[K_SRC_AREAS] = tuple(refs)
    ss[K_UPLOAD_ERROR] = None
    ss[K_UPLOAD_OK] = upload_outcome(f"Control areas now from {names}; events:", built)


def _use_area_sources() -> None:
    """The "Use these" button: control from the uploaded table and its boundaries, and/or
    the uploaded localities, in place of the control areas shown (the events stay)."""
    from dashboard.pipeline import AreaOptions

    ss = st.session_state
    _clear_messages()
    table, boundaries, points = (_upload_in(k) for k in (K_UP_TABLE, K_UP_BOUNDARIES, K_UP_POINTS))
    if table is not None and boundaries is None:
        ss[K_UPLOAD_ERROR] = (table.name, "a control table needs its units' boundaries (the "
                              "polygons its rows name): upload them beside it")  # fmt: skip
        return
    if boundaries is not None and table is None:
        ss[K_UPLOAD_ERROR] = (boundaries.name, "boundaries need the control table whose units "
                              "they draw: upload the table beside them")  # fmt: skip
        return
    if table is None and points is None:
        ss[K_UPLOAD_ERROR] = ("a table or a town list", "none is uploaded yet: upload a control "
                              "table with its boundaries, or a town list, first")  # fmt: skip
        return
    payloads = dict(current_sources().payloads)
    named: dict[str, str | None] = {}  # AreaOptions field -> how the reading options name it
    for field_name, upload in (("table", table), ("boundaries", boundaries), ("points", points)):
        if upload is None:
            named[field_name] = None
            continue
        data = upload.getvalue()
        if len(data) > MAX_UPLOAD_BYTES:
            ss[K_UPLOAD_ERROR] = (
                upload.name,
                f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB",
            )
            return
        ref = upload_ref(upload.name, data)
        payloads[ref.fingerprint] = data
        named[field_name] = upload_source(ref)
    try:
        matches = _unit_matches(str(ss.get(K_IN_UNIT_MATCHES) or ""))
    except ValueError as exc:
        ss[K_UPLOAD_ERROR] = ("the unit matches", str(exc))
        return
    default = AreaOptions().max_distance_km
    distance = float(ss.get(K_IN_MAX_DISTANCE) or default)
    chosen = AreaOptions(
        table=named["table"],
        boundaries=named["boundaries"],
        unit_matches=(matches or None) if table is not None else None,
        points=named["points"],
        # Only localities read it: a table's build keeps the default (and its cache key).
        max_distance_km=distance if points is not None else default,
    )
    sources = current_sources()
    read = _read_from_inputs(chosen)
    problem, built = _try_load(sources.events, (), payloads, read)
    if problem or built is None:
        names = ", ".join(u.name for u in (table, boundaries, points) if u is not None)
        ss[K_UPLOAD_ERROR] = (names, problem or "they could not be built")
        return
    ss.pop(K_PAYLOADS, None)
    ss[K_PAYLOADS] = _keep_payloads(payloads, sources.events, (), read)
    ss[K_SRC_READ] = read
    ss[K_SRC_AREAS] = ()
    ss[K_UPLOAD_ERROR] = None
    what = []
    if table is not None and boundaries is not None:
        what.append(f"the table {table.name} on the units of {boundaries.name}")
    if points is not None:
        what.append(f"the towns of {points.name} (ground within {distance:g} km)")
    ss[K_UPLOAD_OK] = upload_outcome(
        f"Control areas now from {' and '.join(what)}; events:", built, sources=True
    )


def _upload_in(key: str) -> Any:
    """The file of a single-file uploader, or None (none, or one removed)."""
    upload = st.session_state.get(key)
    return upload if upload is not None and hasattr(upload, "getvalue") else None


def _unit_matches(text: str) -> dict[str, str]:
    """``NAME=PCODE`` lines (the command line's ``--unit-match``) as ``{name: code}``.

    Raises
    ------
    ValueError
        A line that is not ``NAME=PCODE``.
    """
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, code = line.rpartition("=")
        if not sep or not name.strip() or not code.strip():
            raise ValueError(f"{line.strip()[:80]!r} is not NAME=PCODE")
        out[name.strip()] = code.strip()
    return out


def _keep_payloads(
    payloads: dict[str, bytes], events: FileRef, areas: tuple[FileRef, ...], read: str
) -> dict[str, bytes]:
    """Only the bytes of inputs in use stay in the session (with the uploads ``read``
    names: a control table, its boundaries, localities)."""
    used = {events.fingerprint, *(a.fingerprint for a in areas)}
    used |= {ref.fingerprint for ref in source_refs(read).values() if ref.path is None}
    return {k: v for k, v in payloads.items() if k in used}


def reset_sources() -> None:
    ss = st.session_state
    for key in (K_SRC_EVENTS, K_SRC_AREAS, K_PAYLOADS, K_SRC_READ, K_UPLOAD_ERROR, K_UPLOAD_OK):
        ss.pop(key, None)
    forget_upload_build()


def _read_inputs() -> None:
    """How to read the next upload: empty fields mean detected or the defaults."""
    ss = st.session_state
    for key, value in _input_defaults().items():
        ss.setdefault(key, value)
    st.caption("How to read your files (set before uploading; empty: detected)")
    left, right = st.columns(2)
    left.text_input("Encoding", key=K_IN_ENCODING, placeholder="e.g. cp1252")
    right.text_input("Date format", key=K_IN_DATE_FORMAT, placeholder="e.g. %d/%m/%Y")
    left.text_input(
        "Areas: controller field",
        key=K_IN_CONTROLLER_FIELD,
        placeholder=schema.CONTROLLER,
        help="The field of the control-area files naming who holds each polygon.",
    )
    right.text_input(
        "Areas: one controller",
        key=K_IN_CONTROLLER,
        placeholder="e.g. Russia",
        help="For area files with no controller field: every feature gets this controller.",
    )
    st.text_input(
        "Areas: snapshot date field",
        key=K_IN_DATE_FIELD,
        placeholder="none: valid_from/valid_to, or a date in the file name",
        help="The field giving each feature's snapshot date; a series of snapshots becomes "
        "intervals, each valid until the next.",
    )


def render_data_section(ds: Dataset, sources: Sources) -> None:
    """Where the data comes from, uploads, and the validation report."""
    ss = st.session_state
    # An upload the server refused never reached the uploader's callback, and the
    # uploader itself shows only "status code 413": the server says why.
    refusal = take_upload_refusal()
    if refusal:
        ss[K_UPLOAD_ERROR] = ("the file", f"the server refused it, as {refusal}")
        ss.pop(K_UPLOAD_OK, None)
    with st.sidebar.expander("Data", expanded=bool(ss.get(K_UPLOAD_ERROR))):
        described = [f"  {line}" for line in _texts(ds.summary.get("area_sources"))]
        st.text(
            "\n".join(
                [f"Events: {ds.events_name}", f"Control areas: {', '.join(ds.areas_names)}"]
                + described
            )
        )
        _read_inputs()
        st.file_uploader(
            "Upload events (CSV: canonical, ACLED or UCDP GED)",
            type=list(EVENT_UPLOAD_TYPES),
            key=K_UP_EVENTS,
            on_change=_on_events_upload,
        )
        st.file_uploader(
            "Upload control areas (GeoJSON, GeoPackage, GeoParquet, KML)",
            type=list(AREA_UPLOAD_TYPES),
            accept_multiple_files=True,
            key=K_UP_AREAS,
            on_change=_on_areas_upload,
        )
        _area_sources_inputs()
        error = ss.get(K_UPLOAD_ERROR)
        if error:
            name, message = error
            st.error(
                f"Could not use {md(name, limit=80)}: {md(message, limit=600)}. "
                "The data shown is unchanged."
            )
        elif ss.get(K_UPLOAD_OK):
            # Paragraph by paragraph, each literal: the message holds the data's words.
            text = "\n\n".join(md(p, limit=600) for p in str(ss[K_UPLOAD_OK]).split("\n\n"))
            st.success(text)
        if sources.uploaded:
            st.button("Back to the original data", on_click=reset_sources)
    render_report(ds)


def _area_sources_inputs() -> None:
    """Control from a table per administrative unit with its boundaries, or from a list of
    towns: the uploaders, and one button that uses what was given."""
    with st.expander("Control from a table per unit, or a town list"):
        st.caption(
            "**Table per unit**: one row per administrative unit (its name or P-code, who "
            "holds it, the date), with the units' boundaries; each unit is held from its "
            "row's date until its next row. **Town list**: one row per town (name or "
            "coordinates, who holds it, the date); each town's ground is the land nearer to "
            "it than to any other town, up to the distance below. Either, or both, "
            "replace the control areas shown."
        )
        st.file_uploader(
            "Control table (CSV or Excel)", type=list(TABLE_UPLOAD_TYPES), key=K_UP_TABLE
        )
        st.file_uploader(
            "Its boundaries (GeoJSON, GeoPackage, KML)",
            type=list(BOUNDARY_UPLOAD_TYPES),
            key=K_UP_BOUNDARIES,
            help="The polygons of the table's units, with their names or P-codes "
            "(e.g. an OCHA COD-AB admin3 file: admin3Name_en, admin3Pcode).",
        )
        st.text_area(
            "Unit matches (optional)",
            key=K_IN_UNIT_MATCHES,
            height=68,
            placeholder="Sosa=SY090203",
            help="NAME=PCODE, one a line: the unit a table name stands for, where it is "
            "spelled unlike the boundaries (the command line's --unit-match).",
        )
        st.file_uploader("Town list (CSV or Excel)", type=list(TABLE_UPLOAD_TYPES), key=K_UP_POINTS)
        from dashboard.pipeline import AreaOptions

        st.session_state.setdefault(K_IN_MAX_DISTANCE, AreaOptions().max_distance_km)
        st.number_input(
            "Max distance (km)",
            min_value=0.1,
            max_value=500.0,
            step=5.0,
            format="%g",
            key=K_IN_MAX_DISTANCE,
            help="The farthest ground one town speaks for; beyond it: no information.",
        )
        st.button("Use these", key=K_USE_SOURCES, on_click=_use_area_sources)


def render_report(ds: Dataset) -> None:
    """Counts, rows set aside with their reasons, and downloads of both."""
    rep = ds.event_report
    label = f"Validation report: {rep.rows_loaded:,} loaded, {rep.rows_rejected:,} set aside"
    if ds.area_ledger is not None and ds.area_ledger.set_aside:
        label += f"; {ds.area_ledger.set_aside:,} {ds.area_ledger.noun} set aside"
    with st.sidebar.expander(label):
        summary = ds.summary
        lines = [
            f"Events file: {ds.events_name}",
            f"Rows in: {rep.rows_in}  loaded: {rep.rows_loaded}  set aside: {rep.rows_rejected}",
            f"Errors: {len(rep.errors)}  warnings: {len(rep.warnings)}",
        ]
        geocoded = summary.get("geocoded")
        if isinstance(geocoded, dict) and geocoded:
            lines.append("Geocoding: " + ", ".join(f"{k} {v}" for k, v in geocoded.items()))
        area_rep = ds.area_report
        ledger = ds.area_ledger
        lines.append(
            f"Control areas: {ledger.sentence()}"
            if ledger is not None
            else f"Control areas: {len(ds.areas):,} versions in the database (what their "
            "load set aside is in the output of `conflictmap db load`)"
        )
        st.text("\n".join(lines))
        if len(ds.rejected):
            st.caption("Rows set aside, with the reason")
            st.dataframe(_rejected_view(ds.rejected), height=200, hide_index=True)
        records = summary.get("control_area_features_not_used_as_read")
        features = pd.DataFrame(records if isinstance(records, list) else [])
        if len(features):
            st.caption(
                "Control-area features (or table rows) set aside or repaired, with the reason"
            )
            st.dataframe(features, height=200, hide_index=True, key="rejected-areas")
        problems = [p.to_dict() | {"severity": p.severity} for p in rep.problems[:2000]]
        problems += [
            p.to_dict() | {"severity": p.severity, "file": "areas"} for p in area_rep.problems[:500]
        ]
        if problems:
            st.caption("Problems found")
            frame = pd.DataFrame(problems)
            frame["value"] = (
                frame["value"].astype("object").map(lambda v: None if v is None else str(v))
            )
            st.dataframe(frame, height=200, hide_index=True)
        col1, col2 = st.columns(2)
        col1.download_button(
            "Rows set aside (CSV)",
            data=lambda: to_csv_bytes(ds.rejected),
            file_name="rejected_rows.csv",
            mime="text/csv",
            on_click="ignore",
            disabled=len(ds.rejected) == 0,
        )
        col1.download_button(
            "Area features (CSV)",
            data=lambda: to_csv_bytes(features),
            file_name="rejected_areas.csv",
            mime="text/csv",
            on_click="ignore",
            disabled=len(features) == 0,
            help="The control-area features set aside or repaired, with the reason and km².",
        )
        col2.download_button(
            "Report (JSON)",
            data=lambda: _report_json(ds),
            file_name="validation_report.json",
            mime="application/json",
            on_click="ignore",
        )


def _report_json(ds: Dataset) -> bytes:
    import json

    return json.dumps(
        {"events": ds.event_report.to_dict(), "areas": ds.area_report.to_dict()},
        ensure_ascii=False,
        indent=2,
    ).encode("utf-8")


def _rejected_view(rejected: pd.DataFrame) -> pd.DataFrame:
    first = [c for c in (schema.SOURCE_ROW, schema.REJECT_REASON) if c in rejected]
    rest = [c for c in rejected.columns if c not in first]
    return rejected[first + rest]


def render_filters(options: S.Options) -> dict[str, Any]:
    """The filter widgets; returns one empty slot per filter for the counts of what it
    hides (the view fills them, as the counts follow the time window)."""
    slots: dict[str, Any] = {}
    sb = st.sidebar
    sb.subheader("Filters")
    slots["summary"] = sb.empty()
    # (filter, its values in the data, widget key, placeholder, help)
    lists: tuple[tuple[str, tuple[str, ...], str, str, str | None], ...] = (
        ("event_types", options.event_types, K.K_TYPES, "All event types", None),
        ("sub_event_types", options.sub_event_types, K.K_SUBTYPES, "All sub-event types", None),
        (
            "actors",
            options.actors,
            K.K_ACTORS,
            "Type to search actors",
            "Matches actor 1 or actor 2.",
        ),
        ("countries", options.countries, K.K_COUNTRIES, "All countries", None),
        ("admin1", options.admin1, K.K_ADMIN1, "All admin1 regions", None),
    )
    for name, values, key, placeholder, help_text in lists:
        sb.multiselect(
            FILTER_LABELS[name], values, key=key, placeholder=placeholder, help=help_text
        )
        slots[name] = sb.empty()
    sb.number_input(
        FILTER_LABELS["min_fatalities"],
        min_value=0,
        max_value=S.MAX_FATALITIES_FILTER,
        step=1,
        key=K.K_MIN_FAT,
        help="Events with an unknown toll are hidden when this is above 0.",
    )
    slots["min_fatalities"] = sb.empty()
    sb.pills(
        FILTER_LABELS["precisions"],
        [1, 2, 3],
        selection_mode="multi",
        key=K.K_PRECISION,
        format_func=lambda p: PRECISION_LABELS.get(p, str(p)),
        help="1: the named town; 2: near it; 3: only the region is known. None selected shows all.",
    )
    slots["precisions"] = sb.empty()
    return slots


def render_layers() -> None:
    sb = st.sidebar
    sb.subheader("Map")
    for name, key in K.LAYER_KEYS.items():
        sb.checkbox(S.LAYER_LABELS[name], key=key)
    sb.radio(
        "Event points",
        S.POINT_MODES,
        key=K.K_POINTS,
        format_func=S.POINT_MODE_LABELS.get,
        help=f"Auto draws every event up to {POINTS_MAX:,} in the window and aggregates "
        "them into hexagons above that; hexagons get finer as you zoom in.",
    )
    sb.radio(
        "Basemap",
        S.BASEMAPS,
        key=K.K_BASEMAP,
        format_func=S.BASEMAP_LABELS.get,
        help="Tiles need internet; without, the map shows country outlines and towns.",
    )
