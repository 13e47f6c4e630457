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
from targetgroup.errors import RunError
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
    last_rules: tuple[str, str] | None = None
    rules_switched: bool = False


def compute(con: duckdb.DuckDBPyConnection, config: SourcesConfig, *, as_of: date, run_id: str,
            warehouse: Path, rebuild: bool, suppressions: Path | None, started_at: datetime,
            rules: tuple[str, str] | None = None) -> RegisterResult:
    """Run the register stage in `con`; returns counts. See the module docstring for tables.

    `rules` is this run's rule set (name, hash); when it differs from the last committed run's,
    the flags it ends get the end reason "rule set changed" and the result says `rules_switched`
    (whether the run may go on is the caller's decision: see `switch_summary`).
    """
    register_sql(con, "macros.sql", state.WORK)
    before = state.load(con, warehouse, as_of, run_id, rebuild)
    prev_as_of = before.last_as_of if before.last_as_of and before.last_as_of <= as_of else None
    switched = rules is not None and before.last_rules is not None and tuple(rules) != before.last_rules
    _systems_table(con, config)
    folder = suppressions or (config.base / config.suppressions if config.suppressions else None)
    imported = imports.import_suppression_files(con, config, folder, started_at)
    markings_read = imports.import_held_markings(con, config)
    params = {"as_of": as_of, "run_id": run_id, "prev_as_of": prev_as_of, "rules_switched": switched}
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
        last_rules=before.last_rules,
        rules_switched=switched,
    )


def refuse_rule_switch(con: duckdb.DuckDBPyConnection, result: RegisterResult, rules: tuple[str, str]) -> None:
    """Raise RunError when this run's rule set is not the last committed run's, saying what it
    would change (flags ending and starting, per department; counts only). The CLI's
    --switch-rules skips this check."""
    if not result.rules_switched:
        return
    last = result.last_rules
    ended, started, per = switch_summary(con)
    departments = "; ".join(f"{d}: {e} end, {n} start" for d, (e, n) in per.items()) or "none"
    raise RunError(
        f"rule set '{rules[0]}' ({rules[1][:12]}) is not the rule set of the last committed run, "
        f"'{last[0]}' ({last[1][:12]}): this run would end {ended} flag(s) and start {started} "
        f"(per department: {departments}); nothing was written",
        hint="to switch, rerun with --switch-rules (the flags it ends get the reason 'rule set changed'); "
             "to keep the rule set, pass --rules with the last run's rule file (see targetgroup runs)")


def switch_summary(con: duckdb.DuckDBPyConnection) -> tuple[int, int, dict[str, tuple[int, int]]]:
    """What this run's register stage would change: (flags ending, flags starting, per department
    (ending, starting)); a flag counts in each department it involves. Counts only."""
    ended, started = con.execute("select count(*) filter (where change = 'ended'), "
                                 "count(*) filter (where change = 'new') from reg_compare").fetchone()
    per = con.execute("""
        with touched as (
            select change, unnest(if(change = 'ended', old_departments, new_departments)) as department
            from reg_compare
            where change in ('ended', 'new')
        )
        select department, count(*) filter (where change = 'ended'), count(*) filter (where change = 'new')
        from touched
        group by department
        order by department
    """).fetchall()
    return int(ended), int(started), {d: (int(e), int(n)) for d, e, n in per}


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
