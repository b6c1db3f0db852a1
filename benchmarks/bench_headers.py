"""Benchmark: hostile headers and lines, validated (or refused) against a plain read.

Run::

    .venv/bin/python benchmarks/bench_headers.py [--columns 1000 4000 16000 64000] [--repeat 5]

For each column count N, a file whose header is the four columns events need
(``event_id,event_date,latitude,longitude``) then N - 4 columns all named ``x``, and one
data row, is validated as ``conflictmap validate`` does it (``read_events`` then
``validate_events``, in this process). Up to ``readers.textio.MAX_COLUMNS`` the file is
read (the repeated names renamed ``x.1``, ``x.2``, ...); past it the file is refused, and
the figure is how long the refusal takes.

Also a file of one line with no line break (``--no-break-mb`` MB): refused after reading
about ``readers.textio.MAX_LINE_BYTES``; the figure is the time and the bytes the process
read (Linux ``/proc/self/io``).

Baselines, measured in the same run: pandas' CSV reader (``pd.read_csv(dtype=str)``) on a
well-formed events file of the same byte size (31 ACLED-like columns, as many rows as fit),
and on the hostile file itself (pandas renames repeated names as we do, ``x.1``, ``x.2``;
it neither validates nor refuses).
Before this benchmark existed, the header handling was cubic in the number of repeated
names: 1,000 took 3.2 s, 2,000 14.5 s, 4,000 105 s (8,000 had not finished at 150 s).

The machine is shared and noisy: each figure is the median of ``--repeat`` runs; read the
ratios of one run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import pandas as pd

from dashboard.errors import DashboardError
from dashboard.readers import read_events, textio
from dashboard.validation import validate_events

NEEDED = "event_id,event_date,latitude,longitude"
ROW = "a1,2017-11-09,36.2,37.1"
# One plain ACLED-like row of 31 columns: the baseline file is this, repeated.
PLAIN_HEADER = ",".join([NEEDED, *(f"field_{i}" for i in range(27))])
PLAIN_ROW = ",".join([ROW, *(f"value {i}" for i in range(27))])


def _hostile(path: Path, columns: int) -> int:
    header = ",".join([NEEDED, *(["x"] * (columns - 4))])
    row = ",".join([ROW, *(["1"] * (columns - 4))])
    data = (header + "\n" + row + "\n").encode()
    path.write_bytes(data)
    return len(data)


def _plain(path: Path, size: int) -> int:
    """A well-formed events file of about ``size`` bytes (at least one data row)."""
    rows = max(1, (size - len(PLAIN_HEADER) - 1) // (len(PLAIN_ROW) + 1))
    data = (PLAIN_HEADER + "\n" + (PLAIN_ROW + "\n") * rows).encode()
    path.write_bytes(data)
    return len(data)


def _validate(path: Path) -> str:
    """What ``conflictmap validate`` does with the file: the outcome in a few words."""
    try:
        result = validate_events(read_events(path))
    except DashboardError as exc:
        return f"refused: {str(exc).split(': ')[1]}"  # the message less its path and hint
    return f"read: {result.report.rows_loaded} row(s) loaded"


def _median_seconds(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def _bytes_read() -> int | None:
    try:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the figures and return them as a dict.

    ``argv`` None means the defaults (as when ``benchmarks/run_all.py`` calls ``main()``).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--columns", type=int, nargs="+", default=[1_000, 2_000, 4_000, 16_000, 64_000]
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-break-mb", type=int, default=128)
    args = parser.parse_args([] if argv is None else argv)

    figures: dict[str, Any] = {
        "max_columns": textio.MAX_COLUMNS,
        "max_line_bytes": textio.MAX_LINE_BYTES,
    }
    print(f"limits: {textio.MAX_COLUMNS:,} columns, {textio.MAX_LINE_BYTES:,} bytes a line")
    print(
        f"{'columns':>8} {'bytes':>9} {'ours s':>9} {'pandas s':>9} {'ratio':>7} "
        f"{'pd same':>9} {'ratio':>7}  outcome"
    )
    with tempfile.TemporaryDirectory(prefix="conflictmap-bench-headers-") as tmp:
        folder = Path(tmp)
        for columns in args.columns:
            hostile, plain = folder / f"dup{columns}.csv", folder / f"plain{columns}.csv"
            size = _hostile(hostile, columns)
            _plain(plain, size)
            ours, outcome = _median_seconds(lambda p=hostile: _validate(p), args.repeat)
            base, _ = _median_seconds(lambda p=plain: pd.read_csv(p, dtype=str), args.repeat)
            # pandas' renaming of repeated names is quadratic (64,000 take it half a minute):
            # timed once past the limit.
            times = args.repeat if columns <= textio.MAX_COLUMNS else 1
            same, _ = _median_seconds(lambda p=hostile: pd.read_csv(p, dtype=str), times)
            print(
                f"{columns:>8,} {size:>9,} {ours:>9.4f} {base:>9.4f} {ours / base:>7.3g} "
                f"{same:>9.4f} {ours / same:>7.3g}  {outcome}"
            )
            figures[f"{columns}_columns_bytes"] = size
            figures[f"{columns}_columns_outcome"] = outcome
            figures[f"{columns}_columns_ours_seconds"] = ours
            figures[f"{columns}_columns_pandas_same_size_seconds"] = base
            figures[f"{columns}_columns_ratio"] = ours / base
            figures[f"{columns}_columns_pandas_same_file_seconds"] = same
            figures[f"{columns}_columns_ratio_same_file"] = ours / same

        blob, plain = folder / "no-break.csv", folder / "plain-big.csv"
        size = args.no_break_mb * 1024 * 1024
        with blob.open("wb") as fh:
            for _ in range(args.no_break_mb):
                fh.write(b"x," * (512 * 1024))
        _plain(plain, size)
        before = _bytes_read()
        ours, outcome = _median_seconds(lambda: _validate(blob), args.repeat)
        after = _bytes_read()
        read = None if before is None or after is None else (after - before) // args.repeat
        base, _ = _median_seconds(lambda: pd.read_csv(plain, dtype=str), 1)
        print(
            f"no line break, {size:,} bytes: ours {ours:.4f} s ({outcome}; "
            f"{read if read is None else f'{read:,}'} bytes read a run), "
            f"pandas on a plain file of that size {base:.2f} s, ratio {ours / base:.4f}"
        )
        figures["no_break_bytes"] = size
        figures["no_break_outcome"] = outcome
        figures["no_break_ours_seconds"] = ours
        figures["no_break_bytes_read_per_run"] = read
        figures["no_break_pandas_same_size_seconds"] = base
        figures["no_break_ratio"] = ours / base
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
