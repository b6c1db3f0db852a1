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
# What kind of source a version came from ("polygons", "table per unit", "locality points")
# and, in a line, where it says so: shown in popups, the control history and the exports.
AREA_KIND = "area_kind"
AREA_PROVENANCE = "area_provenance"
KIND_POLYGONS = "polygons"
KIND_TABLE = "table per unit"
KIND_POINTS = "locality points"
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
# Ground a control layer says nothing about (farther than --max-distance from every
# locality of a town list, dashboard/controlpoints.py): drawn apart, never a side.
NO_INFORMATION = "No information"
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

# --- readers ---
# Columns and mapping targets added by the event readers (dashboard/readers) and validation.
RAW_RECORD = "raw_record"  # a ragged row's fields joined by the file's delimiter
# Mapping target for year-only sources: the row covers 1 Jan .. 31 Dec, time_precision 3.
YEAR = "year"
UCDP_TYPE_OF_VIOLENCE = "ucdp_type_of_violence"  # the original 1/2/3 code
UCDP_TYPE_OF_VIOLENCE_TEXT: dict[int, str] = {
    1: "State-based conflict",
    2: "Non-state conflict",
    3: "One-sided violence",
}

EVENT_FORMATS: tuple[str, ...] = ("canonical", "acled", "ucdp", "mapped")

# What a column mapping (--map FILE_COLUMN=CANONICAL) may rename a file column to.
MAPPING_TARGETS: tuple[str, ...] = EVENT_COLUMNS + (
    YEAR,
    FATALITIES_LOW,
    FATALITIES_HIGH,
    UCDP_WHERE_PREC,
    UCDP_DATE_PREC,
    UCDP_TYPE_OF_VIOLENCE,
)

# ACLED exports: the current layout and the pre-2023 one.
ACLED_ID = "event_id_cnty"
ACLED_TIMESTAMP = "timestamp"
ACLED_COLUMNS: tuple[str, ...] = (
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type",
    "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2",
    "interaction", "civilian_targeting", "iso", "region", "country", "admin1", "admin2",
    "admin3", "location", "latitude", "longitude", "geo_precision", "source", "source_scale",
    "notes", "fatalities", "tags", "timestamp",
)  # fmt: skip
ACLED_PRE2023_COLUMNS: tuple[str, ...] = (
    "data_id", "iso", "event_id_cnty", "event_id_no_cnty", "event_date", "year",
    "time_precision", "event_type", "sub_event_type", "actor1", "assoc_actor_1", "inter1",
    "actor2", "assoc_actor_2", "inter2", "interaction", "region", "country", "admin1",
    "admin2", "admin3", "location", "latitude", "longitude", "geo_precision", "source",
    "source_scale", "notes", "fatalities", "timestamp", "iso3",
)  # fmt: skip
ACLED_TO_CANONICAL: dict[str, str] = {ACLED_ID: EVENT_ID}

# UCDP GED release CSV (49 columns, in this order when the file has no header row).
UCDP_GED_COLUMNS: tuple[str, ...] = (
    "id", "relid", "year", "active_year", "code_status", "type_of_violence",
    "conflict_dset_id", "conflict_new_id", "conflict_name", "dyad_dset_id", "dyad_new_id",
    "dyad_name", "side_a_dset_id", "side_a_new_id", "side_a", "side_b_dset_id",
    "side_b_new_id", "side_b", "number_of_sources", "source_article", "source_office",
    "source_date", "source_headline", "source_original", "where_prec", "where_coordinates",
    "where_description", "adm_1", "adm_2", "latitude", "longitude", "geom_wkt",
    "priogrid_gid", "country", "country_id", "region", "event_clarity", "date_prec",
    "date_start", "date_end", "deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown",
    "best", "low", "high", "gwnoa", "gwnob",
)  # fmt: skip
UCDP_GEOM_WKT = "geom_wkt"
UCDP_TO_CANONICAL: dict[str, str] = {
    "id": EVENT_ID,
    "side_a": ACTOR1,
    "side_b": ACTOR2,
    "adm_1": ADMIN1,
    "adm_2": ADMIN2,
    "where_coordinates": LOCATION,
    "best": FATALITIES,
    "low": FATALITIES_LOW,
    "high": FATALITIES_HIGH,
    "type_of_violence": UCDP_TYPE_OF_VIOLENCE,
    "source_article": SOURCE,
    "where_prec": UCDP_WHERE_PREC,
    "date_prec": UCDP_DATE_PREC,
}

# Names people use for canonical columns; used to suggest "missing column longitude
# (found: lon)" and to help with mappings. Keys are canonical, values lower-case.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    EVENT_ID: ("id", "event_id_cnty", "eventid", "event", "uid"),
    EVENT_DATE: ("date", "event date", "eventdate", "day"),
    DATE_START: ("start_date", "date_from", "start", "from", "begin"),
    DATE_END: ("end_date", "date_to", "end", "to"),
    TIME_PRECISION: ("date_prec", "time_prec", "date_precision"),
    EVENT_TYPE: ("type", "type_of_violence", "category"),
    ACTOR1: ("side_a", "actor_1", "actor a", "perpetrator"),
    ACTOR2: ("side_b", "actor_2", "actor b", "target"),
    COUNTRY: ("country_name", "nation"),
    ADMIN1: ("adm_1", "adm1", "governorate", "province", "region1"),
    ADMIN2: ("adm_2", "adm2", "district"),
    LOCATION: ("place", "location_name", "where_coordinates", "town", "city", "village"),
    LATITUDE: ("lat", "y", "lat_dd", "latitude_dd"),
    LONGITUDE: ("lon", "lng", "long", "x", "lon_dd", "longitude_dd"),
    GEO_PRECISION: ("where_prec", "geo_prec", "location_precision"),
    FATALITIES: ("best", "deaths", "killed", "fatality", "casualties", "deaths_best"),
    SOURCE: ("sources", "source_article", "reference"),
    NOTES: ("description", "comments", "comment", "summary"),
}

# Words in a fatalities cell that mean "not known" (compared lower-case, stripped).
UNKNOWN_FATALITIES: tuple[str, ...] = (
    "unknown", "unk", "unk.", "n/a", "na", "n.a.", "not known", "?", "-",
)  # fmt: skip

# --- areas/join ----------------------------------------------------------------------------
AREA_FEATURE = "area_feature"  # 1-based feature number of an area version in its source file

# --- geocoding ---
# Columns of GeocodeResult.unmatched (next to location, country, admin1, geocode_method).
GEOCODE_REASON = "geocode_reason"
GEOCODE_CANDIDATES = "geocode_candidates"
