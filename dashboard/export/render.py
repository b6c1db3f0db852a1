"""Render a view to PNG, PDF, animated GIF or MP4 bytes (server-side, no browser, no network
unless tiles are asked for).

Sizes:

* PNG (and GIF/MP4 frames): 1600 x 1000 pixels at ``scale=1``, 3200 x 2000 at ``scale=2``;
  the page is laid out 10 x 6.25 inches at 160 dpi times ``scale``, so text has the same
  size relative to the picture at every scale.
* PDF: A4 (297 x 210 mm) or US Letter (11 x 8.5 in) landscape, vector (text searchable;
  more than 5,000 event points are drawn as an embedded raster to keep the file small).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np
from matplotlib import colors as mcolors

from dashboard import style
from dashboard.errors import ExportError
from dashboard.export.data import ExportData
from dashboard.export.figure import Background, MapFigure, TileSource
from dashboard.export.footer import exported_line
from dashboard.export.legend import legend_spec
from dashboard.export.view import (
    animation_dates,
    permalink_query,
    resolve_frame,
    view_extent,
)
from dashboard.viewstate import ViewState

#: Pixels of a PNG at scale 1, and the inches it is laid out in.
PNG_PX: tuple[int, int] = (1600, 1000)
PNG_DPI = 160
PAPERS: dict[str, tuple[float, float]] = {"a4": (297 / 25.4, 210 / 25.4), "letter": (11.0, 8.5)}
SCALES: tuple[float, float] = (1.0, 4.0)
#: How long each frame of an animation shows, and the last one (milliseconds).
FRAME_MS = 800
LAST_FRAME_MS = 2400
#: Frames per second of an MP4 (each date is repeated to last ``frame_ms``).
MP4_FPS = 10

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExportSettings:
    """How to render, beside the view itself.

    Attributes
    ----------
    title
        First line of the title block (default: "Conflict events and territorial control").
    bbox
        Lon/lat extent ``(minx, miny, maxx, maxy)``; default: the view's centre and zoom,
        else all the data.
    scale
        Pixel multiplier of PNG/GIF/MP4 (1 = 1600 x 1000, 2 = 3200 x 2000).
    paper
        ``"a4"`` or ``"letter"`` (PDF, landscape).
    tiles
        Draw OpenStreetMap tiles under the map when they can be fetched (never by default).
    exported_at
        The time printed in the footer (default: now, UTC).
    frame_ms
        Duration of one frame of an animation.
    """

    title: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    scale: float = 1.0
    paper: str = "a4"
    tiles: bool = False
    exported_at: dt.datetime | None = None
    frame_ms: int = FRAME_MS
    #: How tiles are fetched (``url -> bytes``); default: HTTP. Tests pass a local one.
    tile_fetch: Callable[[str], bytes] | None = field(default=None, compare=False, repr=False)

    def checked(self) -> ExportSettings:
        if not SCALES[0] <= float(self.scale) <= SCALES[1]:
            raise ExportError(f"scale {self.scale!r}: expected {SCALES[0]:g} to {SCALES[1]:g}")
        if self.paper not in PAPERS:
            raise ExportError(f"paper {self.paper!r}: expected one of {', '.join(PAPERS)}")
        if not 50 <= int(self.frame_ms) <= 60_000:
            raise ExportError(f"frame duration {self.frame_ms!r} ms: expected 50 to 60000")
        return replace(self, scale=float(self.scale))


def tile_source(settings: ExportSettings) -> TileSource | None:
    if not settings.tiles:
        return None
    from dashboard.export.tiles import fetch_background

    def source(
        extent: tuple[float, float, float, float], size: tuple[int, int]
    ) -> Background | None:
        return fetch_background(extent, size, fetch=settings.tile_fetch)

    return source


def _raster_figure(
    data: ExportData, view: ViewState, settings: ExportSettings, **kwargs: Any
) -> MapFigure:
    settings = settings.checked()
    dpi = PNG_DPI * settings.scale
    width_in, height_in = PNG_PX[0] / PNG_DPI, PNG_PX[1] / PNG_DPI
    return MapFigure(
        data,
        width_in=width_in,
        height_in=height_in,
        dpi=dpi,
        extent=view_extent(data, view, settings.bbox),
        view=view,
        title=settings.title,
        exported_at=settings.exported_at,
        tiles=tile_source(settings),
        **kwargs,
    )


def _rgb_frame(figure: MapFigure) -> np.ndarray:
    figure.canvas.draw()
    buffer = np.asarray(figure.canvas.buffer_rgba())
    return np.array(buffer[:, :, :3])


def drawn_extent(figure: MapFigure) -> tuple[float, float, float, float]:
    """The extent the figure's map shows, in degrees west, south, east, north (the extent
    asked for, grown about its centre to the map's shape)."""
    return figure.degrees_extent()


def view_metadata(view: ViewState, extent: Sequence[float], when: dt.datetime) -> dict[str, str]:
    """Which view a file shows and where, for a reader's file properties and for a script:
    a PNG's text chunks, and (``Comment``) a PDF's keywords.

    ``View`` is the permalink's query (``?date=...``, as in the footer), ``Extent`` the
    degrees west,south,east,north the map shows (6 decimals), ``Comment`` the footer's line
    with the extent. Latin-1 text (PNG tEXt): a permalink's query is percent-encoded.
    """
    permalink = permalink_query(view)
    box = ",".join(f"{float(v):.6f}" for v in extent)
    return {
        "View": f"?{permalink}",
        "Extent": box,
        "Comment": f"{exported_line(when, permalink)} · extent (W,S,E,N): {box}",
    }


def render_png(data: ExportData, view: ViewState, settings: ExportSettings | None = None) -> bytes:
    """The view as a PNG (1600 x 1000 pixels times ``settings.scale``), its permalink and
    extent in its text chunks (:func:`view_metadata`)."""
    settings = (settings or ExportSettings()).checked()
    when = settings.exported_at or dt.datetime.now(dt.UTC)
    figure = _raster_figure(data, view, replace(settings, exported_at=when))
    figure.draw(resolve_frame(data, view))
    out = io.BytesIO()
    figure.fig.savefig(
        out,
        format="png",
        dpi=figure.fig.dpi,
        metadata={"Software": "conflictmap", **view_metadata(view, drawn_extent(figure), when)},
    )
    return out.getvalue()


def render_pdf(data: ExportData, view: ViewState, settings: ExportSettings | None = None) -> bytes:
    """The view as a one-page landscape PDF (A4 or Letter), vector with searchable text;
    its keywords name the view and the extent (:func:`view_metadata`)."""
    settings = (settings or ExportSettings()).checked()
    width_in, height_in = PAPERS[settings.paper]
    when = settings.exported_at or dt.datetime.now(dt.UTC)
    figure = MapFigure(
        data,
        width_in=width_in,
        height_in=height_in,
        dpi=200,  # only for the raster parts (tiles, very many points)
        extent=view_extent(data, view, settings.bbox),
        view=view,
        title=settings.title,
        exported_at=when,
        tiles=tile_source(settings),
    )
    figure.draw(resolve_frame(data, view))
    out = io.BytesIO()
    figure.fig.savefig(
        out,
        format="pdf",
        metadata={
            "Title": settings.title or "Conflict events and territorial control",
            "Subject": f"As of {view.as_of.isoformat()}, events of {view.window} days",
            "Keywords": view_metadata(view, drawn_extent(figure), when)["Comment"],
            "Creator": "conflictmap",
            "CreationDate": when,
        },
    )
    return out.getvalue()


def animation_frames(
    data: ExportData,
    view: ViewState,
    dates: Sequence[dt.date],
    settings: ExportSettings | None = None,
    *,
    progress: Progress | None = None,
) -> list[np.ndarray]:
    """RGB frames (height x width x 3, uint8) of ``view`` on each of ``dates``.

    The extent and the legend are the same on every frame: the extent is the view's, the
    legend lists every controller and event type any frame shows.
    """
    settings = (settings or ExportSettings()).checked()
    if not dates:
        raise ExportError("an animation needs at least one date")
    frames = [resolve_frame(data, replace(view, as_of=day)) for day in dates]
    legend = legend_spec(frames, data.type_order)
    span = f" (animation: {len(dates)} frames, {dates[0].isoformat()} to {dates[-1].isoformat()})"
    figure = _raster_figure(data, replace(view, as_of=dates[0]), settings, view_note=span)
    images: list[np.ndarray] = []
    for i, frame in enumerate(frames):
        figure.draw(frame, legend)
        images.append(_rgb_frame(figure))
        if progress is not None:
            progress(i + 1, len(frames))
    return images


def _pack(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.reshape(-1, 3).astype(np.uint32)
    return (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]


def _palette(images: Sequence[np.ndarray], colours: int = 256) -> np.ndarray:
    """One palette (``colours`` x 3) for every frame: the most frequent colours of a few.

    The pictures are mostly flat fills, outlines and text, so their most frequent exact
    colours are the palette's own (fills, point colours, ink); antialiased edges take the
    nearest of them. One palette also lets the GIF store only what changed between frames.
    """
    # The palettes' own colours first: thin outlines and small symbols have few pixels.
    reserved = [
        int(mcolors.to_hex(c)[1:], 16)
        for c in (
            *style.CONTROLLER_COLOURS.values(),
            *style.EVENT_TYPE_COLOURS.values(),
            style.POINT_OUTLINE,
            style.COUNTRY_OUTLINE,
            "#FFFFFF",
            "#000000",
        )
    ]
    step = max(1, len(images) // 6)
    sample = np.concatenate([_pack(im[::2, ::2]) for im in images[::step]])
    values, counts = np.unique(sample, return_counts=True)
    frequent = values[np.argsort(-counts, kind="stable")]
    chosen = list(dict.fromkeys(reserved))
    seen = set(chosen)
    for value in frequent.tolist():
        if len(chosen) >= colours:
            break
        if value not in seen:
            chosen.append(value)
            seen.add(value)
    top = np.array(chosen, dtype=np.uint32)
    return np.stack([(top >> 16) & 255, (top >> 8) & 255, top & 255], axis=1).astype(np.int32)


def _indexed(image: np.ndarray, palette: np.ndarray) -> Any:
    """``image`` as a palette image, each colour mapped to the nearest palette colour."""
    from PIL import Image

    values, inverse = np.unique(_pack(image), return_inverse=True)
    rgb = np.stack([(values >> 16) & 255, (values >> 8) & 255, values & 255], axis=1)
    nearest = np.empty(len(values), dtype=np.uint8)
    for start in range(0, len(values), 4096):  # bounded memory: 4096 x 256 distances
        chunk = rgb[start : start + 4096].astype(np.int32)
        d = ((chunk[:, None, :] - palette[None, :, :]) ** 2).sum(axis=2)
        nearest[start : start + 4096] = d.argmin(axis=1)
    indices = nearest[inverse].reshape(image.shape[:2])
    picture = Image.fromarray(indices, mode="P")
    flat = np.zeros((256, 3), dtype=np.uint8)
    flat[: len(palette)] = palette
    picture.putpalette(flat.reshape(-1).tolist())
    return picture


def gif_bytes(images: Sequence[np.ndarray], *, frame_ms: int = FRAME_MS) -> bytes:
    """An animated GIF (loops forever) of RGB frames; the last frame is held longer."""
    if not images:
        raise ExportError("an animation needs at least one frame")
    palette = _palette(images)
    pictures = [_indexed(image, palette) for image in images]
    durations = [int(frame_ms)] * len(pictures)
    durations[-1] = max(int(frame_ms), LAST_FRAME_MS)
    out = io.BytesIO()
    pictures[0].save(
        out,
        format="GIF",
        save_all=True,
        append_images=pictures[1:],
        duration=durations,
        loop=0,
        disposal=1,
        optimize=False,
    )
    return out.getvalue()


def mp4_available() -> bool:
    """Whether MP4 can be written: PyAV (FFmpeg inside its wheel) with an H.264 encoder."""
    try:
        import av
        from av.codec import Codec

        Codec("libx264", "w")
        del av
    except Exception:  # noqa: BLE001 - not installed, or built without H.264
        return False
    return True


def mp4_bytes(images: Sequence[np.ndarray], *, frame_ms: int = FRAME_MS) -> bytes:
    """An H.264 MP4 of RGB frames, each shown ``frame_ms`` (the last one longer).

    Needs PyAV (``pip install 'conflictmap[video]'``), whose wheel carries FFmpeg: no
    system ffmpeg and no network.
    """
    if not mp4_available():
        raise ExportError(
            "MP4 needs PyAV with H.264 (pip install 'conflictmap[video]'); GIF needs nothing"
        )
    import av

    repeats = [max(1, round(frame_ms * MP4_FPS / 1000))] * len(images)
    repeats[-1] = max(repeats[-1], round(LAST_FRAME_MS * MP4_FPS / 1000))
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(MP4_FPS, 1))
        height, width = images[0].shape[:2]
        stream.width = width - width % 2
        stream.height = height - height % 2
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "20", "preset": "medium", "tune": "stillimage"}
        for image, count in zip(images, repeats, strict=True):
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(image[: stream.height, : stream.width]), format="rgb24"
            )
            for _ in range(count):
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def render_animation(
    data: ExportData,
    view: ViewState,
    *,
    start: dt.date,
    end: dt.date,
    step: str = "week",
    fmt: str = "gif",
    settings: ExportSettings | None = None,
    progress: Progress | None = None,
) -> bytes:
    """The view stepped from ``start`` to ``end`` (inclusive) as a GIF or an MP4."""
    settings = (settings or ExportSettings()).checked()
    try:
        dates = animation_dates(start, end, step)
    except ValueError as exc:
        raise ExportError(str(exc)) from None
    if fmt == "mp4" and not mp4_available():
        mp4_bytes([], frame_ms=settings.frame_ms)  # raises the explanation
    images = animation_frames(data, view, dates, settings, progress=progress)
    if fmt == "gif":
        return gif_bytes(images, frame_ms=settings.frame_ms)
    if fmt == "mp4":
        return mp4_bytes(images, frame_ms=settings.frame_ms)
    raise ExportError(f"animation format {fmt!r}: expected gif or mp4")
