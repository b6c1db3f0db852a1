"""The Play/Pause button: a Streamlit v2 component whose Pause says which date the map shows.

A plain ``st.button`` tells the server only that it was clicked, and the server's date may
be a step or more ahead of the map on screen (the answers of the latest Play ticks still on
their way, or the browser still drawing them): Pause used to stop up to three steps past
what the user saw. This button reads the date the map is drawn for (``data-cm-as-of`` on
the map's container, see ``mapview.view_date_group``) at the moment of the click and sends
it with the press. Its script and style are ``static/js/playpause.js`` and ``.css``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import streamlit as st
from streamlit.components.v2 import component as v2_component

from dashboard.app.mapview import MAP_FRAME_TITLE

_JS_DIR = Path(__file__).resolve().parent / "static" / "js"
COMPONENT_NAME = "conflictmap_play_pause"
#: The component's one event (a trigger: it holds its value for the run it starts only).
PRESS = "press"

Action = Literal["play", "pause"]


@dataclass(frozen=True)
class Press:
    """What a click of the button asks for.

    Attributes
    ----------
    action
        ``"play"`` or ``"pause"``: what the button said when it was clicked.
    shown
        For a pause, the date the map showed at the click (None when the browser could not
        read one).
    """

    action: Action
    shown: dt.date | None = None


@st.cache_resource(show_spinner=False)
def _component() -> Callable[..., Any]:
    # Registered once per process (a second registration of the same name only logs a
    # warning, but there is no reason to read the files again on every run).
    return v2_component(
        COMPONENT_NAME,
        js=(_JS_DIR / "playpause.js").read_text(encoding="utf-8"),
        css=(_JS_DIR / "playpause.css").read_text(encoding="utf-8"),
    )


def play_button(*, key: str, playing: bool, on_press: Callable[[], None]) -> None:
    """Draw the button ("Play", or "Pause" while playing) where the caller is.

    Parameters
    ----------
    key
        The session-state key of the component; :func:`read_press` reads a press from
        ``st.session_state[key]`` in ``on_press``.
    playing
        Whether the view is playing (the button says "Pause" then).
    on_press
        Called before the run a click starts, like a button's ``on_click``.
    """
    _component()(
        key=key,
        data={"playing": bool(playing), "mapFrameTitle": MAP_FRAME_TITLE},
        on_press_change=on_press,
        width="stretch",
    )


def read_press(state: Any) -> Press | None:
    """The press the component's session state holds, or None.

    The value comes from the browser: anything but ``{"action": "play" | "pause",
    "shown": "YYYY-MM-DD" | null}`` is no press, and a ``shown`` that is not a date is
    dropped (the pause then stops where the server is).

    Parameters
    ----------
    state
        ``st.session_state[key]`` of the component (a mapping of its events).

    Returns
    -------
    Press or None
    """
    value = state.get(PRESS) if isinstance(state, Mapping) else None
    if not isinstance(value, Mapping):
        return None
    action = value.get("action")
    if action not in ("play", "pause"):
        return None
    shown = value.get("shown")
    day: dt.date | None = None
    if isinstance(shown, str) and len(shown) == 10:
        try:
            day = dt.date.fromisoformat(shown)
        except ValueError:
            day = None
    return Press(action=action, shown=day if action == "pause" else None)
