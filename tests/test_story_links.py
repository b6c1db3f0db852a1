"""The README's story links show what they promise, on the bundled data.

Each story link in the README is a bullet that starts with a dashboard permalink and ends
with what the map shows that day, as ``(Place: Controller; Place: Controller)``. Here each
link is read by the app's own permalink parser (``dashboard.export.view.view_from_url``,
which calls ``dashboard.viewstate.parse_query``), the control areas valid on its date are
taken as the page takes them, and each promised controller must be the one whose area
covers the place, found in the towns the map labels (``geodata/towns.csv``). A story link
without a promise fails, so a new link cannot go untested.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

import pytest
import shapely

from dashboard import paths, schema
from dashboard.export.data import ExportData, load_export_data
from dashboard.export.view import resolve_frame, view_from_url

README = paths.PROJECT_DIR / "README.md"
APP_LINK = re.compile(r"http://localhost:8501/\?[^\s`'\")]+")
#: A bullet that starts with a dashboard link, up to the next bullet or blank line.
STORY_ITEM = re.compile(
    r"^- (http://localhost:8501/\?\S+) (.+?)(?=^- |^\s*$)", re.MULTILINE | re.DOTALL
)
#: The promise at the end of a story item: "(Mosul: Islamic State; Raqqa: Islamic State)".
PROMISE = re.compile(r"\(([^()]+:[^()]+)\)\s*$")


@dataclass(frozen=True)
class StoryLink:
    url: str
    text: str
    promises: tuple[tuple[str, str], ...]

    @property
    def query(self) -> str:
        return urllib.parse.urlsplit(self.url).query


def story_links(readme: str) -> list[StoryLink]:
    """The README's story links with what each promises (empty when it promises nothing)."""
    links = []
    for match in STORY_ITEM.finditer(readme):
        url, text = match.group(1), " ".join(match.group(2).split())
        found = PROMISE.search(text)
        promises: list[tuple[str, str]] = []
        if found:
            for part in found.group(1).split(";"):
                place, _, controller = part.partition(":")
                promises.append((place.strip(), controller.strip()))
        links.append(StoryLink(url, text, tuple(promises)))
    return links


README_TEXT = README.read_text(encoding="utf-8")
STORIES = story_links(README_TEXT)


@pytest.fixture(scope="module")
def bundled() -> ExportData:
    """The bundled events and control areas, built as the app builds them."""
    return load_export_data()


def test_story_links_are_found_and_each_promises_something() -> None:
    assert len(STORIES) >= 3, "the README's story links were not found (bullets `- http://...`)"
    for story in STORIES:
        assert story.promises, (
            f"{story.url}: a story link ends with what the map shows, e.g. "
            f"'(Baghuz: Islamic State)'; found: {story.text!r}"
        )
        for place, controller in story.promises:
            assert place and controller, f"{story.url}: unreadable promise in {story.text!r}"


def test_story_promises_are_read_as_written() -> None:
    text = (
        "- http://localhost:8501/?date=2017-11-15&window=30 — after Al-Qaim, with\n"
        "  Abu Kamal contested (Al-Qaim: Iraqi government;\n  Abu Kamal: Contested)\n"
        "- http://localhost:8501/?date=2019-03-22 — no promise\n\nnext paragraph\n"
    )
    first, second = story_links(text)
    assert first.promises == (("Al-Qaim", "Iraqi government"), ("Abu Kamal", "Contested"))
    assert first.query == "date=2017-11-15&window=30"
    assert second.promises == ()


@pytest.mark.parametrize("story", STORIES, ids=[s.query for s in STORIES])
def test_story_link_shows_what_it_promises(story: StoryLink, bundled: ExportData) -> None:
    view, notices = view_from_url(story.url, bundled.options)
    assert notices == [], f"{story.url}: the page would not show this view: {notices}"
    date = urllib.parse.parse_qs(story.query)["date"][-1]
    assert view.as_of.isoformat() == date
    frame = resolve_frame(bundled, view)
    assert len(frame.placed) > 0, f"{story.url}: no event on the map in the window"
    towns = bundled.context.towns
    assert towns is not None, "geodata/towns.csv is missing"
    areas = frame.areas
    for place, controller in story.promises:
        town = towns[towns["name"] == place]
        assert len(town) == 1, f"{story.url}: {place!r} is not one town of geodata/towns.csv"
        point = shapely.Point(float(town["longitude"].iloc[0]), float(town["latitude"].iloc[0]))
        holders = sorted(set(areas.loc[areas.geometry.covers(point), schema.CONTROLLER]))
        assert holders == [controller], (
            f"{story.url}: the README says {place} is held by {controller}; on {date} the map "
            f"shows {holders or 'no control area'} there"
        )


def test_every_dashboard_link_in_the_readme_opens_without_a_notice(bundled: ExportData) -> None:
    links = APP_LINK.findall(README_TEXT)
    assert len(links) > len(STORIES)  # the compare and export examples too
    for url in links:
        _, notices = view_from_url(url, bundled.options)
        assert notices == [], f"{url}: {notices}"
