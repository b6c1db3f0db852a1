"""What happened to every control-area feature: used, repaired or set aside, and its ground.

A figure computed from control areas (km² per controller, the controller of an event, a map
for a slide) is only as complete as the features behind it. :class:`AreaLedger` is the
account that travels with the areas so that every such figure can say what it left out:

    features in = features used as read + features repaired + features set aside

with the ground (km², equal-area, :func:`dashboard.measure.area_km2`) of the repaired
features before and after their repair, and of the set-aside features that had a polygon
to measure. The command line prints :meth:`AreaLedger.sentence` next to its figures and
writes :func:`ledger_table` to ``OUT.rejected-areas.csv``; the app and the exports show the
same sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dashboard.measure import format_km2
from dashboard.schema import AREA_FEATURE, AREA_SOURCE, CONTROLLER, REJECT_REASON

__all__ = [
    "AREA_KM2",
    "AREA_KM2_BEFORE",
    "OUTCOME",
    "REASON_KIND",
    "REPAIRED",
    "SET_ASIDE",
    "AreaLedger",
    "ledger_table",
]

#: Columns of the set-aside and repaired tables (besides source, feature, controller, reason).
REASON_KIND = "reason_kind"
AREA_KM2 = "area_km2"
AREA_KM2_BEFORE = "area_km2_before"
OUTCOME = "outcome"
SET_ASIDE = "set aside"
REPAIRED = "repaired"

_TABLE_COLUMNS = (
    AREA_SOURCE,
    AREA_FEATURE,
    CONTROLLER,
    OUTCOME,
    REASON_KIND,
    REJECT_REASON,
    AREA_KM2_BEFORE,
    AREA_KM2,
)


# The table's column names for people: file, feature, reason.
_TABLE_NAMES = {AREA_SOURCE: "file", AREA_FEATURE: "feature", REJECT_REASON: "reason"}


@dataclass(frozen=True)
class AreaLedger:
    """The account of one read of control-area files.

    Attributes
    ----------
    features_in
        Features in the files.
    used
        Loaded as read.
    repaired
        Loaded after a repair (``make_valid``): self-intersecting polygons.
    set_aside
        Not loaded; ``by_kind`` counts them by reason (a feature with several reasons is
        counted under its first).
    set_aside_km2
        Ground of the set-aside features that had a polygon (repaired for the measurement
        when it was invalid); features without one are ``set_aside_unmeasured``.
    repaired_km2_before, repaired_km2_after
        Ground of the repaired features as drawn (what a naive computation states: a
        bow-tie's two halves cancel out) and after the repair.
    notes
        What was done to whole files: reprojections, 3-D coordinates made 2-D, dates taken
        from file names, controllers given on the command line.
    """

    features_in: int = 0
    used: int = 0
    repaired: int = 0
    set_aside: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    set_aside_km2: float = 0.0
    set_aside_unmeasured: int = 0
    repaired_km2_before: float = 0.0
    repaired_km2_after: float = 0.0
    notes: tuple[str, ...] = ()
    noun: str = "control-area features"
    """What was counted: features of area files, or rows of a control table."""

    @property
    def balanced(self) -> bool:
        """features in = used + repaired + set aside."""
        return self.features_in == self.used + self.repaired + self.set_aside

    @property
    def complete(self) -> bool:
        """Every feature went into the figures (as read or repaired)."""
        return self.set_aside == 0

    def sentence(self) -> str:
        """One line for a person: what the figures rest on and what they leave out."""
        if self.features_in == 0:
            return f"no {self.noun} read"
        if self.complete and not self.repaired:
            return f"all {self.features_in:,} {self.noun} used"
        parts = [f"{self.used:,} used as read"]
        if self.repaired:
            parts.append(
                f"{self.repaired:,} repaired (self-intersecting: "
                f"{format_km2(self.repaired_km2_before)} km² as drawn, "
                f"{format_km2(self.repaired_km2_after)} km² repaired)"
            )
        if self.set_aside:
            kinds = ", ".join(f"{n:,} {kind}" for kind, n in self.by_kind.items())
            parts.append(f"{self.set_aside:,} set aside ({kinds})")
        text = f"{self.features_in:,} {self.noun}: " + ", ".join(parts)
        if self.set_aside:
            text += "; " + self.left_out()
        return text

    def left_out(self) -> str:
        """What the figures do not include, as a clause."""
        if not self.set_aside:
            return "nothing left out"
        measured = self.set_aside - self.set_aside_unmeasured
        pieces = []
        if measured:
            pieces.append(f"{measured:,} with {format_km2(self.set_aside_km2)} km² of polygons")
        if self.set_aside_unmeasured:
            pieces.append(f"{self.set_aside_unmeasured:,} with no polygon to measure")
        return (
            f"the figures leave out the {self.set_aside:,} set-aside {self._short_noun} "
            f"({', '.join(pieces)})"
        )

    @property
    def _short_noun(self) -> str:
        return self.noun.removeprefix("control-area ")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["notes"] = list(self.notes)
        out["complete"] = self.complete
        out["sentence"] = self.sentence()
        for key in ("set_aside_km2", "repaired_km2_before", "repaired_km2_after"):
            out[key] = round(float(out[key]), 1)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AreaLedger:
        """The ledger :meth:`to_dict` wrote (the app's build cache keeps it as JSON)."""
        return cls(
            features_in=int(data.get("features_in", 0)),
            used=int(data.get("used", 0)),
            repaired=int(data.get("repaired", 0)),
            set_aside=int(data.get("set_aside", 0)),
            by_kind={str(k): int(v) for k, v in dict(data.get("by_kind", {})).items()},
            set_aside_km2=float(data.get("set_aside_km2", 0.0)),
            set_aside_unmeasured=int(data.get("set_aside_unmeasured", 0)),
            repaired_km2_before=float(data.get("repaired_km2_before", 0.0)),
            repaired_km2_after=float(data.get("repaired_km2_after", 0.0)),
            notes=tuple(str(n) for n in data.get("notes", ())),
            noun=str(data.get("noun") or "control-area features"),
        )

    @classmethod
    def of(
        cls,
        *,
        features_in: int,
        set_aside: pd.DataFrame,
        repaired: pd.DataFrame,
        notes: tuple[str, ...] = (),
        noun: str = "control-area features",
    ) -> AreaLedger:
        """The ledger of a read, from its set-aside and repaired tables.

        ``set_aside`` has :data:`REASON_KIND` and :data:`AREA_KM2` (NaN: nothing to
        measure); ``repaired`` has :data:`AREA_KM2_BEFORE` and :data:`AREA_KM2`.
        """
        kinds = set_aside[REASON_KIND].value_counts(sort=True) if len(set_aside) else None
        km2 = set_aside[AREA_KM2].to_numpy(dtype=float) if len(set_aside) else np.zeros(0)
        return cls(
            features_in=features_in,
            used=features_in - len(set_aside) - len(repaired),
            repaired=len(repaired),
            set_aside=len(set_aside),
            by_kind={} if kinds is None else {str(k): int(v) for k, v in kinds.items()},
            set_aside_km2=float(np.nansum(km2)),
            set_aside_unmeasured=int(np.isnan(km2).sum()),
            repaired_km2_before=float(repaired[AREA_KM2_BEFORE].sum()) if len(repaired) else 0.0,
            repaired_km2_after=float(repaired[AREA_KM2].sum()) if len(repaired) else 0.0,
            notes=notes,
            noun=noun,
        )


def ledger_table(set_aside: pd.DataFrame, repaired: pd.DataFrame) -> pd.DataFrame:
    """One row per feature not used as read: set aside or repaired, with reason and km².

    The rows ``OUT.rejected-areas.csv`` holds, in file then feature order.
    """
    frames = []
    for frame, outcome in ((set_aside, SET_ASIDE), (repaired, REPAIRED)):
        if len(frame):
            frames.append(frame.assign(**{OUTCOME: outcome}))
    if not frames:
        empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in _TABLE_COLUMNS})
        return empty.rename(columns=_TABLE_NAMES)
    out = pd.concat(frames, ignore_index=True)
    for column in _TABLE_COLUMNS:
        if column not in out:
            out[column] = np.nan
    out = out[list(_TABLE_COLUMNS)]
    order = out[AREA_SOURCE].astype(str).factorize(sort=False)[0]
    out = out.assign(_file=order).sort_values(["_file", AREA_FEATURE], kind="stable")
    out = out.drop(columns="_file").reset_index(drop=True)
    out = out.rename(columns=_TABLE_NAMES)
    return out.round({AREA_KM2: 1, AREA_KM2_BEFORE: 1})
