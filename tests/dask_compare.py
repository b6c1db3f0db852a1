"""One comparison for the Dask tests: a file built in one process and on the cluster."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from dashboard import distributed, schema
from dashboard.pipeline import BuildSettings, build, write_outputs


def same_build(
    events_file: Path,
    tmp: Path,
    client,
    *,
    rows: int,
    areas: list[Path] | None = None,
    settings: BuildSettings | None = None,
    on_workers: bool = True,
):
    """Build both ways and assert everything but the partition count equal: the events (in
    the file's order), the rows set aside and their file, the problems, the report, the
    unmatched rows and the summary (where the file was read on the client, its note
    aside). Returns (single, distributed)."""
    single = build(events_file, areas, settings=settings)
    single_out, _ = write_outputs(single, tmp / "single" / "events.parquet")
    dist = distributed.build_distributed(
        events_file,
        areas,
        client=client,
        output=tmp / "dask" / "events.parquet",
        settings=settings,
        partition_rows=rows,
    )
    assert dist.read_on_workers is on_workers, [n.message for n in dist.notes]
    assert len(dist.partition_rows) > 1, "the comparison must cross partition boundaries"

    expected = gpd.read_parquet(single_out)
    got = distributed.read_parts(dist.output)
    pd.testing.assert_frame_equal(got, expected)  # same rows in the same order
    assert got.crs == expected.crs
    assert got[schema.EVENT_ID].is_unique

    pd.testing.assert_frame_equal(dist.rejected, single.rejected)
    assert distributed.rejected_path(dist.output).read_text(encoding="utf-8") == (
        single_out.with_suffix(".rejected.csv").read_text(encoding="utf-8")
    )
    assert dist.event_report.problems == single.event_report.problems
    assert dist.event_report.to_dict() == single.event_report.to_dict()
    pd.testing.assert_frame_equal(
        dist.unmatched.sort_index(), single.unmatched.sort_index(), check_dtype=False
    )
    summary = dist.summary()
    assert summary.pop("partitions") == len(dist.parts)
    expected_summary = single.summary()
    if not on_workers:  # the one difference: a note saying where the file was read
        assert "read and validated on the client" in summary["notes"][0]
        summary["notes"] = summary["notes"][1:]
    assert summary == expected_summary
    report = dist.event_report
    assert report.rows_in == report.rows_loaded + report.rows_rejected
    assert sum(dist.partition_rows) == report.rows_loaded
    return single, dist
