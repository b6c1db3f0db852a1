"""The process's cache of derived views, shared by every session (``sharedcache.py``).

Its budget is ``CONFLICTMAP_VIEW_CACHE_MB`` megabytes (256 unless set; 0 keeps nothing).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Mapping
from typing import TypeVar

import streamlit as st

from dashboard.sharedcache import DEFAULT_BUDGET_BYTES, SharedCache

BUDGET_ENV = "CONFLICTMAP_VIEW_CACHE_MB"
T = TypeVar("T")


def budget_bytes(environ: Mapping[str, str] = os.environ) -> int:
    """The configured budget in bytes (the default when unset).

    Raises
    ------
    ValueError
        When the variable is set to anything but a number of megabytes, 0 or more (the
        server checks it as it starts: ``server.py``).
    """
    text = environ.get(BUDGET_ENV, "").strip()
    if not text:
        return DEFAULT_BUDGET_BYTES
    try:
        megabytes = float(text)
    except ValueError:
        megabytes = -1.0
    if not megabytes >= 0 or megabytes == float("inf"):
        raise ValueError(
            f"{BUDGET_ENV}={text!r} is not a number of megabytes (0 or more): set it to the "
            "memory the shared view cache may use, for example 256"
        )
    return int(megabytes * 2**20)


@st.cache_resource(show_spinner=False)
def shared_cache() -> SharedCache:
    """The one cache of this server process."""
    return SharedCache(budget_bytes())


def through_cache(key: Hashable | None, make: Callable[[], T]) -> T:
    """``make()``, made once and shared when ``key`` names everything it derives from (the
    data version first); made each time when the key is None (a database's view, whose
    rows also depend on the map's extent)."""
    if key is None:
        return make()
    return shared_cache().get(key, make)
