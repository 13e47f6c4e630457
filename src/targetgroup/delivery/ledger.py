"""The delivery ledger: what each committed run was to deliver, and what became of it.

Table `deliveries` in the warehouse, one row per run per target:
    run_id, kind ('folder' | 'system' | 'mail'), target (department or system code, or the
    message: a department code, 'caseworker:<id>' or 'operations'), recipient (an address for
    mail, '' otherwise), state ('pending' | 'delivered' | 'failed'), attempts, last_attempt_at,
    last_error (a scrubbed sentence without secrets or CPR numbers), detail (JSON: counts only).

The pending rows are written by the run's own commit (`pending_step`), so a committed run always
has its ledger; `mark` records one target's outcome right after the attempt (call it holding the
warehouse's run lock). A delivered row is never attempted again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from targetgroup.privacy import scrub
from targetgroup.warehouse import ALIAS, attached, commit, has_table

DDL = f"""
create table if not exists {ALIAS}.deliveries (
    run_id varchar not null,
    kind varchar not null,
    target varchar not null,
    recipient varchar not null,
    state varchar not null,
    attempts integer not null,
    last_attempt_at timestamp,
    last_error varchar,
    detail json,
    primary key (run_id, kind, target, recipient)
)
"""
ORDER = {"folder": 0, "system": 1, "mail": 2}


@dataclass(frozen=True)
class Target:
    """One thing to deliver: a folder, a system folder, or a mail to one recipient."""

    kind: str
    target: str
    recipient: str = ""
    detail: dict = field(default_factory=dict, compare=False, hash=False)
    state: str = "pending"
    attempts: int = 0

    @property
    def label(self) -> str:
        """How logs and errors name it: 'folder BUF', 'mail BUF to a@b.dk'."""
        return f"{self.kind} {self.target}" + (f" to {self.recipient}" if self.recipient else "")


def pending_step(run_id: str, targets: list[Target]):
    """A commit step (warehouse.commit) that writes `targets` as pending rows of `run_id`."""
    def step(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(DDL)
        for t in targets:
            con.execute(f"insert into {ALIAS}.deliveries values (?, ?, ?, ?, 'pending', 0, null, null, ?)",
                        [run_id, t.kind, t.target, t.recipient, json.dumps(t.detail)])
    return step


def mark(warehouse: Path, run_id: str, target: Target, state: str, error: str | None = None) -> None:
    """Record one attempt at `target`: its new state, one more attempt, now, the error (scrubbed).
    The caller holds the warehouse's run lock."""
    def step(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"""update {ALIAS}.deliveries set state = ?, attempts = attempts + 1,
                            last_attempt_at = now()::timestamp, last_error = ?
                        where run_id = ? and kind = ? and target = ? and recipient = ? and state <> 'delivered'""",
                    [state, scrub(error)[:500] if error else None, run_id, target.kind, target.target,
                     target.recipient])
    con = duckdb.connect(":memory:", config={"threads": 1})   # no macros needed: one update
    try:
        commit(con, warehouse, [step])
    finally:
        con.close()


def _has_table(con: duckdb.DuckDBPyConnection) -> bool:
    return has_table(con, "deliveries")


def targets(warehouse: Path, run_id: str) -> list[Target]:
    """Every target of `run_id` in delivery order (folders, systems, mail)."""
    con = duckdb.connect(":memory:")
    try:
        with attached(con, warehouse, read_only=True) as exists:
            if not exists or not _has_table(con):
                return []
            rows = con.execute(f"select kind, target, recipient, detail, state, attempts from {ALIAS}.deliveries "
                               "where run_id = ? order by target, recipient", [run_id]).fetchall()
    finally:
        con.close()
    found = [Target(k, t, r, json.loads(d) if d else {}, s, a) for k, t, r, d, s, a in rows]
    return sorted(found, key=lambda t: ORDER[t.kind])


def undelivered_runs(warehouse: Path) -> list[str]:
    """Runs with a target not yet delivered, oldest first."""
    con = duckdb.connect(":memory:")
    try:
        with attached(con, warehouse, read_only=True) as exists:
            if not exists or not _has_table(con):
                return []
            return [r[0] for r in con.execute(
                f"select d.run_id from {ALIAS}.deliveries as d join {ALIAS}.runs as r using (run_id) "
                "where d.state <> 'delivered' group by d.run_id, r.as_of, r.started_at "
                "order by r.as_of, r.started_at").fetchall()]
    finally:
        con.close()


def state_text(delivered: int | None, total: int | None, failed: int | None) -> str:
    """The short form `runs` shows: 'delivered 7/7', 'pending 2/7', 'failed 1/7', '' (none)."""
    if not total:
        return ""
    if delivered == total:
        return f"delivered {total}/{total}"
    if failed:
        return f"failed {failed}/{total}"
    return f"pending {total - delivered}/{total}"


def summary_sql(has_table: bool) -> str:
    """A select of (run_id, delivered, total, failed) per run, for a join in `runs` (targetgroup
    reads the reader copy there); the literal-free text depends only on whether the table exists."""
    if not has_table:
        return "select null::varchar as run_id, 0 as delivered, 0 as total, 0 as failed where false"
    return ("select run_id, count(*) filter (where state = 'delivered') as delivered, count(*) as total, "
            "count(*) filter (where state = 'failed') as failed from deliveries group by run_id")
