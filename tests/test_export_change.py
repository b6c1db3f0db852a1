"""The compare mode's change map as PNG and PDF (``dashboard.export.change``), from Python,
from ``conflictmap export --compare`` and from the page's buttons.

The tiny inputs of ``app_fixtures``: the Mosul square (42.9-43.3 E, 36.2-36.5 N) is the
Islamic State's until 2017-07-10 and the Iraqi government's from then on; the Raqqa square
is the Islamic State's throughout. Comparing 2015-06-15 with 2017-11-15, only the Mosul
square changed hands, and IRQ3, IRQ4 and IRQ5 lie inside it between the two dates.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from app_fixtures import write_inputs
from cli_runner import run_cli
from matplotlib import colors as mcolors
from PIL import Image
from streamlit.testing.v1 import AppTest

from dashboard import paths, schema, style
from dashboard.changemap import change_of
from dashboard.export import ExportSettings, load_export_data
from dashboard.export.change import render_change_pdf, render_change_png
from dashboard.viewstate import MODE_COMPARE, CompareView, ViewState

# Each test builds into a cache of its own (app_fixtures.private_build_cache).
pytestmark = pytest.mark.usefixtures("private_build_cache")

WHEN = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC)
SETTINGS = ExportSettings(exported_at=WHEN)
VIEW = ViewState(as_of=dt.date(2017, 11, 15), window=30)
TINY = CompareView(MODE_COMPARE, dt.date(2015, 6, 15), dt.date(2017, 11, 15))
MAY_NOV_2017 = CompareView(MODE_COMPARE, dt.date(2017, 5, 1), dt.date(2017, 11, 30))
SDF_2016 = CompareView(MODE_COMPARE, dt.date(2016, 1, 1), dt.date(2016, 12, 31), focus="SDF")


@pytest.fixture(scope="module")
def bundled():
    return load_export_data()


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    events, areas = write_inputs(tmp_path_factory.mktemp("tiny"))
    return load_export_data(events, [areas])


def _pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())


def _png_text(png: bytes) -> dict[str, str]:
    with Image.open(io.BytesIO(png)) as image:
        return dict(image.text)


def _extent(text: dict[str, str]) -> tuple[float, ...]:
    return tuple(float(v) for v in text["Extent"].split(","))


def test_the_png_fills_the_changed_ground_in_the_new_controllers_colour(tiny_data):
    change = change_of(tiny_data.areas, tiny_data.events, VIEW.filters, TINY)
    assert sorted(change.events[schema.EVENT_ID]) == ["IRQ3", "IRQ4", "IRQ5"]
    png = render_change_png(tiny_data, VIEW, change, SETTINGS)
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    assert image.shape == (1000, 1600, 3)
    colour = style.controller_colours([schema.IRAQI_GOVERNMENT], palette=tiny_data.palette)[
        schema.IRAQI_GOVERNMENT
    ]
    top = np.array(mcolors.to_rgb(colour)) * 255
    land = np.array(mcolors.to_rgb(style.LAND_FILL)) * 255
    fill = np.round(style.CHANGE_FILL_OPACITY * top + (1 - style.CHANGE_FILL_OPACITY) * land)
    filled = int((np.abs(image - fill).max(axis=2) <= 3).sum())
    # framed on the square: it covers a good share of the map, not a speck of the region
    assert filled > 60_000, filled


def test_the_picture_is_framed_on_the_changed_ground_and_names_its_view(tiny_data):
    change = change_of(tiny_data.areas, tiny_data.events, VIEW.filters, TINY)
    text = _png_text(render_change_png(tiny_data, VIEW, change, SETTINGS))
    west, south, east, north = _extent(text)
    # the Mosul square (and the events in it) is inside the frame, and the frame is a
    # neighbourhood of it, not the whole data (Raqqa, 4 degrees west, is left out)
    assert west < 42.9 and east > 43.3 and south < 36.2 and north > 36.5
    assert west > 41.5 and east < 44.7
    view = text["View"]
    for part in ("mode=compare", "from=2015-06-15", "to=2017-11-15", "compare_map=changes"):
        assert part in view, part
    assert text["Comment"].startswith("Exported 2024-05-01 09:30 UTC with conflictmap")
    assert "mode=compare" in text["Comment"]


def test_a_bbox_wins_over_the_changed_ground(tiny_data):
    change = change_of(tiny_data.areas, tiny_data.events, VIEW.filters, TINY)
    box = (38.0, 34.0, 45.0, 37.5)
    text = _png_text(render_change_png(tiny_data, VIEW, change, replace(SETTINGS, bbox=box)))
    west, south, east, north = _extent(text)
    assert west <= 38.0 + 1e-6 and east >= 45.0 - 1e-6 and south <= 34.0 + 1e-6
    assert north >= 37.5 - 1e-6


def test_the_pdf_legend_names_both_dates_controllers_and_states_the_figures(bundled):
    change = change_of(bundled.areas, bundled.events, VIEW.filters, MAY_NOV_2017)
    text = _pdf_text(render_change_pdf(bundled, VIEW, change, SETTINGS))
    between = change.result.changed_parts_km2()[0]
    for expected in (
        "Territory that changed hands",
        "Control on 1 May 2017 compared with 30 November 2017",
        "1 May 2017 – 30 Nov 2017",
        "Held on 30 Nov 2017 by (fill)",
        "Held on 1 May 2017 by (dashed outline)",
        schema.ISLAMIC_STATE,
        schema.IRAQI_GOVERNMENT,
        "Events in changed ground",
        f"{between:,.0f} km² changed hands between controllers",
        f"{len(change.events)} events inside changed ground",
        "Control areas: authored for conflictmap",
        "Exported 2024-05-01 09:30 UTC",
    ):
        assert expected in text, expected
    # the Islamic State lost ground and gained none: it is an outline, never a fill
    fills = text.split("Held on 30 Nov 2017 by (fill)")[1].split("Held on 1 May 2017")[0]
    assert schema.ISLAMIC_STATE not in fills


def test_a_focus_draws_only_its_gains_and_losses_and_the_events_in_them(bundled):
    change = change_of(bundled.areas, bundled.events, VIEW.filters, SDF_2016)
    shown = change.shown_events()
    assert len(shown) < len(change.events)  # events in others' changes are left out
    assert ((shown["controller_a"] == "SDF") | (shown["controller_b"] == "SDF")).all()
    pieces = change.pieces()
    assert (
        len(pieces)
        and ((pieces["controller_a"] == "SDF") | (pieces["controller_b"] == "SDF")).all()
    )
    text = _pdf_text(render_change_pdf(bundled, VIEW, change, SETTINGS))
    km2_a, km2_b = change.result.area_of("SDF")
    assert "Gains and losses of SDF" in text
    assert "gained by SDF" in text
    assert "lost by SDF" not in text  # it lost nothing that year: not in the legend
    assert f"SDF: {km2_a:,.0f} km² → {km2_b:,.0f} km²" in text
    assert "changed hands between controllers, all controllers" in text
    assert f"{len(shown)} events inside the ground shown" in text


def test_nothing_changed_gives_the_data_frame_and_says_zero(tiny_data):
    same = CompareView(MODE_COMPARE, dt.date(2016, 1, 1), dt.date(2016, 6, 1))
    change = change_of(tiny_data.areas, tiny_data.events, VIEW.filters, same)
    assert not len(change.result.pieces)
    text = _pdf_text(render_change_pdf(tiny_data, VIEW, change, SETTINGS))
    assert "0.0 km² changed hands between controllers" in text
    assert "0 events inside changed ground" in text


# --- the command line ----------------------------------------------------------------------


def test_cli_writes_the_change_map_as_png_and_pdf(tmp_path):
    png = tmp_path / "changes.png"
    done = run_cli("export", "--compare", "2017-05-01", "2017-11-30", "-o", str(png))
    assert done.returncode == 0, done.stderr
    assert "change map" in done.stdout
    text = _png_text(png.read_bytes())
    assert "from=2017-05-01" in text["View"] and "to=2017-11-30" in text["View"]
    pdf = tmp_path / "sdf.pdf"
    done = run_cli(
        "export", "--compare", "2016-01-01", "2016-12-31", "--focus", "SDF", "-o", str(pdf)
    )
    assert done.returncode == 0, done.stderr
    assert "Gains and losses of SDF" in _pdf_text(pdf.read_bytes())


def test_cli_makes_the_change_map_of_a_compare_permalink(tmp_path):
    png = tmp_path / "url.png"
    url = "http://host/?mode=compare&from=2016-01-01&to=2016-12-31&focus=SDF&basemap=none"
    done = run_cli("export", "--view-url", url, "-o", str(png))
    assert done.returncode == 0, done.stderr
    view = _png_text(png.read_bytes())["View"]
    assert "focus=SDF" in view and "from=2016-01-01" in view


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--compare", "2017-11-30", "2017-05-01"], "the first date is after the second"),
        (["--compare", "2013-01-01", "2017-05-01"], "outside the control areas (2014-01-04"),
        (["--compare", "2017-05-01", "2017-13-01"], "--compare '2017-13-01': expected a date"),
        (["--compare", "2017-05-01", "2017-11-30", "--date", "2017-01-01"], "drop --date"),
        (["--focus", "SDF"], "--focus goes with --compare FROM TO"),
        (["--compare", "2017-05-01", "2017-11-30", "--focus", "sdf"], "did you mean 'SDF'"),
    ],
)
def test_cli_refuses_a_bad_comparison_in_one_line(tmp_path, args, message):
    done = run_cli("export", *args, "-o", str(tmp_path / "x.png"))
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.png").exists()


def test_cli_compare_permalink_as_html_is_its_single_date_view(tmp_path):
    url = "http://host/?date=2017-11-09&window=30&mode=compare&from=2017-05-01&to=2017-11-30"
    page = tmp_path / "view.html"
    done = run_cli("export", "--view-url", url, "-o", str(page))
    assert done.returncode == 0, done.stderr
    assert "a html shows its single-date view" in done.stderr
    assert "date=2017-11-09" in page.read_text(encoding="utf-8")
    refused = run_cli(
        "export", "--view-url", url, "--date", "2017-01-01", "-o", str(tmp_path / "x.png")
    )
    assert refused.returncode == 2 and "drop --date and --window" in refused.stderr


def test_cli_change_map_is_png_or_pdf_only(tmp_path):
    done = run_cli("export", "--compare", "2017-05-01", "2017-11-30", "-o", str(tmp_path / "x.gif"))
    assert done.returncode == 2
    assert "made as png or pdf, not gif" in done.stderr


# --- the page's buttons ----------------------------------------------------------------------

APP = str(Path(paths.PACKAGE_DIR) / "app" / "main.py")


@pytest.mark.usefixtures("tiny")
def test_the_compare_page_makes_the_change_map_png_it_shows():
    from dashboard.app import compare as C
    from dashboard.app import exportbuttons

    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in {"mode": "compare", "from": "2015-06-15", "to": "2017-11-15"}.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [b.key for b in at.download_button if b.key == "dl_change_png"] == []
    at.button(key="mk_change_png").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.download_button(key="dl_change_png").label == "Download PNG"
    made = at.session_state[exportbuttons.K_CHANGE_MADE]["png"]
    assert made.data.startswith(b"\x89PNG")
    view = _png_text(made.data)["View"]
    assert "from=2015-06-15" in view and "to=2017-11-15" in view
    # another second date drops the file made for the first
    at.session_state[C.K_B] = dt.date(2017, 10, 1)
    at.run()
    assert "png" not in (at.session_state[exportbuttons.K_CHANGE_MADE] or {})


def test_long_names_and_subtitles_stay_on_the_page(bundled):
    """A focus on the longest controller with many filters: the subtitle is set smaller
    and then cut with an ellipsis, and a long legend label is cut to the legend's column,
    rather than running off the page."""
    from dashboard.export.change import ChangeFigure, change_extent
    from dashboard.timewindow import Filters

    actors = tuple(sorted(bundled.options.actors, key=len, reverse=True)[:6])
    view = replace(VIEW, filters=Filters(actors=actors, event_types=("Battles",)))
    focus = CompareView(
        MODE_COMPARE, dt.date(2017, 5, 1), dt.date(2017, 11, 30),
        focus="Kurdistan Regional Government",
    )  # fmt: skip
    change = change_of(bundled.areas, bundled.events, view.filters, focus)
    figure = ChangeFigure(
        bundled, view, change, width_in=10, height_in=6.25, dpi=160,
        extent=change_extent(bundled, view, change), exported_at=WHEN,
    )  # fmt: skip
    figure.draw_change()
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    width = figure.fig.bbox.width
    texts = [*figure.fig.texts, *figure.legend_ax.texts]
    outside = [
        t.get_text()
        for t in texts
        if t.get_text() and t.get_window_extent(renderer).x1 > width + 0.5
    ]
    assert outside == []
    assert any(t.get_text().endswith("\u2026") for t in figure.fig.texts)  # the subtitle


def test_cli_change_map_of_ochas_2015_maps(shared_data, tmp_path):
    """Real control maps nobody here wrote: OCHA's two 2015 snapshots (the last one open-
    ended, six empty features, polygons whose projection GEOS refuses to cut as they come).
    The change map is made, and the footer says what the figures leave out."""
    out = tmp_path / "ocha.png"
    done = run_cli(
        "export",
        "--areas", str(shared_data / "ocha_syria_areas_of_influence_2015-05-24.geojson"),
        "--areas", str(shared_data / "ocha_syria_areas_of_influence_2015-11-29.geojson"),
        "--controller-field", "actor_type", "--date-field", "valid_date",
        "--compare", "2015-05-24", "2015-11-29", "-o", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "6 set aside (6 empty geometry)" in done.stderr
    text = _png_text(out.read_bytes())
    assert "from=2015-05-24" in text["View"] and "to=2015-11-29" in text["View"]


def test_the_change_pdf_is_dated_by_its_export_not_by_the_clock(tiny_data):
    # As the single-date PDF: the same export made twice is the same file.
    from pypdf import PdfReader

    change = change_of(tiny_data.areas, tiny_data.events, VIEW.filters, TINY)
    pdf = render_change_pdf(tiny_data, VIEW, change, SETTINGS)
    assert PdfReader(io.BytesIO(pdf)).metadata.creation_date == WHEN
    assert render_change_pdf(tiny_data, VIEW, change, SETTINGS) == pdf
