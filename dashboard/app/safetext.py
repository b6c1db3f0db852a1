"""Untrusted text inside Streamlit markdown (st.error, st.warning, st.caption, labels).

Streamlit renders markdown even without ``unsafe_allow_html``: links, images, ``:red[...]``
colours, ``$...$`` maths and bare URLs (turned into links after parsing). Text from a file,
an upload's name or a query parameter goes through :func:`md` before it reaches any of
those; whole blocks of data go to ``st.text`` or ``st.dataframe`` instead.
"""

from __future__ import annotations

import re

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
