"""What the deliverables need from earlier runs: the ledger, the flag history, this run's changes.

    load_history(con, warehouse)  -> tables hist_runs, hist_targets, hist_flags (empty if none)
    build_courses(con, as_of)     -> table courses (sql/courses.sql), from hist_flags and flag_status

`flag_status` (one row per citizen per rule: rule_id, subject_id, cpr, family_id, change
'new'|'continuing'|'updated'|'ended', flag_id, flag_valid_from, end_reason, departments) is made
by the flag register's stage, which always runs before deliver.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from targetgroup import coordinators
from targetgroup.warehouse import ALIAS, attached, run_sql

HIST_RUNS_EMPTY = ("select ''::varchar as run_id, null::date as as_of, null::timestamp as started_at, "
                   "0::integer as targets, 0::integer as citizens_flagged, 0::integer as flags_new, "
                   "0::integer as flags_continuing, 0::integer as flags_ended, ''::varchar as report_dir limit 0")
HIST_TARGETS_EMPTY = ("select ''::varchar as run_id, null::date as as_of, ''::varchar as rule_id, "
                      "''::varchar as subject_id, ''::varchar as cpr, ''::varchar as family_id, "
                      "[]::varchar[] as departments limit 0")
HIST_FLAGS_EMPTY = ("select ''::varchar as flag_id, ''::varchar as rule_id, null::date as valid_from, "
                    "null::date as valid_to limit 0")


def has_table(con: duckdb.DuckDBPyConnection, name: str, database: str | None = None) -> bool:
    """True if table `name` exists (in `database`, or as a temp/main table of the work connection)."""
    where = f"database_name = '{database}'" if database else "database_name in ('temp', 'memory')"
    return con.execute(f"select count(*) from duckdb_tables() where {where} and table_name = ?",
                       [name]).fetchone()[0] > 0


def load_history(con: duckdb.DuckDBPyConnection, warehouse: Path) -> int:
    """Copy the committed runs' ledger, targets and flags into hist_* tables; returns #runs."""
    with attached(con, warehouse, read_only=True) as exists:
        runs = exists and has_table(con, "runs", ALIAS)
        targets = exists and has_table(con, "targets", ALIAS)
        flags = exists and has_table(con, "flags", ALIAS)
        con.execute("create or replace temp table hist_runs as " + (
            f"""select run_id, as_of, started_at, targets, citizens_flagged, flags_new, flags_continuing,
                       flags_ended, report_dir from {ALIAS}.runs where status = 'committed'""" if runs else HIST_RUNS_EMPTY))
        con.execute("create or replace temp table hist_targets as " + (
            f"""select run_id, as_of, rule_id, subject_id, cpr, family_id, departments{_titles(con)} from {ALIAS}.targets
                where run_id in (select run_id from hist_runs)""" if targets else HIST_TARGETS_EMPTY))
        con.execute("create or replace temp table hist_flags as " + (
            f"select flag_id, rule_id, valid_from, valid_to from {ALIAS}.flags" if flags else HIST_FLAGS_EMPTY))
    return con.execute("select count(*) from hist_runs").fetchone()[0]


def _titles(con: duckdb.DuckDBPyConnection) -> str:
    """', rule_title_da, rule_title_en' when the warehouse's targets have them (older ones do not)."""
    found = {r[0] for r in con.execute(
        "select column_name from duckdb_columns() where database_name = ? and table_name = 'targets'",
        [ALIAS]).fetchall()}
    return ", rule_title_da, rule_title_en" if {"rule_title_da", "rule_title_en"} <= found else ""


def build_courses(con: duckdb.DuckDBPyConnection, as_of: date) -> int:
    """Create `courses` (one row per course after this run); returns the number of courses."""
    con.execute("""create or replace temp table course_history as
                   select flag_id, any_value(rule_id) as rule_id, min(valid_from) as valid_from,
                          case when bool_or(valid_to is null) then null else max(valid_to) end as valid_to
                   from hist_flags group by flag_id""")
    coordinators.ensure_records(con)
    run_sql(con, "courses.sql", {"as_of": as_of})
    return con.execute("select count(*) from courses").fetchone()[0]


def change_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Flags new / continuing (incl. updated) / ended in this run, counted per flag."""
    rows = dict(con.execute("""select case when change = 'updated' then 'continuing' else change end,
                                      count(distinct flag_id)
                               from flag_status group by 1""").fetchall())
    return {k: int(rows.get(k, 0)) for k in ("new", "continuing", "ended")}


def change_counts_per_department(con: duckdb.DuckDBPyConnection, departments: list[str]) -> dict[str, dict[str, int]]:
    """Per department: citizens with a new / continuing / ended flag (or awaiting consent) in its
    caseworker list."""
    rows = con.execute("""select department, change_group, count(distinct cpr) from caseworker_rows
                          group by all""").fetchall() if has_table(con, "caseworker_rows") else []
    out = {d: {"new": 0, "continuing": 0, "ended": 0} for d in departments}
    for dept, change, n in rows:
        out.setdefault(dept, {"new": 0, "continuing": 0, "ended": 0})[change] = int(n)
    return out


def old_rule_titles(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """Titles of the rules earlier runs used (from `hist_targets`), for flags of a rule the
    current rule set no longer has (a rule-set switch ends them)."""
    columns = {r[0] for r in con.execute("describe hist_targets").fetchall()}
    if not {"rule_title_da", "rule_title_en"} <= columns:
        return {}
    rows = con.execute("""select rule_id, any_value(rule_title_da), any_value(rule_title_en) from hist_targets
                          where rule_title_da is not null group by rule_id""").fetchall()
    return {rule: {"da": da, "en": en} for rule, da, en in rows}
