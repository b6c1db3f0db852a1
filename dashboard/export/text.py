"""Text on the static exports, drawn as the characters it holds.

Matplotlib reads a string with an even number of unescaped ``$`` as mathtext: a controller
named ``$\\frac{1}{2}$`` would be drawn as a fraction, and a deeply nested ``$x^{x^{...}}$``
makes the mathtext parser recurse until Python gives up (``RecursionError``: no PNG, no
PDF). A user's matplotlibrc may also set ``text.usetex``, which sends every string to
LaTeX. No text of an export is meant as maths, and most of it comes from data (controllers,
event types, actors, places, file names, titles), so every string is drawn through
:func:`draw_text`, which turns both off for that one Text. Escaping ``$`` instead would
depend on matplotlib's escaping rules staying as they are; ``parse_math=False`` does not
read the string at all. The rcParams are left alone: they are global, and one Streamlit
process renders for several users at once.

:func:`draw_text` also cuts very long text: no line of these layouts shows more than
about 230 characters (the footer's, on A4), while a 100,000-character controller name,
event type or filter value takes seconds to lay out, or makes Agg refuse the text outright.
"""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text

#: Text properties that make matplotlib draw a string literally.
LITERAL: dict[str, bool] = {"parse_math": False, "usetex": False}
#: Longest line drawn, and most lines of one text; more is cut with an ellipsis.
MAX_LINE_CHARS = 400
MAX_LINES = 20
ELLIPSIS = "\u2026"


def fit_text(text: object) -> str:
    """``text`` as a string of at most :data:`MAX_LINES` lines of :data:`MAX_LINE_CHARS`
    characters, each cut line (and a cut text) ending in an ellipsis."""
    lines = str(text).split("\n")
    if len(lines) > MAX_LINES:
        lines = [*lines[: MAX_LINES - 1], ELLIPSIS]
    return "\n".join(
        line if len(line) <= MAX_LINE_CHARS else line[: MAX_LINE_CHARS - 1] + ELLIPSIS
        for line in lines
    )


def draw_text(target: Axes | Figure, x: float, y: float, text: object, **props: Any) -> Text:
    """Put ``text`` on ``target`` (an Axes or a Figure) as plain characters, never maths.

    Parameters
    ----------
    target
        Where the text goes; ``x`` and ``y`` are in its default coordinates (data for an
        Axes, figure fractions for a Figure) unless ``props`` give a ``transform``.
    x, y
        Position of the text.
    text
        The string (other values go through ``str``); ``$`` and ``\\`` are drawn as such,
        and overlong text is cut (:func:`fit_text`).
    **props
        Any other :class:`matplotlib.text.Text` property (size, colour, alignment, ...);
        ``parse_math`` and ``usetex`` are always off.

    Returns
    -------
    matplotlib.text.Text
        The artist, already added to ``target``.
    """
    return target.text(x, y, fit_text(text), **{**props, **LITERAL})
