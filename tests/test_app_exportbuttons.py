"""The page's PNG / PDF / HTML buttons: the file is made for the view on show, and a file
that cannot be made leaves a message on the page (never nothing at all)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from app_fixtures import private_build_cache, tiny  # noqa: F401 (pytest fixtures)
from streamlit.testing.v1 import AppTest

from dashboard import paths
from dashboard.app import exportbuttons
from dashboard.app import session as K
from dashboard.export.render import ExportError

APP = str(Path(paths.PACKAGE_DIR) / "app" / "main.py")
TIMEOUT = 120


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["date"] = "2017-11-15"
    return at.run()


def _errors(at: AppTest) -> list[str]:
    """The error boxes as a reader sees them (markdown escapes resolved)."""
    return [re.sub(r"\\(.)", r"\1", e.value).replace("\u200b", "") for e in at.error]


@pytest.mark.usefixtures("tiny")
def test_make_then_download_the_png():
    at = _app()
    assert not at.exception and not _errors(at)
    assert [b.label for b in at.download_button if b.key == "dl_map_png"] == []
    at.button(key="mk_map_png").click()
    at.run()
    assert not at.exception and not _errors(at)
    assert at.download_button(key="dl_map_png").label == "Download PNG"
    made = at.session_state[exportbuttons.K_MADE]["png"]
    assert made.data is not None and made.data.startswith(b"\x89PNG")
    # Another view drops the file made for this one.
    at.session_state[K.K_DATE] = dt.date(2017, 11, 10)
    at.run()
    assert "png" not in (at.session_state[exportbuttons.K_MADE] or {})


@pytest.mark.parametrize(
    ("fmt", "error", "message"),
    [
        (
            "pdf",
            RecursionError("maximum recursion depth exceeded"),
            "The PDF could not be made (RecursionError); the server log has the details",
        ),
        (
            "html",
            ExportError("scale 9: expected 1 to 4"),
            "The HTML page could not be made: scale 9: expected 1 to 4",
        ),
    ],
)
@pytest.mark.usefixtures("tiny")
def test_a_file_that_cannot_be_made_says_so_on_the_page(monkeypatch, fmt, error, message):
    def fail(ds, view):
        raise error

    monkeypatch.setattr(exportbuttons, f"_{fmt}", fail)
    at = _app()
    at.button(key=f"mk_map_{fmt}").click()
    at.run()
    assert not at.exception
    shown = _errors(at)
    assert len(shown) == 1 and message in shown[0], shown
    # Not offered as a download; the button offers to try again.
    assert [b for b in at.download_button if b.key == f"dl_map_{fmt}"] == []
    assert at.button(key=f"mk_map_{fmt}").label == f"Make {fmt.upper()}"
