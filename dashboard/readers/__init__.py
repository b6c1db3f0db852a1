"""Event readers: CSV bytes to a text frame with canonical column names.

``read_events`` detects the format (canonical, ACLED, UCDP GED) from the header or uses an
explicit column mapping; ``dashboard.validation`` then types and checks the values. Files are
parsed with pyarrow (``readers.fastcsv``) when that provably gives what the csv module
gives, else with the csv module (``readers.textio``).
"""

from __future__ import annotations

from dashboard.readers.events import ReadResult, detect_format, read_events
from dashboard.readers.mapping import (
    MappingFile,
    load_mapping,
    parse_map_options,
    read_mapping_file,
)
from dashboard.readers.textio import DEFAULT_MAX_BYTES

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MappingFile",
    "ReadResult",
    "detect_format",
    "load_mapping",
    "parse_map_options",
    "read_events",
    "read_mapping_file",
]
