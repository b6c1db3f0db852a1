"""``build --dask``: the partitioned build gives the single-process build's answers, row for row.

One local cluster (2 worker processes on 127.0.0.1) serves the module. The synthetic
comparison runs at the issue's size, 200,000 events (``CONFLICTMAP_DASK_EVENTS`` changes
it). The file-wide rules across tiny partitions are in ``test_dask_partitioned.py``.
"""

from __future__ import annotations

import os
import sys

import dask.distributed  # noqa: F401 - the dask extra is part of the test extra: missing fails
import pytest
from click.testing import CliRunner
from dask_compare import same_build

from dashboard import distributed, paths, schema, synth
from dashboard.cli import cli
from dashboard.pipeline import build

SYNTH_EVENTS = int(os.environ.get("CONFLICTMAP_DASK_EVENTS", "200000"))


@pytest.fixture(scope="module")
def client():
    with distributed.connect("local", workers=2) as c:
        yield c


def test_bundled_with_bad_rows_same_as_single_process(tmp_path, client):
    """Bundled events plus rows set aside in different partitions and a duplicate id that
    spans two partitions: same rejects, same original row numbers."""
    lines = paths.BUNDLED_EVENTS.read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5].replace("2014-", "2014-13-", 1)  # impossible date -> set aside
    lines[40] = "CM001" + lines[40][lines[40].index(",") :]  # repeats row 1's id
    lines.append("CMX" + lines[3][lines[3].index(",") :])  # a fine copy under a new id
    lines.append("CMY,not a date" + "," * (lines[0].count(",") - 1))
    events = tmp_path / "events.csv"
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")

    single, dist = same_build(events, tmp_path, client, rows=20)
    assert single.event_report.rows_rejected >= 3
    rows = set(dist.rejected[schema.SOURCE_ROW])
    assert {5, 40, len(lines) - 1} <= rows  # data rows numbered from 1 in the original file


def test_synthetic_same_as_single_process(tmp_path, client):
    synth.write_synthetic(tmp_path / "data", events=SYNTH_EVENTS, areas=400, seed=3)
    areas = [tmp_path / "data" / synth.AREAS_FILE]
    single, _ = same_build(
        tmp_path / "data" / synth.EVENTS_FILE,
        tmp_path,
        client,
        areas=areas,
        rows=max(1_000, SYNTH_EVENTS // 8),
    )
    assert single.event_report.rows_loaded == SYNTH_EVENTS
    assert single.geocode_counts["exact"] > 0  # location-only rows went through the gazetteer


def test_cli_dask_local_writes_parts(tmp_path):
    out = tmp_path / "out" / "events.parquet"
    result = CliRunner().invoke(cli, ["build", "--dask", "local", "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["part.00000.parquet"]
    assert (tmp_path / "out" / "events.rejected.csv").exists()
    assert len(distributed.read_parts(out)) == len(build().events)


def test_cli_dask_without_dask_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    result = CliRunner().invoke(cli, ["build", "--dask", "local", "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "conflictmap[dask]" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
