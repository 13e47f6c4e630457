"""Consent: recorded consents (department files and `targetgroup consent`) and each citizen's
consent status on the as-of date, combined with the extracts' consent column (docs/consent.md).

    import_files(con, config, folder, warehouse)  -> tables consent_records, consent_new
    build_status(con, as_of)                      -> table consent_status (sql/consent_status.sql)
    store_step(run_id)                            -> commit step: consent_new into wh.consents
    add_consent(warehouse, ...)                   -> id of a record made from the command line
    citizen_consents(warehouse, cpr)              -> one citizen's records, newest first

Grains: `consent_records` one row per consent record (stored ones and this run's new file
rows); `consent_status` one row per citizen with a recorded consent or a consent value in an
active case. A record names the consent (given | refused | withdrawn), the departments it
covers (empty: all), who recorded it, on which date, and until when it holds.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from targetgroup import reader
from targetgroup.config import SourcesConfig
from targetgroup.cpr import mask
from targetgroup.errors import InputError
from targetgroup.register.imports import department_files
from targetgroup.warehouse import ALIAS, copy_stored, run_sql

CONSENTS = ("given", "refused", "withdrawn")
FILE_COLUMNS = ("cpr", "consent", "departments", "recorded_by", "recorded_on", "until")
TABLE_DDL = f"""create table if not exists {ALIAS}.consents (
    consent_id varchar not null,
    cpr varchar not null,
    consent varchar not null,
    departments varchar[] not null,
    recorded_by varchar not null,
    recorded_in_department varchar,
    recorded_on date not null,
    until date,
    origin varchar not null,
    created_at timestamp not null
)"""
RECORDS_EMPTY = """create or replace temp table {name} (
    consent_id varchar, cpr varchar, consent varchar, departments varchar[], recorded_by varchar,
    recorded_in_department varchar, recorded_on date, until date, origin varchar, created_at timestamp)"""


def consent_files(folder: Path | None) -> list[Path]:
    """The consent files in `folder` (`<DEPT>.csv`), sorted; none when no folder is configured."""
    return department_files(folder, "consents", "consents: in the sources file")


def import_files(con: duckdb.DuckDBPyConnection, config: SourcesConfig, folder: Path | None,
                 warehouse: Path | None) -> int:
    """Read the stored records and every department's consent file; returns the new records.

    A file row the register holds already (same department, CPR, consent, departments, by, date
    and until) is not new. A bad row stops the run with file, line and problem (never its value).
    """
    con.execute(RECORDS_EMPTY.format(name="consent_records"))
    con.execute(RECORDS_EMPTY.format(name="consent_new"))
    copy_stored(con, warehouse, "consents", "consent_records")
    rows = []
    for path in consent_files(folder):
        department = path.stem.upper()
        if department not in config.departments:
            raise InputError(f"'{path.name}' is not named after a department", file=path,
                             hint=f"name consent files <DEPT>.csv, one of {', '.join(config.departments)}")
        rows += [(department, path.name, n, *values) for n, values in _read_file(con, path, config)]
    if not rows:
        return 0
    con.execute("""create or replace temp table consent_file_rows (
        department varchar, file varchar, line bigint, cpr varchar, consent varchar, departments varchar[],
        recorded_by varchar, recorded_on date, until date)""")
    con.executemany("insert into consent_file_rows values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute("""
        insert into consent_new
        with fresh as (
            select f.*
            from consent_file_rows as f
            anti join consent_records as r
                on r.cpr = f.cpr and r.consent = f.consent and r.departments = f.departments
                and r.recorded_by = f.recorded_by and r.recorded_on = f.recorded_on
                and r.until is not distinct from f.until and r.recorded_in_department = f.department
        ),
        last_id as (
            select coalesce(max(try_cast(substr(consent_id, 2) as integer)), 0) as n from consent_records
        )
        select 'C' || lpad((l.n + row_number() over (order by f.file, f.line))::varchar, 6, '0'),
            f.cpr, f.consent, f.departments, f.recorded_by, f.department, f.recorded_on, f.until,
            'file ' || f.file || ' line ' || f.line, now()::timestamp
        from fresh as f, last_id as l
    """)
    con.execute("insert into consent_records select * from consent_new")
    return con.execute("select count(*) from consent_new").fetchone()[0]


def _read_file(con: duckdb.DuckDBPyConnection, path: Path, config: SourcesConfig) -> list[tuple[int, tuple]]:
    """(line, (cpr, consent, departments, by, recorded_on, until)) per data line of one file."""
    rel = con.execute("select * from read_csv(?, all_varchar = true, header = true)", [str(path)])
    columns = [d[0].strip().lower() for d in rel.description]
    missing = [c for c in FILE_COLUMNS if c not in columns and c != "until"]
    if missing:
        raise InputError(f"the consent file has no column {', '.join(missing)}", file=path, line=1,
                         hint=f"the header must be {','.join(FILE_COLUMNS)} (until may be left out)")
    out = []
    for line, raw in enumerate(rel.fetchall(), start=2):
        v = {k: (raw[columns.index(k)] or "").strip() if k in columns else "" for k in FILE_COLUMNS}
        cpr = con.execute("select tg_cpr(?)", [v["cpr"]]).fetchone()[0]
        if cpr is None:
            raise InputError("the CPR number cannot be read", file=path, line=line,
                             hint="write ten digits, with or without a dash")
        consent = v["consent"].lower()
        if consent not in CONSENTS:
            raise InputError("the consent is not given, refused or withdrawn", file=path, line=line,
                             hint=f"write one of {', '.join(CONSENTS)} ({mask(cpr)})")
        departments = parse_departments(v["departments"], config, path=path, line=line)
        if not v["recorded_by"]:
            raise InputError("who recorded the consent is empty", file=path, line=line,
                             hint=f"fill recorded_by ({mask(cpr)})")
        recorded_on = _date(v["recorded_on"], path, line, "recorded_on")
        until = _date(v["until"], path, line, "until") if v["until"] else None
        out.append((line, (cpr, consent, departments, v["recorded_by"], recorded_on, until)))
    return out


def parse_departments(text: str, config: SourcesConfig, *, path: Path | None = None,
                      line: int | None = None) -> list[str]:
    """'BUF JOB' or 'BUF,JOB' -> ['BUF', 'JOB']; '' or '*' -> [] (every department)."""
    names = sorted({d.strip().upper() for d in text.replace(",", " ").split() if d.strip() not in ("", "*")})
    unknown = [d for d in names if d not in config.departments]
    if unknown:
        raise InputError(f"unknown department {', '.join(unknown)}", file=path, line=line,
                         hint=f"use department codes: {', '.join(config.departments)}, or * for all")
    return names


def _date(text: str, path: Path, line: int, field: str) -> date:
    for fmt in ("%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise InputError(f"{field} is not a date", file=path, line=line, hint="write YYYY-MM-DD or DD-MM-YYYY")


def build_status(con: duckdb.DuckDBPyConnection, as_of: date) -> int:
    """`consent_status` on `as_of` from `consent_records` and `active_cases`; returns its rows."""
    if not con.execute("select count(*) from duckdb_tables() where table_name = 'consent_records'").fetchone()[0]:
        con.execute(RECORDS_EMPTY.format(name="consent_records"))
    run_sql(con, "consent_status.sql", {"as_of": as_of})
    return con.execute("select count(*) from consent_status").fetchone()[0]


def store_step(con: duckdb.DuckDBPyConnection) -> None:
    """Commit step: keep this run's new file records in `wh.consents`."""
    con.execute(TABLE_DDL)
    con.execute(f"insert into {ALIAS}.consents select * from consent_new order by consent_id")


def add_consent(warehouse: Path, *, cpr: str, consent: str, departments: list[str], recorded_by: str,
                department: str | None, recorded_on: date, until: date | None,
                wait_seconds: float = 0.0) -> str:
    """Record a consent from the command line in `wh.consents`; returns its id (e.g. C000004)."""
    if consent not in CONSENTS:
        raise InputError(f"unknown consent '{consent}'", hint=f"use one of {', '.join(CONSENTS)}")
    if not recorded_by.strip():
        raise InputError("who recorded the consent is empty", hint="pass --by NAME")
    if until is not None and until < recorded_on:
        raise InputError("the consent would end before it was recorded", hint="give an --until after --on")
    made: list[str] = []

    def step(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(TABLE_DDL)
        new_id = con.execute(
            f"select 'C' || lpad((coalesce(max(try_cast(substr(consent_id, 2) as integer)), 0) + 1)::varchar, 6, '0') "
            f"from {ALIAS}.consents").fetchone()[0]
        con.execute(f"insert into {ALIAS}.consents values (?, ?, ?, ?, ?, ?, ?, ?, 'command line', now()::timestamp)",
                    [new_id, cpr, consent, departments, recorded_by.strip(), department, recorded_on, until])
        made.append(new_id)

    reader.record(warehouse, step, wait_seconds)   # readers (history, explain) see it at once
    return made[0]


def citizen_consents(warehouse: Path, cpr: str) -> list[tuple]:
    """One citizen's consent records, newest first: (id, consent, departments, by, department,
    recorded on, until, origin). For the terminal only (the caller named the citizen)."""
    path = reader.for_reading(warehouse)   # never the warehouse itself: that would block a nightly
    if not path.exists():
        return []
    con = duckdb.connect(str(path), read_only=True)
    try:
        if not con.execute("select count(*) from duckdb_tables() where table_name = 'consents'").fetchone()[0]:
            return []
        return con.execute("""select consent_id, consent, departments, recorded_by, recorded_in_department,
                                     recorded_on, until, origin
                              from consents where cpr = ? order by recorded_on desc, consent_id desc""",
                           [cpr]).fetchall()
    finally:
        con.close()
