"""The cache of views shared by a server's sessions: made once, bounded by bytes, and no
session can change what another reads."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

from dashboard.app.viewcache import BUDGET_ENV, budget_bytes
from dashboard.sharedcache import SharedCache, size_of


def test_a_value_is_made_once_and_then_served():
    cache = SharedCache(10_000)
    calls = []

    def make() -> str:
        calls.append(1)
        return "spec"

    assert cache.get("k", make) == "spec"
    assert cache.get("k", make) == "spec"
    assert len(calls) == 1
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.entries) == (1, 1, 1)


def test_sessions_asking_at_once_wait_for_one_making():
    cache = SharedCache(10_000)
    calls = []
    started = threading.Event()

    def make() -> str:
        calls.append(1)
        started.set()
        time.sleep(0.2)  # long enough for the other threads to ask meanwhile
        return "view"

    results: list[str] = []
    first = threading.Thread(target=lambda: results.append(cache.get("k", make)))
    first.start()
    started.wait(timeout=30)
    others = [
        threading.Thread(target=lambda: results.append(cache.get("k", make))) for _ in range(4)
    ]
    for thread in others:
        thread.start()
    for thread in [first, *others]:
        thread.join(timeout=30)
    assert results == ["view"] * 5
    assert len(calls) == 1


def test_the_budget_is_in_bytes_and_the_least_recently_used_go_first():
    one = "x" * 1000
    cache = SharedCache(3 * size_of(one))
    for key in "abc":
        cache.get(key, lambda: one)
    cache.get("a", lambda: "not made")  # "a" used: "b" is now the oldest
    cache.get("d", lambda: one)
    assert cache.stats().entries == 3
    assert cache.stats().bytes <= 3 * size_of(one)
    assert cache.get("a", lambda: "made again") == one
    assert cache.get("b", lambda: "made again") == "made again"


def test_a_value_larger_than_the_budget_is_handed_out_not_kept():
    cache = SharedCache(100)
    big = "y" * 10_000
    assert cache.get("big", lambda: big) == big
    assert cache.stats().entries == 0 and cache.stats().bytes == 0


def test_no_session_can_change_a_frame_another_reads():
    cache = SharedCache(10**6)
    mine = cache.get("t", lambda: pd.DataFrame({"fatalities": [1, 2, 3]}))
    mine.loc[0, "fatalities"] = 999
    mine["added"] = 1
    theirs = cache.get("t", lambda: pd.DataFrame())
    assert theirs["fatalities"].tolist() == [1, 2, 3]
    assert list(theirs.columns) == ["fatalities"]
    pair = cache.get("pair", lambda: (pd.DataFrame({"a": [1]}), 4))
    pair[0].loc[0, "a"] = 7
    assert cache.get("pair", lambda: (pd.DataFrame(), 0))[0]["a"].tolist() == [1]


def test_a_mutable_value_is_refused():
    cache = SharedCache(10**6)
    with pytest.raises(TypeError, match="immutable"):
        cache.get("d", lambda: {"spec": 1})
    with pytest.raises(TypeError, match="immutable"):
        cache.get("l", lambda: ("ok", [1, 2]))
    assert cache.stats().entries == 0
    assert cache.get("d", lambda: "fine") == "fine"  # a failed making leaves no lock behind


def test_the_budget_comes_from_the_environment_and_a_bad_value_is_named():
    assert budget_bytes({}) == 256 * 2**20
    assert budget_bytes({BUDGET_ENV: "64"}) == 64 * 2**20
    assert budget_bytes({BUDGET_ENV: "0"}) == 0
    for bad in ("lots", "-5", "nan", "inf"):
        with pytest.raises(ValueError, match=BUDGET_ENV):
            budget_bytes({BUDGET_ENV: bad})


def test_the_server_refuses_to_start_with_a_bad_budget_and_says_which(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, BUDGET_ENV: "lots"}
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.app.server", "run", "dashboard/app/main.py"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert f"{BUDGET_ENV}='lots' is not a number of megabytes" in done.stderr
    assert "Traceback" not in done.stderr
