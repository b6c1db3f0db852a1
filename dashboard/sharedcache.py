"""A cache shared by every session of one server process, bounded by bytes.

Twenty analysts stepping the date slider of one hosted link mostly ask for views another
session has already drawn: the same data version, date, window and filters. What such a view
costs to derive (the events table's cells, the timeline's chart, a map layer's script) is
made once and handed to each session that asks.

Safety across sessions rests on what is stored:

- values are immutable (``str``, ``bytes``, numbers, tuples of them) or data frames, which
  are handed out as new shallow copies: pandas' copy-on-write then copies the buffers the
  moment a session writes to its copy, so no session can change what another reads;
- keys name everything the value derives from, the data version first (``Dataset.key``),
  so a reload or an upload never meets an older entry; a session's uploaded data has a key
  of its own content, and only a session holding the same bytes can ask for it.

The budget is in bytes, not entries: one view of a million events weighs as much as
hundreds of small ones. Least recently used entries go first; a value larger than the
whole budget is handed out without being kept.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd

T = TypeVar("T")

#: What the page's views may keep, in all, per server process.
DEFAULT_BUDGET_BYTES = 256 * 2**20


@dataclass(frozen=True)
class CacheStats:
    """Counts since the cache was made, and what it holds now."""

    hits: int
    misses: int
    entries: int
    bytes: int
    budget: int


def size_of(value: Any) -> int:
    """The bytes ``value`` holds, near enough to budget by (frames: their memory use,
    deep; tuples: the sum of their items)."""
    if isinstance(value, pd.DataFrame):
        return int(value.memory_usage(index=True, deep=True).sum())
    if isinstance(value, pd.Series):
        return int(value.memory_usage(index=True, deep=True))
    if isinstance(value, tuple):
        return sys.getsizeof(value) + sum(size_of(v) for v in value)
    return sys.getsizeof(value)


#: pandas 3 copies on write always; pandas 2 only when asked (``mode.copy_on_write``).
_COPY_ON_WRITE = (
    int(pd.__version__.split(".")[0]) >= 3 or pd.get_option("mode.copy_on_write") is True
)


def _handed_out(value: Any) -> Any:
    """What a session receives: frames as new shallow copies (copy-on-write keeps the
    stored one intact; without it, deep copies), everything else as it is (immutable)."""
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return value.copy(deep=not _COPY_ON_WRITE)
    if isinstance(value, tuple):
        return tuple(_handed_out(v) for v in value)
    return value


def _check_storable(value: Any) -> None:
    if isinstance(value, (str, bytes, int, float, bool, type(None), pd.DataFrame, pd.Series)):
        return
    if isinstance(value, tuple):
        for item in value:
            _check_storable(item)
        return
    raise TypeError(
        f"a shared cache keeps only immutable values and data frames, not {type(value).__name__}"
    )


class SharedCache:
    """A thread-safe least-recently-used cache with a byte budget.

    Parameters
    ----------
    budget_bytes
        The most the stored values may weigh together (by :func:`size_of`).
    """

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        if budget_bytes < 0:
            raise ValueError(f"a cache budget cannot be negative: {budget_bytes!r}")
        self._budget = budget_bytes
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._hits = 0
        self._misses = 0
        self._lock = threading.Lock()
        # One lock per key being made: a second session asking for a view being made waits
        # for it instead of making it again.
        self._making: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value stored under ``key``, made by ``make()`` (once) when absent.

        Raises
        ------
        TypeError
            When ``make`` returns something mutable other than a data frame.
        """
        found, value = self._lookup(key)
        if found:
            return value
        with self._lock:
            maker = self._making.setdefault(key, threading.Lock())
        with maker:
            found, value = self._lookup(key)  # made meanwhile by the session it waited for
            if found:
                return value
            try:
                made = make()
                _check_storable(made)
                self._store(key, made)
            finally:
                with self._lock:
                    if self._making.get(key) is maker:
                        del self._making[key]
        with self._lock:
            self._misses += 1
        return _handed_out(made)

    def _lookup(self, key: Hashable) -> tuple[bool, Any]:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return False, None
            self._entries.move_to_end(key)
            self._hits += 1
            return True, _handed_out(entry[0])

    def _store(self, key: Hashable, value: Any) -> None:
        size = size_of(value)
        with self._lock:
            if size > self._budget:
                return  # handed out, not kept: it would push out everything else
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[key] = (value, size)
            self._bytes += size
            while self._bytes > self._budget:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped

    def stats(self) -> CacheStats:
        """Hits, misses and what is held now."""
        with self._lock:
            return CacheStats(
                self._hits, self._misses, len(self._entries), self._bytes, self._budget
            )

    def clear(self) -> None:
        """Forget every entry (the counts stay)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0
