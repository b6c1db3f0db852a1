"""Benchmark: ``conflictmap pull acled`` of 100,000 events from the fake ACLED server, then an
update, each next to a baseline measured in the same run.

Run::

    .venv/bin/python benchmarks/bench_pull.py [--events 100000 --page-size 5000]

The server is ``tests/fake_sources.py`` (ACLED's documented endpoints on 127.0.0.1) in a
process of its own, so that its memory and its JSON encoding stay out of the figures.
Each pull runs in a fresh child process of this script, which reports its wall-clock
seconds and its peak resident memory (``ru_maxrss``), also above what the process held
after its imports (pandas is imported by both sides); a second child of each kind
measures the peak of Python's own allocations with ``tracemalloc`` (slower, so timed
apart).

1. pull: ours (:func:`dashboard.pull.pull_acled`: token, pages of 5,000 streamed to a
   temporary file through the spreadsheet-safe writer, fsync, rename) against two
   baselines: a naive pull (the same pages, every row kept as a Python dict, then written
   with ``csv.DictWriter``), and one unpaged request (``limit=0``, as ``acledR`` asks)
   read whole with ``json.loads``.
2. update: the server changes 1% of the events and deletes 0.1%; ours
   (:func:`dashboard.pull.update_acled`: rows changed since the copy's newest timestamp,
   the deleted endpoint, a streamed merge by ``event_id_cnty``) against a full
   re-download with ``pull_acled``; and whether the two copies hold the same rows.

The machine is shared and noisy: read the ratios of one run.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))
# tests/ is not a package: its folder goes on the path for the fake servers.
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

from fake_sources import ACLED_PASSWORD, ACLED_USER, FakeSources, acled_events

KINDS = ("ours", "naive", "unpaged", "update", "full")


# --- the server, in its own process ------------------------------------------------------


def _serve(events: int, conn: Any) -> None:
    sources = FakeSources()
    sources.load_acled(acled_events(events))
    with sources:
        conn.send(sources.url)
        while True:
            command = conn.recv()
            if command[0] == "stop":
                return
            if command[0] == "mutate":
                _, change_share, delete_share = command
                ids = sorted(sources.acled)
                step_change = max(1, round(1 / change_share))
                step_delete = max(1, round(1 / delete_share))
                changed = ids[::step_change]
                deleted = [k for k in ids[1::step_delete] if k not in set(changed)]
                sources.change(changed, fatalities="42", notes="revised after review")
                sources.delete(deleted)
                conn.send((len(changed), len(deleted)))


# --- one measured pull, in a child process -----------------------------------------------


def _naive(url: str, page_size: int, out: Path, *, unpaged: bool) -> int:
    """The baselines: every row held as a dict, then written with the csv module."""
    form = urllib.parse.urlencode(
        {
            "username": ACLED_USER,
            "password": ACLED_PASSWORD,
            "grant_type": "password",
            "client_id": "acled",
        }
    ).encode()
    with urllib.request.urlopen(urllib.request.Request(url + "/oauth/token", data=form)) as r:
        token = json.loads(r.read())["access_token"]
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        limit = 0 if unpaged else page_size
        query = urllib.parse.urlencode({"_format": "json", "limit": limit, "page": page})
        request = urllib.request.Request(f"{url}/api/acled/read?{query}")
        request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request) as r:
            data = json.loads(r.read())["data"]
        rows.extend(data)
        if unpaged or len(data) < page_size:
            break
        page += 1
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def _child(kind: str, url: str, page_size: int, out: Path, trace: bool) -> dict[str, Any]:
    import pandas  # noqa: F401 - both sides pay for it before the clock starts

    from dashboard.pull import (
        AcledQuery,
        AcledSession,
        AcledToken,
        Client,
        RetryPolicy,
        load_credentials,
        pull_acled,
        update_acled,
    )
    from dashboard.pull.acled import CREDENTIAL_NAMES

    credentials = load_credentials(
        None,
        environ={"ACLED_USERNAME": ACLED_USER, "ACLED_PASSWORD": ACLED_PASSWORD},
        names=CREDENTIAL_NAMES,
    )
    client = Client(policy=RetryPolicy(attempts=3))
    session = AcledSession(client, AcledToken(client, url, credentials), url, page_size=page_size)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    figures: dict[str, Any] = {}
    if kind in ("ours", "full"):
        report = pull_acled(out, AcledQuery(), session=session)
        figures |= {"rows": report.rows, "pages": report.pages, "hash": report.content_hash}
    elif kind == "update":
        updated = update_acled(out, AcledQuery(), session=session)  # the recorded query
        figures |= {
            "rows": updated.rows,
            "pages": updated.pages,
            "hash": updated.content_hash,
            "added": updated.added,
            "changed": updated.changed,
            "deleted": updated.deleted,
        }
    else:
        figures["rows"] = _naive(url, page_size, out, unpaged=kind == "unpaged")
    figures["seconds"] = time.perf_counter() - started
    if trace:
        figures["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures["peak_rss_mb"] = peak / 1024
    figures["rss_above_imports_mb"] = (peak - before) / 1024
    return figures


def _measure(kind: str, url: str, page_size: int, out: Path, *, trace: bool = False) -> dict:
    args = [sys.executable, __file__, "--child", kind, "--url", url, "--out", str(out)]
    args += ["--page-size", str(page_size)] + (["--trace"] if trace else [])
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{kind} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _copy_rows(path: Path) -> list[tuple[str, ...]]:
    from dashboard.pull import open_table

    with open_table(path) as (columns, rows):
        return sorted(tuple(r[c] for c in sorted(columns)) for r in rows)


def run(*, events: int, page_size: int) -> dict[str, Any]:
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe()
    server = context.Process(target=_serve, args=(events, child), daemon=True)
    server.start()
    url = parent.recv()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-pull-") as folder:
            work = Path(folder)
            ours = _measure("ours", url, page_size, work / "ours.csv")
            ours_trace = _measure("ours", url, page_size, work / "ours-traced.csv", trace=True)
            naive = _measure("naive", url, page_size, work / "naive.csv")
            naive_trace = _measure("naive", url, page_size, work / "naive-t.csv", trace=True)
            unpaged = _measure("unpaged", url, page_size, work / "unpaged.csv")
            unpaged_trace = _measure("unpaged", url, page_size, work / "unp-t.csv", trace=True)
            size_mb = (work / "ours.csv").stat().st_size / 1e6

            parent.send(("mutate", 0.01, 0.001))
            changed, deleted = parent.recv()
            update = _measure("update", url, page_size, work / "ours.csv")
            full = _measure("full", url, page_size, work / "full.csv")
            same = _copy_rows(work / "ours.csv") == _copy_rows(work / "full.csv")
    finally:
        parent.send(("stop",))
        server.join(timeout=10)
    return {
        "events": ours["rows"],
        "pages": ours["pages"],
        "file_mb": round(size_mb, 1),
        "pull: ours (s)": round(ours["seconds"], 2),
        "pull: naive, all pages as dicts then csv (s)": round(naive["seconds"], 2),
        "pull: one unpaged json.loads then csv (s)": round(unpaged["seconds"], 2),
        "pull: ours / naive time": round(ours["seconds"] / naive["seconds"], 2),
        "pull: ours peak RSS above imports (MB)": round(ours["rss_above_imports_mb"], 1),
        "pull: naive peak RSS above imports (MB)": round(naive["rss_above_imports_mb"], 1),
        "pull: unpaged peak RSS above imports (MB)": round(unpaged["rss_above_imports_mb"], 1),
        "pull: ours peak RSS (MB)": round(ours["peak_rss_mb"], 1),
        "pull: naive peak RSS (MB)": round(naive["peak_rss_mb"], 1),
        "pull: ours tracemalloc peak (MB)": round(ours_trace["traced_peak_mb"], 1),
        "pull: naive tracemalloc peak (MB)": round(naive_trace["traced_peak_mb"], 1),
        "pull: unpaged tracemalloc peak (MB)": round(unpaged_trace["traced_peak_mb"], 1),
        "update: changed / deleted on the server": f"{changed:,} / {deleted:,}",
        "update: added / changed / deleted in the copy": (
            f"{update['added']:,} / {update['changed']:,} / {update['deleted']:,}"
        ),
        "update: ours (s)": round(update["seconds"], 2),
        "update: full re-download (s)": round(full["seconds"], 2),
        "update / full re-download time": round(update["seconds"] / full["seconds"], 2),
        "update: peak RSS above imports (MB)": round(update["rss_above_imports_mb"], 1),
        "update equals full re-download (rows)": same,
        "update equals full re-download (content hash)": update["hash"] == full["hash"],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=5_000)
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else [])
    if args.child:
        figures = _child(args.child, args.url, args.page_size, Path(args.out), args.trace)
        print(json.dumps(figures))
        return figures
    figures = run(events=args.events, page_size=args.page_size)
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
