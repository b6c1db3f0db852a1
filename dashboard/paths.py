"""Where the bundled data lives: found relative to the package, never the current directory."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
BUNDLED_EVENTS = PROJECT_DIR / "events.csv"
GEODATA_DIR = PROJECT_DIR / "geodata"
BUNDLED_AREAS = GEODATA_DIR / "control_areas.geojson"
BUNDLED_ALIASES = GEODATA_DIR / "gazetteer_aliases.csv"
BUNDLED_COUNTRIES = GEODATA_DIR / "countries.geojson"
BUNDLED_TOWNS = GEODATA_DIR / "towns.csv"
