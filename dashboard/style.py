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
    }
)
#: Colours handed out, in order, to controllers the bundled palette does not name.
EXTRA_CONTROLLER_COLOURS: tuple[str, ...] = ("#882255", "#6699CC", "#EE8866", "#77AADD")

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
#: Context layer (the no-tiles basemap).
LAND_FILL = "#F4F1EA"
COUNTRY_OUTLINE = "#7A7A7A"
NO_TILES_BACKGROUND = "#DCE6EE"
TOWN_COLOUR = "#333333"


def is_missing(value: object) -> bool:
    """None, NaN, NaT or pandas' NA, for one value."""
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


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


def controller_colours(controllers: Iterable[object]) -> dict[str, str]:
    """Colour of each controller, in the order given.

    Parameters
    ----------
    controllers
        Controller names; ``None``/NaN mean :data:`schema.UNKNOWN`.

    Returns
    -------
    dict
        ``{controller: "#rrggbb"}``; names outside the palette get the extra colours in turn.
    """
    return _lookup(controllers, CONTROLLER_COLOURS, EXTRA_CONTROLLER_COLOURS)


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
