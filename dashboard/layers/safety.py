"""Making data text harmless on its way into the map page (no folium here).

Text from event and area files reaches the page through four doors, each with its own
escape:

* HTML that Leaflet or folium put into ``innerHTML`` (GeoJSON tooltips, layer-control
  names): :func:`escape_text`.
* JSON embedded in a ``<script>``: :func:`script_json`.
* Folium itself: folium renders every element's script, then renders the result *again*
  as a Jinja template (``branca.element.Element(template=...)``), unsandboxed. Data
  containing ``{{ ... }}`` is therefore evaluated on the server: ``{{ 7*7 }}`` becomes 49
  and ``{{ cycler.__init__.__globals__.os... }}`` runs code. Both functions below leave no
  ``{{``, ``{%`` or ``{#`` in their output.
* Our own JavaScript layers insert data only with ``textContent``; their strings travel as
  :func:`script_json` and are never HTML-escaped (that would show ``&lt;`` to the reader).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_HTML_ESCAPES = {
    ord("&"): "&amp;",
    ord("<"): "&lt;",
    ord(">"): "&gt;",
    ord('"'): "&quot;",
    ord("'"): "&#x27;",
    ord("`"): "&#96;",  # closes a JS template literal
    ord("$"): "&#36;",  # opens ${...} inside one
    ord("\\"): "&#92;",  # escapes the next character in any JS string
    ord("{"): "&#123;",  # Jinja's {{ {% {# (see the module docstring)
    ord("}"): "&#125;",
    0x2028: "&#8232;",  # line terminators inside JS string literals (pre-ES2019)
    0x2029: "&#8233;",
}

# After json.dumps, a "{" followed by "{", "%" or "#" can only be inside a string: JSON puts
# '"' or '}' or whitespace after a structural "{". Escaping that "{" as \u007b keeps the
# JSON value identical and leaves Jinja nothing to evaluate.
_JINJA_OPEN = re.compile(r"\{(?=[{%#])")
_SCRIPT_ESCAPES = (
    ("<", "\\u003c"),  # no </script>, no <!--
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("'", "\\u0027"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def escape_text(value: Any) -> str:
    """Text that shows literally wherever folium or Leaflet put it.

    HTML-escapes ``& < > " '`` and also the characters that break out of, or act inside,
    JavaScript strings and template literals (backtick, ``$``, backslash, U+2028/9) and
    Jinja (``{``, ``}``), as numeric character references. The result is safe as HTML
    text, inside a quoted attribute, inside a JS string or template literal that is later
    given to ``innerHTML``, and through folium's second Jinja pass.

    Parameters
    ----------
    value
        Any value; ``None`` and NaN become ``""``; other non-strings go through ``str``.

    Returns
    -------
    str
        The escaped text.

    Examples
    --------
    >>> escape_text("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert(1)&gt;'
    >>> escape_text("${x} `y` C:\\\\users")
    '&#36;&#123;x&#125; &#96;y&#96; C:&#92;users'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).translate(_HTML_ESCAPES)


def script_json(value: Any) -> str:
    """JSON that is safe inside ``<script>`` and through folium's Jinja pass.

    ``json.dumps`` (ASCII only, so U+2028/9 come out escaped), then ``< > & '`` as
    ``\\u00XX`` escapes, and any ``{`` that would open a Jinja tag as ``\\u007b``. The
    browser parses the result to exactly the value given. NaN and infinities are refused.

    Parameters
    ----------
    value
        A JSON-serialisable value (dicts, lists, str, int, float, bool, None).

    Returns
    -------
    str
        JavaScript source for the value.
    """
    text = json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    for raw, escaped in _SCRIPT_ESCAPES:
        if raw in text:
            text = text.replace(raw, escaped)
    return _JINJA_OPEN.sub(r"\\u007b", text)
