"""Colours and symbol sizes shared by the map, its legend and the charts (no folium here).

Both palettes are colour-blind safe and chosen so the two never share a hue family that
could be confused on the map, where event points are drawn over semi-transparent areas:

* controllers use Paul Tol's "muted" qualitative scheme (9 colours + pale grey), the
  scheme Tol recommends for area fills because it stays legible at low opacity;
* event types use Okabe & Ito's eight-colour scheme (Color Universal Design), strong
  enough for small circles with a dark outline.

Unknown values get a neutral grey in both, never a palette colour, so "we do not know" is
never mistaken for a real controller or type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

import pandas as pd

from dashboard import schema

# --- controllers (area fills) ---------------------------------------------------------------
# Tol "muted": https://personal.sron.nl/~pault/#sec:qualitative (colour values of the scheme).
CONTROLLER_COLOURS: Mapping[str, str] = MappingProxyType(
    {
        schema.ISLAMIC_STATE: "#332288",  # indigo
        schema.SYRIAN_GOVERNMENT: "#CC6677",  # rose
        schema.SDF: "#DDCC77",  # sand
        schema.SYRIAN_OPPOSITION: "#117733",  # green
        schema.IRAQI_GOVERNMENT: "#88CCEE",  # cyan
        schema.KRG: "#44AA99",  # teal
        schema.TURKEY_BACKED: "#999933",  # olive
        schema.CONTESTED: "#AA4499",  # purple, and hatched on the map
        schema.UNKNOWN: "#BBBBBB",  # grey
        # Ground no source speaks for: a light grey veil with a dotted edge, never a side.
        schema.NO_INFORMATION: "#D4D4D4",
    }
)
#: Colours handed out, in order, to controllers the bundled palette does not name (Tol's
#: "muted" wine, "light" blue, orange and pink, pear, and "high-contrast" dark blue and
#: "vibrant" magenta and ochre: none close to a named colour or to one another).
EXTRA_CONTROLLER_COLOURS: tuple[str, ...] = (
    "#882255",
    "#6699CC",
    "#EE8866",
    "#FFAABB",
    "#BBCC33",
    "#004488",
    "#EE3377",
    "#997700",
)

# --- event types (points) -------------------------------------------------------------------
# ACLED's six event types, UCDP's three types of violence (as the readers spell them).
BATTLES = "Battles"
EXPLOSIONS = "Explosions/Remote violence"
VIOLENCE_AGAINST_CIVILIANS = "Violence against civilians"
PROTESTS = "Protests"
RIOTS = "Riots"
STRATEGIC_DEVELOPMENTS = "Strategic developments"

# Okabe & Ito (2008), "Color Universal Design".
EVENT_TYPE_COLOURS: Mapping[str, str] = MappingProxyType(
    {
        BATTLES: "#D55E00",  # vermillion
        EXPLOSIONS: "#E69F00",  # orange
        VIOLENCE_AGAINST_CIVILIANS: "#CC79A7",  # reddish purple
        PROTESTS: "#0072B2",  # blue
        RIOTS: "#56B4E9",  # sky blue
        STRATEGIC_DEVELOPMENTS: "#009E73",  # bluish green
        schema.UCDP_TYPE_OF_VIOLENCE_TEXT[1]: "#D55E00",  # state-based ~ battles
        schema.UCDP_TYPE_OF_VIOLENCE_TEXT[2]: "#E69F00",  # non-state
        schema.UCDP_TYPE_OF_VIOLENCE_TEXT[3]: "#CC79A7",  # one-sided ~ against civilians
        schema.UNKNOWN: "#999999",
    }
)
#: Colours handed out, in order, to event types the palette does not name.
EXTRA_EVENT_TYPE_COLOURS: tuple[str, ...] = ("#000000", "#F0E442", "#7F3C8D", "#4D4D4D")

# --- symbols --------------------------------------------------------------------------------
#: Outline of every point: dark enough to separate a point from any area fill.
POINT_OUTLINE = "#222222"
#: Fill opacity of precise points, and of the inside of imprecise (hollow) ones.
POINT_FILL_OPACITY = 0.85
HOLLOW_FILL_OPACITY = 0.12
#: Radius in px of a point with 0 fatalities, the growth per sqrt(fatality), the cap, and
#: the radius of a point whose fatalities are unknown (drawn with a dashed outline).
RADIUS_ZERO = 3.0
RADIUS_PER_SQRT_FATALITY = 2.0
RADIUS_MAX = 20.0
RADIUS_UNKNOWN = 4.5
#: Fill opacity of control areas, and the hatch of contested ones.
AREA_FILL_OPACITY = 0.28
AREA_OUTLINE_WEIGHT = 1.0
CONTESTED_DASH = "6 4"
#: "No information" ground: veiled light grey over the land, a dotted grey edge.
NO_INFORMATION_EDGE = "#808080"
NO_INFORMATION_FILL_OPACITY = 0.7
NO_INFORMATION_DASH = "2 4"
#: Context layer (the no-tiles basemap).
LAND_FILL = "#F4F1EA"
COUNTRY_OUTLINE = "#7A7A7A"
NO_TILES_BACKGROUND = "#DCE6EE"
TOWN_COLOUR = "#333333"


def is_missing(value: object) -> bool:
    """None, NaN, NaT or pandas' NA, for one value."""
    # pd.isna takes any scalar; pandas-stubs' is_scalar does not narrow ``object`` to one.
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))  # type: ignore[call-overload]


def _lookup(
    values: Iterable[object], named: Mapping[str, str], extra: tuple[str, ...]
) -> dict[str, str]:
    out: dict[str, str] = {}
    spare = 0
    for value in values:
        key = schema.UNKNOWN if is_missing(value) else str(value)
        if key in out:
            continue
        if key in named:
            out[key] = named[key]
        else:
            out[key] = extra[spare % len(extra)]
            spare += 1
    return out


def controller_palette(controllers: Iterable[object]) -> dict[str, str]:
    """The colour of every controller of a dataset, the same in each of its views.

    Names the bundled palette knows keep their colour; the others get the extra colours in
    the order of their names (not of their first appearance), so a map of one date, its
    legend, the change map and an export of another date all colour a user's
    "ISIS-affiliated groups" alike.
    """
    names = {schema.UNKNOWN if is_missing(v) else str(v) for v in controllers}
    return _lookup(sorted(names), CONTROLLER_COLOURS, EXTRA_CONTROLLER_COLOURS)


def areas_palette(areas: pd.DataFrame) -> dict[str, str]:
    """:func:`controller_palette` of every version of a control-area frame ({} if none)."""
    if schema.CONTROLLER not in areas:
        return {}
    return controller_palette(areas[schema.CONTROLLER])


def controller_colours(
    controllers: Iterable[object], *, palette: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Colour of each controller, in the order given.

    Parameters
    ----------
    controllers
        Controller names; ``None``/NaN mean :data:`schema.UNKNOWN`.
    palette
        :func:`controller_palette` of the whole dataset, so that the colours do not depend
        on which controllers this view happens to show. Without it, the palette of
        ``controllers`` alone.

    Returns
    -------
    dict
        ``{controller: "#rrggbb"}``.
    """
    names = list(dict.fromkeys(schema.UNKNOWN if is_missing(v) else str(v) for v in controllers))
    if palette is None:
        own = controller_palette(names)
        return {n: own[n] for n in names}
    missing = [n for n in names if n not in palette]
    extra = controller_palette([*palette, *missing]) if missing else {}
    return {n: palette.get(n) or extra[n] for n in names}


def event_type_colours(event_types: Iterable[object]) -> dict[str, str]:
    """Colour of each event type, in the order given (see :func:`controller_colours`)."""
    return _lookup(event_types, EVENT_TYPE_COLOURS, EXTRA_EVENT_TYPE_COLOURS)


def point_radius(fatalities: float | None) -> float:
    """Radius in px of an event point: grows with sqrt(fatalities); unknown is its own size.

    The JavaScript point layer computes the same formula (kept in step by a test).
    """
    if fatalities is None or is_missing(fatalities) or fatalities < 0:
        return RADIUS_UNKNOWN
    return min(RADIUS_MAX, RADIUS_ZERO + RADIUS_PER_SQRT_FATALITY * float(fatalities) ** 0.5)


#: Heat map colour ramp (viridis stops: perceptually uniform, colour-blind safe).
HEAT_GRADIENT: Mapping[str, str] = MappingProxyType(
    {"0.2": "#440154", "0.4": "#3B528B", "0.6": "#21918C", "0.8": "#5EC962", "1.0": "#FDE725"}
)


# --- hexagons (events aggregated on the server) ---------------------------------------------
# Paul Tol's sequential "YlOrBr" (https://personal.sron.nl/~pault/#sec:sequential): colour-
# blind safe, light = few, dark = many, and no hue shared with the controller fills. Its
# palest step (#FFFFE5) is left out: a hexagon of one event must still show on light land.
HEX_RAMP: tuple[str, ...] = (
    "#FFF7BC",
    "#FEE391",
    "#FEC44F",
    "#FB9A29",
    "#EC7014",
    "#CC4C02",
    "#993404",
    "#662506",
)
#: Count label colour on each ramp step: dark on the light steps, white on the dark ones
#: (contrast ratio at least 4.5 on every step).
HEX_RAMP_TEXT: tuple[str, ...] = ("#222222",) * 5 + ("#FFFFFF",) * 3
HEX_FILL_OPACITY = 0.88
#: Hexagon edge: dark enough to show the palest hexagon on land, thin enough to read as a grid.
HEX_OUTLINE = "#5B3A1A"
HEX_OUTLINE_WIDTH = 0.8
#: Count classes step 1-2-5 per decade; coarser (1-3, then 1) when that gives more classes
#: than the ramp has colours. Equal steps of log(count).
HEX_CLASS_STEPS: tuple[tuple[int, ...], ...] = ((1, 2, 5), (1, 3), (1,))
#: Heading of the hexagon ramp in the legends (the map's and the exports').
HEX_LEGEND_HEADING = "Events per hexagon"


def count_class_label(low: int, high: int) -> str:
    """A count class as the legends write it: ``"5"``, ``"20–49"``."""
    return f"{low:,}" if low == high else f"{low:,}\u2013{high:,}"


def _class_bounds(max_count: int, mantissas: tuple[int, ...], decade: int) -> list[int]:
    bounds: list[int] = []
    power = 1
    while True:
        for m in mantissas:
            if m * power > max_count:
                return bounds
            bounds.append(m * power)
        power *= decade


def count_classes(max_count: int) -> list[tuple[int, int, str, str]]:
    """Classes of the hexagon fill: ``(low, high, fill, label colour)`` for counts ``low..high``.

    Lower bounds step 1, 2, 5, 10, 20, 50... (a log scale with round numbers), coarser when
    ``max_count`` needs more classes than :data:`HEX_RAMP` has colours; the last class ends
    at ``max_count``. Colours are spread over the whole ramp, so the largest class is always
    the darkest.

    Parameters
    ----------
    max_count
        The largest count on the map (at least 1).

    Returns
    -------
    list of (int, int, str, str)
        At most ``len(HEX_RAMP)`` classes, in increasing order.

    Examples
    --------
    >>> [(low, high) for low, high, _, _ in count_classes(7)]
    [(1, 1), (2, 4), (5, 7)]
    """
    max_count = max(1, int(max_count))
    k = len(HEX_RAMP)
    fitting = (
        bounds
        for bounds in (_class_bounds(max_count, steps, 10) for steps in HEX_CLASS_STEPS)
        if len(bounds) <= k
    )
    bounds = next(fitting, None)
    decade = 100
    while bounds is None:  # beyond 10**k events in one hexagon: 1, 100, 10000...
        candidate = _class_bounds(max_count, (1,), decade)
        bounds = candidate if len(candidate) <= k else None
        decade *= 10
    highs = [b - 1 for b in bounds[1:]] + [max_count]
    n = len(bounds)
    steps = [0] if n == 1 else [round(i * (k - 1) / (n - 1)) for i in range(n)]
    return [
        (low, high, HEX_RAMP[s], HEX_RAMP_TEXT[s])
        for low, high, s in zip(bounds, highs, steps, strict=True)
    ]


# --- compare two dates (dashboard/layers/change.py) -----------------------------------------
# Paul Tol's "vibrant" blue and orange: a colour-blind safe pair for one controller's ground
# gained and lost, strong enough to read over the muted controller fills.
CHANGE_GAINED = "#0077BB"
CHANGE_LOST = "#EE7733"
#: Fill opacity of changed ground; its outline (weight, dash) shows the previous controller.
CHANGE_FILL_OPACITY = 0.55
CHANGE_OUTLINE_WEIGHT = 2.5
CHANGE_OUTLINE_DASH = "4 3"
