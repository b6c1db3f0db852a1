"""The on-disk copy of a build is verified before it is served (dashboard/buildcache.py).

The page reads a build back from Parquet on every start; the copy sits in a folder others
may write (a shared data folder), so a changed byte, a truncated file or a copy in a folder
the server cannot write must each end in the right data on the page, and the first two in
one warning line that says where and what.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from app_fixtures import write_inputs

from dashboard import buildcache, paths
from dashboard.app import loaders


@pytest.fixture
def inputs(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """The hand-made inputs; builds go to tmp/cache; the user's cache folder is private."""
    monkeypatch.setenv(loaders.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    loaders.clear_build_cache()
    yield write_inputs(tmp_path / "data")
    loaders.clear_build_cache()


def _load(events: Path, areas: Path) -> loaders.Dataset:
    return loaders.load_dataset(loaders.file_ref(events), (loaders.file_ref(areas),))


def _restart() -> None:
    """What a restart of the server does to the in-memory cache."""
    loaders.clear_build_cache()


def _copies(root: Path) -> list[Path]:
    return [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]


def _forbid_building(monkeypatch) -> list[str]:
    """Make a build fail loudly; the list records every attempt."""
    from dashboard import pipeline

    calls: list[str] = []

    def refuse(*args, **kwargs):
        calls.append(str(args[0]) if args else "")
        raise AssertionError("built again although a current copy is on disk")

    monkeypatch.setattr(pipeline, "build", refuse)
    return calls


def _controllers(dataset: loaders.Dataset) -> set[str]:
    return {str(v) for v in dataset.events["controller"].dropna().unique()}


def _flip_first_letter(parquet: Path, text: bytes, *, column: str) -> None:
    """Change one byte of ``parquet``: the first letter of ``text`` where the file then
    still reads and ``column`` shows the changed text (the premise of the tests)."""
    import pandas as pd

    data = parquet.read_bytes()
    changed = "X" + text[1:].decode()
    at = data.find(text)
    while at >= 0:
        parquet.write_bytes(data[:at] + b"X" + data[at + 1 :])
        with contextlib.suppress(Exception):  # unreadable: not this one, try the next
            values = pd.read_parquet(parquet)[column].dropna().astype(str)
            if values.str.contains(changed, regex=False).any():
                return
        at = data.find(text, at + 1)
    raise AssertionError(f"no byte of {text!r} in {parquet} changes {column} and keeps it readable")


def _cache_warnings(caplog) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.levelno == logging.WARNING and r.name.startswith("dashboard")
    ]


def test_a_changed_byte_in_the_cached_events_is_caught_and_rebuilt(inputs, tmp_path, caplog):
    events, areas = inputs
    first = _load(events, areas)
    assert "Islamic State" in _controllers(first)
    (copy,) = _copies(tmp_path / "cache")
    parquet = copy / "events.parquet"
    # One byte: the "I" of "Islamic State" in the controller column's dictionary (Parquet
    # keeps a column's distinct texts once, and snappy leaves short texts as literal bytes);
    # the file still reads, and reads "Xslamic State".
    _flip_first_letter(parquet, b"Islamic State", column="controller")
    _restart()
    with caplog.at_level(logging.WARNING):
        again = _load(events, areas)
    assert _controllers(again) == _controllers(first)
    assert "Xslamic State" not in _controllers(again)
    (warning,) = _cache_warnings(caplog)
    message = warning.getMessage()
    assert str(copy) in message and "events.parquet" in message and "\n" not in message
    # The copy was written again: the next start reads it without a word.
    _restart()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert _controllers(_load(events, areas)) == _controllers(first)
    assert _cache_warnings(caplog) == []


def test_a_changed_byte_in_the_cached_areas_is_caught_and_rebuilt(inputs, tmp_path, caplog):
    events, areas = inputs
    first = _load(events, areas)
    (copy,) = _copies(tmp_path / "cache")
    # Snappy writes the "I" of "Iraqi" as a reference to the one of "Islamic": change the
    # "g" of "government", a literal byte.
    _flip_first_letter(copy / "areas.parquet", b"government", column="controller")
    _restart()
    with caplog.at_level(logging.WARNING):
        again = _load(events, areas)
    assert sorted(again.areas["controller"]) == sorted(first.areas["controller"])
    (warning,) = _cache_warnings(caplog)
    assert str(copy) in warning.getMessage() and "areas.parquet" in warning.getMessage()


def test_a_truncated_copy_is_rebuilt_with_a_warning(inputs, tmp_path, caplog):
    events, areas = inputs
    first = _load(events, areas)
    (copy,) = _copies(tmp_path / "cache")
    parquet = copy / "events.parquet"
    data = parquet.read_bytes()
    parquet.write_bytes(data[: len(data) // 2])  # a disk that filled up, a copy cut short
    _restart()
    with caplog.at_level(logging.WARNING):
        again = _load(events, areas)
    assert list(again.events["event_id"]) == list(first.events["event_id"])
    (warning,) = _cache_warnings(caplog)
    message = warning.getMessage()
    assert str(copy) in message and "events.parquet" in message and "\n" not in message


@pytest.fixture
def shared_folder(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """The hand-made inputs, with no cache folder configured: copies go beside them."""
    monkeypatch.delenv(loaders.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    loaders.clear_build_cache()
    yield write_inputs(tmp_path / "data")
    loaders.clear_build_cache()


def _make_read_only(folder: Path, monkeypatch) -> None:
    """Make ``os.access`` answer "not writable" for ``folder`` and everything in it.

    The tests run as root, for whom chmod stops no write: this is what the cache asks
    (``buildcache.writable``), so it sees the folder as a read-only mount would show it.
    """
    real_access = os.access
    inside = str(folder)

    def read_only(path, mode, *args, **kwargs):
        if mode & os.W_OK and str(path).startswith(inside):
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", read_only)


def test_a_current_copy_in_a_folder_the_server_cannot_write_is_used(
    shared_folder, tmp_path, monkeypatch, caplog
):
    # The data folder and its cache were written by whoever prepared them (an earlier
    # `conflictmap serve`, another account); the server now runs where it cannot write
    # there (a read-only mount).
    events, areas = shared_folder
    first = _load(events, areas)
    beside = events.parent / buildcache.CACHE_FOLDER
    assert len(_copies(beside)) == 1
    _make_read_only(events.parent, monkeypatch)
    calls = _forbid_building(monkeypatch)
    _restart()
    with caplog.at_level(logging.WARNING):
        again = _load(events, areas)
    assert calls == []
    assert list(again.events["event_id"]) == list(first.events["event_id"])
    assert _cache_warnings(caplog) == []
    assert not (tmp_path / "xdg" / "conflictmap").exists()  # nothing written elsewhere
    _restart()
    _load(events, areas)
    assert calls == []


def test_the_folder_beside_the_events_is_searched_even_when_it_cannot_be_written(
    tmp_path, monkeypatch
):
    monkeypatch.delenv(buildcache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    events = tmp_path / "data" / "events.csv"
    events.parent.mkdir()
    beside = events.parent / buildcache.CACHE_FOLDER
    user = tmp_path / "xdg" / "conflictmap"
    assert buildcache.cache_dir(events) == beside
    assert buildcache.search_dirs(events) == [beside, user]
    _make_read_only(events.parent, monkeypatch)
    assert buildcache.cache_dir(events) == user  # written where it can be
    assert buildcache.search_dirs(events) == [user, beside]  # and found where it was
    # A folder chosen with CONFLICTMAP_CACHE_DIR comes first; the user's folder is not read.
    monkeypatch.setenv(buildcache.CACHE_ENV, str(tmp_path / "chosen"))
    assert buildcache.search_dirs(events) == [tmp_path / "chosen", beside]


def test_a_damaged_copy_in_a_read_only_folder_is_replaced_in_the_user_cache(
    shared_folder, tmp_path, monkeypatch, caplog
):
    events, areas = shared_folder
    first = _load(events, areas)
    (copy,) = _copies(events.parent / buildcache.CACHE_FOLDER)
    _flip_first_letter(copy / "events.parquet", b"Islamic State", column="controller")
    _make_read_only(events.parent, monkeypatch)
    _restart()
    with caplog.at_level(logging.WARNING):
        again = _load(events, areas)
    assert _controllers(again) == _controllers(first)
    assert len(_cache_warnings(caplog)) == 1
    assert len(_copies(tmp_path / "xdg" / "conflictmap")) == 1
    # Next start: the good copy in the user's cache is found first; no build, no warning.
    calls = _forbid_building(monkeypatch)
    caplog.clear()
    _restart()
    with caplog.at_level(logging.WARNING):
        assert _controllers(_load(events, areas)) == _controllers(first)
    assert calls == [] and _cache_warnings(caplog) == []


def test_a_changed_byte_in_the_stored_reports_is_caught(inputs, tmp_path, caplog):
    events, areas = inputs
    first = _load(events, areas)
    (copy,) = _copies(tmp_path / "cache")
    meta = copy / "meta.json"
    text = meta.read_text(encoding="utf-8")
    assert '"rows_loaded": 8' in text
    meta.write_text(text.replace('"rows_loaded": 8', '"rows_loaded": 9', 1), encoding="utf-8")
    _restart()
    with caplog.at_level(logging.WARNING):
        again = _load(events, areas)
    assert again.summary == first.summary
    (warning,) = _cache_warnings(caplog)
    assert "meta.json" in warning.getMessage()


def _grow(copy: Path) -> None:
    with (copy / "areas.parquet").open("ab") as handle:
        handle.write(b"\0" * 1_000_000)


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (lambda copy: (copy / buildcache.CHECKSUMS).unlink(), "checksums.json is missing"),
        (lambda copy: (copy / buildcache.CHECKSUMS).write_text("{"), "cannot be read"),
        (lambda copy: (copy / "areas.parquet").unlink(), "areas.parquet is missing"),
        (lambda copy: (copy / "rejected.parquet").write_bytes(b""), "rejected.parquet has 0"),
        (_grow, "areas.parquet has"),
    ],
    ids=["no checksums", "checksums cut short", "a file missing", "a file emptied", "grown"],
)
def test_every_kind_of_damage_is_named_in_one_line(inputs, tmp_path, caplog, damage, said):
    events, areas = inputs
    first = _load(events, areas)
    (copy,) = _copies(tmp_path / "cache")
    damage(copy)
    _restart()
    with caplog.at_level(logging.WARNING):
        again = _load(events, areas)
    assert list(again.events["event_id"]) == list(first.events["event_id"])
    (warning,) = _cache_warnings(caplog)
    message = warning.getMessage()
    assert message.startswith(f"build cache {copy}: ") and said in message, message
    assert "\n" not in message


def test_intact_bytes_that_do_not_read_back_are_named(tmp_path, caplog):
    # Checksums that match a file that is not Parquet (written so by a bug, say).
    import hashlib
    import json

    copy = tmp_path / "copy"
    copy.mkdir()
    files = {name: b"not parquet" for name in buildcache.STORED_FILES}
    files["meta.json"] = b"{}"
    listed = {}
    for name, data in files.items():
        (copy / name).write_bytes(data)
        listed[name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (copy / buildcache.CHECKSUMS).write_text(json.dumps({"files": listed}))
    with caplog.at_level(logging.WARNING):
        assert buildcache.read_copy(copy) is None
    (warning,) = _cache_warnings(caplog)
    assert "does not read back" in warning.getMessage()
    caplog.clear()
    assert buildcache.read_copy(tmp_path / "nothing here") is None
    assert _cache_warnings(caplog) == []  # no copy yet: nothing to say


# --- reading a file once, through one descriptor, never more than it should hold ---------------

GROWTH = 64 * 1024 * 1024  # sparse: no disk used, but 64 MiB to whoever reads it whole


def _peak_bytes_of(call):
    """``call()`` and the most memory Python held while it ran (tracemalloc)."""
    import tracemalloc

    tracemalloc.start()
    try:
        result = call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak


def test_a_file_that_grows_once_its_size_is_checked_is_refused_without_being_read_whole(
    inputs, tmp_path, monkeypatch, caplog
):
    # Someone who may write the cache folder makes the file 64 MiB longer just after the
    # server looked at its size (whichever way it looks: stat of the path, fstat of the
    # open file): the server must not read what it did not write.
    events, areas = inputs
    _load(events, areas)
    (copy,) = _copies(tmp_path / "cache")
    target = copy / "events.parquet"
    inode = target.stat().st_ino
    grown: list[int] = []
    real_stat, real_fstat = os.stat, os.fstat

    def then_grow(found):
        if found.st_ino == inode and not grown:
            grown.append(found.st_size)
            with target.open("r+b") as handle:
                handle.truncate(found.st_size + GROWTH)
        return found

    monkeypatch.setattr(os, "stat", lambda *a, **k: then_grow(real_stat(*a, **k)))
    monkeypatch.setattr(os, "fstat", lambda fd: then_grow(real_fstat(fd)))
    with caplog.at_level(logging.WARNING):
        built, peak = _peak_bytes_of(lambda: buildcache.read_copy(copy))
    assert grown, "the size of events.parquet was never looked at"
    assert built is None
    assert peak < GROWTH // 4, f"{peak:,} bytes held while reading a {grown[0]:,}-byte file"
    (warning,) = _cache_warnings(caplog)
    assert "events.parquet" in warning.getMessage() and "\n" not in warning.getMessage()


def _read_copy_or_unblock(copy: Path, pipe: Path):
    """``read_copy(copy)`` in a thread; if it still waits on ``pipe`` after a generous
    minute, give it an end of file (so the test fails instead of hanging) and say so."""
    import threading

    outcome: list[object] = []
    worker = threading.Thread(target=lambda: outcome.append(buildcache.read_copy(copy)))
    worker.daemon = True
    worker.start()
    worker.join(timeout=60)
    waited = worker.is_alive()
    if waited:
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))  # the reader sees end of file
        worker.join(timeout=60)
    return waited, outcome


@pytest.mark.parametrize("name", [buildcache.CHECKSUMS, "meta.json"])
def test_a_pipe_in_place_of_a_stored_file_is_refused_without_waiting(
    inputs, tmp_path, caplog, name
):
    # A named pipe has size 0 and blocks whoever opens it until someone writes: a page
    # load would hang for good. (checksums.json forged to list meta.json as 0 bytes.)
    import hashlib
    import json

    events, areas = inputs
    _load(events, areas)
    (copy,) = _copies(tmp_path / "cache")
    if name == "meta.json":
        listed = json.loads((copy / buildcache.CHECKSUMS).read_text())
        listed["files"]["meta.json"] = {"bytes": 0, "sha256": hashlib.sha256(b"").hexdigest()}
        (copy / buildcache.CHECKSUMS).write_text(json.dumps(listed))
    (copy / name).unlink()
    os.mkfifo(copy / name)
    with caplog.at_level(logging.WARNING):
        waited, outcome = _read_copy_or_unblock(copy, copy / name)
    assert not waited, f"read_copy waited on the pipe {name}"
    assert outcome == [None]
    (warning,) = _cache_warnings(caplog)
    assert f"{name} is not a regular file" in warning.getMessage()


# --- removing the copies a new one supersedes ----------------------------------------------------


def _fake_copy(root: Path, name: str, *, source: str | None, meta: bytes | None = None) -> Path:
    """A copy folder as far as removing old copies looks: its checksums.json (naming
    ``source`` when given, as copies now do) and a meta.json (``meta``, else one naming
    ``source``, as every copy's does)."""
    import hashlib
    import json

    folder = root / name
    folder.mkdir(parents=True)
    if meta is None:
        meta = json.dumps({"source": source}).encode()
    (folder / "meta.json").write_bytes(meta)
    files = {
        n: {"bytes": 0, "sha256": hashlib.sha256(b"").hexdigest()} for n in buildcache.STORED_FILES
    }
    files["meta.json"] = {"bytes": len(meta), "sha256": hashlib.sha256(meta).hexdigest()}
    listed: dict[str, object] = {"files": files}
    if source is not None:
        listed["source"] = source
    (folder / buildcache.CHECKSUMS).write_text(json.dumps(listed))
    return folder


def test_writing_a_copy_removes_the_older_copies_of_the_same_events_only(inputs, tmp_path):
    import json

    events, areas = inputs
    root = tmp_path / "cache"
    older = _fake_copy(root, "a" * 32, source=str(events))
    before = _fake_copy(
        root, "b" * 32, source=None, meta=json.dumps({"source": str(events)}).encode()
    )
    other = _fake_copy(root, "c" * 32, source=str(tmp_path / "other.csv"))
    _load(events, areas)
    assert not older.exists() and not before.exists()  # before: a copy written earlier
    assert other.exists()
    (copy,) = [c for c in _copies(root) if c != other]
    assert json.loads((copy / buildcache.CHECKSUMS).read_text())["source"] == str(events)


def test_removing_older_copies_reads_no_large_file_and_waits_on_no_pipe(tmp_path):
    # Other copies in a folder others may write: a meta.json 64 MiB long, or a named pipe,
    # must cost neither the memory nor a hang; those copies are left as they are.
    import json
    import threading

    root = tmp_path / "cache"
    keep = _fake_copy(root, "k" * 32, source="events.csv")
    huge = _fake_copy(root, "h" * 32, source=None, meta=b"{}")
    with (huge / "meta.json").open("r+b") as handle:
        handle.truncate(GROWTH)
    forged = json.loads((huge / buildcache.CHECKSUMS).read_text())
    forged["files"]["meta.json"]["bytes"] = GROWTH  # as if written so
    (huge / buildcache.CHECKSUMS).write_text(json.dumps(forged))
    piped = _fake_copy(root, "p" * 32, source=None, meta=b"")
    (piped / "meta.json").unlink()
    os.mkfifo(piped / "meta.json")
    big_list = _fake_copy(root, "l" * 32, source="events.csv")
    with (big_list / buildcache.CHECKSUMS).open("r+b") as handle:
        handle.truncate(GROWTH)  # the JSON then NUL bytes: not a list this code wrote

    done: list[int] = []

    def remove() -> None:
        _, peak = _peak_bytes_of(
            lambda: buildcache.remove_older_copies(root, keep=keep.name, source="events.csv")
        )
        done.append(peak)

    worker = threading.Thread(target=remove, daemon=True)
    worker.start()
    worker.join(timeout=60)
    if worker.is_alive():
        os.close(os.open(piped / "meta.json", os.O_WRONLY | os.O_NONBLOCK))
        worker.join(timeout=60)
        pytest.fail("removing older copies waited on a named pipe")
    (peak,) = done
    assert peak < GROWTH // 4, f"{peak:,} bytes held"
    assert keep.exists() and huge.exists() and piped.exists() and big_list.exists()


def test_the_key_of_a_copy_covers_the_readers_limits(tmp_path, monkeypatch):
    # A file refused under the default limits must be built, not served from an old copy,
    # once they are raised; and a copy made under raised limits is not one for the defaults.
    from dashboard.readers import textio

    monkeypatch.delenv(textio.MAX_COLUMNS_ENV, raising=False)
    monkeypatch.delenv(textio.MAX_LINE_MB_ENV, raising=False)
    events = tmp_path / "events.csv"
    events.write_text("event_id,event_date\n")
    default = buildcache.disk_key([events])
    assert default is not None and buildcache.disk_key([events]) == default
    monkeypatch.setenv(textio.MAX_COLUMNS_ENV, "3000")
    wider = buildcache.disk_key([events])
    monkeypatch.setenv(textio.MAX_LINE_MB_ENV, "2")
    longer = buildcache.disk_key([events])
    assert len({default, wider, longer}) == 3
    monkeypatch.setenv(textio.MAX_LINE_MB_ENV, "two")
    assert buildcache.disk_key([events]) is None  # no copy: the build says what is wrong


def test_every_module_the_build_imports_keys_the_cache():
    # A module the build runs but the key leaves out would let a changed rule serve copies
    # built by the old one. The build's modules, as a fresh interpreter imports them:
    code = (
        "import sys, dashboard.pipeline, dashboard.distributed\n"
        "print('\\n'.join(m for m in sys.modules if m.startswith('dashboard.')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    imported = {
        name.removeprefix("dashboard.").replace(".", "/")
        for name in done.stdout.split()
        if name != "dashboard.distributed"  # the --dask path of the same build steps
    }
    as_files = {
        f"{name}/__init__.py" if (paths.PACKAGE_DIR / name).is_dir() else f"{name}.py"
        for name in imported
    }
    assert as_files <= set(buildcache.BUILD_CODE), sorted(as_files - set(buildcache.BUILD_CODE))
    for name in buildcache.BUILD_CODE:
        assert (paths.PACKAGE_DIR / name).is_file(), name
