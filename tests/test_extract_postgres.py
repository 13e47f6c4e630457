"""`format: postgresql` sources (targetgroup.extract_postgres) against a real PostgreSQL server.

One throwaway cluster per module (tests/pg_cluster.py): a superuser loads the sample's jobcentre
extract (job_momentum.xlsx, read here with pandas) into a table with native types (the CPR as a
bigint, so Excel's lost leading zeros stay lost; start as date, end as timestamp) behind a view,
and a read-only login `tg_reader` may SELECT on that view and nothing else. The password below is
a test credential of this throwaway server. Expected flags come from the run that reads the same
extract from its file.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from targetgroup import extract_postgres
from targetgroup.config import SAMPLE_SOURCES, load_sources
from targetgroup.errors import ConfigError, InputError, TargetGroupError
from targetgroup import pipeline
from targetgroup.pipeline import RunSettings, run_pipeline
from targetgroup.rules.load import DEFAULT_RULES
from targetgroup.warehouse import open_work
from tests import pg_cluster

PASSWORD = "Fiktiv-kodeord-42"   # the throwaway test server's; never a real one
AS_OF = date(2026, 11, 1)
ODENSE = DEFAULT_RULES.parent / "odense.yaml"   # children's cases (BUF) with a parent's jobcentre case (JOB)
JOB_COLUMNS = {"cpr": "Personnummer", "case_id": "Forløbs-ID", "case_type": "Målgruppe", "status": "Status",
               "start_date": "Startdato", "end_date": "Slutdato", "caseworker": "Sagsbehandler",
               "team": "Afdeling"}


@pytest.fixture(scope="module")
def cluster():
    try:
        started = pg_cluster.start()
    except pg_cluster.Unavailable as exc:
        pytest.skip(f"no PostgreSQL server can be started here: {exc}")
    try:
        _load_job_extract(started)
        yield started
    finally:
        started.stop()


def _job_frame() -> pd.DataFrame:
    return pd.read_excel(SAMPLE_SOURCES.parent / "job_momentum.xlsx", sheet_name="Forløb", engine="calamine")


def _load_job_extract(cluster: pg_cluster.Cluster) -> None:
    frame = _job_frame()
    data = io.StringIO()
    frame.to_csv(data, index=False, header=False, date_format="%Y-%m-%d %H:%M:%S")
    cluster.admin(f"""
        create database cases;
        \\connect cases
        create schema momentum;
        create table momentum.sager (
            "Personnummer" bigint, "Forløbs-ID" text, "Målgruppe" text, "Status" text,
            "Startdato" date, "Slutdato" timestamp, "Sagsbehandler" text, "Afdeling" text);
        copy momentum.sager from stdin with (format csv);
{data.getvalue()}\\.
        create view momentum.v_sager as select * from momentum.sager;
        create role tg_reader login password '{PASSWORD}';
        grant usage on schema momentum to tg_reader;
        grant select on momentum.v_sager to tg_reader;
        """)


def _sources(folder: Path, job: dict) -> Path:
    """The sample's sources file with the person extract, the children's and the jobcentre's
    sources only (files by absolute path); `job` replaces the jobcentre source's reading keys."""
    data = yaml.safe_load(SAMPLE_SOURCES.read_text(encoding="utf-8"))
    data["persons"]["path"] = str(SAMPLE_SOURCES.parent / data["persons"]["path"])
    kept = []
    for src in data["sources"]:
        if src["name"] in ("buf_dubu", "job_momentum"):
            src["path"] = str(SAMPLE_SOURCES.parent / src["path"])
            kept.append(src)
    jobs = kept[1]
    for key in ("path", "sheet"):
        jobs.pop(key)
    jobs.update(job)
    data["sources"] = kept
    data.pop("outcomes", None)   # its case types belong to departments left out here
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sources.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _db_source(**extra) -> dict:
    return {"format": "postgresql", "connection": {"env": "TG_TEST_JOB_DB"}, "table": "momentum.v_sager",
            "date_format": "%d-%m-%Y", **extra}


@pytest.fixture
def job_db(cluster, monkeypatch):
    monkeypatch.setenv("TG_TEST_JOB_DB", cluster.uri("tg_reader", PASSWORD, "cases"))
    return cluster


def _flags(warehouse: Path) -> set[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {(cpr, rule, tuple(depts)) for cpr, rule, depts in
                con.execute("select cpr, rule_id, list_sort(departments) from targets").fetchall()}


def _file_run_flags(sources: Path, out: Path) -> set[tuple]:
    """The flags of the same run reading the extract from its file: the pipeline's own stages up to
    identification (the quality gate passes the sample whole; its 10-20 s are spent once, below)."""
    run = pipeline.prepare(RunSettings(sources=sources, rules=ODENSE, as_of=AS_OF, out=out))
    try:
        pipeline.extract(run)
        pipeline.stage(run)
        pipeline.identify(run)
        return {(cpr, rule, tuple(depts)) for cpr, rule, depts in
                run.con.execute("select cpr, rule_id, list_sort(departments) from targets").fetchall()}
    finally:
        run.close()


# --- the run: flags equal the file run's -------------------------------------------------------

@pytest.mark.slow
def test_database_run_flags_equal_file_run_flags(job_db, tmp_path, caplog):
    expected = _file_run_flags(_sources(tmp_path / "f", {"path": str(SAMPLE_SOURCES.parent / "job_momentum.xlsx"),
                                                         "sheet": "Forløb"}), tmp_path / "f" / "out")
    db_run = run_pipeline(RunSettings(sources=_sources(tmp_path / "d", _db_source()), rules=ODENSE, as_of=AS_OF,
                                      out=tmp_path / "d" / "out"))
    assert len(expected) > 500 and sum("JOB" in depts for *_, depts in expected) > 200
    assert _flags(db_run.settings.warehouse_path) == expected

    manifest = json.loads((db_run.report_dir / "manifest.json").read_text(encoding="utf-8"))
    entry = next(i for i in manifest["inputs"] if i["source"] == "job_momentum")
    assert entry["host"] == "127.0.0.1" and entry["port"] == job_db.port and entry["database"] == "cases"
    assert entry["rows_read"] == len(_job_frame()) and entry["rows_rejected"] == 0
    assert entry["query_sha256"] == hashlib.sha256(b'select * from "momentum"."v_sager"').hexdigest()
    # the numeric CPRs that lost their leading zero were repaired, as from the Excel file
    lost = int((_job_frame()["Personnummer"] < 1_000_000_000).sum())
    assert lost > 0 and entry["cprs_repaired"] == lost
    text = (db_run.report_dir / "manifest.json").read_text(encoding="utf-8") + caplog.text
    assert PASSWORD not in text and "tg_reader" not in text


# --- reading: types, and errors that name the source and never the URI --------------------------

def _read(extract_keys: dict, tmp_path: Path, table: str = "raw_job_momentum"):
    """Read the database source alone into a fresh work connection; returns (con, FileRead)."""
    config = load_sources(_sources(tmp_path, extract_keys))
    con = open_work(threads=1)
    return con, extract_postgres.read_source(con, config.source("job_momentum"), config.base, table)


def test_native_types_map_without_date_format(job_db, tmp_path):
    # the source's date_format (%d-%m-%Y) does not fit ISO dates: native dates must not be parsed with it
    con, read = _read(_db_source(), tmp_path)
    assert read.rows == len(_job_frame())
    kinds = dict((r[0], r[1]) for r in con.execute("describe raw_job_momentum").fetchall())
    assert kinds["Startdato"] == "DATE" and kinds["Slutdato"] == "TIMESTAMP" and kinds["Personnummer"] == "VARCHAR"
    first = _job_frame().iloc[0]
    row = con.execute('select "Personnummer", "Startdato", _file, _line from raw_job_momentum where _line = 1').fetchone()
    assert row == (str(first["Personnummer"]), first["Startdato"].date(), f"postgresql://127.0.0.1:{job_db.port}/cases", 1)


def test_numbers_as_text_and_zoned_timestamps_as_local_time(job_db, tmp_path):
    query = """select *, 101901234::float8 as f, 101901234::numeric(12, 0) as n, 2.5::float8 as half,
                      timestamptz '2026-10-14 23:30:00+00' as zoned from momentum.v_sager limit 1"""
    con, _ = _read(_db_source(table=None, query=query), tmp_path)
    row = con.execute("select f, n, half, zoned::date from raw_job_momentum").fetchone()
    # whole numbers without '.0' (a lost leading zero is then repaired as for Excel); Copenhagen is UTC+2 then
    assert row == ("101901234", "101901234", "2.5", date(2026, 10, 15))


def test_staging_takes_native_dates_as_dates(job_db, tmp_path):
    from targetgroup.stage import stage_all
    from targetgroup.extract import read_all

    config = load_sources(_sources(tmp_path, _db_source()))
    con = open_work(threads=1)
    result = read_all(con, config)
    staged = stage_all(con, config, result.tables)
    assert staged.rows_rejected["job_momentum"] == 0
    frame = _job_frame()
    got = con.execute("select count(*), min(start_date), max(end_date) from cases where source = 'job_momentum'").fetchone()
    assert got[1] == frame["Startdato"].min().date() and got[2] == frame["Slutdato"].max().date()


@pytest.mark.parametrize("keys, problem", [
    ({"table": "momentum.v_missing"}, "the table or view does not exist"),
    ({"table": "momentum.sager"}, "no permission to read the table or view"),
    ({"table": None, "query": "select nope from momentum.v_sager"}, "names a column that does not exist"),
    ({"table": None, "query": 'select *, 1 / (row_number() over () - 1000)::int as x from momentum.v_sager'},
     "failed while its rows were read"),
    ({"table": None, "query": 'select *, ("Sagsbehandler" || "Personnummer")::int as x from momentum.v_sager'},
     "failed while its rows were read (a value cannot be converted)"),
    ({"table": None, "query": "select v.*, pg_sleep(3) from momentum.v_sager as v limit 1",
      "statement_timeout_seconds": 1}, "longer than the statement timeout"),
    ({"table": None, "query": "insert into momentum.sager select * from momentum.sager"}, "tried to change the database"),
    ({"table": None, "query": 'select *, 1 as "x\ny" from momentum.v_sager'}, "of the header contains a newline"),
])
def test_query_errors_are_clear_and_leave_nothing(job_db, tmp_path, keys, problem):
    source = _db_source(**keys)
    source = {k: v for k, v in source.items() if v is not None}
    with pytest.raises(InputError) as caught:
        _read(source, tmp_path)
    text = str(caught.value)
    assert problem in text and "source job_momentum" in text
    assert f"postgresql://127.0.0.1:{job_db.port}/cases" in text
    assert PASSWORD not in text and "tg_reader" not in text and '"' not in text.split("hint")[0]


def test_missing_mapped_column(job_db, tmp_path):
    source = _db_source(columns={**JOB_COLUMNS, "team": "Enhed"})
    with pytest.raises(InputError, match=r"mapped column\(s\) missing: team -> 'Enhed'"):
        _read(source, tmp_path)


@pytest.mark.parametrize("uri, problem", [
    (lambda c: c.uri("tg_reader", "forkert-kodeord", "cases"), "refused the login"),
    (lambda c: c.uri("tg_reader", PASSWORD, "cases").replace(f":{c.port}/", f":{_closed_port()}/"),
     "cannot be reached"),
    (lambda c: c.uri("tg_reader", PASSWORD, "ingen_db"), "database does not exist"),
])
def test_connection_errors_never_show_the_uri(cluster, tmp_path, monkeypatch, uri, problem):
    monkeypatch.setenv("TG_TEST_JOB_DB", uri(cluster))
    with pytest.raises(InputError) as caught:
        _read(_db_source(), tmp_path)
    text = str(caught.value)
    assert problem in text and "source job_momentum" in text
    assert PASSWORD not in text and "forkert" not in text and "tg_reader" not in text


def _closed_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_failed_read_leaves_the_warehouse_unchanged(job_db, tmp_path):
    out = tmp_path / "out"
    sources = _sources(tmp_path / "bad", _db_source(table=None, query="select 1 / 0 as x, * from momentum.v_sager"))
    with pytest.raises(InputError, match="division by zero"):
        run_pipeline(RunSettings(sources=sources, as_of=AS_OF, out=out))
    assert not (out / "warehouse.duckdb").exists()
    failed = list((out / "failed").glob("*/manifest.json")) if (out / "failed").exists() else []
    for manifest in failed:
        assert PASSWORD not in manifest.read_text(encoding="utf-8")


def test_connection_file_must_be_owner_only(cluster, tmp_path):
    secret = tmp_path / "job.uri"
    secret.write_text(cluster.uri("tg_reader", PASSWORD, "cases") + "\n", encoding="utf-8")
    secret.chmod(0o644)
    source = _db_source(connection={"file": str(secret)})
    with pytest.raises(ConfigError, match="can be read by others") as caught:
        _read(source, tmp_path)
    assert PASSWORD not in str(caught.value)
    secret.chmod(0o600)
    _, read = _read(source, tmp_path)
    assert read.rows == len(_job_frame())


# --- the sources file: checked when it is loaded (no server needed) ----------------------------

@pytest.mark.parametrize("keys, problem", [
    ({"path": "x.csv"}, "a postgresql source has no path"),
    ({"connection": None}, "needs connection"),
    ({"query": "select 1"}, "exactly one of query or table"),
    ({"table": None}, "exactly one of query or table"),
    ({"connection": {"env": "A", "file": "b"}}, "exactly one of env"),
    ({"connection": {"env": "NOT A NAME"}}, "should match pattern"),
    ({"table": "a..b"}, "table is a name, schema.name"),
    ({"statement_timeout_seconds": 0}, "greater than or equal to 1"),
])
def test_postgresql_source_checked_at_load(tmp_path, keys, problem):
    source = {k: v for k, v in _db_source(**keys).items() if v is not None}
    with pytest.raises(ConfigError, match=problem) as caught:
        load_sources(_sources(tmp_path, source))
    assert "sources.yaml:" in str(caught.value) and caught.value.line is not None


def test_file_source_refuses_database_keys(tmp_path):
    with pytest.raises(ConfigError, match="query only apply to format: postgresql"):
        load_sources(_sources(tmp_path, {"path": str(SAMPLE_SOURCES.parent / "job_momentum.xlsx"),
                                         "format": "xlsx", "query": "select 1"}))


def test_unset_variable_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.delenv("TG_TEST_JOB_DB", raising=False)
    config = load_sources(_sources(tmp_path, _db_source()))
    with pytest.raises(ConfigError, match="environment variable TG_TEST_JOB_DB is not set"):
        extract_postgres.connection_uri(config.source("job_momentum"), config.base)


def test_person_extract_can_be_a_database_source(tmp_path):
    path = _sources(tmp_path, _db_source())
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["persons"] = {"name": "cpr_register", "format": "postgresql", "connection": {"file": "cpr.uri"},
                       "query": "select * from cpr.v_personer", "columns": data["persons"]["columns"]}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_sources(path).persons.format == "postgresql"


def test_table_name_is_quoted_part_by_part():
    from targetgroup.config import Connection, Extract

    ex = Extract(name="x", format="postgresql", connection=Connection(env="X"), table='momentum.v"; drop', columns={})
    assert extract_postgres.query_text(ex) == 'select * from "momentum"."v""; drop"'


def test_target_never_holds_credentials():
    target = extract_postgres.target_of(f"postgresql://tg_reader:{PASSWORD}@db.kommune.local:6543/sager?sslmode=require")
    assert (target.host, target.port, target.database) == ("db.kommune.local", 6543, "sager")
    assert PASSWORD not in target.location and "tg_reader" not in target.location


def test_error_wording_never_repeats_driver_text():
    class DriverError(Exception):
        sqlstate = None

    from targetgroup.config import Connection, Extract
    ex = Extract(name="x", format="postgresql", connection=Connection(env="X"), table="t", columns={})
    target = extract_postgres.Target("h", 5432, "d")
    leak = DriverError(f'ERROR: invalid input syntax for type integer: "0101901234" postgresql://u:{PASSWORD}@h/d')
    err = extract_postgres._input_error(leak, ex, target, midway=True)
    assert isinstance(err, TargetGroupError)
    assert "0101901234" not in str(err) and PASSWORD not in str(err) and "cannot be converted" in str(err)
