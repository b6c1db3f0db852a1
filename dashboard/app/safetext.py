"""Untrusted text inside Streamlit markdown (st.error, st.warning, st.caption, labels).

Streamlit renders markdown even without ``unsafe_allow_html``: links, images, ``:red[...]``
colours, ``$...$`` maths and bare URLs (turned into links after parsing). Text from a file,
an upload's name or a query parameter goes through :func:`md` before it reaches any of
those; whole blocks of data go to ``st.text`` or ``st.dataframe`` instead, their text cells
cut by :func:`cap_cells` (a table on the page is for reading; the downloads hold every
character).
"""

from __future__ import annotations

import re

import pandas as pd

_ZWSP = "\u200b"
# Every ASCII punctuation character may be backslash-escaped in CommonMark.
_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&\"'=^%@/;?,])")
# Bare URLs and e-mail addresses are linkified from the text after escapes are resolved,
# so they are broken with an invisible zero-width space instead.
_AUTOLINK = re.compile(r"(?i)(://|www\.|@|:)")


def md(value: object, *, limit: int | None = 200) -> str:
    """``value`` as markdown that displays literally (no link, image, colour or maths).

    Newlines become spaces and long text is cut to ``limit`` characters with an ellipsis,
    so one bad value cannot flood the page.
    """
    text = str(value)
    text = " ".join(text.splitlines())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    text = _AUTOLINK.sub(lambda m: m.group(0)[0] + _ZWSP + m.group(0)[1:], text)
    return _PUNCT.sub(r"\\\1", text)


#: Longest text a table cell on the page holds: event notes (a few hundred characters) fit
#: whole, while a cell of 100,000 characters is read by nobody yet travels to the browser
#: on every rerun (1,000 rows of such notes: 100 MB).
TABLE_CELL_MAX_CHARS = 2000


def cap_cells(
    frame: pd.DataFrame, *, limit: int = TABLE_CELL_MAX_CHARS
) -> tuple[pd.DataFrame, int]:
    """``frame`` with every text cell longer than ``limit`` characters cut there (its last
    character an ellipsis), and how many cells were cut.

    Parameters
    ----------
    frame
        A table about to be shown (``st.dataframe``); it is not changed.
    limit
        Most characters of a cell, ellipsis included.

    Returns
    -------
    tuple of (pandas.DataFrame, int)
        The frame (a copy when anything was cut, else ``frame`` itself) and the number of
        cells cut. Numbers, dates and missing values are never touched.
    """
    out = frame
    cut = 0
    for column in frame.columns:
        values = frame[column]
        if not (pd.api.types.is_string_dtype(values.dtype) or values.dtype == object):
            continue
        lengths = values.map(lambda v: len(v) if isinstance(v, str) else 0)
        long = lengths > limit
        if not long.any():
            continue
        if out is frame:
            out = frame.copy()
        out[column] = values.mask(long, values[long].str.slice(0, limit - 1) + "\u2026")
        cut += int(long.sum())
    return out, cut


def blank_missing(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing values as empty cells (the table showed the word "None"). A number column
    with a missing value becomes text: whole numbers as such ("12"), others as written."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        missing = values.isna()
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
            out[column] = values.astype(object).where(~missing, "")
        elif pd.api.types.is_numeric_dtype(values.dtype) and missing.any():
            numbers = pd.to_numeric(values, errors="coerce")
            form = "{:.0f}" if bool((numbers.dropna() % 1 == 0).all()) else "{:g}"
            out[column] = [("" if pd.isna(v) else form.format(v)) for v in numbers]
    return out
