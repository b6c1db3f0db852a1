"""The project's exceptions, each subclassing the builtin it specialises."""

from __future__ import annotations


class DashboardError(Exception):
    """Base class: an error the CLI and the app show as a message, not a traceback."""


class InputFileError(DashboardError, OSError):
    """A file is missing, unreadable or not in a format we can read."""


class EncodingDetectionError(InputFileError, UnicodeError):
    """The bytes of a file decode as none of the accepted encodings."""


class SettingError(DashboardError, ValueError):
    """A setting (an environment variable) holds a value that cannot be used."""


class SchemaError(DashboardError, ValueError):
    """Columns are missing or a column mapping is wrong."""


class GeometryError(DashboardError, ValueError):
    """A control-area file cannot be used (e.g. CRS missing)."""


class CRSError(GeometryError):
    """Coordinate reference system missing or incompatible."""
