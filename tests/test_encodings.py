"""Encodings of real exports: Windows-1252 read with a warning, cp1256 Arabic as before,
anything else refused with the --encoding hint, and --encoding given explicitly."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import run_cli

from dashboard import distributed, schema
from dashboard.errors import EncodingDetectionError
from dashboard.pipeline import BuildSettings
from dashboard.readers import read_events
from dashboard.report import WARNING
from dashboard.validation import load_events

HEADER = "event_id,event_date,latitude,longitude,notes\r\n"


def write(path: Path, rows: list[str], encoding: str) -> Path:
    path.write_bytes((HEADER + "".join(r + "\r\n" for r in rows)).encode(encoding))
    return path


def test_windows_1252_apostrophe_is_read_with_a_warning_naming_row_and_character(tmp_path):
    path = write(
        tmp_path / "ged.csv",
        ["1,2014-01-03,35.1,40.2,plain", "2,2014-01-04,35.1,40.2,the army\u2019s advance"],
        "cp1252",
    )
    result = load_events(path)
    assert result.report.rows_loaded == 2 and result.report.rows_rejected == 0
    assert result.events[schema.NOTES].tolist() == ["plain", "the army\u2019s advance"]
    (note,) = result.report.problems
    assert note.severity == WARNING and note.row is None
    assert note.message == (
        "read as Windows-1252 (not UTF-8): byte 0x92 at row 2 is \u2019; if that is not the "
        "character meant, give the encoding with --encoding (e.g. --encoding cp1251)"
    )


def test_arabic_windows_1256_still_wins(tmp_path):
    path = write(tmp_path / "ar.csv", ["1,2014-01-03,35.1,40.2,اشتباكات في المدينة"], "cp1256")
    read = read_events(path)
    assert read.encoding == "cp1256" and read.problems == []
    assert read.frame[schema.NOTES].tolist() == ["اشتباكات في المدينة"]


def test_a_byte_windows_1252_leaves_undefined_is_refused_with_the_option(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_bytes(HEADER.encode() + b"1,2014-01-03,35.1,40.2,caf\x81\r\n")
    with pytest.raises(EncodingDetectionError, match="0x81") as info:
        read_events(path)
    assert "--encoding" in str(info.value)
    done = run_cli("validate", str(path))
    assert done.returncode == 2 and "--encoding" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "notes",
    ["Kobanê’s eastern edge", "Informações da região", "Mädchenschule in Qamishli"],
    ids=["kurdish-apostrophe", "portuguese", "german"],
)
def test_western_text_in_windows_1252_is_read(tmp_path, notes):
    path = write(tmp_path / "west.csv", [f"1,2014-01-03,35.1,40.2,{notes}"], "cp1252")
    result = load_events(path)
    assert result.events[schema.NOTES].tolist() == [notes]
    assert result.report.problems[0].message.startswith("read as Windows-1252 (not UTF-8)")


@pytest.mark.parametrize(
    ("notes", "encoding"),
    [("Συγκρούσεις στην Αθήνα", "cp1253"), ("Бої під Києвом", "cp1251")],
    ids=["greek", "cyrillic"],
)
def test_another_alphabet_is_not_taken_for_windows_1252(tmp_path, notes, encoding):
    path = write(tmp_path / "other.csv", [f"1,2014-01-03,35.1,40.2,{notes}"], encoding)
    with pytest.raises(EncodingDetectionError, match="another alphabet") as info:
        read_events(path)
    assert "--encoding" in str(info.value)
    read = read_events(path, encoding=encoding)  # said, it reads
    assert read.frame[schema.NOTES].tolist() == [notes]


def test_utf8_mixed_with_windows_1252_is_refused(tmp_path):
    path = tmp_path / "mixed.csv"
    text = HEADER + "1,2014-01-03,35.1,40.2,Alep (région)\r\n"
    path.write_bytes(text.encode("utf-8") + "2,2014-01-04,35.1,40.2,it\u2019s\r\n".encode("cp1252"))
    with pytest.raises(EncodingDetectionError, match="mixes two encodings"):
        read_events(path)


def test_encoding_given_reads_the_file_that_detection_refuses(tmp_path):
    path = tmp_path / "cyrillic.csv"
    path.write_bytes(HEADER.encode() + "1,2014-01-03,35.1,40.2,Сирия\r\n".encode("cp1251"))
    result = load_events(path, encoding="cp1251")
    assert result.events[schema.NOTES].tolist() == ["Сирия"]
    assert result.report.problems == []  # said by the user: no warning
    done = run_cli("validate", str(path), "--encoding", "cp1251")
    assert done.returncode == 0, done.stderr


def test_encoding_given_that_does_not_fit_names_the_byte_and_the_option(tmp_path):
    path = write(tmp_path / "ar.csv", ["1,2014-01-03,35.1,40.2,اشتباكات"], "utf-8")
    with pytest.raises(EncodingDetectionError, match="given with --encoding"):
        read_events(path, encoding="ascii")


def test_encoding_in_the_mapping_file(tmp_path):
    path = tmp_path / "mapped.csv"
    path.write_bytes(b"id,day,lat,lon,notes\r\n1,2014-01-03,35.1,40.2,\xd1\xe8\xf0\xe8\xff\r\n")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        'encoding = "cp1251"\n[columns]\nid = "event_id"\nday = "event_date"\n'
        'lat = "latitude"\nlon = "longitude"\nnotes = "notes"\n',
        encoding="utf-8",
    )
    out = tmp_path / "geo.csv"
    done = run_cli("geocode", str(path), "-o", str(out), "--mapping", str(mapping))
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8").splitlines()[1].count("Сирия") == 1


def test_dask_build_of_a_windows_1252_file_matches_the_single_build(tmp_path):
    from dask_compare import same_build

    rows = [f"{i},2014-01-{i:02d},36.2,37.1,note {i}" for i in range(1, 21)]
    rows[12] = "13,2014-01-13,36.2,37.1,the army\u2019s advance"
    path = write(tmp_path / "ged.csv", rows, "cp1252")
    with distributed.connect("local", workers=2) as client:
        single, _ = same_build(
            path, tmp_path, client, rows=5, settings=BuildSettings(), on_workers=False
        )
    assert single.event_report.rows_loaded == 20
    assert "byte 0x92 at row 13" in single.event_report.problems[0].message
