"""Column names, dtypes and allowed values: the one place they are spelled."""

from __future__ import annotations

# --- canonical event columns ---------------------------------------------------------------
EVENT_ID = "event_id"
EVENT_DATE = "event_date"
DATE_START = "date_start"
DATE_END = "date_end"
TIME_PRECISION = "time_precision"
EVENT_TYPE = "event_type"
SUB_EVENT_TYPE = "sub_event_type"
ACTOR1 = "actor1"
ACTOR2 = "actor2"
COUNTRY = "country"
ADMIN1 = "admin1"
ADMIN2 = "admin2"
LOCATION = "location"
LATITUDE = "latitude"
LONGITUDE = "longitude"
GEO_PRECISION = "geo_precision"
FATALITIES = "fatalities"
SOURCE = "source"
NOTES = "notes"

EVENT_COLUMNS: tuple[str, ...] = (
    EVENT_ID,
    EVENT_DATE,
    DATE_START,
    DATE_END,
    TIME_PRECISION,
    EVENT_TYPE,
    SUB_EVENT_TYPE,
    ACTOR1,
    ACTOR2,
    COUNTRY,
    ADMIN1,
    ADMIN2,
    LOCATION,
    LATITUDE,
    LONGITUDE,
    GEO_PRECISION,
    FATALITIES,
    SOURCE,
    NOTES,
)

DATE_COLUMNS: tuple[str, ...] = (EVENT_DATE, DATE_START, DATE_END)
FLOAT_COLUMNS: tuple[str, ...] = (LATITUDE, LONGITUDE, FATALITIES)
INT_CODE_COLUMNS: tuple[str, ...] = (TIME_PRECISION, GEO_PRECISION)
TEXT_COLUMNS: tuple[str, ...] = tuple(
    c for c in EVENT_COLUMNS if c not in DATE_COLUMNS + FLOAT_COLUMNS + INT_CODE_COLUMNS
)

# Columns a reader or the validator adds.
SOURCE_ROW = "source_row"  # 1-based data row in the input file (header excluded)
SOURCE_FORMAT = "source_format"
REJECT_REASON = "reject_reason"

# UCDP originals kept next to the mapped ACLED-style codes.
UCDP_WHERE_PREC = "ucdp_where_prec"
UCDP_DATE_PREC = "ucdp_date_prec"
FATALITIES_LOW = "fatalities_low"
FATALITIES_HIGH = "fatalities_high"

# --- geocoding output ----------------------------------------------------------------------
GEOCODE_METHOD = "geocode_method"
GEOCODE_SCORE = "geocode_score"
GEOCODE_MATCH = "geocode_match"
GEOCODE_METHODS: tuple[str, ...] = ("given", "exact", "alias", "fuzzy", "ambiguous", "unmatched")

# --- join output ---------------------------------------------------------------------------
CONTROLLER = "controller"
AREA_ID = "area_id"
CONTROLLER_CONFIDENCE = "controller_confidence"
CONTROLLER_CHANGED = "controller_changed_in_window"
CONFIDENCE_HIGH = "high"
CONFIDENCE_LOW = "low"

# --- control areas -------------------------------------------------------------------------
VALID_FROM = "valid_from"
VALID_TO = "valid_to"
AREA_SOURCE = "area_source"
AREA_COLUMNS: tuple[str, ...] = (AREA_ID, CONTROLLER, VALID_FROM, VALID_TO)

# Controller names used by the bundled control areas (and the map's palette).
ISLAMIC_STATE = "Islamic State"
SYRIAN_GOVERNMENT = "Syrian government"
SDF = "SDF"
SYRIAN_OPPOSITION = "Syrian opposition"
IRAQI_GOVERNMENT = "Iraqi government"
KRG = "Kurdistan Regional Government"
TURKEY_BACKED = "Turkey-backed opposition"
CONTESTED = "Contested"
UNKNOWN = "Unknown"
CONTROLLERS: tuple[str, ...] = (
    ISLAMIC_STATE,
    SYRIAN_GOVERNMENT,
    SDF,
    SYRIAN_OPPOSITION,
    IRAQI_GOVERNMENT,
    KRG,
    TURKEY_BACKED,
    CONTESTED,
)

# --- precision codes ----------------------------------------------------------------------
# ACLED: geo_precision 1 = the named town, 2 = near the town / small part of a region,
# 3 = a larger region (admin centroid). time_precision 1 = the day, 2 = the week,
# 3 = the month or wider.
GEO_PRECISIONS: tuple[int, ...] = (1, 2, 3)
TIME_PRECISIONS: tuple[int, ...] = (1, 2, 3)
IMPRECISE_GEO = 3

# UCDP GED codebook: where_prec 1 exact location, 2 within 25 km, 3 second-order admin
# unit, 4 first-order admin unit, 5 linear feature / between places, 6 country, 7
# international waters or airspace. Mapped onto ACLED's three levels.
UCDP_WHERE_PREC_TO_GEO: dict[int, int] = {1: 1, 2: 2, 3: 3, 4: 3, 5: 3, 6: 3, 7: 3}
# UCDP date_prec 1 exact day, 2 within 2-6 days, 3 the week, 4 the month, 5 longer.
UCDP_DATE_PREC_TO_TIME: dict[int, int] = {1: 1, 2: 2, 3: 2, 4: 3, 5: 3}

# Values read as "missing" in every CSV; "NA" is NOT among them because it can be real
# text (Namibia's ISO code, an actor abbreviation).
NA_VALUES: tuple[str, ...] = ("", "NaN", "nan", "NULL", "null", "None", "N/A", "n/a", "#N/A")
