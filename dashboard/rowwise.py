"""Row helpers shared by the table checks: work done once per distinct value of a column
and spread back to its rows (dates and numbers repeat: a few thousand distinct values in a
million rows), and the labels of the rows a mask flags."""

from __future__ import annotations

from typing import overload

import numpy as np
import pandas as pd


@overload
def per_row(per_value: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series: ...
@overload
def per_row(per_value: pd.DataFrame, codes: np.ndarray, index: pd.Index) -> pd.DataFrame: ...
def per_row(
    per_value: pd.Series | pd.DataFrame, codes: np.ndarray, index: pd.Index
) -> pd.Series | pd.DataFrame:
    """Results computed once per distinct value, spread back to the rows (code -1 = NA)."""
    out = per_value.reindex(codes)  # -1 is not a label: NaN/NaT there, as for an NA row
    out.index = index
    return out


def per_row_mask(per_value: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """A per-distinct-value mask spread back to the rows; False for NA rows (code -1)."""
    flags = np.append(per_value.to_numpy(dtype=bool, na_value=False), False)
    return pd.Series(flags[codes], index=index)  # code -1 picks the appended False


def flagged_labels(mask: pd.Series) -> list[int]:
    """The frame labels where ``mask`` is true (NA counts as false)."""
    return list(mask.index[mask.to_numpy(dtype=bool, na_value=False)])
