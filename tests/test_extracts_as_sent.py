"""Extracts as municipalities send them (issue 14, section 2).

Each test writes a small hand-made extract into the tiny municipality (tests/conftest.py) and
reads it the way a run does. CPR numbers are synthetic (serials 0001, 0002, ... and 9999xx);
expected values are written by hand from the extract, never read from the pipeline's tables.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path

import pytest

from conftest import JOB_CSV, PERSONS_CSV, SOURCES_YAML, write_municipality
from targetgroup import extract, pipeline, stage
from targetgroup.config import load_sources
from targetgroup.errors import ConfigError, InputError, ValidationError
from targetgroup.warehouse import open_work

HEADER = "cpr,id,type,status,start,end,worker,team"


def _job(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def _sources(**changes: str) -> str:
    """SOURCES_YAML with the job source's settings changed: {'encoding': 'utf8', ...}."""
    extra = "".join(f"\n    {key}: {value}" for key, value in changes.items())
    return SOURCES_YAML.replace("    path: job.csv\n    format: csv", "    path: job.csv\n    format: csv" + extra)


def _staged(folder: Path):
    """Extract and stage the municipality in `folder`: (connection, StageResult)."""
    config = load_sources(folder / "sources.yaml")
    con = open_work(threads=1)
    result = stage.stage_all(con, config, extract.read_all(con, config).tables)
    return con, result


def _job_cases(con) -> list[tuple]:
    return con.execute("select case_id, status, active, start_date, end_date from cases "
                       "where source = 'job' order by line").fetchall()


# --- encodings ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("written", "meant"), [
    ("utf-8-sig", "utf-8"), ("utf8", "utf-8"), ("UTF-8", "utf-8"), ("UTF8-SIG", "utf-8"),
    ("latin1", "latin-1"), ("ISO-8859-1", "latin-1"), ("iso8859_1", "latin-1"), ("l1", "latin-1"),
    ("windows-1252", "cp1252"), ("cp-1252", "cp1252"), ("CP1252", "cp1252"), ("win1252", "cp1252"),
])
def test_common_encoding_names_are_accepted(tmp_path, written, meant):
    write_municipality(tmp_path, **{"sources.yaml": _sources(encoding=f'"{written}"')})
    assert load_sources(tmp_path / "sources.yaml").source("job").encoding == meant


def test_an_unknown_encoding_names_the_accepted_ones(tmp_path):
    write_municipality(tmp_path, **{"sources.yaml": _sources(encoding="utf-16")})
    with pytest.raises(ConfigError) as info:
        load_sources(tmp_path / "sources.yaml")
    assert "unknown encoding 'utf-16'" in str(info.value) and "windows-1252" in str(info.value)


def test_utf8_sig_file_with_bom_is_read(tmp_path):
    write_municipality(tmp_path, **{"sources.yaml": _sources(encoding="utf-8-sig")})
    (tmp_path / "job.csv").write_bytes(b"\xef\xbb\xbf" + JOB_CSV.encode("utf-8"))
    con, _ = _staged(tmp_path)
    assert [r[0] for r in _job_cases(con)] == ["J1", "J2", "J3", "J4", "J5"]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_bom_in_a_file_configured_as_latin1_says_it_is_utf8(tmp_path, encoding):
    write_municipality(tmp_path, **{"sources.yaml": _sources(encoding=encoding)})
    (tmp_path / "job.csv").write_bytes(b"\xef\xbb\xbf" + JOB_CSV.encode("utf-8"))
    with pytest.raises(InputError) as info:
        _staged(tmp_path)
    assert "job.csv:1 (source job): the file starts with a UTF-8 byte-order mark" in str(info.value)
    assert "set encoding: utf-8" in str(info.value)


# --- date formats --------------------------------------------------------------------------------

def test_date_format_with_a_time_of_day(tmp_path):
    job = _job("0101800001,J1,T,AKT,2020-01-01 08:30:00,2026-12-31 23:59:59,W,T",
               "0303900004,J2,T,AKT,2026-11-01 00:00:00,,W,T")
    write_municipality(tmp_path, **{"sources.yaml": _sources(date_format='"%Y-%m-%d %H:%M:%S"'), "job.csv": job})
    con, result = _staged(tmp_path)
    assert result.rows_rejected["job"] == 0
    assert _job_cases(con) == [("J1", "AKT", True, date(2020, 1, 1), date(2026, 12, 31)),
                               ("J2", "AKT", True, date(2026, 11, 1), None)]


def test_a_time_of_day_after_a_date_only_format_is_ignored(tmp_path):
    job = _job("0101800001,J1,T,AKT,2020-01-01 08:30,2026-12-31T10:00:00,W,T")
    write_municipality(tmp_path, **{"job.csv": job})
    con, _ = _staged(tmp_path)
    assert _job_cases(con) == [("J1", "AKT", True, date(2020, 1, 1), date(2026, 12, 31))]


@pytest.mark.parametrize(("fmt", "start", "end"), [
    ("%d %b %Y", "15 Oct 2026", "1 maj 2027"),
    ("%d-%b-%Y", "15-OCT-2026", "01-MAJ-2027"),
    ("%d-%b-%Y", "15-okt-2026", "01-May-2027"),
    ("%d. %b %Y", "15. OKT 2026", "1. Maj 2027"),
    ("%d %b %Y %H:%M", "15 okt 2026 10:15", "1 maj 2027 00:00"),
])
def test_month_names_english_and_danish(tmp_path, fmt, start, end):
    job = _job(f'0101800001,J1,T,AKT,"{start}","{end}",W,T')
    write_municipality(tmp_path, **{"sources.yaml": _sources(date_format=f'"{fmt}"'), "job.csv": job})
    con, result = _staged(tmp_path)
    assert result.rows_rejected["job"] == 0
    assert _job_cases(con) == [("J1", "AKT", True, date(2026, 10, 15), date(2027, 5, 1))]


def test_every_danish_month_abbreviation(tmp_path):
    months = "jan feb mar apr maj jun jul aug sep okt nov dec".split()
    job = _job(*(f"01018000{i + 10},J{i + 1},T,AKT,03-{m.upper() if i % 2 else m}-2020,,W,T"
                 for i, m in enumerate(months)))
    write_municipality(tmp_path, **{"sources.yaml": _sources(date_format='"%d-%b-%Y"'), "job.csv": job})
    con, result = _staged(tmp_path)
    assert result.rows_rejected["job"] == 0
    assert [r[3] for r in _job_cases(con)] == [date(2020, m, 3) for m in range(1, 13)]


def test_a_bad_date_names_line_and_format_never_the_cell(tmp_path):
    job = _job("0101800001,J1,T,AKT,15 okt 2026,,W,T", "0303900004,J2,T,AKT,0303999911,,W,T")
    write_municipality(tmp_path, **{"sources.yaml": _sources(date_format='"%d-%m-%Y"'), "job.csv": job})
    con, _ = _staged(tmp_path)
    rejects = con.execute("select file, line, field, reason from rejects where source = 'job' order by line"
                          ).fetchall()
    assert rejects == [("job.csv", 2, "start_date", "start date is not a date in %d-%m-%Y"),
                       ("job.csv", 3, "start_date", "start date is not a date in %d-%m-%Y")]


def test_dates_with_and_without_a_time_of_day_mixed_over_many_rows(tmp_path):
    # thousands of rows (several of DuckDB's 2,048-row vectors) where plain dates, dates with a
    # time of day and bad dates alternate: each cell is parsed on its own, whichever way the
    # macro takes for the others in its vector (issue 17: the time of day is only cut when needed)
    spellings = ["2020-01-{d:02d}", "2020-01-{d:02d} 08:30", "2020-01-{d:02d}T10:00:00.000+01:00", "2020-01-{d:02d}x"]
    rows, expected = [], []
    for i in range(5000):
        day = i % 28 + 1
        start = spellings[i % 4].format(d=day)
        rows.append(f"0101800001,J{i},T,AKT,{start},2026-12-{day:02d},W,T")
        if i % 4 != 3:    # '2020-01-05x' is not a date: the row is rejected
            expected.append((f"J{i}", date(2020, 1, day), date(2026, 12, day)))
    write_municipality(tmp_path, **{"sources.yaml": _sources(date_format='"%Y-%m-%d"'), "job.csv": _job(*rows)})
    con, result = _staged(tmp_path)
    assert result.rows_rejected["job"] == 1250
    assert [(r[0], r[3], r[4]) for r in _job_cases(con)] == expected


# --- native date cells: date_format applies to text cells only ----------------------------------------

def _parquet_job(folder: Path) -> None:
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415
    from datetime import datetime  # noqa: PLC0415

    table = pa.table({
        "cpr": ["0101800001", "0303900004"], "id": ["J1", "J2"], "type": ["T", "T"], "status": ["AKT", "PAS"],
        "start": pa.array([date(2020, 1, 1), date(2021, 2, 3)], pa.date32()),
        "end": pa.array([datetime(2026, 12, 31, 13, 45), None], pa.timestamp("us")),
        "worker": ["W", "W"], "team": ["T", "T"]})
    pq.write_table(table, folder / "job.parquet")


def test_parquet_date_cells_ignore_the_text_date_format(tmp_path):
    sources = SOURCES_YAML.replace("path: job.csv\n    format: csv",
                                   'path: job.parquet\n    format: parquet\n    date_format: "%d-%m-%Y"')
    write_municipality(tmp_path, **{"sources.yaml": sources})
    _parquet_job(tmp_path)
    con, result = _staged(tmp_path)
    assert result.rows_rejected["job"] == 0
    assert _job_cases(con) == [("J1", "AKT", True, date(2020, 1, 1), date(2026, 12, 31)),
                               ("J2", "PAS", False, date(2021, 2, 3), None)]


def test_excel_date_cells_ignore_the_text_date_format(tmp_path):
    from datetime import datetime  # noqa: PLC0415

    import pandas as pd  # noqa: PLC0415

    sources = SOURCES_YAML.replace("path: job.csv\n    format: csv",
                                   'path: job.xlsx\n    format: xlsx\n    date_format: "%d %b %Y"')
    write_municipality(tmp_path, **{"sources.yaml": sources})
    frame = pd.DataFrame({"cpr": ["0101800001", "0303900004"], "id": ["J1", "J2"], "type": ["T", "T"],
                          "status": ["AKT", "AKT"],
                          "start": [datetime(2020, 1, 1), datetime(2021, 2, 3, 10, 0)],
                          "end": ["31 dec 2026", None],   # text cells: the date format applies
                          "worker": ["W", "W"], "team": ["T", "T"]})
    frame.to_excel(tmp_path / "job.xlsx", index=False)
    con, result = _staged(tmp_path)
    # the date column stays a date column; the text column is text
    assert dict(con.execute("select column_name, column_type from (describe raw_job)").fetchall())["start"] \
        .startswith("TIMESTAMP")
    assert result.rows_rejected["job"] == 0
    assert _job_cases(con) == [("J1", "AKT", True, date(2020, 1, 1), date(2026, 12, 31)),
                               ("J2", "AKT", True, date(2021, 2, 3), None)]


# --- waiting lists, status codes -------------------------------------------------------------------

def test_waiting_list_rows_are_inactive_cases_not_rejects(tmp_path):
    job = _job("0101800001,J1,T,AKT,2020-01-01,,W,T",
               "0303900004,J2,T,PAS,,,W,T",          # on the waiting list: inactive, no start date
               "0606900007,J3,T, afs ,,,W,T",
               "0404900005,J4,T,AKT,,,W,T")          # active without a start date: a data error
    write_municipality(tmp_path, **{"job.csv": job})
    con, result = _staged(tmp_path)
    assert _job_cases(con) == [("J1", "AKT", True, date(2020, 1, 1), None),
                               ("J2", "PAS", False, None, None),
                               ("J3", "afs", False, None, None)]
    assert result.rows_rejected["job"] == 1
    assert con.execute("select line, field, reason from rejects where source = 'job'").fetchall() == [
        (5, "start_date", "start date is empty")]


def test_status_codes_are_trimmed_of_tabs_and_non_breaking_spaces(tmp_path):
    job = _job("0101800001,J1,T,\tAKT\t,2020-01-01,,W,T",
               "0303900004,J2,T,\u00a0akt\u00a0,2020-01-01,,W,T",
               "0606900007,J3,T, \u00a0PAS\t ,2020-01-01,,W,T")
    sources = _sources().replace("statuses: {AKT: true", 'statuses: {"AKT\\u00a0": true')
    write_municipality(tmp_path, **{"job.csv": job, "sources.yaml": sources})
    con, _ = _staged(tmp_path)
    assert [r[1:3] for r in _job_cases(con)] == [("AKT", True), ("akt", True), ("PAS", False)]


def test_person_exact_duplicates_are_counted(tmp_path):
    persons = PERSONS_CSV + "0303900004,Dorte Fiktiv,1990-03-03,H3,,,,\n" * 2 \
        + "0606900007,Gert Fiktiv,1990-06-06,H6,,,,\n"
    write_municipality(tmp_path, **{"persons.csv": persons})
    con, result = _staged(tmp_path)
    assert result.duplicates["persons"] == 3
    assert result.persons == 7
    assert result.duplicates["job"] == 0


# --- line endings and missing headers --------------------------------------------------------------

def test_mixed_crlf_and_lf_line_endings_are_read(tmp_path):
    write_municipality(tmp_path)
    lines = JOB_CSV.splitlines()
    (tmp_path / "job.csv").write_bytes(
        b"".join((line + ("\r\n" if i % 2 else "\n")).encode("utf-8") for i, line in enumerate(lines)))
    con, result = _staged(tmp_path)
    assert result.rows_rejected["job"] == 0
    assert con.execute("select case_id, status, team, line from cases where source = 'job' order by line"
                       ).fetchall() == [(f"J{i}", "AKT", "Team A", i + 1) for i in range(1, 6)]


def test_mixed_line_endings_with_a_broken_line_names_file_and_line(tmp_path):
    write_municipality(tmp_path)
    text = "cpr,id,type,status,start,end,worker,team\r\n0101800001,J1,T,AKT,2020-01-01,,W,T\r\n" \
           "0303900004,J2,T,AKT,2020-01-01,,W,T\n0606900007,J3,T,AKT\r\n"
    (tmp_path / "job.csv").write_bytes(text.encode("utf-8"))
    with pytest.raises(InputError) as info:
        _staged(tmp_path)
    message = str(info.value)
    assert "job.csv:4 (source job): the line has fewer fields than the header" in message
    assert "encoding" not in message


def test_headerless_latin1_file_names_file_and_line_1(tmp_path):
    buf = "010115-0002;B1;Forebyggende;Aktiv;01-01-2024;;Søs Ærø;Familie Nord\n" \
          "010115-0002;B2;Forebyggende;Aktiv;01-01-2024;;Søs Ærø;Familie Nord\n"
    write_municipality(tmp_path, **{"buf.csv": buf})
    with pytest.raises(InputError) as info:
        _staged(tmp_path)
    message = str(info.value)
    assert "buf.csv:1 (source buf): missing header: expected columns CPR-nr, Sagsnr, Sagstype," in message
    assert "internal error" not in message and "0002" not in message


# --- the quality gate and the manifest: one run each -------------------------------------------------

def _settings(sources: Path, tmp_path: Path) -> pipeline.RunSettings:
    return pipeline.RunSettings(sources=sources, as_of=date(2026, 11, 1), out=tmp_path / "out", threads=1)


UNDECLARED = _job("0101800001,J1,T,AKT,2020-01-01,,W,T",
                  "0303900004,J2,T,VENT,2020-01-01,,W,T",
                  "0606900007,J3,T,AKT,2020-01-01,,W,T",
                  "0404900005,J4,T,Vent,2020-01-01,,W,T",
                  "0505900006,J5,T,NY\x07KODE,,,W,T",
                  "0303900004,J6,T,0303999912,2020-01-01,,W,T")


@pytest.mark.slow
def test_undeclared_status_codes_stop_the_run_by_default(tmp_path):
    sources = write_municipality(tmp_path / "in", **{"job.csv": UNDECLARED})
    with pytest.raises(ValidationError) as info:
        pipeline.run_pipeline(_settings(sources, tmp_path))
    message = str(info.value)
    assert "source job: status_known: 3 undeclared status code(s) on 4 row(s): " \
           "'vent' (2 rows, first job.csv:3), 'nykode' (1 row, first job.csv:6), " \
           "(a code not shown: it may be personal data) (1 row, first job.csv:7)" in message
    assert "add each code under statuses: of source job" in message
    assert "0303999912" not in message and "\x07" not in message
    assert "nothing was stored" in message


@pytest.mark.slow
def test_manifest_records_symlinks_person_duplicates_and_lowered_status_severity(tmp_path, caplog):
    persons = PERSONS_CSV + "0303900004,Dorte Fiktiv,1990-03-03,H3,,,,\n"
    sources = write_municipality(tmp_path / "in", **{
        "job.csv": UNDECLARED, "persons.csv": persons,
        "sources.yaml": SOURCES_YAML.replace("path: soc.csv", "path: soc_link.csv")
        + "quality: {severity: {job.status_known: warning}}\n"})
    real = tmp_path / "delivered" / "soc_2026-11-01.csv"
    real.parent.mkdir()
    (tmp_path / "in" / "soc.csv").rename(real)
    (tmp_path / "in" / "soc_link.csv").symlink_to(real)
    with caplog.at_level(logging.INFO, logger="targetgroup"):
        run = pipeline.run_pipeline(_settings(sources, tmp_path))
    manifest = json.loads((run.report_dir / "manifest.json").read_text(encoding="utf-8"))
    inputs = {i["source"]: i for i in manifest["inputs"]}
    assert inputs["soc"]["path"] == str(tmp_path / "in" / "soc_link.csv")
    assert inputs["soc"]["resolved_path"] == str(real)
    assert "resolved_path" not in inputs["job"]
    assert f"soc_link.csv is a symbolic link to {real}" in caplog.text
    assert inputs["persons"]["exact_duplicates"] == 1
    [warning] = [w for w in manifest["quality"]["warnings"] if "status_known" in w]
    assert "3 undeclared status code(s) on 4 row(s)" in warning
    assert manifest["quality"]["rows_quarantined"]["job"] == {"status_known": 4}
