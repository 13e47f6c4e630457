"""The register stage: compare today's targets with the register and work out every change.

Reads `targets`, `active_cases`, `persons` (from identify and staging) and the register as the
last committed run left it; writes nothing to the warehouse. `reg_match` says which subject
today carries on which open flag (family flags by shared members, sql/register/match.sql). The
changes wait in work tables (`reg_flag_closes`, `reg_flag_opens`, `reg_marking_closes`,
`reg_marking_opens`, `reg_actions`, `reg_file_suppressions`, `reg_suppression_ends`) until
`store.commit_steps` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from targetgroup.config import SourcesConfig
from targetgroup.register import imports, state
from targetgroup.register.state import register_sql

CHANGES = ("new", "continuing", "updated", "ended")


@dataclass
class RegisterResult:
    """Counts from the register stage (no CPR numbers)."""

    flags: dict[str, int]
    citizens: dict[str, int]
    actions: dict[str, dict[str, int]]
    reconcile: dict[str, int]
    suppressions_imported: int
    suppressions_applied: int
    last_as_of: date | None
    rewind_from: date | None
    markings_read: list[dict] = field(default_factory=list)
    systems_without_code: list[str] = field(default_factory=list)


def compute(con: duckdb.DuckDBPyConnection, config: SourcesConfig, *, as_of: date, run_id: str,
            warehouse: Path, rebuild: bool, suppressions: Path | None, started_at: datetime) -> RegisterResult:
    """Run the register stage in `con`; returns counts. See the module docstring for tables."""
    register_sql(con, "macros.sql", state.WORK)
    before = state.load(con, warehouse, as_of, run_id, rebuild)
    prev_as_of = before.last_as_of if before.last_as_of and before.last_as_of <= as_of else None
    _systems_table(con, config)
    folder = suppressions or (config.base / config.suppressions if config.suppressions else None)
    imported = imports.import_suppression_files(con, config, folder, started_at)
    markings_read = imports.import_held_markings(con, config)
    params = {"as_of": as_of, "run_id": run_id, "prev_as_of": prev_as_of}
    register_sql(con, "match.sql", state.WORK, params)
    register_sql(con, "compare.sql", state.WORK, params)
    register_sql(con, "markings.sql", state.WORK, params)
    register_sql(con, "suppression_ends.sql", state.WORK, params)
    register_sql(con, "notices.sql", state.WORK, params)
    return RegisterResult(
        flags=_counts(con, "select change, count(*) from reg_compare group by 1"),
        citizens=_counts(con, "select change, count(distinct cpr) from flag_status group by 1"),
        actions=_nested(con.execute("select system, action, count(*) from reg_actions group by all").fetchall()),
        reconcile=dict(con.execute("select finding, count(*) from reg_reconcile group by 1").fetchall()),
        suppressions_imported=imported,
        suppressions_applied=con.execute(
            "select count(distinct suppression_id) from reg_suppression_state where state = 'applies' "
            "and today_subject_id is not null").fetchone()[0],
        last_as_of=before.last_as_of,
        rewind_from=before.rewind_from,
        markings_read=markings_read,
        systems_without_code=[s for s in config.systems
                              if not any(src.marking_code for src in config.sources if src.system == s)],
    )


def _systems_table(con: duckdb.DuckDBPyConnection, config: SourcesConfig) -> None:
    """`reg_systems`: one row per case source with a marking code (source, department, system, code)."""
    rows = [(s.name, s.department, s.system, s.marking_code) for s in config.sources if s.marking_code]
    con.execute("create or replace temp table reg_systems "
                "(source varchar, department varchar, system varchar, marking_code varchar)")
    if rows:
        con.executemany("insert into reg_systems values (?, ?, ?, ?)", rows)


def _counts(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, int]:
    found = dict(con.execute(sql).fetchall())
    return {change: int(found.get(change, 0)) for change in CHANGES}


def _nested(rows: list[tuple[str, str, int]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for system, action, n in rows:
        out.setdefault(system, {})[action] = int(n)
    return out
