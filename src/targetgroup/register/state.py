"""The register's state before a run: copied from the warehouse into the in-memory schema `reg`.

The warehouse is attached read-only just long enough to copy the register's tables into `reg`
(an in-memory database attached to the run's work connection); everything after that works on
the copy, so the warehouse is written only by the commit steps (see `store.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from targetgroup.warehouse import ALIAS, attached, run_script, sql_text

WORK = "reg"
TABLES = ("flags", "flag_member_ends", "markings", "actions", "suppressions", "last_active_cases", "register_runs",
          "flags_rewound", "flag_member_ends_rewound", "markings_rewound")


@dataclass(frozen=True)
class Before:
    """What the last committed runs left: dates only, no data."""

    last_as_of: date | None
    rewind_from: date | None
    last_rules: tuple[str, str] | None = None   # (name, hash) of the last committed run's rule set


def register_sql(con: duckdb.DuckDBPyConnection, name: str, db: str, params: dict | None = None) -> None:
    """Run every statement of `sql/register/<name>` with `{db}` set to the schema `db`."""
    if db not in (WORK, ALIAS):
        raise ValueError(f"unknown register schema {db!r}")  # a constant of the code, never from input
    run_script(con, sql_text(f"register/{name}").replace("{db}", db), params)


def table_exists(con: duckdb.DuckDBPyConnection, db: str, table: str) -> bool:
    """Does `db.table` exist?"""
    return con.execute("select count(*) from duckdb_tables() where database_name = ? and table_name = ?",
                       [db, table]).fetchone()[0] > 0


def load(con: duckdb.DuckDBPyConnection, warehouse: Path, as_of: date, run_id: str, rebuild: bool) -> Before:
    """Copy the register from `warehouse` into `reg`; rewind it when rebuilding into the past."""
    con.execute(f"detach database if exists {WORK}")
    con.execute(f"attach ':memory:' as {WORK}")
    register_sql(con, "schema.sql", WORK)
    last_as_of = None
    last_rules = None
    with attached(con, warehouse, read_only=True) as exists:
        if exists:
            for table in TABLES:
                if table_exists(con, ALIAS, table):
                    con.execute(f"insert into {WORK}.{table} by name select * from {ALIAS}.{table}")
            if table_exists(con, ALIAS, "runs"):
                last_as_of = con.execute(
                    f"select max(as_of) from {ALIAS}.runs where status = 'committed'").fetchone()[0]
                last_rules = con.execute(
                    f"""select rules_name, rules_hash from {ALIAS}.runs
                        where status = 'committed' and rules_hash is not null
                        order by finished_at desc limit 1""").fetchone()
    # what the case systems hold after every action delivered so far (markings.sql acts against it)
    con.execute(f"create or replace temp table reg_delivered as select * from {WORK}.markings where status = 'open'")
    rewind_from = as_of if rebuild and last_as_of is not None and as_of < last_as_of else None
    if rewind_from is not None:
        register_sql(con, "rewind.sql", WORK, {"as_of": rewind_from, "run_id": run_id})
    return Before(last_as_of=last_as_of, rewind_from=rewind_from,
                  last_rules=tuple(last_rules) if last_rules else None)


def previous_as_of(con: duckdb.DuckDBPyConnection, as_of: date) -> date | None:
    """The as-of of the last run before `as_of` whose active cases are in `reg.last_active_cases`."""
    return con.execute(f"select max(as_of) from {WORK}.last_active_cases where as_of <= ?", [as_of]).fetchone()[0]
