"""At most a few runs of the view (the fragment a slider step reruns) compute at once in
one server process; the others wait their turn without holding Python's interpreter lock.

Streamlit runs each session's script in a thread of its own. Forty sessions stepping the
slider at once were forty threads taking turns on one interpreter lock: each step cost
two and a half times the CPU it costs alone, and the server's event loop (the websocket,
the health check) waited seconds for its turn. With a few slots, the runs that wait cost
nothing, the views they ask for are often made by then (the shared view cache), and the
event loop stays responsive.

A run gives its slot back while it draws an export (:func:`released`); a view of a database
takes none (its steps wait on the database, not on this process).
``CONFLICTMAP_RUN_SLOTS`` sets how many runs compute at once (2 unless set; at least 1). A
run waits at most :data:`WAIT_S` seconds for a slot, then goes ahead anyway: an overloaded
server slows down, it never stops.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import streamlit as st

SLOTS_ENV = "CONFLICTMAP_RUN_SLOTS"
DEFAULT_SLOTS = 2
WAIT_S = 120.0


def slot_count(environ: Mapping[str, str] = os.environ) -> int:
    """The configured number of slots.

    Raises
    ------
    ValueError
        When the variable is set to anything but a whole number of 1 or more (the server
        checks it as it starts).
    """
    text = environ.get(SLOTS_ENV, "").strip()
    if not text:
        return DEFAULT_SLOTS
    if not text.isdigit() or int(text) < 1:
        raise ValueError(
            f"{SLOTS_ENV}={text!r} is not a whole number of 1 or more: set it to how many "
            f"page runs may compute at once, for example {DEFAULT_SLOTS}"
        )
    return int(text)


class _Slots:
    def __init__(self, n: int) -> None:
        self.semaphore = threading.BoundedSemaphore(n)
        # Per thread: whether it is inside a run's block, and whether it holds a slot now
        # (not always both: a wait for a slot may end without one).
        self.state = threading.local()

    def inside(self) -> bool:
        return bool(getattr(self.state, "inside", False))

    def holding(self) -> bool:
        return bool(getattr(self.state, "holding", False))


@st.cache_resource(show_spinner=False)
def _slots() -> _Slots:
    return _Slots(slot_count())


@contextmanager
def released() -> Iterator[None]:
    """Give the current run's slot back for a long job (an export's drawing), so other
    sessions' steps go on meanwhile; take one again after."""
    slots = _slots()
    if not slots.holding():
        yield
        return
    slots.state.holding = False
    slots.semaphore.release()
    try:
        yield
    finally:
        slots.state.holding = slots.semaphore.acquire(timeout=WAIT_S)


@contextmanager
def run_slot() -> Iterator[None]:
    """Hold one of the process's slots while the block runs (a block inside another in the
    same thread uses the outer one's slot)."""
    slots = _slots()
    if slots.inside():
        yield
        return
    slots.state.inside = True
    slots.state.holding = slots.semaphore.acquire(timeout=WAIT_S)
    try:
        yield
    finally:
        if slots.holding():
            slots.semaphore.release()
        slots.state.holding = False
        slots.state.inside = False
