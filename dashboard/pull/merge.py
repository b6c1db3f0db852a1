"""The local copy of a pull: written atomically, read back, merged by id, versioned.

* :func:`atomic_output` writes to a temporary file in the target's folder, flushes and
  ``fsync``s it, then ``os.replace``s the target: a pull or an update that fails or is
  interrupted leaves the previous file as it was, byte for byte, never half of a new one.
* :class:`CsvSink` streams rows to that file page by page, every cell through
  :func:`dashboard.tableexport.neutralise` (so the file is safe to open in a spreadsheet,
  as every table the product writes), keeping only counters, not rows.
* :func:`open_table` reads a copy back, each cell :func:`~dashboard.tableexport.restore`\\ d
  to the text the source served.
* :func:`merge_changes` streams the old copy into the new one: rows whose id changed are
  replaced in place, deleted ids dropped, new ids appended. Only the changes are held in
  memory.
* :class:`ContentHash` is the data version's content part: a BLAKE2b digest per row
  (columns in name order, empty cells left out), summed modulo 2**128, so that two copies
  holding the same rows in any order, with columns in any order, have the same hash.
* :func:`write_record` and :func:`read_record` keep ``FILE.pull.json`` beside the copy:
  what was asked (the filters an update asks again with) and the data version.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from dashboard.errors import PullError
from dashboard.readers.textio import sniff_delimiter
from dashboard.tableexport import neutralise, restore

Row = dict[str, str]
#: Rows turned into CSV text at once while streaming (a page of ACLED is 5,000).
BATCH_ROWS = 5_000
RECORD_SUFFIX = ".pull.json"
_HASH_MODULUS = 2**128
# A cell the neutraliser leaves alone, whatever its column: it starts with an ASCII letter
# or digit, holds no tab nor line break, and each ";" in it is followed (after plain spaces)
# by an ASCII letter or digit, so that no cell a ";" reader finds can start a formula
# ("Reuters; SOHR", the usual list of sources). Anything else goes to the neutraliser.
_PLAIN_CELL = re.compile(r"[A-Za-z0-9](?:[^;\t\r\n]|; *(?=[A-Za-z0-9]))*")


def cell_text(value: Any) -> str:
    """A JSON value as the text of its CSV cell: ``null`` empty, booleans ``true``/``false``
    (as JSON spells them), numbers as JSON writes them, text as is."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def text_row(record: Mapping[str, Any]) -> Row:
    """A JSON record as CSV cell texts, by column name."""
    # Most values are text already: no call for them (a million rows hold 31 million).
    return {
        str(k): v if type(v) is str else cell_text(v)  # noqa: E721 - exact str only
        for k, v in record.items()
    }


class ContentHash:
    """An order-independent digest of a table's rows (see the module docstring)."""

    def __init__(self) -> None:
        self._sum = 0
        self.rows = 0

    def add(self, row: Mapping[str, str], order: Sequence[str] | None = None) -> None:
        """Count one row; ``order`` (every column the row may hold, sorted) saves sorting
        each row's names."""
        names = order if order is not None else sorted(row)
        canonical = "\x1e".join([k + "\x1f" + v for k in names if (v := row.get(k))])
        digest = hashlib.blake2b(canonical.encode("utf-8"), digest_size=16).digest()
        self._sum = (self._sum + int.from_bytes(digest, "big")) % _HASH_MODULUS
        self.rows += 1

    def hexdigest(self) -> str:
        return f"{self._sum:032x}"


def newest(current: int | None, text: str | None) -> int | None:
    """The larger of ``current`` and the whole number ``text`` holds (ignored if none)."""
    if text is None:
        return current
    stripped = text.strip()
    if not stripped.isdigit():
        return current
    value = int(stripped)
    return value if current is None or value > current else current


def safe_cell(value: str, *, first: bool = False) -> str:
    """``value`` as :func:`dashboard.tableexport.neutralise` writes it (``first``: the first
    column, which gets no plain-number exception), that function asked only when the value
    could need it.

    A value that starts with an ASCII letter or digit, holds no tab nor line break, and has
    an ASCII letter or digit after each ``;`` (and its spaces) is left alone by the
    neutraliser (no cell of it, whole or split at ``;``, can start with ``= + - @`` or a
    mark), so it is returned as is: most of a table's cells, for one regular-expression
    match.
    """
    if _PLAIN_CELL.fullmatch(value):
        return value
    return neutralise(value, keep_numbers=not first)


class _Rows:
    """A text sink for ``csv.writer``: one whole row per ``write`` call, its ending last."""

    def __init__(self) -> None:
        self.rows: list[str] = []
        self.write = self.rows.append

    def text(self) -> str:
        """The rows, each ending with ``"\\n"`` instead of ``"\\r\\n"``."""
        return "".join([r[:-2] + "\n" if r.endswith("\r\n") else r for r in self.rows])


class CsvSink:
    """Rows streamed to an open text file as CSV, in batches, with counters.

    The text is what :func:`dashboard.tableexport.to_csv_text` makes of the same rows (every
    cell through the one neutraliser, the same quoting, rows ending with ``"\\n"``;
    ``tests/test_pull.py`` compares the two), without building a DataFrame per page.

    Parameters
    ----------
    out
        The file, opened for writing with ``newline=""``.
    columns
        The header, in order; a row's missing columns are empty cells.
    track
        A column whose largest whole-number value is kept (ACLED's ``timestamp``).
    neutralise
        Give cells a spreadsheet would run a ``'`` (as every table the product writes).
        False writes the served text as is, for a file that only the build reads (the
        database path), with the same quoting.
    """

    def __init__(
        self,
        out: IO[str],
        columns: Sequence[str],
        *,
        track: str | None = None,
        neutralise: bool = True,
    ) -> None:
        self.out = out
        self.columns = list(columns)
        self.track = track
        self.neutralise = neutralise
        self.hash = ContentHash()
        self.newest: int | None = None
        self._known = frozenset(self.columns)
        self._order = sorted(self._known)
        self._batch: list[list[str]] = []
        header = [
            safe_cell(c, first=i == 0) if neutralise else c for i, c in enumerate(self.columns)
        ]
        out.write(self._text([header]))

    @property
    def rows(self) -> int:
        return self.hash.rows

    def write(self, row: Mapping[str, str]) -> None:
        """Queue one row (cell texts by column name)."""
        if not row.keys() <= self._known:
            extra = [k for k in row if k not in self._known]
            raise PullError(
                f"a row has columns the file's header lacks ({', '.join(map(repr, extra[:5]))}): "
                "the source changed its columns during the pull; pull again"
            )
        self.hash.add(row, self._order)
        if self.track is not None:
            self.newest = newest(self.newest, row.get(self.track))
        self._batch.append([row.get(c, "") for c in self.columns])
        if len(self._batch) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Write the queued rows."""
        if not self._batch:
            return
        rows = self._batch
        if self.neutralise:
            # The first column has a rule of its own; the rest take the fast test inline.
            plain = _PLAIN_CELL.fullmatch
            rows = [
                [
                    safe_cell(r[0], first=True) if r[0] else r[0],
                    *[v if not v or plain(v) else safe_cell(v) for v in r[1:]],
                ]
                for r in rows
            ]
        self.out.write(self._text(rows))
        self._batch = []

    @staticmethod
    def _text(rows: list[list[str]]) -> str:
        sink = _Rows()
        # "\r\n" as the writer's terminator quotes any cell holding "\r" or "\n" (a bare
        # "\r" would otherwise split the row for every reader); each row's own ending then
        # becomes "\n", as tableexport writes.
        csv.writer(sink, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerows(rows)
        return sink.text()


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[IO[str]]:
    """A text file that becomes ``path`` only when the block ends without an exception.

    The data go to a temporary file in the same folder (so that the final rename cannot
    cross file systems), which is flushed, ``fsync``\\ ed and renamed over ``path`` with
    ``os.replace``; the folder is ``fsync``\\ ed too where the system allows. On any
    exception (a failed pull, Ctrl-C) the temporary file is removed and ``path`` is left as
    it was. The new file keeps the mode of the one it replaces (else 0644).

    Raises
    ------
    PullError
        The folder does not exist or cannot be written.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise PullError(f"{target}: the folder {str(folder)!r} does not exist")
    if target.is_dir():
        raise PullError(f"{target} is a folder; give a file name")
    try:
        handle, temp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part", dir=str(folder)
        )
    except OSError as exc:
        raise PullError(f"cannot write in {str(folder)!r}: {exc.strerror}") from None
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        mode = target.stat().st_mode & 0o7777 if target.exists() else 0o644
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a system that cannot open folders skips it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def open_table(
    path: str | os.PathLike[str], *, only: Sequence[str] | None = None
) -> Iterator[tuple[list[str], Iterator[Row]]]:
    """The header and the rows of a local copy, each cell restored to the served text.

    Reads UTF-8 (with or without BOM), ``,`` ``;`` or tab separated, one row at a time.
    ``only`` names the columns the rows need (the others are not restored nor kept: a
    pass that wants two columns of a wide file costs a fraction of one that wants all).

    Raises
    ------
    PullError
        Missing, not UTF-8, no header, or not CSV.
    """
    source = Path(path)
    if not source.is_file():
        raise PullError(f"{source}: no such file to update")
    try:
        handle = source.open("r", encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise PullError(f"{source}: {exc.strerror}") from None
    with handle:
        try:
            sample = handle.read(64 * 1024)
            handle.seek(0)
            reader = csv.reader(handle, delimiter=sniff_delimiter(sample))
            header = next(reader, None)
        except UnicodeDecodeError:
            raise PullError(
                f"{source} is not UTF-8 text: an update reads the files `conflictmap pull` "
                "writes (and UTF-8 exports)"
            ) from None
        if not header:
            raise PullError(f"{source} has no header row")
        columns = [restore(c).strip() for c in header]
        yield columns, _rows(reader, columns, source, only)


def _rows(
    reader: Any, columns: list[str], source: Path, only: Sequence[str] | None
) -> Iterator[Row]:
    width = len(columns)
    # (name, position) of the columns kept; all of them unless ``only`` says otherwise.
    kept = [(c, i) for i, c in enumerate(columns) if only is None or c in only]
    try:
        for record in reader:
            if not record or (len(record) == 1 and not record[0]):
                continue  # a blank line
            if len(record) != width:
                raise PullError(
                    f"{source}, line {reader.line_num}: {len(record)} fields where the "
                    f"header has {width}; the file is not a copy an update can merge into"
                )
            # A cell without a "'" holds no mark to undo: no call for it.
            yield {c: restore(v) if "'" in (v := record[i]) else v for c, i in kept}
    except UnicodeDecodeError:
        raise PullError(f"{source} is not UTF-8 text past its start") from None
    except csv.Error as exc:
        raise PullError(f"{source}, line {reader.line_num}: not readable as CSV ({exc})") from None


@dataclass
class MergeResult:
    """What merging changes into a local copy did."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted_ids: list[str] = field(default_factory=list)
    superseded: int = 0
    """Further rows of an id that was changed (a copy holding several versions of one id
    keeps the new version once)."""
    rows: int = 0
    content_hash: str = ""
    newest: int | None = None
    columns: list[str] = field(default_factory=list)


def merge_changes(
    source: str | os.PathLike[str],
    target: IO[str],
    *,
    changes: Mapping[str, Row],
    deleted: Mapping[str, int | None],
    id_column: str,
    track: str | None = None,
) -> MergeResult:
    """Stream the copy at ``source`` into ``target`` with ``changes`` and ``deleted`` applied.

    Parameters
    ----------
    source
        The local copy (read with :func:`open_table`).
    target
        Where the merged copy is written (from :func:`atomic_output`).
    changes
        Rows fetched since the copy's version, by id: an id the copy holds is replaced
        where it stands (or left alone when identical), a new id appended in the order given.
    deleted
        Ids the source deleted, with the time of deletion; a row is dropped unless the
        change fetched for it is newer than its deletion (published again).
    id_column
        The column holding the id (``event_id_cnty``).
    track
        As for :class:`CsvSink`.

    Returns
    -------
    MergeResult
        Counts, the ids removed, the new copy's rows, hash and newest ``track`` value.
    """
    result = MergeResult()
    with open_table(source) as (columns, rows):
        if id_column not in columns:
            raise PullError(f"{source} has no {id_column!r} column to merge by")
        added_columns = [c for row in changes.values() for c in row if c not in columns]
        header = [*columns, *dict.fromkeys(added_columns)]
        sink = CsvSink(target, header, track=track)
        placed: set[str] = set()
        dropped: set[str] = set()
        for row in rows:
            key = row[id_column]
            new = changes.get(key)
            if key in deleted and not _republished(new, deleted[key], track):
                if key not in dropped:
                    dropped.add(key)
                    result.deleted_ids.append(key)
                continue
            if new is None:
                sink.write(row)
            elif key in placed:
                result.superseded += 1
            else:
                placed.add(key)
                if same_row(row, new):
                    result.unchanged += 1
                    sink.write(row)
                else:
                    result.changed += 1
                    sink.write(new)
        for key, new in changes.items():
            if key not in placed and not (
                key in deleted and not _republished(new, deleted[key], track)
            ):
                result.added += 1
                sink.write(new)
        sink.flush()
    result.rows = sink.rows
    result.content_hash = sink.hash.hexdigest()
    result.newest = sink.newest
    result.columns = header
    return result


def same_row(old: Mapping[str, str], new: Mapping[str, str]) -> bool:
    """Whether two rows hold the same text in every column either has (a column one lacks
    counts as empty)."""
    return all(old.get(c, "") == new.get(c, "") for c in {*old, *new})


def _republished(new: Row | None, deleted_at: int | None, track: str | None) -> bool:
    """A row fetched for a deleted id counts only when it is newer than the deletion."""
    if new is None or track is None:
        return False
    stamp = newest(None, new.get(track))
    return stamp is not None and deleted_at is not None and stamp > deleted_at


def record_path(path: str | os.PathLike[str]) -> Path:
    """``FILE.pull.json``: what a pull asked, beside the copy it wrote."""
    target = Path(path)
    return target.with_name(target.name + RECORD_SUFFIX)


def write_record(path: str | os.PathLike[str], record: Mapping[str, Any]) -> Path:
    """Write the pull's record beside ``path`` (atomically, as the copy)."""
    out = record_path(path)
    stamped = {**record, "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    with atomic_output(out) as handle:
        handle.write(json.dumps(stamped, indent=2, ensure_ascii=False) + "\n")
    return out


def read_record(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The record beside ``path``, or None when there is none.

    Raises
    ------
    PullError
        It exists but is not a JSON object.
    """
    source = record_path(path)
    if not source.exists():
        return None
    try:
        payload = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PullError(f"{source}: not a readable pull record ({exc}); remove it") from None
    if not isinstance(payload, dict):
        raise PullError(f"{source}: not a pull record (expected a JSON object); remove it")
    return payload


def describe_timestamp(value: int | None) -> str:
    """``1718646153 (2024-06-17 17:42:33 UTC)``, or ``none`` for None."""
    if value is None:
        return "none"
    try:
        when = dt.datetime.fromtimestamp(value, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return str(value)
    return f"{value} ({when})"


def csv_text(rows: Sequence[Mapping[str, str]], columns: Sequence[str]) -> str:
    """Rows as the CSV text :class:`CsvSink` writes (tests and one-shot writers)."""
    buffer = io.StringIO()
    sink = CsvSink(buffer, columns)
    for row in rows:
        sink.write(row)
    sink.flush()
    return buffer.getvalue()
