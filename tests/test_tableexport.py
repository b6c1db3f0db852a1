"""CSV and GeoJSON downloads: formula cells neutralised, numbers kept, rows all there."""

from __future__ import annotations

import csv
import io
import itertools
import json

import numpy as np
import pandas as pd
import pytest

from dashboard import schema
from dashboard.tableexport import (
    export_frame,
    is_formula,
    neutralise,
    restore,
    to_csv_bytes,
    to_geojson_bytes,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-12.5", "-12.5"),
        ("+3", "+3"),
        ("Mosul", "Mosul"),
        ("", ""),
        (-12.5, -12.5),
        (None, None),
        # white space, controls or invisible characters in front of a formula
        (" =1+1", "' =1+1"),
        ("\n@SUM(A1)", "\n'@SUM(A1)"),  # the ' goes after the line break (see below)
        ("\u00a0+1", "'\u00a0+1"),
        ("\u200b=1", "'\u200b=1"),
        ("\ufeff=1", "'\ufeff=1"),
        ("\x00=1", "'\x00=1"),
        (" Mosul", " Mosul"),
        # full-width and other forms that fold to = + - @
        ("＝1+1", "'＝1+1"),
        ("＋1", "'＋1"),
        ("－1", "'－1"),
        ("＠SUM(A1)", "'＠SUM(A1)"),
        ("﹦1", "'﹦1"),
        # a ' already in front: one more only where it hides a formula
        ("'=1+1", "''=1+1"),
        ("' =1+1", "'' =1+1"),
        ("'tis", "'tis"),
        ("'", "'"),
        ("'-12.5", "''-12.5"),  # a ' in front of a signed number: the first column marks it
        # plain numbers only when the whole text is one
        ("-1e5", "-1e5"),
        ("-.5", "-.5"),
        (" -12.5", "' -12.5"),
        ("-12.5 km", "'-12.5 km"),
        ("-", "'-"),
        ("\t-1", "'\t'-1"),
        # a " in front: a reader may take it for a quote and drop it
        ('"=1+1', "'\"=1+1"),
        ('""=1+1"', '\'""=1+1"'),
        ('"Mosul"', '"Mosul"'),
        # a part after ; tab CR or LF starts a cell where the file is split there
        ("Mosul;=1+1", "Mosul;'=1+1"),
        ("x\t@SUM(1)", "x\t'@SUM(1)"),
        ("a;+cmd|' /C calc'!A0", "a;'+cmd|' /C calc'!A0"),
        ("a; =1", "a;' =1"),
        ('a;"=1"', 'a;\'"=1"'),
        ("a\n=1+1", "a\n'=1+1"),
        ("a\r@SUM(1)", "a\r'@SUM(1)"),
        ("a\r\n- item\r\n- more", "a\r\n'- item\r\n'- more"),  # not between CR and LF
        ("a;-1", "a;'-1"),  # no number exception: the field runs on into the next cell
        ("a;\t=1", "a;'\t'=1"),  # a ; reader keeps the tab; a tab reader splits there
        ("a; \t=1", "a; \t'=1"),  # the ; reader's field is ' \t'=1': safe already
        ("a;'=1", "a;''=1"),
        ("a;'tis", "a;'tis"),
        ("a;;b;=1;c", "a;;b;'=1;c"),
        ("=a;=b", "'=a;'=b"),
        ("a; ;=1", "a; ;'=1"),  # the first field is blank up to the next ;
        ("a;\r\nb", "a;\r\nb"),  # a field that a line break ends at once is empty
        ('a;"\t=1', "a;'\"\t'=1"),  # a doubled quote dropped, the field starts with a tab
        # a , never starts a cell (module doc), nor does anything else later in a part
        ("a=1+1", "a=1+1"),
        ("x,=1", "x,=1"),
        ("a;b=1", "a;b=1"),
        ("a;1-2", "a;1-2"),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected
    if isinstance(value, str):
        assert restore(neutralise(value)) == value
        assert not is_formula(neutralise(value))


def test_restore_leaves_text_that_was_not_neutralised():
    for text in ("'tis", "'", "Mosul", "-12.5", "''", "'Mosul", "a;'tis", "a;b", "a\r\n'"):
        assert restore(text) == text


@pytest.mark.parametrize("keep_numbers", [True, False])
def test_restore_undoes_neutralise_for_every_short_text(keep_numbers):
    # Every text of up to four characters from those the rules look at: restore(neutralise(x))
    # must give x back, and the result must not start a live cell anywhere.
    alphabet = [";", "\t", "\r", "\n", "'", '"', "=", "-", "1", " ", "a", ","]
    for length in range(1, 5):
        for chars in itertools.product(alphabet, repeat=length):
            text = "".join(chars)
            written = neutralise(text, keep_numbers=keep_numbers)
            assert restore(written) == text, (text, written)
            assert not is_formula(written), (text, written)


def test_the_first_column_neutralises_text_that_is_a_signed_number():
    assert neutralise("-12.5") == "-12.5"
    assert neutralise("-12.5", keep_numbers=False) == "'-12.5"
    assert neutralise("12.5", keep_numbers=False) == "12.5"
    assert restore("'-12.5") == "-12.5"
    table = pd.DataFrame({"code": ["-12.5", "+3", "7"], "note": ["-1", "5*cmd", "x"]})
    rows = list(csv.reader(io.StringIO(to_csv_bytes(table).decode("utf-8-sig"))))
    assert rows[1:] == [["'-12.5", "-1"], ["'+3", "5*cmd"], ["7", "x"]]
    assert to_csv_bytes(pd.DataFrame({"-1": [1]}))[3:].startswith(b"'-1\n")


def _events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            schema.EVENT_ID: ["IRQ1", "IRQ2", "IRQ3"],
            schema.EVENT_DATE: pd.to_datetime(["2017-07-09", "2017-07-10", "2015-06-15"]),
            schema.LOCATION: ["=1+1", "الموصل", "C:\\users"],
            schema.NOTES: ["@evil", None, "-2+3"],
            schema.LATITUDE: [36.34, np.nan, 33.3],
            schema.LONGITUDE: [43.13, np.nan, 44.4],
            schema.FATALITIES: [-0.0 + 3, np.nan, 0.0],
            "delta": [-12.5, 1.25, 0.0],
        }
    )


def test_export_frame_does_not_touch_the_callers_frame():
    events = _events()
    before = events.copy()
    export_frame(events)
    pd.testing.assert_frame_equal(events, before)


def test_csv_neutralises_text_and_keeps_numbers():
    data = to_csv_bytes(_events())
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 3
    assert rows[0][schema.LOCATION] == "'=1+1"
    assert rows[0][schema.NOTES] == "'@evil"
    assert rows[2][schema.NOTES] == "'-2+3"
    assert rows[1][schema.LOCATION] == "الموصل"
    assert rows[2][schema.LOCATION] == "C:\\users"
    assert rows[0]["delta"] == "-12.5"  # a number stays a number
    assert rows[0][schema.FATALITIES] == "3" and rows[1][schema.FATALITIES] == ""
    assert rows[0][schema.EVENT_DATE] == "2017-07-09"


def test_geojson_has_every_row_and_null_geometry_without_coordinates():
    doc = json.loads(to_geojson_bytes(_events()).decode("utf-8"))
    assert doc["type"] == "FeatureCollection"
    feats = doc["features"]
    assert len(feats) == 3
    assert feats[0]["geometry"] == {"type": "Point", "coordinates": [43.13, 36.34]}
    assert feats[1]["geometry"] is None
    assert feats[0]["properties"][schema.LOCATION] == "'=1+1"
    assert feats[1]["properties"][schema.FATALITIES] is None
    assert feats[0]["properties"]["delta"] == -12.5
    assert feats[2]["properties"][schema.EVENT_DATE] == "2015-06-15"


def test_geojson_of_a_geodataframe_drops_the_geometry_column_from_properties():
    import geopandas as gpd  # a core dependency: missing is a failure, not a skip

    events = _events()
    gdf = gpd.GeoDataFrame(
        events,
        geometry=gpd.points_from_xy(events[schema.LONGITUDE], events[schema.LATITUDE]),
        crs="EPSG:4326",
    )
    doc = json.loads(to_geojson_bytes(gdf))
    assert "geometry" not in doc["features"][0]["properties"]
    assert b"geometry" not in to_csv_bytes(gdf).split(b"\n")[0]
