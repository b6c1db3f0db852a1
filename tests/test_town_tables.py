"""Town tables without coordinates (a hand-made towns file that names places only): the
map's no-tiles layer and the export's labels draw no town rather than fail."""

from __future__ import annotations

import pandas as pd

from dashboard.export.labels import town_table
from dashboard.layers.context import context_layer

NAMES_ONLY = pd.DataFrame({"name": ["Mosul", "Raqqa"], "role": ["city", "city"]})
EVENTS = pd.DataFrame({"latitude": [36.34], "longitude": [43.13]})


def test_the_export_labels_no_town_without_coordinates():
    table = town_table(NAMES_ONLY, EVENTS, arabic=False)
    assert table.empty
    assert list(table.columns) == ["x", "y", "name", "label", "kind", "weight"]


def test_the_export_still_labels_the_towns_that_have_coordinates():
    towns = pd.DataFrame(
        {"name": ["Mosul", "Nowhere"], "latitude": [36.34, None], "longitude": [43.13, None]}
    )
    table = town_table(towns, EVENTS, arabic=False)
    assert table["name"].tolist() == ["Mosul"]
    assert table["weight"].tolist() == [1]  # the one event is at Mosul


def _rendered(towns: pd.DataFrame) -> str:
    import folium

    fmap = folium.Map(tiles=None)
    context_layer(None, towns).add_to(fmap)
    return fmap.get_root().render()


def test_the_no_tiles_layer_draws_no_town_without_coordinates():
    assert "Mosul" not in _rendered(NAMES_ONLY)
    with_place = NAMES_ONLY.assign(latitude=[36.34, 35.95], longitude=[43.13, 39.01])
    assert "Mosul" in _rendered(with_place)
