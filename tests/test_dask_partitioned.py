"""``build --dask`` reads and validates on the workers: the file-wide rules across partitions.

Tiny partitions (a few rows each) put the rows a whole-file rule compares into different
partitions; each test builds the same file in one process and on the cluster and asserts
the same events, rejected rows (reasons and original row numbers), report and summary.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import dask.distributed  # noqa: F401 - the dask extra is part of the test extra: missing fails
import pandas as pd
import pytest
from click.testing import CliRunner
from dask_compare import same_build

from dashboard import distributed, paths, schema, synth
from dashboard.cli import cli
from dashboard.pipeline import BuildSettings, build


@pytest.fixture(scope="module")
def client():
    with distributed.connect("local", workers=2) as c:
        yield c


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        records = list(csv.reader(fh))
    return records[0], records[1:]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _set(header: list[str], row: list[str], **values: str) -> list[str]:
    row = list(row)
    for column, value in values.items():
        row[header.index(column)] = value
    return row


def test_acled_version_superseded_by_a_row_in_another_partition(tmp_path, client):
    synth.write_synthetic(tmp_path / "data", events=40, areas=30, seed=5)
    header, rows = _rows(tmp_path / "data" / synth.EVENTS_FILE)
    ts = header.index("timestamp")
    newer = _set(header, rows[2], timestamp=str(int(rows[2][ts]) + 100), fatalities="7")
    same = _set(header, rows[5], fatalities="9")  # same timestamp: the first row is kept
    older = _set(header, rows[30], timestamp=str(int(rows[30][ts]) - 100))
    rows = rows[:1] + [older] + rows[1:] + [newer, same]  # row 2's newer version is last
    events = _write(tmp_path / "acled.csv", header, rows)

    single, dist = same_build(events, tmp_path, client, rows=3)
    reasons = dict(
        zip(dist.rejected[schema.SOURCE_ROW], dist.rejected[schema.REJECT_REASON], strict=True)
    )
    assert "superseded by a newer version" in reasons[4]  # original row 3, now row 4
    assert "superseded by a newer version" in reasons[2]  # the older copy of row 31
    assert "with the same or no timestamp" in reasons[len(rows)]
    assert single.event_report.rows_rejected == 3


def test_duplicate_ids_in_different_partitions(tmp_path, client):
    header, rows = _rows(paths.BUNDLED_EVENTS)
    rows[60] = _set(header, rows[60], event_id=rows[1][0])  # repeats row 2's id
    rows[70] = _set(header, rows[70], event_id=rows[3][0], event_date="not a date")
    rows[80] = _set(header, rows[80], event_id=rows[3][0])  # row 71's copy is rejected anyway
    rows[85] = _set(header, rows[85], event_id="")  # a made id, with a file warning
    events = _write(tmp_path / "events.csv", header, rows)

    _, dist = same_build(events, tmp_path, client, rows=4)
    reasons = dict(
        zip(dist.rejected[schema.SOURCE_ROW], dist.rejected[schema.REJECT_REASON], strict=True)
    )
    assert (
        reasons[61]
        == f"duplicate event_id {rows[1][0]!r}: row 2 has the same id (that one is kept)"
    )
    assert "row 4 has the same id" in reasons[81]
    assert "duplicate" not in reasons[71]


@pytest.mark.parametrize("dayfirst", [True, False])
def test_day_month_order_settled_by_a_row_in_another_partition(tmp_path, client, dayfirst):
    header, rows = _rows(paths.BUNDLED_EVENTS)
    rows[0] = _set(header, rows[0], event_date="03/04/2014", date_start="", date_end="")
    rows[1] = _set(header, rows[1], event_date="", date_start="02/03/2014", date_end="03/02/2014")
    rows[50] = _set(header, rows[50], event_date="04/25/2015")  # month first, far away
    rows[60] = _set(header, rows[60], date_start="25/04/2015", date_end="")  # day first
    rows[61] = _set(header, rows[61], date_start="13/14/2015", date_end="")  # no month 14
    events = _write(tmp_path / "events.csv", header, rows)

    single, _ = same_build(
        events, tmp_path, client, rows=5, settings=BuildSettings(dayfirst=dayfirst)
    )
    messages = [p.message for p in single.event_report.problems if p.row is None]
    # Each column's order is stated with the value that settles it, whatever dayfirst says.
    assert any(
        m.startswith("event_date: read as year-month-day (yyyy-mm-dd) (also mm/dd/yyyy)")
        and "('04/25/2015' can only be read month first)" in m
        for m in messages
    )
    assert any(
        m.startswith("date_start: read as year-month-day (yyyy-mm-dd) (also dd/mm/yyyy)")
        and "('25/04/2015' can only be read day first)" in m
        for m in messages
    )
    single_event = single.events.set_index(schema.SOURCE_ROW)[schema.EVENT_DATE]
    assert single_event.at[1] == pd.Timestamp("2014-03-04")  # month first, settled by row 51


def test_bad_rows_in_several_partitions(tmp_path, client):
    header, rows = _rows(paths.BUNDLED_EVENTS)
    rows[3] = _set(header, rows[3], latitude="95", longitude="36.2")
    rows[17] = _set(header, rows[17], fatalities="unknown")
    rows[18] = _set(header, rows[18], fatalities="-3", time_precision="7")
    rows[29] = _set(header, rows[29], latitude="0", longitude="0")
    rows[44] = _set(header, rows[44], latitude="NA", longitude="")
    rows[52] = _set(header, rows[52], event_date="2015-02-30")
    rows[66] = _set(header, rows[66], latitude="", longitude="", location="")
    rows[77] = _set(header, rows[77], date_end="2000-01-01")
    for i in (10, 40, 70, 88):  # swapped for the country, in four partitions
        lat, lon = header.index("latitude"), header.index("longitude")
        if rows[i][lat] and rows[i][lon]:
            rows[i][lat], rows[i][lon] = rows[i][lon], rows[i][lat]
    events = _write(tmp_path / "events.csv", header, rows)

    single, dist = same_build(events, tmp_path, client, rows=6)
    assert single.event_report.rows_rejected >= 7
    assert len(set(dist.rejected[schema.SOURCE_ROW] // 6)) >= 5  # spread over partitions


def test_unknown_admin1_names_in_several_partitions_give_the_single_builds_notes(tmp_path, client):
    header, rows = _rows(paths.BUNDLED_EVENTS)
    lat, lon = header.index("latitude"), header.index("longitude")
    named = [i for i, r in enumerate(rows) if r[header.index("location")]][:24]
    for k, i in enumerate(named):  # geocoded by name, half with an admin1 no one knows
        rows[i][lat] = rows[i][lon] = ""
        if k % 2:
            rows[i] = _set(header, rows[i], admin1="Atlantis" if k % 4 == 1 else "Lemuria")
    events = _write(tmp_path / "events.csv", header, rows)

    _, dist = same_build(events, tmp_path, client, rows=6)
    notes = [n for n in dist.notes if "is not a first-level unit" in n.message]
    # one note per (country, admin1), each with its rows summed over the partitions
    assert {n.value for n in notes} == {"Atlantis", "Lemuria"}
    rows_named = [int(n.message.split("(")[1].split(" rows")[0]) for n in notes]
    assert sum(rows_named) == 12


def test_semicolon_file_with_decimal_commas_and_na(tmp_path, client):
    header, rows = _rows(paths.BUNDLED_EVENTS)
    for i in range(0, len(rows), 7):
        for column in ("latitude", "longitude"):
            value = rows[i][header.index(column)]
            rows[i] = _set(header, rows[i], **{column: value.replace(".", ",")})
    rows[9] = _set(header, rows[9], geo_precision="NA")
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows([header, *rows])
    events = tmp_path / "events.csv"
    events.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))  # BOM, CRLF

    single, _ = same_build(events, tmp_path, client, rows=8)
    assert any("decimal comma" in p.message for p in single.event_report.problems)


def test_quoted_line_break_is_read_on_the_client_and_said(tmp_path, client):
    header, rows = _rows(paths.BUNDLED_EVENTS)
    rows[20] = _set(header, rows[20], notes="first line\nsecond line")
    rows[30] = _set(header, rows[30], event_id=rows[0][0])
    events = _write(tmp_path / "events.csv", header, rows)

    _, dist = same_build(events, tmp_path, client, rows=10, on_workers=False)
    assert "line breaks inside quoted fields" in dist.notes[0].message


def test_cli_against_a_scheduler_address(tmp_path):
    """``--dask tcp://127.0.0.1:PORT``: a running scheduler, left running by the CLI."""
    import logging

    from distributed import Client, LocalCluster

    with LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        silence_logs=logging.ERROR,
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        out = tmp_path / "out" / "events.parquet"
        result = CliRunner().invoke(cli, ["build", "--dask", address, "-o", str(out), "--json"])
        assert result.exit_code == 0, result.output
        with Client(address) as still_there:  # the CLI did not stop the cluster
            assert len(still_there.scheduler_info()["workers"]) == 1
    single = build()
    assert len(distributed.read_parts(out)) == len(single.events)
    assert f'"rows_loaded": {single.event_report.rows_loaded}' in result.output


def test_events_after_the_areas_last_change_are_said_the_same_way(tmp_path, client):
    from app_fixtures import write_inputs

    _, areas = write_inputs(tmp_path / "tiny")  # the newest versions hold on from 2017-07-10
    single, dist = same_build(paths.BUNDLED_EVENTS, tmp_path, client, rows=6, areas=[areas])
    later = single.events[schema.EVENT_DATE] > pd.Timestamp("2017-07-10")
    (note,) = [n.message for n in dist.notes if "carried forward" in n.message]
    assert note.startswith(
        f"{int(later.sum())} events are dated after the control areas' last change (2017-07-10)"
    )
