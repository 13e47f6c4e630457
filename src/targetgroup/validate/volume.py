"""Volume guard: tonight's rows and active cases per extract against the last committed run.

An empty extract, or a drop of more than `quality.volume_drop` (default 20 %) in rows or in
active cases, stops the run before the register changes: a truncated jobcentre file must not
end hundreds of coordinated courses. `--allow-drop SOURCE` accepts it for one source, one run.

Warehouse table `source_counts` (one row per extract per committed run): run_id, as_of,
source, rows, active_cases; written in the run's commit transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from targetgroup.warehouse import ALIAS, attached

COUNTS_DDL = f"""
create table if not exists {ALIAS}.source_counts (
    run_id varchar not null, as_of date not null, source varchar not null,
    rows bigint not null, active_cases bigint
)
"""

# active on D by the one definition (macro tg_active_on, sql/macros.sql); the citizen's residence
# is not asked: a truncated extract shows in its cases, whoever they belong to
ACTIVE_SQL = """
select source, count(*) from cases
where in_register and tg_active_on(active, start_date, end_date, $as_of)
group by source
"""


@dataclass(frozen=True)
class Volume:
    """One extract's counts tonight and in the last committed run (None: no such run)."""

    source: str
    rows: int
    active_cases: int | None
    last_rows: int | None = None
    last_active_cases: int | None = None
    last_run: str | None = None


def current(con: duckdb.DuckDBPyConnection, rows: dict[str, int], persons: str, as_of: date) -> dict[str, tuple[int, int | None]]:
    """rows and active cases per extract (the person extract has no active cases)."""
    active = dict(con.execute(ACTIVE_SQL, {"as_of": as_of}).fetchall())
    return {name: (n, None if name == persons else active.get(name, 0)) for name, n in rows.items()}


def previous(con: duckdb.DuckDBPyConnection, warehouse: Path) -> tuple[str | None, dict[str, tuple[int, int | None]]]:
    """The last committed run's id and its counts per extract; (None, {}) if there is none."""
    with attached(con, warehouse, read_only=True) as exists:
        if not exists:
            return None, {}
        tables = {r[0] for r in con.execute(
            f"select table_name from duckdb_tables() where database_name = '{ALIAS}'").fetchall()}
        if not {"runs", "source_counts"} <= tables:
            return None, {}
        last = con.execute(f"""
            select run_id from {ALIAS}.runs where status = 'committed'
              and run_id in (select run_id from {ALIAS}.source_counts)
            order by as_of desc, finished_at desc limit 1""").fetchone()
        if last is None:
            return None, {}
        rows = con.execute(f"select source, rows, active_cases from {ALIAS}.source_counts where run_id = ?",
                           [last[0]]).fetchall()
    return last[0], {s: (r, a) for s, r, a in rows}


def compare(now: dict[str, tuple[int, int | None]], last_run: str | None,
            last: dict[str, tuple[int, int | None]]) -> list[Volume]:
    """Join tonight's counts with the last run's."""
    return [Volume(name, rows, active, *(last.get(name, (None, None))), last_run if name in last else None)
            for name, (rows, active) in now.items()]


def problems(volumes: list[Volume], threshold: float, allow: frozenset[str]) -> tuple[list[str], list[str]]:
    """(stopping problems, overridden problems) as messages naming the source and the numbers."""
    stop, allowed = [], []
    for v in volumes:
        found = []
        if v.rows == 0:
            found.append("the extract is empty (0 rows)")
        for what, now, before in (("rows", v.rows, v.last_rows), ("active cases", v.active_cases, v.last_active_cases)):
            if now is not None and before and now < before * (1 - threshold) and not (what == "rows" and now == 0):
                found.append(f"{what} dropped from {before:,} to {now:,} ({(before - now) / before:.0%}, "
                             f"more than the {threshold:.0%} allowed) since run {v.last_run}")
        for text in found:
            (allowed if v.source in allow else stop).append(f"source {v.source}: {text}")
    return stop, allowed


def store_step(run_id: str, as_of: date, volumes: list[Volume]):
    """A commit step that records tonight's counts in `wh.source_counts`."""
    def store(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(COUNTS_DDL)
        con.executemany(f"insert into {ALIAS}.source_counts values (?, ?, ?, ?, ?)",
                        [[run_id, as_of, v.source, v.rows, v.active_cases] for v in volumes])
    return store
