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


class HistoryError(DashboardError, ValueError):
    """The point or the layer cannot give a history (a point off the globe, no areas)."""


class CompareError(DashboardError, ValueError):
    """A comparison that cannot be made (a date outside the layer, dates reversed)."""


class AccessConfigError(DashboardError, ValueError):
    """The access settings in the secrets (or the environment) cannot be used."""


class ActorMapError(DashboardError, ValueError):
    """An actor mapping that cannot be used (a controller the layer does not know)."""


class ExportError(DashboardError, ValueError):
    """An export cannot be made as asked (bad size, nothing to animate, missing codec)."""


class DatabaseError(DashboardError, ConnectionError):
    """The database cannot be reached, or does not hold the expected tables."""


class PullError(DashboardError, ConnectionError):
    """A pull from a data source's API failed: the network, the server, or an answer that
    cannot be used (the local copy is left as it was)."""


class CredentialsError(PullError, PermissionError):
    """A data source refused the credentials or the access they give (HTTP 401 or 403), or
    none were found; the message names where they were read from, never their values."""
