"""Recorded coordinators (tovholdere): who coordinates a citizen's course, and handovers.

    import_files(con, config, folder, warehouse) -> tables coordinator_records, coordinator_new
    store_step(con)                              -> commit step: coordinator_new into wh.coordinators
    add_coordinator(warehouse, ...)              -> id of a record made from the command line
    citizen_coordinators(warehouse, cpr)         -> one citizen's records, newest first
    read_rows, file_date, file_department        -> a department record file's checks (also meetings.py)

Grain of `coordinator_records` (and `wh.coordinators`): one row per record. A record names the
citizen, the rule of the course ('*': every course of the citizen), the coordinator and their
team, the date from which they coordinate, who recorded it and in which department. A handover
is a newer record: the record in force on a run's as-of date is the one with the latest `from`
date on or before it (ties: the later record). Nothing is overwritten; the register keeps every
record. The leadership report uses the recorded coordinator and falls back to the guess
(sql/courses.sql) only where none is recorded (docs/coordinators.md).
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
from targetgroup.warehouse import ALIAS, copy_stored

FILE_COLUMNS = ("cpr", "rule", "coordinator", "team", "from", "recorded_by")
OPTIONAL = ("rule", "team")
TABLE_DDL = f"""create table if not exists {ALIAS}.coordinators (
    coordinator_id varchar not null,
    cpr varchar not null,
    rule_id varchar not null,
    coordinator varchar not null,
    team varchar,
    from_date date not null,
    recorded_by varchar not null,
    recorded_in_department varchar,
    origin varchar not null,
    created_at timestamp not null
)"""
RECORDS_EMPTY = """create or replace temp table {name} (
    coordinator_id varchar, cpr varchar, rule_id varchar, coordinator varchar, team varchar, from_date date,
    recorded_by varchar, recorded_in_department varchar, origin varchar, created_at timestamp)"""
NEXT_ID = "select 'T' || lpad((coalesce(max(try_cast(substr(coordinator_id, 2) as integer)), 0) + {plus})::varchar, 6, '0')"


def ensure_records(con: duckdb.DuckDBPyConnection) -> None:
    """An empty `coordinator_records` when the run has none (courses.sql reads it)."""
    if not con.execute("select count(*) from duckdb_tables() where table_name = 'coordinator_records' "
                       "and temporary").fetchone()[0]:
        con.execute(RECORDS_EMPTY.format(name="coordinator_records"))


def import_files(con: duckdb.DuckDBPyConnection, config: SourcesConfig, folder: Path | None,
                 warehouse: Path | None) -> int:
    """Read the stored records and every department's coordinator file; returns the new records.

    A file row the register holds already (same department, CPR, rule, coordinator, team, from
    and by) is not new. A bad row stops the run with file, line and problem (never its value).
    """
    con.execute(RECORDS_EMPTY.format(name="coordinator_records"))
    con.execute(RECORDS_EMPTY.format(name="coordinator_new"))
    copy_stored(con, warehouse, "coordinators", "coordinator_records")
    rows = []
    for path in department_files(folder, "coordinators", "coordinators: in the sources file"):
        department = file_department(path, config, "coordinator")
        rows += [(department, path.name, n, *values) for n, values in _read_file(con, path)]
    if not rows:
        return 0
    con.execute("""create or replace temp table coordinator_file_rows (
        department varchar, file varchar, line bigint, cpr varchar, rule_id varchar, coordinator varchar,
        team varchar, from_date date, recorded_by varchar)""")
    con.executemany("insert into coordinator_file_rows values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute(f"""
        insert into coordinator_new
        with fresh as (
            select f.*
            from coordinator_file_rows as f
            anti join coordinator_records as r
                on r.cpr = f.cpr and r.rule_id = f.rule_id and r.coordinator = f.coordinator
                and r.team is not distinct from f.team and r.from_date = f.from_date
                and r.recorded_by = f.recorded_by and r.recorded_in_department = f.department
        ),
        last_id as ({NEXT_ID.format(plus=0)} as first_id from coordinator_records)
        select 'T' || lpad((try_cast(substr(l.first_id, 2) as integer) + row_number() over (order by f.file, f.line))::varchar, 6, '0'),
            f.cpr, f.rule_id, f.coordinator, f.team, f.from_date, f.recorded_by, f.department,
            'file ' || f.file || ' line ' || f.line, now()::timestamp
        from fresh as f, last_id as l
    """)
    con.execute("insert into coordinator_records select * from coordinator_new")
    return con.execute("select count(*) from coordinator_new").fetchone()[0]


def _read_file(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[int, tuple]]:
    """(line, (cpr, rule, coordinator, team, from, by)) per data line of one file."""
    out = []
    for line, cpr, v in read_rows(con, path, FILE_COLUMNS, OPTIONAL, "coordinator"):
        for field in ("coordinator", "recorded_by"):
            if not v[field]:
                raise InputError(f"{field} is empty", file=path, line=line, hint=f"fill {field} ({mask(cpr)})")
        out.append((line, (cpr, v["rule"] or "*", v["coordinator"], v["team"] or None,
                           file_date(v["from"], "from", path, line), v["recorded_by"])))
    return out


def file_department(path: Path, config: SourcesConfig, what: str) -> str:
    """The department a record file belongs to (`<DEPT>.csv`); any other name is an InputError."""
    department = path.stem.upper()
    if department not in config.departments:
        raise InputError(f"'{path.name}' is not named after a department", file=path,
                         hint=f"name {what} files <DEPT>.csv, one of {', '.join(config.departments)}")
    return department


def read_rows(con: duckdb.DuckDBPyConnection, path: Path, columns: tuple[str, ...], optional: tuple[str, ...],
              what: str) -> list[tuple[int, str, dict[str, str]]]:
    """(line, cpr, {column: stripped text}) per data line of a department's record file.

    Checks the header (every column of `columns` not in `optional`) and that each line's CPR
    number can be read; a problem is an InputError with file and line, never the value.
    """
    rel = con.execute("select * from read_csv(?, all_varchar = true, header = true)", [str(path)])
    header = [d[0].strip().lower() for d in rel.description]
    missing = [c for c in columns if c not in header and c not in optional]
    if missing:
        leave_out = f" ({' and '.join(optional)} may be left out)" if optional else ""
        raise InputError(f"the {what} file has no column {', '.join(missing)}", file=path, line=1,
                         hint=f"the header must be {','.join(columns)}{leave_out}")
    out = []
    for line, raw in enumerate(rel.fetchall(), start=2):
        v = {k: (raw[header.index(k)] or "").strip() if k in header else "" for k in columns}
        cpr = con.execute("select tg_cpr(?)", [v["cpr"]]).fetchone()[0]
        if cpr is None:
            raise InputError("the CPR number cannot be read", file=path, line=line,
                             hint="write ten digits, with or without a dash")
        out.append((line, cpr, v))
    return out


def file_date(text: str, field: str, path: Path, line: int) -> date:
    """A record file's date (YYYY-MM-DD or DD-MM-YYYY); otherwise an InputError naming `field`."""
    for fmt in ("%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise InputError(f"{field} is not a date", file=path, line=line, hint="write YYYY-MM-DD or DD-MM-YYYY")


def store_step(con: duckdb.DuckDBPyConnection) -> None:
    """Commit step: keep this run's new file records in `wh.coordinators`."""
    con.execute(TABLE_DDL)
    con.execute(f"insert into {ALIAS}.coordinators select * from coordinator_new order by coordinator_id")


def add_coordinator(warehouse: Path, *, cpr: str, rule_id: str, coordinator: str, team: str | None,
                    from_date: date, recorded_by: str, department: str | None, wait_seconds: float = 0.0) -> str:
    """Record a coordinator (or a handover) from the command line; returns its id (e.g. T000004)."""
    if not coordinator.strip():
        raise InputError("the coordinator's name is empty", hint="pass --name NAME")
    if not recorded_by.strip():
        raise InputError("who records it is empty", hint="pass --by NAME")
    made: list[str] = []

    def step(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(TABLE_DDL)
        new_id = con.execute(NEXT_ID.format(plus=1) + f" from {ALIAS}.coordinators").fetchone()[0]
        con.execute(f"insert into {ALIAS}.coordinators values (?, ?, ?, ?, ?, ?, ?, ?, 'command line', now()::timestamp)",
                    [new_id, cpr, rule_id or "*", coordinator.strip(), (team or "").strip() or None, from_date,
                     recorded_by.strip(), department])
        made.append(new_id)

    reader.record(warehouse, step, wait_seconds)
    return made[0]


def citizen_coordinators(warehouse: Path, cpr: str) -> list[tuple]:
    """One citizen's coordinator records, newest first: (id, rule, coordinator, team, from, by,
    department, origin). For the terminal only (the caller named the citizen)."""
    path = reader.for_reading(warehouse)
    if not path.exists():
        return []
    con = duckdb.connect(str(path), read_only=True)
    try:
        if not con.execute("select count(*) from duckdb_tables() where table_name = 'coordinators'").fetchone()[0]:
            return []
        return con.execute("""select coordinator_id, rule_id, coordinator, team, from_date, recorded_by,
                                     recorded_in_department, origin
                              from coordinators where cpr = ? order by from_date desc, coordinator_id desc""",
                           [cpr]).fetchall()
    finally:
        con.close()
