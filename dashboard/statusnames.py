"""The status words of control tables and town lists, in the project's controller names.

A control table says "ISIS", "Regime", "Anti-ISIS Opposition Groups"; a town list "IS",
"SDF", "Government". :func:`controller_name` gives the project's name for such a word (case,
spacing and punctuation ignored), or None when the word has no faithful equivalent: the
caller keeps it as written and lists it, never guesses. "Regime" and "Government" become the
government of the place's own country (Syria's or Iraq's), and stay unknown where the
country is not known.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from dashboard import schema

__all__ = ["STATUS_NAMES", "controller_name", "status_key"]

_GOVERNMENT = "government"  # resolved per place to its country's government
#: Status words of control tables and town lists, keyed by :func:`status_key`, mapped onto the project's
#: names. Only the unambiguous ones: "Kurdish" (YPG before the SDF, Peshmerga in Iraq) and
#: "JAN" (Jabhat al-Nusra) have no faithful equivalent and stay as written, listed.
STATUS_NAMES: Final[Mapping[str, str]] = {
    **dict.fromkeys(
        ["isis", "isil", "is", "islamic state", "daesh", "daish", "isis affiliated groups"],
        schema.ISLAMIC_STATE,
    ),
    **dict.fromkeys(
        ["regime", "government", "gov", "gos", "govt", "pro government", "government saa"],
        _GOVERNMENT,
    ),
    **dict.fromkeys(
        ["syrian government", "saa", "syrian regime", "assad regime"], schema.SYRIAN_GOVERNMENT
    ),
    **dict.fromkeys(["iraqi government", "isf", "iraqi security forces"], schema.IRAQI_GOVERNMENT),
    **dict.fromkeys(["contested", "contested areas", "contested area"], schema.CONTESTED),
    **dict.fromkeys(
        [
            "opposition",
            "anti isis opposition groups",
            "armed opposition",
            "rebels",
            "fsa",
            "syrian opposition",
            "free syrian army",
        ],
        schema.SYRIAN_OPPOSITION,
    ),  # fmt: skip
    **dict.fromkeys(["sdf", "syrian democratic forces"], schema.SDF),
    **dict.fromkeys(["krg", "peshmerga", "kurdistan regional government"], schema.KRG),
    **dict.fromkeys(
        ["turkey backed", "turkey backed opposition", "sna", "syrian national army", "tfsa"],
        schema.TURKEY_BACKED,
    ),
}
_COUNTRY_GOVERNMENT = {"SY": schema.SYRIAN_GOVERNMENT, "IQ": schema.IRAQI_GOVERNMENT}


def status_key(value: str) -> str:
    """A status word without case, spacing or punctuation (``Anti-ISIS`` -> ``anti isis``)."""
    return " ".join(re.sub(r"[^\w]+", " ", value.casefold()).split())


def controller_name(value: str, country: str | None = None) -> str | None:
    """The project's controller for a status word, or None when it has none.

    Parameters
    ----------
    value
        The status as written.
    country
        The two-letter code of the place's country (``SY``, ``IQ``); it decides whose
        government "Regime" or "Government" is.
    """
    mapped = STATUS_NAMES.get(status_key(value))
    if mapped == _GOVERNMENT:
        return _COUNTRY_GOVERNMENT.get(country or "")
    if mapped is None and value in schema.CONTROLLERS:
        return value
    return mapped
