"""Exports of a view (dashboard.export): PNG, PDF, GIF, MP4 and standalone HTML.

Each test checks one promise a briefer relies on: the picture has the promised size and is
not blank, it shows the control areas in the app's palette and the events the app selects,
the legend, the date and the attribution are on it, labels do not overlap, the animation
has one frame per step, and the HTML map draws from a file with every request blocked.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from app_fixtures import write_inputs
from matplotlib import colors as mcolors
from PIL import Image, ImageSequence

from dashboard import paths, schema, style
from dashboard.export import (
    ExportSettings,
    animation_dates,
    load_export_data,
    parse_bbox,
    render_animation,
    render_html,
    render_pdf,
    render_png,
    resolve_frame,
    view_from_url,
)
from dashboard.export.figure import MapFigure, arabic_supported
from dashboard.export.render import PAPERS, animation_frames, gif_bytes, mp4_bytes
from dashboard.export.view import fit_extent, to_mercator, view_extent
from dashboard.timewindow import Filters, select
from dashboard.viewstate import ViewState

NOV_9 = ViewState(as_of=dt.date(2017, 11, 9), window=30)
WHEN = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC)
SETTINGS = ExportSettings(exported_at=WHEN)


@pytest.fixture(scope="module")
def bundled():
    return load_export_data()


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    events, areas = write_inputs(tmp_path_factory.mktemp("tiny"))
    return load_export_data(events, [areas])


def _image(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _fill(colour: str, alpha: float = style.AREA_FILL_OPACITY) -> np.ndarray:
    """The colour an area fill shows inside a polygon: ``colour`` at ``alpha`` over land."""
    top = np.array(mcolors.to_rgb(colour)) * 255
    land = np.array(mcolors.to_rgb(style.LAND_FILL)) * 255
    return np.round(alpha * top + (1 - alpha) * land)


def _pixels_of(image: np.ndarray, rgb: np.ndarray, tol: int = 3) -> int:
    return int((np.abs(image - rgb).max(axis=2) <= tol).sum())


def _pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())  # lines wrapped in the legend or the footer read as one


# --- PNG -----------------------------------------------------------------------------------


def test_png_is_1600_by_1000_and_not_blank(bundled):
    image = _image(render_png(bundled, NOV_9, SETTINGS))
    assert image.shape == (1000, 1600, 3)
    assert image.std() > 30  # a picture, not a flat colour
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 500


def test_png_scale_2_doubles_the_pixels(tiny_data):
    view = ViewState(as_of=dt.date(2017, 11, 15), window=30)
    image = _image(render_png(tiny_data, view, replace(SETTINGS, scale=2)))
    assert image.shape == (2000, 3200, 3)


def test_png_fills_areas_with_the_app_palette(bundled):
    """On 9 November 2017 the Islamic State still held the middle Euphrates; by 23 March
    2019 it held no ground: its fill colour is on the first map and on none of the second."""
    is_fill = _fill(style.CONTROLLER_COLOURS[schema.ISLAMIC_STATE])
    gov_fill = _fill(style.CONTROLLER_COLOURS[schema.SYRIAN_GOVERNMENT])
    nov = _image(render_png(bundled, NOV_9, SETTINGS))
    march = _image(render_png(bundled, ViewState(as_of=dt.date(2019, 3, 23), window=90), SETTINGS))
    assert _pixels_of(nov, is_fill) > 2000
    assert _pixels_of(nov, gov_fill) > 2000
    assert _pixels_of(march, is_fill) < 50  # the legend lists only controllers shown
    assert _pixels_of(march, gov_fill) > 2000


def test_events_drawn_in_their_type_colour(tiny_data):
    """The tiny data's protest (IRQ4, precise, 0 fatalities) is a blue Okabe-Ito circle."""
    view = ViewState(as_of=dt.date(2017, 11, 15), window=30)
    image = _image(render_png(tiny_data, view, SETTINGS))
    protest = np.round(
        style.POINT_FILL_OPACITY
        * np.array(mcolors.to_rgb(style.EVENT_TYPE_COLOURS["Protests"]))
        * 255
        + (1 - style.POINT_FILL_OPACITY) * _fill(style.CONTROLLER_COLOURS[schema.IRAQI_GOVERNMENT])
    )
    assert _pixels_of(image, protest, tol=6) > 10


def test_frame_selects_the_same_events_as_the_app(tiny_data):
    view = ViewState(
        as_of=dt.date(2017, 11, 15), window=30, filters=Filters(event_types=("Battles",))
    )
    frame = resolve_frame(tiny_data, view)
    expected = select(
        tiny_data.events, tiny_data.index, as_of=view.as_of, window_days=30, filters=view.filters
    )
    assert (
        sorted(frame.events[schema.EVENT_ID])
        == sorted(tiny_data.events.iloc[expected.positions][schema.EVENT_ID])
        == ["IRQ3", "IRQ6"]
    )
    assert frame.selection.hidden_total == 3  # the protest, the attack and the shelling


def test_same_events_as_the_apps_dataset(tmp_path, monkeypatch):
    """The app's own loader and the command line's build select the same rows."""
    from dashboard.app import loaders

    monkeypatch.setenv(loaders.CACHE_ENV, str(tmp_path / "cache"))
    events, areas = write_inputs(tmp_path / "data")
    ds = loaders.load_dataset(loaders.file_ref(events), (loaders.file_ref(areas),))
    data = load_export_data(events, [areas])
    for filters in (Filters(), Filters(min_fatalities=1), Filters(countries=("Iraq",))):
        app = select(
            ds.events, ds.index, as_of=dt.date(2017, 11, 15), window_days=30, filters=filters
        )
        ours = resolve_frame(
            data, ViewState(as_of=dt.date(2017, 11, 15), window=30, filters=filters)
        )
        assert sorted(ds.events.iloc[app.positions][schema.EVENT_ID]) == sorted(
            ours.events[schema.EVENT_ID]
        )
    assert data.options.event_types == ds.options.event_types
    assert data.type_colours == dict(style.event_type_colours(data.type_order))


def test_town_labels_do_not_overlap(bundled):
    figure = MapFigure(
        bundled,
        width_in=10,
        height_in=6.25,
        dpi=160,
        extent=view_extent(bundled, NOV_9),
        view=NOV_9,
        exported_at=WHEN,
    )
    figure.draw(resolve_frame(bundled, NOV_9))
    renderer = figure.fig.canvas.get_renderer()
    labels = [t for t in figure.ax.texts if t.get_zorder() == 8]
    assert len(labels) >= 10
    boxes = [t.get_window_extent(renderer) for t in labels]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
    texts = " ".join(t.get_text() for t in labels)
    assert "Damascus" in texts and "Baghdad" in texts
    if arabic_supported():  # matplotlib >= 3.11 shapes Arabic (libraqm)
        assert "بغداد" in texts


def test_tiles_only_when_asked_and_never_fatal(tiny_data):
    view = ViewState(as_of=dt.date(2017, 11, 15), window=30)
    requested: list[str] = []
    green = Image.new("RGB", (256, 256), (10, 200, 10))
    buffer = io.BytesIO()
    green.save(buffer, format="PNG")

    def fake(url: str) -> bytes:
        requested.append(url)
        return buffer.getvalue()

    render_png(tiny_data, view, replace(SETTINGS, tile_fetch=fake))
    assert requested == []  # off by default
    with_tiles = _image(render_png(tiny_data, view, replace(SETTINGS, tiles=True, tile_fetch=fake)))
    assert requested and _pixels_of(with_tiles, np.array([10, 200, 10]), tol=2) > 1000

    def offline(url: str) -> bytes:
        raise OSError("network unreachable")

    without = _image(render_png(tiny_data, view, replace(SETTINGS, tiles=True, tile_fetch=offline)))
    assert without.shape == (1000, 1600, 3)


# --- PDF -----------------------------------------------------------------------------------


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_pdf_is_one_landscape_page(bundled, paper):
    from pypdf import PdfReader

    pdf = render_pdf(bundled, NOV_9, replace(SETTINGS, paper=paper))
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) == 1
    width, height = float(pages[0].mediabox.width), float(pages[0].mediabox.height)
    expected = PAPERS[paper]
    assert width == pytest.approx(expected[0] * 72, abs=1)
    assert height == pytest.approx(expected[1] * 72, abs=1)


def test_pdf_text_has_title_date_legend_and_attribution(bundled):
    text = _pdf_text(render_pdf(bundled, NOV_9, replace(SETTINGS, title="Abu Kamal, November")))
    for expected in (
        "Abu Kamal, November",
        "9 November 2017",
        "Events 11 October – 9 November 2017 (30 days)",
        "Controlled by",
        schema.ISLAMIC_STATE,
        "Event type",
        "Battles",
        "Event data: the conflictmap demo events",
        "Control areas: authored for conflictmap",
        "GeoNames",
        "Exported 2024-05-01 09:30 UTC",
        "date=2017-11-09",
        "km",
    ):
        assert expected in text, expected


def test_hexagons_when_chosen_as_in_the_app(bundled):
    """points=hexagons: the events are aggregated as the app does (the same counts), filled
    on the app's ramp, and the legend gives the ramp and the app's sentence."""
    from dashboard import aggregate

    view = replace(NOV_9, window=3660, points="hexagons")
    frame = resolve_frame(bundled, view)
    text = _pdf_text(render_pdf(bundled, view, SETTINGS))
    assert "Events per hexagon" in text and "Event type" not in text
    sentence = re.search(r"([\d,]+) events shown as ([\d,]+) hexagons", text)
    assert sentence is not None, text
    assert int(sentence.group(1).replace(",", "")) == len(frame.placed)
    image = _image(render_png(bundled, view, SETTINGS))
    ramp = [_fill(c, style.HEX_FILL_OPACITY) for c in style.HEX_RAMP]
    assert sum(_pixels_of(image, rgb, tol=6) for rgb in ramp) > 2000
    # The default ("auto") draws these 90 events as points, as the app does.
    assert aggregate.default_point_mode(len(frame.placed)) == "points"
    auto = _pdf_text(render_pdf(bundled, replace(view, points="auto"), SETTINGS))
    assert "Event type" in auto and "Events per hexagon" not in auto


def test_hexagons_by_default_above_points_max(tmp_path):
    """More than POINTS_MAX events in the window: hexagons without being asked."""
    from dashboard import aggregate, synth

    synth.write_synthetic(tmp_path, events=aggregate.POINTS_MAX + 5000, areas=200, seed=5)
    data = load_export_data(tmp_path / synth.EVENTS_FILE, [tmp_path / synth.AREAS_FILE])
    view = replace(ViewState(as_of=data.options.last), window=3660)
    assert len(resolve_frame(data, view).placed) > aggregate.POINTS_MAX
    text = _pdf_text(render_pdf(data, view, SETTINGS))
    assert "Events per hexagon" in text and "hexagons (each about" in text


def test_pdf_credits_acled_when_the_data_is_acled(tmp_path):
    header = ",".join(schema.ACLED_COLUMNS)
    row = {c: "" for c in schema.ACLED_COLUMNS}
    row.update(
        event_id_cnty="IRQ1",
        event_date="2017-11-09",
        year="2017",
        time_precision="1",
        event_type="Battles",
        sub_event_type="Armed clash",
        actor1="Islamic State",
        country="Iraq",
        admin1="Ninewa",
        location="Mosul",
        latitude="36.34",
        longitude="43.13",
        geo_precision="1",
        source="Reuters",
        fatalities="3",
        timestamp="1510000000",
    )
    events = tmp_path / "acled.csv"
    events.write_text(header + "\n" + ",".join(row[c] for c in schema.ACLED_COLUMNS) + "\n")
    _, areas = write_inputs(tmp_path / "areas")
    data = load_export_data(events, [areas])
    text = _pdf_text(render_pdf(data, NOV_9, SETTINGS))
    assert "ACLED" in text and "acleddata.com" in text


def test_filters_are_named_on_the_map(tiny_data):
    view = ViewState(
        as_of=dt.date(2017, 11, 15),
        window=30,
        filters=Filters(event_types=("Battles",), min_fatalities=1),
    )
    text = _pdf_text(render_pdf(tiny_data, view, SETTINGS))
    assert "Filtered: event type Battles; at least 1 fatalities" in text
    assert "hidden by filters" in text


# --- extent and permalinks -------------------------------------------------------------------


def test_view_url_is_parsed_by_the_apps_parser(bundled):
    view, notices = view_from_url(
        "http://localhost:8501/?date=2015-06-15&window=90&type=Battles&lat=35.0&lon=40.0&zoom=7",
        bundled.options,
    )
    assert notices == []
    assert view.as_of == dt.date(2015, 6, 15) and view.window == 90
    assert view.filters.event_types == ("Battles",)
    minx, miny, maxx, maxy = view_extent(bundled, view)
    cx, cy = to_mercator(np.array([40.0]), np.array([35.0]))
    assert (minx + maxx) / 2 == pytest.approx(cx[0]) and (miny + maxy) / 2 == pytest.approx(cy[0])
    bad, notices = view_from_url("?date=2015-13-45&window=0", bundled.options)
    assert len(notices) == 2 and bad.as_of == bundled.options.default_date


def test_bbox_wins_and_is_checked(bundled):
    box = parse_bbox("38,34,42,37")
    extent = view_extent(bundled, NOV_9, box)
    x, y = to_mercator(np.array([38.0, 42.0]), np.array([34.0, 37.0]))
    assert extent == pytest.approx((x[0], y[0], x[1], y[1]))
    fitted = fit_extent(extent, 1.6)
    assert fitted[0] <= extent[0] and fitted[2] >= extent[2]  # grown, never cut
    for text in ("1,2,3", "a,b,c,d", "42,34,38,37", "0,-90,1,90"):
        with pytest.raises(ValueError):
            parse_bbox(text)


def test_png_and_pdf_say_which_view_and_extent_they_show(tiny_data):
    """A picture pasted in a brief can be traced back: its permalink and the extent drawn
    (the extent asked for, grown about its centre to the picture's shape, never cut)."""
    from pypdf import PdfReader

    view = replace(NOV_9, center=(35.5, 42.25), zoom=9)
    box = (41.0, 35.0, 43.5, 36.0)
    settings = replace(SETTINGS, bbox=box)
    with Image.open(io.BytesIO(render_png(tiny_data, view, settings))) as image:
        text = dict(image.text)
    assert text["View"].startswith("?date=2017-11-09&window=30&")
    assert "&lat=35.5000&lon=42.2500&zoom=9" in text["View"]
    west, south, east, north = (float(v) for v in text["Extent"].split(","))
    asked = to_mercator(np.array([box[0], box[2]]), np.array([box[1], box[3]]))
    drawn = to_mercator(np.array([west, east]), np.array([south, north]))
    # Same centre; the box is wider than the map's axes, so only its height grows.
    assert (drawn[0][0] + drawn[0][1]) / 2 == pytest.approx((asked[0][0] + asked[0][1]) / 2)
    assert (drawn[1][0] + drawn[1][1]) / 2 == pytest.approx((asked[1][0] + asked[1][1]) / 2)
    assert (drawn[0][0], drawn[0][1]) == pytest.approx((asked[0][0], asked[0][1]), abs=1.0)
    assert drawn[1][0] < asked[1][0] and drawn[1][1] > asked[1][1]
    assert text["Comment"].startswith("Exported 2024-05-01 09:30 UTC with conflictmap")
    assert text["Comment"].endswith(f"extent (W,S,E,N): {text['Extent']}")

    keywords = PdfReader(io.BytesIO(render_pdf(tiny_data, view, settings))).metadata["/Keywords"]
    assert "view: ?date=2017-11-09&window=30&" in keywords
    assert "&lat=35.5000&lon=42.2500&zoom=9" in keywords and "extent (W,S,E,N): " in keywords


# --- animation -------------------------------------------------------------------------------


def test_gif_has_one_frame_per_step(bundled):
    """Weekly through October - December 2017 is 14 steps; monthly it is 4 (the last date is
    always the last frame). The CLI test renders the weekly one."""
    weekly = animation_dates(dt.date(2017, 10, 1), dt.date(2017, 12, 31), "week")
    assert len(weekly) == 14 and weekly[-1] == dt.date(2017, 12, 31)
    monthly = animation_dates(dt.date(2017, 10, 1), dt.date(2017, 12, 31), "month")
    assert monthly == [
        dt.date(2017, 10, 1),
        dt.date(2017, 11, 1),
        dt.date(2017, 12, 1),
        dt.date(2017, 12, 31),
    ]
    gif = render_animation(
        bundled, NOV_9, start=monthly[0], end=monthly[-1], step="month", settings=SETTINGS
    )
    image = Image.open(io.BytesIO(gif))
    frames = [frame.convert("RGB") for frame in ImageSequence.Iterator(image)]
    assert len(frames) == len(monthly)
    assert image.size == (1600, 1000)
    first, last = (np.asarray(f).astype(int) for f in (frames[0], frames[-1]))
    is_fill = _fill(style.CONTROLLER_COLOURS[schema.ISLAMIC_STATE])
    # IS held the middle Euphrates on 1 October and no ground in Iraq by 31 December.
    assert _pixels_of(first, is_fill) > 2 * _pixels_of(last, is_fill)
    assert np.asarray(frames[0])[5, 5].tolist() == [255, 255, 255]  # exact colours kept


def test_animation_dates_are_checked():
    assert animation_dates(dt.date(2017, 1, 31), dt.date(2017, 3, 31), "month") == [
        dt.date(2017, 1, 31),
        dt.date(2017, 2, 28),
        dt.date(2017, 3, 28),
        dt.date(2017, 3, 31),
    ]
    with pytest.raises(ValueError):
        animation_dates(dt.date(2017, 2, 1), dt.date(2017, 1, 1), "week")
    with pytest.raises(ValueError):
        animation_dates(dt.date(2000, 1, 1), dt.date(2017, 1, 1), "day")


def test_mp4_has_h264_frames(tiny_data):
    import av  # the 'video' extra is part of the test extra: missing is a failure

    dates = [dt.date(2017, 11, 1), dt.date(2017, 11, 8), dt.date(2017, 11, 15)]
    images = animation_frames(tiny_data, NOV_9, dates, SETTINGS)
    mp4 = mp4_bytes(images, frame_ms=500)
    assert mp4[4:8] == b"ftyp"
    with av.open(io.BytesIO(mp4)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.width, stream.height) == (1600, 1000)
        decoded = sum(1 for _ in container.decode(stream))
    assert decoded == 5 + 5 + 24  # 0.5 s at 10 fps each, the last held 2.4 s


def test_gif_bytes_of_no_frames_is_an_error():
    from dashboard.export import ExportError

    with pytest.raises(ExportError):
        gif_bytes([])


# --- HTML ------------------------------------------------------------------------------------


def test_html_is_self_contained(tiny_data):
    page = render_html(tiny_data, ViewState(as_of=dt.date(2017, 11, 15), window=30), SETTINGS)
    assert '<script src="http' not in page and 'href="http' not in page
    assert "tile.openstreetmap.org" not in page
    assert "data:text/javascript;base64," in page
    assert "Event data:" in page and "Exported 2024-05-01 09:30 UTC" in page


@pytest.mark.browser
def test_html_draws_offline_in_chromium(chromium_browser, bundled, tmp_path):
    path = tmp_path / "view.html"
    path.write_text(render_html(bundled, NOV_9, SETTINGS), encoding="utf-8")
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 800}, offline=True)
    blocked: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("file:", "data:")):
            request_route.continue_()
        else:
            blocked.append(url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(path.as_uri())
        page.wait_for_function("document.querySelectorAll('path.leaflet-interactive').length >= 9")
        page.wait_for_function("document.querySelector('.cm-legend') !== null")
        legend = page.evaluate("document.querySelector('.cm-legend').textContent")
        drawn = page.evaluate(
            """() => {
                const canvas = [...document.querySelectorAll('canvas')];
                return canvas.some(c => {
                    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                    for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) return true; }
                    return false;
                });
            }"""
        )
        footer = page.evaluate("document.getElementById('cm-export-footer').textContent")
    finally:
        context.close()
    assert errors == []
    assert blocked == []  # nothing even tried to reach the network
    assert "Islamic State" in legend and "7 events shown" in legend
    assert drawn  # the event points are on the canvas
    assert "Event data:" in footer


# --- the app's buttons -----------------------------------------------------------------------


def test_app_buttons_render_the_apps_view(tmp_path, monkeypatch):
    from dashboard.app import exportbuttons, loaders

    monkeypatch.setenv(loaders.CACHE_ENV, str(tmp_path / "cache"))
    events, areas = write_inputs(tmp_path / "data")
    ds = loaders.load_dataset(loaders.file_ref(events), (loaders.file_ref(areas),))
    view = ViewState(as_of=dt.date(2017, 11, 15), window=30)
    assert _image(exportbuttons._png(ds, view)).shape == (1000, 1600, 3)
    assert exportbuttons._pdf(ds, view).startswith(b"%PDF")
    assert b"cm-export-footer" in exportbuttons._html(ds, view)


def test_bundled_paths_are_the_defaults(bundled):
    assert bundled.bundled_events and bundled.bundled_areas
    assert bundled.events_name == paths.BUNDLED_EVENTS.name
    assert bundled.context.towns is not None and bundled.context.countries is not None


def test_unknown_event_type_and_controller_render_in_grey(tiny_data):
    """Rows without an event type, areas without a controller: drawn, in the neutral grey."""
    events = tiny_data.events.copy()
    events[schema.EVENT_TYPE] = events[schema.EVENT_TYPE].astype("object")
    events.loc[events[schema.EVENT_ID] == "IRQ6", schema.EVENT_TYPE] = None
    areas = tiny_data.areas.copy()
    areas[schema.CONTROLLER] = areas[schema.CONTROLLER].astype("object")
    areas.loc[areas[schema.AREA_ID] == "raqqa-is", schema.CONTROLLER] = None
    data = replace(tiny_data, events=events, areas=areas)
    view = ViewState(as_of=dt.date(2017, 11, 15), window=30)
    text = _pdf_text(render_pdf(data, view, SETTINGS))
    assert schema.UNKNOWN in text
    image = _image(render_png(data, view, SETTINGS))
    assert _pixels_of(image, _fill(style.CONTROLLER_COLOURS[schema.UNKNOWN])) > 100


# --- data text is drawn as written, never read as maths ----------------------------------------

#: Matplotlib reads text between two ``$`` as mathtext: a fraction is drawn as one, and a
#: nested superscript (30 deep is enough) makes the parser recurse until Python gives up.
FRACTION = r"$\frac{1}{2}$"
DEEP = "$" + "x^{" * 60 + "x" + "}" * 60 + "$"


@pytest.fixture(scope="module")
def maths_data(tmp_path_factory):
    """The tiny data with maths in an event type, an actor, two controllers and the file name."""
    from app_fixtures import EVENT_ROWS

    rows = list(EVENT_ROWS)
    rows[2] = rows[2].replace("Battles", FRACTION, 1)  # IRQ3
    rows[3] = rows[3].replace("Protesters (Iraq)", DEEP, 1)  # IRQ4's actor
    rows[7] = rows[7].replace("Battles", DEEP, 1)  # IRQ6
    folder = tmp_path_factory.mktemp("maths")
    names = {"mosul-gov": FRACTION, "raqqa-is": DEEP}
    events, areas = write_inputs(folder, rows=rows, area_names=names)
    named = events.rename(folder / f"{FRACTION}.csv")
    return load_export_data(named, [areas])


def _texts(figure: MapFigure) -> list[Any]:
    from matplotlib.text import Text

    return [t for t in figure.fig.findobj(Text) if t.get_text()]


def test_data_text_is_drawn_literally_not_as_maths(maths_data):
    """A controller, an event type, an actor filter, the title and the file name holding
    ``$...$`` are drawn as the characters they are: no Text of the page parses maths."""
    view = ViewState(as_of=dt.date(2017, 11, 15), window=30)
    frame = resolve_frame(maths_data, view)
    figure = MapFigure(
        maths_data,
        width_in=10,
        height_in=6.25,
        dpi=80,
        extent=view_extent(maths_data, view),
        view=view,
        title=FRACTION,
        exported_at=WHEN,
    )
    figure.draw(frame)
    figure.canvas.draw()  # lays out every text (mathtext would parse here)
    texts = _texts(figure)
    drawn = [t.get_text() for t in texts]
    assert drawn.count(FRACTION) >= 3  # title, legend controller, legend event type
    # the legend's other event type and controller, cut to the legend's column
    assert any(t == DEEP or (t.endswith("\u2026") and DEEP.startswith(t[:-1])) for t in drawn)
    assert any(FRACTION in t for t in drawn if t.startswith("Event data"))  # the footer
    assert [t.get_text()[:40] for t in texts if t.get_parse_math() or t.get_usetex()] == []


def test_export_with_maths_in_the_data_renders_png_and_pdf(maths_data):
    view = ViewState(
        as_of=dt.date(2017, 11, 15), window=30, filters=Filters(actors=(DEEP, FRACTION))
    )
    settings = replace(SETTINGS, title=FRACTION)
    assert _image(render_png(maths_data, view, settings)).shape == (1000, 1600, 3)
    text = _pdf_text(render_pdf(maths_data, replace(view, filters=Filters()), settings))
    assert text.count(FRACTION) >= 4  # drawn as characters, so they read back as such
    assert _pdf_text(render_pdf(maths_data, view, settings)).count("x^{x^{x^{") > 0


def test_every_text_of_an_export_goes_through_the_literal_helper():
    """``ax.text`` / ``fig.text`` are called in one place, which turns maths off."""
    import ast

    folder = paths.PACKAGE_DIR / "export"
    calls = []
    for source in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("text", "annotate", "set_title", "suptitle", "legend")
            ):
                calls.append(f"{source.name}:{node.lineno}")
    assert len(calls) == 1 and calls[0].startswith("text.py:"), calls


def test_very_long_data_text_is_cut_and_the_export_stays_quick(tiny_data):
    """A 100,000-character controller, event type, filter value, title and file name: the
    page still has its map, and no drawn line is longer than any line of the layout."""
    from dashboard.export.text import MAX_LINE_CHARS

    long = "W" * 100_000
    events = tiny_data.events.copy()
    events[schema.EVENT_TYPE] = events[schema.EVENT_TYPE].astype("object")
    events.loc[events[schema.EVENT_ID] == "IRQ6", schema.EVENT_TYPE] = long
    areas = tiny_data.areas.copy()
    areas[schema.CONTROLLER] = areas[schema.CONTROLLER].astype("object")
    areas.loc[areas[schema.AREA_ID] == "raqqa-is", schema.CONTROLLER] = long
    data = replace(tiny_data, events=events, areas=areas, events_name=long)
    view = ViewState(as_of=dt.date(2017, 11, 15), window=30, filters=Filters(actors=(long,)))
    figure = MapFigure(
        data,
        width_in=10,
        height_in=6.25,
        dpi=80,
        extent=view_extent(data, view),
        view=replace(view, filters=Filters()),
        title=long,
        exported_at=WHEN,
    )
    figure.draw(resolve_frame(data, replace(view, filters=Filters())))
    figure.canvas.draw()
    lines = [line for t in _texts(figure) for line in t.get_text().split("\n")]
    assert max(len(line) for line in lines) <= MAX_LINE_CHARS
    # title, controller, event type: drawn, each cut to its room on the page
    assert sum("W" * 10 in line and line.endswith("\u2026") for line in lines) >= 3
    renderer = figure.canvas.get_renderer()
    assert all(
        t.get_window_extent(renderer).x1 <= figure.fig.bbox.width + 0.5 for t in _texts(figure)
    )
    assert len(figure.footer_lines) <= 8  # the file name takes 3 lines, not 500
    assert figure.ax.get_position().height > 0.5  # the map keeps its room
    settings = replace(SETTINGS, title=long)
    assert _image(render_png(data, view, settings)).shape == (1000, 1600, 3)
    assert render_pdf(data, view, settings).startswith(b"%PDF")


def test_a_framed_export_legend_lists_and_counts_only_what_the_frame_shows(bundled):
    """Before: a --bbox around Mosul listed every controller of the day (the Syrian
    government, the Islamic State...) and counted every event of the window as "on the
    map". Now the legend is of the frame, and the events left outside are said."""
    view = ViewState(as_of=dt.date(2017, 11, 9), window=365)
    box = parse_bbox("42.5,35.8,44,36.9")
    text = _pdf_text(render_pdf(bundled, view, replace(SETTINGS, bbox=box)))
    frame = resolve_frame(bundled, view)
    west, south, east, north = box
    lat, lon = frame.placed[schema.LATITUDE], frame.placed[schema.LONGITUDE]
    in_box = int(((lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)).sum())
    shown = int(re.search(r"(\d+) events? on the map", text).group(1))
    outside = int(re.search(r"(\d+) events? of the window outside this frame", text).group(1))
    # The frame drawn is the box grown to the page's shape, never cut.
    assert in_box <= shown < len(frame.placed)
    assert shown + outside == len(frame.placed)
    assert "Iraqi government" in text and "Kurdistan Regional Government" in text
    for elsewhere in ("Syrian government", "Islamic State", "Syrian opposition"):
        assert elsewhere not in text.split("Controlled by")[1].split("Event type")[0]
