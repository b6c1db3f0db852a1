"""Download bytes for the event table: CSV and GeoJSON, safe to open in a spreadsheet.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a
formula by spreadsheet programs (CSV injection). Such cells get a leading ``'``, which the
spreadsheet shows as text. Numbers are left alone: a numeric column stays numeric, and a
text cell that is exactly a plain number (``-12.5``) is not a formula either.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
from typing import Any

import numpy as np
import pandas as pd

from dashboard import schema

FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_GEOMETRY = "geometry"


def neutralise(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula.

    Non-text values, and text that is exactly a plain number, are returned unchanged.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_PREFIXES):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def _is_text_column(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series.dtype) or series.dtype == object


def export_frame(events: pd.DataFrame, *, neutralise_text: bool = True) -> pd.DataFrame:
    """A copy of ``events`` ready to write: no geometry, dates as ISO text, text neutralised.

    The caller's frame is not modified.
    """
    out = pd.DataFrame(events).drop(columns=[_GEOMETRY], errors="ignore").copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            out[column] = _iso_dates(series)
        elif pd.api.types.is_float_dtype(series.dtype):
            # Counts held as floats only because of NaN (fatalities) read as 3, not 3.0.
            finite = series.dropna()
            if (
                len(finite)
                and bool((finite == finite.round()).all())
                and finite.abs().max() < 2**53
            ):
                out[column] = series.astype("Int64")
        elif _is_text_column(series):
            values = series.astype("object")
            out[column] = values.map(neutralise, na_action="ignore") if neutralise_text else values
    return out


def _iso_dates(series: pd.Series) -> pd.Series:
    values = pd.to_datetime(series, errors="coerce")
    has_time = bool(
        (values.dropna() != values.dropna().dt.normalize()).any() if values.notna().any() else False
    )
    fmt = "%Y-%m-%dT%H:%M:%S" if has_time else "%Y-%m-%d"
    text = values.dt.strftime(fmt).astype("object")
    return text.where(values.notna(), None)


def to_csv_bytes(events: pd.DataFrame, *, bom: bool = True) -> bytes:
    """The table as UTF-8 CSV bytes (with a byte-order mark so spreadsheets read Arabic
    correctly), text cells neutralised, numbers as numbers, unknown values empty."""
    frame = export_frame(events)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    text = buffer.getvalue()
    return ("\ufeff" + text).encode("utf-8") if bom else text.encode("utf-8")


def _json_value(value: Any) -> Any:
    """A JSON-safe Python value: NaN/NaT become null, numpy scalars become Python ones."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            return None
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return value.isoformat()
    return value


def to_geojson_bytes(
    events: pd.DataFrame, *, neutralise_text: bool = True, precision: int = 6
) -> bytes:
    """The table as a GeoJSON FeatureCollection (EPSG:4326 points from latitude/longitude).

    Rows without coordinates are kept, with a ``null`` geometry (valid GeoJSON), so the
    download holds the same rows as the table. Text properties are neutralised like the CSV
    (the file is often opened in a spreadsheet after a GIS round trip).
    """
    frame = export_frame(events, neutralise_text=neutralise_text)
    lat = pd.to_numeric(events.get(schema.LATITUDE), errors="coerce")
    lon = pd.to_numeric(events.get(schema.LONGITUDE), errors="coerce")
    if lat is None or lon is None or not isinstance(lat, pd.Series):
        lat = pd.Series(np.nan, index=events.index)
        lon = pd.Series(np.nan, index=events.index)
    lat_values = lat.to_numpy(dtype=float)
    lon_values = lon.to_numpy(dtype=float)
    columns = list(frame.columns)
    features = []
    for i, row in enumerate(frame.itertuples(index=False, name=None)):
        y, x = lat_values[i], lon_values[i]
        geometry = (
            {
                "type": "Point",
                "coordinates": [round(float(x), precision), round(float(y), precision)],
            }
            if np.isfinite(x) and np.isfinite(y)
            else None
        )
        properties = {col: _json_value(val) for col, val in zip(columns, row, strict=True)}
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    collection = {"type": "FeatureCollection", "features": features}
    return json.dumps(collection, ensure_ascii=False, allow_nan=False).encode("utf-8")
