"""Outcomes after a course ends: who is followed, what they are observed doing, and the counts.

    load(con, warehouse)                       oc_index_hist, oc_followup_hist, oc_runs from the warehouse
    compute(con, as_of, run_id, config)        runs sql/outcomes.sql: oc_index_now, oc_followup_now, oc_measures
    cells(con, as_of)                          -> {key: count}, ordered keys, relations (for deliver.figures)
    store(con)                                 commit step: appends tonight's index and follow-up rows

Stored tables (grain):
- outcome_index: one row per citizen per ended course (cohort 'ended') or comparison entry
  (cohort 'comparison': flag removed by a caseworker, or held back / excluded for consent), with
  its index date (the as-of date of the run where it happened);
- outcome_followup: one row per run per citizen followed on that run (index date within the
  last 12 months and 31 days): resident, flagged, departments with an active case, benefit,
  education. Both hold CPR numbers like the rest of the warehouse; the report gets counts only.
Definitions and limits: docs/outcomes.md.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from pathlib import Path

import duckdb

from targetgroup.config import SourcesConfig
from targetgroup.warehouse import ALIAS, attached, run_sql

HORIZONS = (3, 6, 12)
MEASURES = ("followed", "back_in_group", "departments_0", "departments_1", "departments_2p", "benefit", "education")
COHORTS = ("ended", "comparison")
WINDOW_DAYS = 31   # an observation is the first run within this many days after index date + horizon

INDEX_COLUMNS = "cohort varchar, kind varchar, rule_id varchar, flag_id varchar, cpr varchar, index_date date, run_id varchar"
FOLLOWUP_COLUMNS = ("run_id varchar, as_of date, cpr varchar, resident boolean, flagged boolean, "
                    "departments bigint, benefit boolean, education boolean")


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return con.execute("select count(*) from duckdb_tables() where database_name = ? and table_name = ?",
                       [ALIAS, table]).fetchone()[0] > 0


def load(con: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
    """Copy the stored index, follow-ups and committed runs into temp tables (empty when new)."""
    con.execute(f"create or replace temp table oc_index_hist ({INDEX_COLUMNS})")
    con.execute(f"create or replace temp table oc_followup_hist ({FOLLOWUP_COLUMNS})")
    con.execute("create or replace temp table oc_runs (run_id varchar, as_of date)")
    with attached(con, warehouse, read_only=True) as exists:
        if not exists:
            return
        if _has(con, "outcome_index"):
            con.execute(f"insert into oc_index_hist by name select * from {ALIAS}.outcome_index")
        if _has(con, "outcome_followup"):
            con.execute(f"insert into oc_followup_hist by name select * from {ALIAS}.outcome_followup")
        if _has(con, "runs"):
            con.execute(f"insert into oc_runs select run_id, as_of from {ALIAS}.runs where status = 'committed'")


def compute(con: duckdb.DuckDBPyConnection, as_of: date, run_id: str, config: SourcesConfig) -> int:
    """Tonight's index entries and follow-ups, and every cohort's measures; returns #measures rows."""
    run_sql(con, "outcomes.sql", {"as_of": as_of, "run_id": run_id,
                                  "benefit": list(config.outcomes.benefit_case_types),
                                  "education": list(config.outcomes.education_case_types)})
    return con.execute("select count(*) from oc_measures").fetchone()[0]


def quarter_end(label: str) -> date:
    """'2026Q1' -> 2026-03-31."""
    year, q = int(label[:4]), int(label[-1])
    return add_months(date(year, 3 * q - 2, 1), 3) - timedelta(days=1)


def add_months(day: date, months: int) -> date:
    """`day` plus whole months, clamped to the month's last day (as DuckDB's `+ interval`)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def cells(con: duckdb.DuckDBPyConnection, as_of: date) -> tuple[dict[tuple, int], list[tuple], list[tuple]]:
    """The outcome figures: ("outcome", "<cohort>:<quarter>", "cohort") and
    ("outcome", "<cohort>:<quarter>", "<h>m:<measure>") for every horizon reached, zeros included.

    Returns the counts, the keys in report order, and the relations that hold by construction
    (for the disclosure audit): (kind, total, parts) with kind 'le' (each part <= total) or 'eq'
    (sum of parts = total)."""
    rows = con.execute("select cohort, quarter, months, measure, n from oc_measures").fetchall()
    found = {(c, q, m, measure): int(n) for c, q, m, measure, n in rows}
    groups = sorted({(c, q) for c, q, m, measure, _ in rows if measure == "cohort"},
                    key=lambda g: (COHORTS.index(g[0]), g[1]))
    counts: dict[tuple, int] = {}
    keys: list[tuple] = []
    relations: list[tuple] = []
    for cohort, quarter in groups:
        group = f"{cohort}:{quarter}"
        total = ("outcome", group, "cohort")
        counts[total] = found[(cohort, quarter, 0, "cohort")]
        keys.append(total)
        for months in HORIZONS:
            if add_months(quarter_end(quarter), months) > as_of:
                continue
            cell = {m: ("outcome", group, f"{months}m:{m}") for m in MEASURES}
            for measure, key in cell.items():
                counts[key] = found.get((cohort, quarter, months, measure), 0)
                keys.append(key)
            relations.append(("le", total, [cell["followed"]]))
            relations.append(("eq", cell["followed"], [cell[f"departments_{b}"] for b in ("0", "1", "2p")]))
            relations.append(("le", cell["followed"], [cell["back_in_group"], cell["benefit"], cell["education"]]))
    return counts, keys, relations


def store(con: duckdb.DuckDBPyConnection) -> None:
    """Commit step: append tonight's index entries and follow-ups to the warehouse."""
    con.execute(f"create table if not exists {ALIAS}.outcome_index ({INDEX_COLUMNS})")
    con.execute(f"create table if not exists {ALIAS}.outcome_followup ({FOLLOWUP_COLUMNS})")
    con.execute(f"insert into {ALIAS}.outcome_index by name select * from oc_index_now")
    con.execute(f"insert into {ALIAS}.outcome_followup by name select * from oc_followup_now")
