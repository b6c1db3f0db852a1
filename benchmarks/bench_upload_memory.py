"""Benchmark: the server's memory under uploads, before login and after, and once sessions end.

Run::

    .venv/bin/python benchmarks/bench_upload_memory.py [--mb 100 --count 10 --events 150000]

The app runs as ``conflictmap serve`` runs it, in password mode (``DASHBOARD_PASSWORD``), on
the hand-made inputs of ``tests/app_fixtures.py``, with ``server.disconnectedSessionTTL``
set to 2 s so that a closed session ends quickly. The client is ``tests/browser/stclient``
(Streamlit's protocol without a browser: what an attacker can script). Figures are the
server process's resident memory (VmRSS), read with psutil:

1. baseline: after a logged-in session's first run (the page and its data loaded); and the
   warm baseline: after another session uploaded one events file and ended (what the
   pipeline loads once per process, the gazetteer and the readers, is then loaded);
2. the attack: a session that has NOT logged in PUTs ``--count`` files of ``--mb`` MB to
   ``/_stcore/upload_file/<its session>/<file>`` with the XSRF token (status of each);
3. a logged-in session PUTs the same files without giving them to the page, then deletes
   them (as the browser does when a file is removed from an uploader);
4. the logged-in session uploads three different events files of ``--events`` rows
   (``conflictmap synth``, seeds 1-3) through the events uploader, each replacing the last;
5. both sessions closed: once the server logs their release, the lowest RSS seen within
   ``--release-s`` seconds;
6. websocket frames from a session that has NOT logged in: the rise of the server's peak
   RSS (VmHWM, reset just before) for a frame under the 25 MB limit of what a client
   sends (``server.maxWidgetStateSize``: read whole, then refused by Streamlit) and for
   one of ``--frame-mb`` over it (refused as it starts; before the guard capped uvicorn's
   ``ws_max_size``, frames up to ``server.maxMessageSize``, 200 MB, were read whole).

The baselines are measured in the same run; (5) reads against the warm baseline, (6)'s
large frame against its small one.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for folder in (ROOT, ROOT / "tests", ROOT / "tests" / "browser"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

PASSWORD = "benchmark password"
MB = 1024 * 1024


def _rss(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


def _fmt(n: int) -> str:
    return f"{n / MB:,.0f} MB"


def _synthetic(folder: Path, rows: int, seed: int) -> bytes:
    from dashboard.synth import write_synthetic

    target = folder / f"seed{seed}"
    write_synthetic(target, events=rows, areas=50, seed=seed)
    return (target / "events.csv").read_bytes()


def _status_bytes(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    return 0


def _frame_peak(url: str, pid: int, size: int) -> tuple[int, int | None]:
    """(rise of the server's peak RSS, close code) for one frame of ``size`` bytes sent by
    a session that has not logged in."""
    import stclient

    session = stclient.Session(url).open()
    try:
        before = _status_bytes(pid, "VmRSS")
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # peak := now
        code = session.send_frame(b"\0" * size)
        return _status_bytes(pid, "VmHWM") - before, code
    finally:
        session.close()


def _wait_released(server: object, count: int, timeout: float) -> bool:
    """Until the server's log names ``count`` releases of ended sessions (or the timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.log().count("released") >= count:  # type: ignore[attr-defined]
            return True
        time.sleep(0.5)  # a benchmark's poll of the log, not a test wait
    return False


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=100, help="size of each raw upload")
    parser.add_argument("--count", type=int, default=10, help="raw uploads per session")
    parser.add_argument("--events", type=int, default=150_000, help="rows per events upload")
    parser.add_argument("--release-s", type=float, default=60.0)
    parser.add_argument("--frame-mb", type=int, default=150, help="websocket frame over the limit")
    args = parser.parse_args(argv)

    import stclient
    from app_fixtures import write_inputs
    from browser_helpers import run_server
    from hosting import SECRETS_OPTION, write_secrets

    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp_name:
        tmp = Path(tmp_name)
        events, areas = write_inputs(tmp / "inputs")
        secrets_file = write_secrets(tmp / "secrets.toml")
        files = [_synthetic(tmp / "synth", args.events, seed) for seed in (0, 1, 2, 3)]
        env = {
            "CONFLICTMAP_EVENTS": str(events),
            "CONFLICTMAP_AREAS": str(areas),
            "DASHBOARD_PASSWORD": PASSWORD,
        }
        extra = [SECRETS_OPTION, str(secrets_file), "--server.disconnectedSessionTTL", "2"]
        blob = os.urandom(args.mb * MB)
        with run_server(env, tmp / "server.log", extra_args=extra) as server:
            pid = server.process.pid
            user = stclient.Session(server.url).open()
            user.submit_password(PASSWORD)
            base = _rss(pid)
            figures["baseline"] = base
            print(f"baseline (logged in, page loaded): {_fmt(base)}")

            label = "Upload events (CSV: canonical, ACLED or UCDP GED)"
            with stclient.session(server.url) as warm:
                warm.submit_password(PASSWORD)
                warm.choose_file(label, "warm.csv", files.pop(0))
            _wait_released(server, 1, args.release_s)
            warm_base = _rss(pid)
            figures["warm_baseline"] = warm_base
            print(f"warm baseline (one upload in a session that has ended): {_fmt(warm_base)}")

            attacker = stclient.Session(server.url).open()
            statuses = [attacker.put_file(f"a{i}.csv", blob)[0].status for i in range(args.count)]
            figures["attack_statuses"] = statuses
            figures["after_attack"] = _rss(pid)
            print(
                f"not logged in, {args.count} x {args.mb} MB PUT: statuses {statuses}; "
                f"RSS {_fmt(figures['after_attack'])} (baseline {_fmt(base)})"
            )

            answers = [user.put_file(f"u{i}.csv", blob) for i in range(args.count)]
            user.settle()  # the run the server starts to say why an upload was refused
            statuses = [answer.status for answer, _ in answers]
            figures["user_statuses"] = statuses
            figures["after_user_puts"] = _rss(pid)
            print(
                f"logged in, {args.count} x {args.mb} MB PUT: statuses {statuses}; "
                f"RSS {_fmt(figures['after_user_puts'])}"
            )
            for answer, file_id in answers:  # as the browser does when a file is removed
                if answer.status == 204:
                    user.delete_file(file_id)
            figures["after_user_deletes"] = _rss(pid)
            print(f"logged in, those files deleted: RSS {_fmt(figures['after_user_deletes'])}")

            accepted = []
            for i, data in enumerate(files, start=1):
                t = time.perf_counter()
                user.choose_file(label, f"events{i}.csv", data)
                ok = f"Events now from events{i}.csv" in user.text()
                accepted.append(_rss(pid))
                print(
                    f"events upload {i} ({len(data) / MB:.0f} MB, {args.events:,} rows, "
                    f"{'accepted' if ok else 'NOT accepted'}, {time.perf_counter() - t:.1f} s): "
                    f"RSS {_fmt(accepted[-1])}"
                )
            figures["after_accepted"] = accepted

            attacker.close()
            user.close()
            released = _wait_released(server, 2, args.release_s)
            lowest = _rss(pid)
            deadline = time.monotonic() + args.release_s
            while time.monotonic() < deadline and lowest > warm_base + 50 * MB:
                time.sleep(1.0)  # a benchmark's poll of the process, not a test wait
                lowest = min(lowest, _rss(pid))
            figures["after_close"] = lowest

            print(
                f"sessions closed ({'release logged' if released else 'NO release logged'}): "
                f"lowest RSS within {args.release_s:.0f} s {_fmt(lowest)} (warm baseline "
                f"{_fmt(warm_base)}, {lowest - warm_base:+,.0f} B = "
                f"{(lowest - warm_base) / MB:+,.0f} MB)"
            )

            small, small_code = _frame_peak(server.url, pid, 20 * MB)
            large, large_code = _frame_peak(server.url, pid, args.frame_mb * MB)
            figures["frame_peaks"] = (small, large)
            print(
                f"websocket frame before login: 20 MB (under the limit) peak RSS "
                f"{small / MB:+,.0f} MB (close {small_code}); {args.frame_mb} MB (over it) "
                f"{large / MB:+,.0f} MB (close {large_code})"
            )
    return figures


if __name__ == "__main__":
    main()
