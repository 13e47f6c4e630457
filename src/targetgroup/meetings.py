"""Transition meetings held: a record per cross-department meeting held for a citizen's course.

    import_files(con, config, folder, warehouse) -> tables meeting_records, meeting_new, meeting_due_stored
    store_step(con)                              -> commit step: meeting_new into wh.meetings
    store_due_step(run_id, as_of)                -> commit step: this run's new due meetings into wh.meetings_due
    add_meeting(warehouse, ...)                  -> id of a record made from the command line
    citizen_meetings(warehouse, cpr)             -> one citizen's records, newest first
    ensure_records(con)                          -> an empty meeting_records when the run has none
    build_status(con, as_of)                     -> table meeting_status (due, held, overdue)

Grain of `meeting_records` (and `wh.meetings`): one row per record. A record names the citizen,
the rule of the course ('*': every course of the citizen), the kind of meeting (`16`, `17.5`
or `review`), the date it was held, who recorded it, their team (optional) and department, and
its origin (file and line, or the command line). Nothing is overwritten; the register keeps
every record. Which meetings are due, held and overdue is decided once, in sql/meeting_status.sql
(docs/meetings.md); the lists' column and the report's counts read that table.
The file checks are the coordinator files' (`coordinators.read_rows`, `file_date`).

Grain of `wh.meetings_due`: one row per course (flag) per citizen per meeting kind per due date,
kept from the first run that announced the meeting on a current flag (first_run_id, first_as_of),
so that a meeting missed on its due date stays overdue on later runs (docs/meetings.md, "How
long a meeting stays overdue"). Insert only; a run with --rebuild drops the rows first seen after
its as-of date (a rewound future).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb

from targetgroup import reader
from targetgroup.config import SourcesConfig
from targetgroup.coordinators import file_date, file_department, read_rows
from targetgroup.cpr import mask
from targetgroup.errors import InputError
from targetgroup.register.imports import department_files
from targetgroup.warehouse import ALIAS, attached, copy_stored, has_table, run_sql

KINDS = ("16", "17.5", "review")
SPELLINGS = {"16": "16", "17.5": "17.5", "17,5": "17.5", "17½": "17.5", "review": "review"}
HELD_WINDOW_DAYS = 90   # a meeting counts as held for a due date when held_on >= due date - 90 days
DUE_AHEAD_DAYS = 90     # the report counts the meetings due on or before the as-of date + 90 days
FILE_COLUMNS = ("cpr", "rule", "kind", "held_on", "recorded_by", "team")
OPTIONAL = ("rule", "team")
TABLE_DDL = f"""create table if not exists {ALIAS}.meetings (
    meeting_id varchar not null,
    cpr varchar not null,
    rule_id varchar not null,
    kind varchar not null,
    held_on date not null,
    recorded_by varchar not null,
    team varchar,
    recorded_in_department varchar,
    origin varchar not null,
    created_at timestamp not null
)"""
DUE_DDL = f"""create table if not exists {ALIAS}.meetings_due (
    flag_id varchar not null,
    rule_id varchar not null,
    cpr varchar not null,
    kind varchar not null,
    due_on date not null,
    first_run_id varchar not null,
    first_as_of date not null
)"""
# the register's due meetings, with whether their course was flagged on the due date (a flag's
# spell: valid_from inclusive, valid_to exclusive; an open flag has no end yet)
DUE_STORED = f"""insert into meeting_due_stored
with spell as (
    select flag_id, case when bool_or(valid_to is null) then null else max(valid_to) end as ends
    from {ALIAS}.flags
    group by flag_id
)
select d.flag_id, d.rule_id, d.cpr, d.kind, d.due_on, d.first_run_id, d.first_as_of,
    s.flag_id is null or s.ends is null or s.ends > d.due_on as open_on_due
from {ALIAS}.meetings_due as d
left join spell as s using (flag_id)"""
DUE_STORED_EMPTY = """create or replace temp table meeting_due_stored (
    flag_id varchar, rule_id varchar, cpr varchar, kind varchar, due_on date, first_run_id varchar,
    first_as_of date, open_on_due boolean)"""
RECORDS_EMPTY = """create or replace temp table {name} (
    meeting_id varchar, cpr varchar, rule_id varchar, kind varchar, held_on date, recorded_by varchar,
    team varchar, recorded_in_department varchar, origin varchar, created_at timestamp)"""
NEXT_ID = "select 'M' || lpad((coalesce(max(try_cast(substr(meeting_id, 2) as integer)), 0) + {plus})::varchar, 6, '0')"


def kind_of(text: str) -> str | None:
    """The meeting kind a spelling stands for (`17½`, `17,5` -> `17.5`), or None."""
    return SPELLINGS.get(text.strip().lower())


def _has_temp(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return con.execute("select count(*) from duckdb_tables() where table_name = ? and temporary",
                       [name]).fetchone()[0] > 0


def ensure_records(con: duckdb.DuckDBPyConnection) -> None:
    """An empty `meeting_records` when the run has none (caseworker_rows.sql reads it)."""
    if not _has_temp(con, "meeting_records"):
        con.execute(RECORDS_EMPTY.format(name="meeting_records"))


def load_due(con: duckdb.DuckDBPyConnection, warehouse: Path | None) -> int:
    """Table `meeting_due_stored`: the register's due meetings (wh.meetings_due) with
    `open_on_due` (the course was flagged on the due date); returns how many."""
    con.execute(DUE_STORED_EMPTY)
    if warehouse is not None:
        with attached(con, warehouse, read_only=True) as exists:
            if exists and has_table(con, "meetings_due") and has_table(con, "flags"):
                con.execute(DUE_STORED)
    return con.execute("select count(*) from meeting_due_stored").fetchone()[0]


def build_status(con: duckdb.DuckDBPyConnection, as_of: date) -> None:
    """Table `meeting_status` (grain: one row per current flag per citizen per meeting followed;
    needs targets, flag_status, persons; meeting_records and meeting_due_stored when the run has
    them): each meeting's kind, due date, the course it came due in, held and overdue on `as_of`."""
    ensure_records(con)
    if not _has_temp(con, "meeting_due_stored"):
        con.execute(DUE_STORED_EMPTY)
    run_sql(con, "meeting_status.sql", {"as_of": as_of, "meeting_window": HELD_WINDOW_DAYS})


def import_files(con: duckdb.DuckDBPyConnection, config: SourcesConfig, folder: Path | None,
                 warehouse: Path | None) -> int:
    """Read the stored records and every department's meeting file; returns the new records.

    A file row the register holds already (same department, CPR, rule, kind, date, by and team)
    is not new, so importing the same file again adds nothing. A bad row stops the run with file,
    line and problem (never its value).
    """
    con.execute(RECORDS_EMPTY.format(name="meeting_records"))
    con.execute(RECORDS_EMPTY.format(name="meeting_new"))
    copy_stored(con, warehouse, "meetings", "meeting_records")
    load_due(con, warehouse)
    rows = []
    for path in department_files(folder, "meetings", "meetings: in the sources file"):
        department = file_department(path, config, "meeting")
        rows += [(department, path.name, n, *values) for n, values in _read_file(con, path)]
    if not rows:
        return 0
    con.execute("""create or replace temp table meeting_file_rows (
        department varchar, file varchar, line bigint, cpr varchar, rule_id varchar, kind varchar,
        held_on date, recorded_by varchar, team varchar)""")
    con.executemany("insert into meeting_file_rows values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute(f"""
        insert into meeting_new
        with fresh as (
            select distinct on (f.department, f.cpr, f.rule_id, f.kind, f.held_on, f.recorded_by, f.team) f.*
            from meeting_file_rows as f
            anti join meeting_records as r
                on r.cpr = f.cpr and r.rule_id = f.rule_id and r.kind = f.kind and r.held_on = f.held_on
                and r.recorded_by = f.recorded_by and r.team is not distinct from f.team
                and r.recorded_in_department = f.department
            order by f.department, f.cpr, f.rule_id, f.kind, f.held_on, f.recorded_by, f.team, f.file, f.line
        ),
        last_id as ({NEXT_ID.format(plus=0)} as first_id from meeting_records)
        select 'M' || lpad((try_cast(substr(l.first_id, 2) as integer) + row_number() over (order by f.file, f.line))::varchar, 6, '0'),
            f.cpr, f.rule_id, f.kind, f.held_on, f.recorded_by, f.team, f.department,
            'file ' || f.file || ' line ' || f.line, now()::timestamp
        from fresh as f, last_id as l
    """)
    con.execute("insert into meeting_records select * from meeting_new")
    return con.execute("select count(*) from meeting_new").fetchone()[0]


def _read_file(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[int, tuple]]:
    """(line, (cpr, rule, kind, held_on, by, team)) per data line of one file."""
    out = []
    for line, cpr, v in read_rows(con, path, FILE_COLUMNS, OPTIONAL, "meeting"):
        kind = kind_of(v["kind"])
        if kind is None:
            raise InputError("kind is not a meeting kind", file=path, line=line,
                             hint=f"write one of {', '.join(KINDS)} ({mask(cpr)})")
        if not v["recorded_by"]:
            raise InputError("recorded_by is empty", file=path, line=line, hint=f"fill recorded_by ({mask(cpr)})")
        out.append((line, (cpr, v["rule"] or "*", kind, file_date(v["held_on"], "held_on", path, line),
                           v["recorded_by"], v["team"] or None)))
    return out


def store_step(con: duckdb.DuckDBPyConnection) -> None:
    """Commit step: keep this run's new file records in `wh.meetings`."""
    con.execute(TABLE_DDL)
    con.execute(f"insert into {ALIAS}.meetings select * from meeting_new order by meeting_id")


def store_due_step(run_id: str, as_of: date) -> Callable[[duckdb.DuckDBPyConnection], None]:
    """Commit step: keep the meetings this run announced that the register does not hold yet
    (first_run_id, first_as_of: this run); a rebuild first drops rows first seen after `as_of`."""

    def step(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(DUE_DDL)
        con.execute(f"delete from {ALIAS}.meetings_due where first_as_of > ?", [as_of])
        if not _has_temp(con, "meeting_status"):
            return
        con.execute(f"""
            insert into {ALIAS}.meetings_due
            select distinct s.due_flag_id, s.rule_id, s.cpr, s.kind, s.due_on, ?, ?::date
            from meeting_status as s
            anti join {ALIAS}.meetings_due as d
                on d.flag_id = s.due_flag_id and d.cpr = s.cpr and d.kind = s.kind and d.due_on = s.due_on
            order by all
        """, [run_id, as_of])

    return step


def add_meeting(warehouse: Path, *, cpr: str, rule_id: str, kind: str, held_on: date, recorded_by: str,
                team: str | None, department: str | None, wait_seconds: float = 0.0) -> str:
    """Record a meeting held from the command line; returns its id (e.g. M000004)."""
    if kind_of(kind) is None:
        raise InputError("the meeting kind is unknown", hint=f"pass --kind {'|'.join(KINDS)}")
    if not recorded_by.strip():
        raise InputError("who records it is empty", hint="pass --by NAME")
    made: list[str] = []

    def step(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(TABLE_DDL)
        new_id = con.execute(NEXT_ID.format(plus=1) + f" from {ALIAS}.meetings").fetchone()[0]
        con.execute(f"insert into {ALIAS}.meetings values (?, ?, ?, ?, ?, ?, ?, ?, 'command line', now()::timestamp)",
                    [new_id, cpr, rule_id or "*", kind_of(kind), held_on, recorded_by.strip(),
                     (team or "").strip() or None, department])
        made.append(new_id)

    reader.record(warehouse, step, wait_seconds)
    return made[0]


def citizen_meetings(warehouse: Path, cpr: str) -> list[tuple]:
    """One citizen's meeting records, newest first: (id, rule, kind, held_on, by, team, department,
    origin). For the terminal only (the caller named the citizen)."""
    path = reader.for_reading(warehouse)
    if not path.exists():
        return []
    con = duckdb.connect(str(path), read_only=True)
    try:
        if not con.execute("select count(*) from duckdb_tables() where table_name = 'meetings'").fetchone()[0]:
            return []
        return con.execute("""select meeting_id, rule_id, kind, held_on, recorded_by, team,
                                     recorded_in_department, origin
                              from meetings where cpr = ? order by held_on desc, meeting_id desc""",
                           [cpr]).fetchall()
    finally:
        con.close()
