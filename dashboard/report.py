"""Problems found in input, collected with their row (or feature) and shown as a report."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One problem with one row (or feature) of an input file.

    ``row`` is the 1-based data row (header excluded) or feature number; ``None`` for a
    problem with the whole file (a missing column, say). ``value`` is stored as a plain
    Python value: a missing one (NaN, NA, NaT) as ``None``, a numpy number as ``int`` or
    ``float``, so the text and JSON forms read the same whoever built the problem.
    """

    row: int | None
    column: str | None
    value: Any
    message: str
    severity: str = ERROR

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", plain_value(self.value))

    def to_dict(self) -> dict[str, Any]:
        value = self.value
        if value is not None and not isinstance(value, (int, float, str, bool)):
            value = str(value)
        return {"row": self.row, "column": self.column, "value": value, "message": self.message}

    def to_text(self) -> str:
        where = "file" if self.row is None else f"row {self.row}"
        col = f", column {self.column}" if self.column else ""
        val = "" if self.value is None else f", value {self.value!r}"
        return f"{self.severity}: {where}{col}{val}: {self.message}"


def plain_value(value: Any) -> Any:
    """``None`` for a missing value (None, NaN, NA, NaT); numpy scalars as Python ones."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def json_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A table's rows as JSON-ready dicts (missing values ``None``, numpy numbers plain)."""
    return [
        {str(k): plain_value(v) for k, v in row.items()}
        for row in frame.astype(object).to_dict(orient="records")
    ]


@dataclass
class Report:
    """What happened to every row of one input: loaded, or set aside with reasons."""

    source: str = ""
    rows_in: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.rows_loaded + self.rows_rejected

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def extend(self, problems: list[Problem]) -> None:
        self.problems.extend(problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows_in": self.rows_in,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "errors": [p.to_dict() for p in self.errors],
            "warnings": [p.to_dict() for p in self.warnings],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def to_text(self, *, limit: int | None = 50) -> str:
        lines = [
            (
                f"{self.source or 'input'}: {self.rows_in} rows in, {self.rows_loaded} loaded, "
                f"{self.rows_rejected} set aside; {len(self.errors)} errors, "
                f"{len(self.warnings)} warnings"
            )
        ]
        shown = self.problems if limit is None else self.problems[:limit]
        lines.extend("  " + p.to_text() for p in shown)
        if limit is not None and len(self.problems) > limit:
            lines.append(f"  ... {len(self.problems) - limit} more (use --format json for all)")
        return "\n".join(lines)
