"""``conflictmap export`` as a briefer meets it: files of the promised kind, one clear line
and exit status 2 for bad input, never a traceback."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from app_fixtures import write_inputs
from cli_runner import run_cli
from PIL import Image, ImageSequence


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli("export", *args, cwd=cwd)


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory) -> tuple[Path, Path]:
    return write_inputs(tmp_path_factory.mktemp("tiny"))


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(path).pages)
    return " ".join(text.split())


def test_help_is_clean():
    out = run("--help")
    assert out.returncode == 0, out.stderr
    for option in (
        "--date",
        "--window",
        "--format",
        "--bbox",
        "--title",
        "--scale",
        "--paper",
        "--from",
        "--to",
        "--step",
        "--view-url",
        "--type",
        "--min-fatalities",
        "--precision",
        "--events",
        "--areas",
    ):
        assert option in out.stdout
    assert out.stderr == ""


def test_png_of_the_bundled_data(tmp_path):
    target = tmp_path / "out" / "abu-kamal.png"
    out = run("--date", "2017-11-09", "--window", "30", "-o", str(target))
    assert out.returncode == 0, out.stderr
    assert f"wrote {target}" in out.stdout
    with Image.open(target) as image:
        assert image.size == (1600, 1000)
    assert target.stat().st_mode & 0o044  # readable by others, as files usually are


def test_pdf_letter_with_filters_and_title(tiny_files, tmp_path):
    events, areas = tiny_files
    target = tmp_path / "brief.pdf"
    out = run(
        "--events",
        str(events),
        "--areas",
        str(areas),
        "--date",
        "2017-11-15",
        "--window",
        "30",
        "--type",
        "Battles",
        "--min-fatalities",
        "1",
        "--title",
        "Mosul, November 2017",
        "--paper",
        "letter",
        "-o",
        str(target),
    )
    assert out.returncode == 0, out.stderr
    text = _pdf_text(target)
    assert "Mosul, November 2017" in text
    assert "15 November 2017" in text
    assert "Filtered: event type Battles; at least 1 fatalities" in text
    assert "2 events on the map" in text


def test_view_url_gives_the_shared_view(tiny_files, tmp_path):
    events, areas = tiny_files
    target = tmp_path / "shared.pdf"
    url = "http://localhost:8501/?date=2015-06-14&window=30&type=Battles&bogus=1"
    out = run("--events", str(events), "--areas", str(areas), "--view-url", url, "-o", str(target))
    assert out.returncode == 0, out.stderr
    assert "URL parameter bogus='1' ignored: unknown parameter" in out.stderr
    text = _pdf_text(target)
    assert "14 June 2015" in text and "Filtered: event type Battles" in text
    assert "2 events on the map" in text  # IRQ1 and SYR1 (IRQ2 is an air strike)
    assert "Event data: events.csv (user file)" in text  # not credited as the bundled demo


def test_html_opens_without_a_server(tiny_files, tmp_path):
    events, areas = tiny_files
    target = tmp_path / "map.html"
    out = run(
        "--events", str(events), "--areas", str(areas), "--date", "2017-11-15", "-o", str(target)
    )
    assert out.returncode == 0, out.stderr
    page = target.read_text(encoding="utf-8")
    assert "data:text/javascript;base64," in page and "cm-export-footer" in page


def test_gif_has_one_frame_per_week(tmp_path):
    target = tmp_path / "q4.gif"
    out = run(
        "--from",
        "2017-10-01",
        "--to",
        "2017-12-31",
        "--step",
        "week",
        "--window",
        "30",
        "-o",
        str(target),
    )
    assert out.returncode == 0, out.stderr
    with Image.open(target) as image:
        assert image.size == (1600, 1000)
        assert sum(1 for _ in ImageSequence.Iterator(image)) == 14


def test_bbox_and_scale(tiny_files, tmp_path):
    events, areas = tiny_files
    target = tmp_path / "zoom.png"
    out = run(
        "--events",
        str(events),
        "--areas",
        str(areas),
        "--date",
        "2017-11-15",
        "--bbox",
        "42.5,35.9,43.7,36.7",
        "--scale",
        "2",
        "-o",
        str(target),
    )
    assert out.returncode == 0, out.stderr
    with Image.open(io.BytesIO(target.read_bytes())) as image:
        assert image.size == (3200, 2000)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--date", "2017-13-01", "-o", "x.png"],
            "--date '2017-13-01': expected a date YYYY-MM-DD",
        ),
        (["--date", "2030-01-01", "-o", "x.png"], "--date 2030-01-01 is outside the data"),
        (
            ["--type", "Battle", "-o", "x.png"],
            "--type 'Battle' is not in the loaded data (did you mean 'Battles'",
        ),
        (["--bbox", "1,2,3", "-o", "x.png"], "expected minx,miny,maxx,maxy"),
        (["-o", "x.gif"], "gif needs --from and --to"),
        (
            ["--from", "2017-10-01", "--to", "2017-11-01", "-o", "x.png"],
            "--from and --to make an animation",
        ),
        (
            ["--from", "2017-12-01", "--to", "2017-10-01", "-o", "x.gif"],
            "ends (2017-10-01) before it starts",
        ),
        (["-o", "x.docx"], "cannot tell the format from 'x.docx'"),
        (["--events", "missing.csv", "-o", "x.png"], "missing.csv: file not found"),
        (["--precision", "4", "-o", "x.png"], "--precision '4': expected 1, 2 or 3"),
        (
            ["--from", "2017-10-01", "--to", "2030-01-01", "-o", "x.gif"],
            "--to 2030-01-01 is outside the data",
        ),
        (["--format", "tiff", "-o", "x.png"], "'tiff' is not one of"),
        (["--scale", "0.5", "-o", "x.png"], "0.5 is not in the range 1<=x<=4"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, args, message):
    out = run(*args, cwd=tmp_path)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert message in out.stderr
    assert "Traceback" not in out.stderr
    assert not list(tmp_path.glob("x.*"))  # nothing half-written


def test_output_that_is_a_directory_is_refused(tmp_path):
    (tmp_path / "out.png").mkdir()
    out = run("--date", "2017-11-09", "-o", str(tmp_path / "out.png"))
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def _nested(depth: int) -> str:
    return "$" + "x^{" * depth + "x" + "}" * depth + "$"


def test_maths_in_the_data_is_drawn_as_text(tmp_path):
    """An event type and an actor of ``$x^{x^{...}}$`` 200 deep, a controller 60 deep (any
    depth from 30 made matplotlib's mathtext parser recurse until RecursionError: exit 2,
    no file) and a title ``$\\frac{1}{2}$``: both formats are written, the text as typed."""
    from app_fixtures import EVENT_ROWS

    deep = _nested(200)
    rows = list(EVENT_ROWS)
    rows[3] = rows[3].replace("Protesters (Iraq)", deep, 1)  # IRQ4's actor
    rows[7] = rows[7].replace("Battles", deep, 1)  # IRQ6's event type
    events, areas = write_inputs(tmp_path / "in", rows=rows, area_names={"mosul-gov": _nested(60)})
    common = ["--events", str(events), "--areas", str(areas), "--date", "2017-11-15"]
    png = tmp_path / "maths.png"
    out = run(*common, "-o", str(png))
    assert out.returncode == 0, out.stderr
    with Image.open(png) as image:
        assert image.size == (1600, 1000)
    pdf = tmp_path / "maths.pdf"
    out = run(*common, "--actor", deep, "--title", r"$\frac{1}{2}$", "-o", str(pdf))
    assert out.returncode == 0, out.stderr
    text = _pdf_text(pdf)
    assert r"$\frac{1}{2}$" in text
    # drawn as the characters they are (long ones cut to their room on the page)
    assert "Filtered: actor $x^{x^{x^{" in text and _nested(60)[:40] in text
