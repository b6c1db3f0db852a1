"""Column mappings: rename a file's columns to canonical ones (format "mapped").

A mapping is ``{FILE_COLUMN: CANONICAL_COLUMN}``. It comes from CLI items
(``--map date=event_date --map lat=latitude``) or from a small YAML or TOML file, either
flat::

    date = "event_date"        # TOML
    lat = "latitude"

or with the mapping under a top-level ``columns`` table::

    columns:                   # YAML
      date: event_date
      lat: latitude

Beside the columns, two top-level keys say how to read the file (the command line's
``--date-format`` and ``--encoding`` win over them)::

    date_format: "%d/%m/%Y %H:%M:%S"   # strftime; every date must match it
    encoding: cp1252                   # any encoding Python knows
    columns:
      date: event_date

(A file column literally named ``date_format`` or ``encoding`` is mapped under ``columns``.)

Targets are ``schema.MAPPING_TARGETS``: the canonical event columns plus ``year`` (a
year-only row covers 1 January to 31 December, time_precision 3),
``fatalities_low``/``fatalities_high`` and the UCDP codes ``ucdp_where_prec``,
``ucdp_date_prec`` and ``ucdp_type_of_violence``, which the reader turns into
geo_precision, time_precision and event_type text.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dashboard import schema
from dashboard.errors import InputFileError, SchemaError
from dashboard.readers.textio import short_list

_TOML = (".toml",)
_YAML = (".yaml", ".yml")
_SEPARATORS = re.compile(r"[\s\-]+")
_READ_OPTIONS = ("date_format", "encoding")


def column_key(name: object) -> str:
    """A column name compared loosely: case, a stray BOM, spaces and hyphens ignored."""
    return _SEPARATORS.sub("_", str(name).strip().lstrip("\ufeff").strip().lower())


_ALIAS_OF: dict[str, str] = {
    column_key(alias): canonical
    for canonical, aliases in schema.COLUMN_ALIASES.items()
    for alias in aliases
}


def alias_of(name: object) -> str | None:
    """The canonical column a file column usually means (``lon`` -> ``longitude``), or None.

    From ``schema.COLUMN_ALIASES``; used to suggest mappings and name misnamed columns.
    """
    return _ALIAS_OF.get(column_key(name))


def parse_map_options(items: Sequence[str]) -> dict[str, str]:
    """Parse CLI items ``FILE_COLUMN=CANONICAL_COLUMN`` into a mapping.

    Parameters
    ----------
    items
        e.g. ``["date=date_start", "lat=latitude"]``.

    Returns
    -------
    dict
        ``{"date": "date_start", "lat": "latitude"}``.

    Raises
    ------
    SchemaError
        An item without ``=``, with an empty side, or with an unknown canonical name; the
        message names the item and lists the canonical names.
    """
    pairs: list[tuple[str, str, str]] = []
    for item in items:
        file_column, sep, target = str(item).rpartition("=")
        if not sep or not file_column.strip() or not target.strip():
            raise SchemaError(
                f"--map {item!r}: expected FILE_COLUMN=CANONICAL_COLUMN, e.g. "
                f"'lat=latitude'; canonical columns: {', '.join(schema.MAPPING_TARGETS)}"
            )
        pairs.append((f"--map {item!r}", file_column.strip(), target.strip()))
    return _build(pairs)


@dataclass(frozen=True)
class MappingFile:
    """What a mapping file says: the column mapping and how to read the file."""

    columns: dict[str, str] = field(default_factory=dict)
    date_format: str | None = None
    encoding: str | None = None


def load_mapping(path: str | Path) -> dict[str, str]:
    """Read a column mapping from a YAML (``.yaml``/``.yml``) or TOML (``.toml``) file.

    The file holds ``FILE_COLUMN: CANONICAL_COLUMN`` pairs, at the top level or under a
    top-level ``columns`` table (then the only other top-level keys allowed are
    ``date_format`` and ``encoding``: see :func:`read_mapping_file`).

    Raises
    ------
    InputFileError
        The file is missing, has another suffix, or does not parse.
    SchemaError
        The content is not such a table, or names an unknown canonical column.
    """
    return read_mapping_file(path).columns


def read_mapping_file(path: str | Path) -> MappingFile:
    """Read a mapping file: its column mapping and its ``date_format``/``encoding`` keys.

    Raises
    ------
    InputFileError, SchemaError
        As :func:`load_mapping`; also a ``date_format`` or ``encoding`` that is not text.
    """
    path = Path(path)
    data = _parse_file(path)
    if not isinstance(data, dict):
        raise SchemaError(
            f"{path}: a mapping file holds FILE_COLUMN = CANONICAL pairs, got {type(data).__name__}"
        )
    options: dict[str, str] = {}
    for key in _READ_OPTIONS:
        if key in data:
            value = data.pop(key)
            if not isinstance(value, str) or not value.strip():
                raise SchemaError(f"{path}: {key!r} must be text, got {value!r}")
            options[key] = value.strip() if key == "encoding" else value
    if "columns" in data and isinstance(data["columns"], dict):
        extra = sorted(str(k) for k in data if k != "columns")
        if extra:
            raise SchemaError(
                f"{path}: unexpected top-level keys {extra} beside 'columns' "
                f"(allowed: {', '.join(_READ_OPTIONS)})"
            )
        data = data["columns"]
    pairs: list[tuple[str, str, str]] = []
    for key, value in data.items():
        where = f"{path}: {key!r}"
        if not isinstance(value, str):
            raise SchemaError(f"{where}: the canonical column must be text, got {value!r}")
        pairs.append((where, str(key).strip(), value.strip()))
    return MappingFile(
        columns=_build(pairs),
        date_format=options.get("date_format"),
        encoding=options.get("encoding"),
    )


def _parse_file(path: Path) -> Any:
    if not path.is_file():
        raise InputFileError(f"{path}: mapping file not found")
    suffix = path.suffix.lower()
    try:
        if suffix in _TOML:
            with path.open("rb") as fh:
                return tomllib.load(fh)
        if suffix in _YAML:
            with path.open(encoding="utf-8") as fh:
                return yaml.safe_load(fh)
    except (tomllib.TOMLDecodeError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: cannot parse the mapping file: {exc}") from exc
    raise InputFileError(f"{path}: a mapping file must end in .yaml, .yml or .toml")


def _build(pairs: Sequence[tuple[str, str, str]]) -> dict[str, str]:
    """Check (where, file_column, target) triples and return the mapping."""
    mapping: dict[str, str] = {}
    claimed: dict[str, str] = {}
    for where, file_column, target in pairs:
        if target not in schema.MAPPING_TARGETS:
            raise SchemaError(
                f"{where}: {target!r} is not a canonical column{_did_you_mean(target)}; "
                f"canonical columns: {', '.join(schema.MAPPING_TARGETS)}"
            )
        if mapping.get(file_column, target) != target:
            raise SchemaError(
                f"{where}: column {file_column!r} is mapped twice "
                f"({mapping[file_column]!r} and {target!r})"
            )
        if claimed.get(target, file_column) != file_column:
            raise SchemaError(
                f"{where}: {target!r} is already mapped from column {claimed[target]!r}"
            )
        mapping[file_column] = target
        claimed[target] = file_column
    return mapping


def _did_you_mean(name: str) -> str:
    canonical = alias_of(name)
    if canonical is not None:
        return f" (did you mean {canonical!r}?)"
    close = difflib.get_close_matches(name.lower(), schema.MAPPING_TARGETS, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def renames_for(columns: Sequence[str], mapping: Mapping[str, str], *, path: str) -> dict[str, str]:
    """Check a mapping against a file's header; return the renames to apply.

    Identity pairs (``latitude=latitude``) are allowed and dropped.

    Raises
    ------
    SchemaError
        A mapped column is not in the file (with close matches), or a rename would clash
        with a column the file already has.
    """
    mapping = _build([(f"mapping {k!r}", k, v) for k, v in mapping.items()])
    present = set(columns)
    messages: list[str] = []
    for file_column, target in mapping.items():
        if file_column not in present:
            close = difflib.get_close_matches(file_column, list(columns), n=3, cutoff=0.6)
            hint = f" (close: {', '.join(close)})" if close else ""
            messages.append(f"mapped column {file_column!r} is not in the file{hint}")
        elif target != file_column and target in present and target not in mapping:
            messages.append(
                f"mapping {file_column!r} to {target!r} clashes with the file's own "
                f"column {target!r}; map that one elsewhere or drop it from the mapping"
            )
    if messages:
        shown = short_list(list(columns))  # a header can hold thousands: one line stays short
        raise SchemaError(f"{path}: " + "; ".join(messages) + f" (columns in the file: {shown})")
    return {k: v for k, v in mapping.items() if k != v}
