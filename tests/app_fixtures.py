"""Tiny hand-made inputs for the app and browser tests (answers worked out by hand).

Mosul sits in one 0.4 x 0.3 degree square held by the Islamic State from 2014-06-10 until
2017-07-10 and by the Iraqi government from then on; a second square near Raqqa is held by
the Islamic State throughout. Events: five near Mosul, two near Raqqa, one in Baghdad
outside every area.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EVENTS_HEADER = (
    "event_id,event_date,event_type,sub_event_type,actor1,actor2,country,admin1,admin2,"
    "location,latitude,longitude,geo_precision,time_precision,fatalities,source,notes"
)
EVENT_ROWS = [
    (
        "IRQ1,2015-06-10,Battles,Armed clash,Islamic State,Military Forces of Iraq,Iraq,Ninewa,"
        "Mosul,Mosul,36.34,43.13,1,1,5,Reuters,Clash on the southern edge"
    ),
    (
        "IRQ2,2015-06-14,Explosions/Remote violence,Air/drone strike,Coalition,Islamic State,Iraq,"
        "Ninewa,Mosul,Mosul,36.36,43.15,2,1,0,AFP,Strike reported"
    ),
    (
        "IRQ3,2017-11-01,Battles,Armed clash,Military Forces of Iraq,Islamic State,Iraq,Ninewa,"
        "Mosul,Mosul,36.33,43.10,1,1,2,Rudaw,Clearing operation"
    ),
    (
        "IRQ4,2017-11-10,Protests,Peaceful protest,Protesters (Iraq),,Iraq,Ninewa,Mosul,Mosul,"
        "36.35,43.12,1,1,0,Shafaq News,Protest about services"
    ),
    (
        "IRQ5,2017-11-14,Violence against civilians,Attack,Unidentified Armed Group,Civilians,Iraq,"
        "Ninewa,Mosul,Mosul,36.31,43.11,3,1,,Local source,Toll unknown"
    ),
    (
        "SYR1,2015-06-01,Battles,Armed clash,Islamic State,SDF,Syria,Ar-Raqqa,Ar-Raqqa,Ar-Raqqa,"
        "35.95,39.01,1,1,12,SOHR,Fighting north of the city"
    ),
    (
        "SYR2,2017-11-12,Explosions/Remote violence,Shelling/artillery/missile attack,SDF,"
        "Islamic State,Syria,Ar-Raqqa,Ar-Raqqa,Ar-Raqqa,35.96,39.02,1,1,1,SOHR,Shelling"
    ),
    (
        "IRQ6,2017-11-15,Battles,Armed clash,Military Forces of Iraq,Islamic State,Iraq,Baghdad,"
        "Baghdad,Baghdad,33.31,44.36,1,1,3,Reuters,Outside every area"
    ),
]


def _square(lon: float, lat: float, dx: float, dy: float) -> dict:
    ring = [[lon, lat], [lon + dx, lat], [lon + dx, lat + dy], [lon, lat + dy], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def areas_doc(names: dict[str, str] | None = None) -> dict:
    names = names or {}
    mosul = _square(42.9, 36.2, 0.4, 0.3)
    raqqa = _square(38.8, 35.8, 0.4, 0.3)
    features = [
        ("mosul-is", names.get("mosul-is", "Islamic State"), "2014-06-10", "2017-07-10", mosul),
        ("mosul-gov", names.get("mosul-gov", "Iraqi government"), "2017-07-10", None, mosul),
        ("raqqa-is", names.get("raqqa-is", "Islamic State"), "2014-01-01", None, raqqa),
    ]
    return {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "area_id": area_id,
                    "controller": controller,
                    "valid_from": start,
                    "valid_to": end,
                },
                "geometry": geometry,
            }
            for area_id, controller, start, end, geometry in features
        ],
    }


def write_inputs(
    folder: Path, *, rows: list[str] | None = None, area_names: dict[str, str] | None = None
) -> tuple[Path, Path]:
    """Write events.csv and areas.geojson into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    events = folder / "events.csv"
    events.write_text("\n".join([EVENTS_HEADER, *(rows or EVENT_ROWS)]) + "\n", encoding="utf-8")
    areas = folder / "areas.geojson"
    areas.write_text(json.dumps(areas_doc(area_names)), encoding="utf-8")
    return events, areas


# --- pytest fixtures shared by the AppTest modules (imported there by name) ---------------


@pytest.fixture
def private_build_cache(tmp_path, monkeypatch):
    """Builds kept on disk go to a temporary folder, not the user's cache."""
    from dashboard.app.loaders import CACHE_ENV

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "build-cache"))


@pytest.fixture
def tiny(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """The hand-made events and areas, and the app pointed at them."""
    from dashboard.app.loaders import AREAS_ENV, EVENTS_ENV

    events, areas = write_inputs(tmp_path / "data")
    monkeypatch.setenv(EVENTS_ENV, str(events))
    monkeypatch.setenv(AREAS_ENV, str(areas))
    return events, areas
