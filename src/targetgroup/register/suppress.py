"""Caseworker removals and read-outs of the register, for the command line.

- `add_suppression`, `lift_suppression`: write `wh.suppressions` in one transaction, under the
  warehouse's run lock (a run and a removal never interleave).
- `list_suppressions`, `list_runs`, `citizen_history`: read-only views; CPR numbers masked,
  except in `citizen_history`, which is for one named citizen on the terminal only. They read
  the reader copy (targetgroup.reader), which every write republishes, so they never hold the
  warehouse open while a run commits.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from targetgroup.cpr import mask
from targetgroup.errors import InputError, RunError
from targetgroup.register.state import register_sql, table_exists
from targetgroup import reader
from targetgroup.delivery import ledger as delivery_ledger
from targetgroup.warehouse import ALIAS


def add_suppression(warehouse: Path, *, cpr: str, rule_id: str, removed_by: str, reason: str,
                    until: date | None, department: str | None, wait_seconds: float = 0.0,
                    today: date | None = None) -> str:
    """Record a removal of the citizen's subject from `rule_id`; returns its id (e.g. S000003)."""
    today = today or date.today()
    if not removed_by.strip() or not reason.strip():
        raise InputError("who removed the citizen and why must both be given",
                         hint="pass --by NAME and --reason TEXT")
    if until is not None and until <= today:
        raise InputError(f"the removal would already have expired ({until})",
                         hint="give an --until date after today, or leave it out for no end")
    created: list[str] = []

    def step(con: duckdb.DuckDBPyConnection) -> None:
        register_sql(con, "schema.sql", ALIAS)
        known = [r[0] for r in con.execute(
            f"select distinct rule_id from {ALIAS}.flags order by 1").fetchall()]
        if table_exists(con, ALIAS, "targets"):
            known = sorted(set(known) | {r[0] for r in con.execute(
                f"select distinct rule_id from {ALIAS}.targets").fetchall()})
        if known and rule_id not in known:
            raise InputError(f"no run has used the rule '{rule_id}'",
                             hint=f"use one of: {', '.join(known)}")
        row = con.execute(f"""
            with flag as (
                select subject_type, subject_id, departments from {ALIAS}.flags
                where status = 'open' and rule_id = ? and list_contains(members, ?)
                order by flag_id limit 1
            ),
            cases as (
                select list_sort(list_distinct(list(department))) as departments
                from {ALIAS}.last_active_cases where cpr = ?
            ),
            next_id as (
                select 'S' || lpad((coalesce(max(try_cast(substr(suppression_id, 2) as integer)), 0) + 1)::varchar,
                                   6, '0') as id
                from {ALIAS}.suppressions
            )
            select n.id, coalesce(f.subject_type, 'person'), coalesce(f.subject_id, ?),
                coalesce(f.departments, c.departments, [])
            from next_id as n left join flag as f on true left join cases as c on true
        """, [rule_id, cpr, cpr, cpr]).fetchone()
        con.execute(f"""insert into {ALIAS}.suppressions (suppression_id, rule_id, cpr, subject_type, subject_id,
                            departments, removed_by, removed_in_department, reason, until, created_at, origin)
                        values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'command line')""",
                    [row[0], rule_id, cpr, row[1], row[2], row[3], removed_by.strip(),
                     department.upper() if department else None, reason.strip(), until, datetime.now()])
        created.append(row[0])

    reader.record(warehouse, step, wait_seconds)
    return created[0]


def lift_suppression(warehouse: Path, suppression_id: str, lifted_by: str | None = None,
                     wait_seconds: float = 0.0) -> None:
    """Lift a removal: from the next run on the rule may flag the subject again."""

    def step(con: duckdb.DuckDBPyConnection) -> None:
        register_sql(con, "schema.sql", ALIAS)
        row = con.execute(f"select lifted_at, ended_reason from {ALIAS}.suppressions where suppression_id = ?",
                          [suppression_id]).fetchone()
        if row is None:
            raise InputError(f"there is no removal {suppression_id}", hint="see targetgroup suppress --list")
        if row[0] is not None:
            raise InputError(f"removal {suppression_id} was already lifted ({row[0]:%Y-%m-%d %H:%M})")
        if row[1] is not None:
            raise InputError(f"removal {suppression_id} no longer holds ({row[1]})",
                             hint="nothing to lift")
        con.execute(f"update {ALIAS}.suppressions set lifted_at = ?, lifted_by = ? where suppression_id = ?",
                    [datetime.now(), lifted_by, suppression_id])

    reader.record(warehouse, step, wait_seconds)


def _read(warehouse: Path) -> duckdb.DuckDBPyConnection:
    if not warehouse.exists():
        raise RunError(f"there is no warehouse at {warehouse}", hint="run targetgroup run first, or pass --warehouse")
    try:
        return duckdb.connect(str(reader.for_reading(warehouse)), read_only=True)
    except duckdb.IOException:
        raise RunError(f"the warehouse {warehouse} is busy (a run is writing it)", hint="try again in a moment") from None


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return table_exists(con, con.execute("select current_database()").fetchone()[0], table)


def list_suppressions(warehouse: Path) -> list[dict]:
    """Every removal, newest first, with a masked CPR and its state (holds, lifted, ended)."""
    con = _read(warehouse)
    try:
        if not _has(con, "suppressions"):
            return []
        rows = con.execute("""
            select suppression_id, rule_id, cpr, subject_type, departments, removed_by, removed_in_department,
                reason, until, created_at, origin,
                case
                    when lifted_at is not null then 'lifted ' || strftime(lifted_at, '%Y-%m-%d')
                        || coalesce(' by ' || lifted_by, '')
                    when ended_reason is not null then ended_reason || ' (' || ended_as_of || ')'
                    else 'holds'
                end as state
            from suppressions order by suppression_id desc
        """).fetchall()
    finally:
        con.close()
    keys = ("id", "rule", "cpr", "subject", "departments", "by", "department", "reason", "until", "created",
            "origin", "state")
    return [dict(zip(keys, (*r[:2], mask(r[2]), *r[3:]))) for r in rows]


def list_runs(warehouse: Path) -> list[dict]:
    """Every run in the ledger with as-of, status, counts and rule-set hash, newest first."""
    con = _read(warehouse)
    try:
        has_register = _has(con, "register_runs")
        join = "left join register_runs as g using (run_id)" if has_register else ""
        updated = "g.flags_updated, g.actions" if has_register else "null, null"
        deliveries = delivery_ledger.summary_sql(_has(con, "deliveries"))
        rows = con.execute(f"""
            select r.run_id, r.as_of, r.status, r.citizens_flagged, r.flags_new, r.flags_continuing,
                {updated}, r.flags_ended, r.rules_name, r.rules_hash, r.report_dir,
                d.delivered, d.total, d.failed
            from runs as r {join}
            left join ({deliveries}) as d using (run_id)
            order by r.as_of desc, r.started_at desc
        """).fetchall()
    finally:
        con.close()
    keys = ("run_id", "as_of", "status", "citizens", "new", "continuing", "updated", "actions", "ended",
            "rules_name", "rules_hash", "folder")
    return [{**dict(zip(keys, r)), "delivery": delivery_ledger.state_text(*r[-3:])} for r in rows]


def citizen_history(warehouse: Path, cpr: str) -> dict[str, list[tuple]]:
    """One citizen's flags, markings, removals and actions over time (terminal only)."""
    con = _read(warehouse)
    queries = {
        "flags": """select flag_id, version, rule_id, subject_type, valid_from, valid_to, status, departments,
                           change, end_reason from flags where list_contains(members, ?)
                    order by valid_from, flag_id, version""",
        "markings": """select system, marking_code, start_date, valid_from, valid_to, status, reason, end_reason
                       from markings where cpr = ? order by system, valid_from""",
        "removals": """select suppression_id, rule_id, removed_by, reason, until, created_at,
                              coalesce(ended_reason, if(lifted_at is null, 'holds', 'lifted'))
                       from suppressions where cpr = ? order by suppression_id""",
        "actions": """select as_of, system, action, marking_code, start_date, end_date, reason
                      from actions where cpr = ? order by as_of, system, action""",
        "left family flags": """select flag_id, version, rule_id, ended_on, end_reason from flag_member_ends
                                where cpr = ? order by ended_on, flag_id""",
        "consents": """select consent_id, consent, departments, recorded_by, recorded_in_department, recorded_on,
                              until, origin from consents where cpr = ? order by recorded_on, consent_id""",
    }
    try:
        return {name: con.execute(sql, [cpr]).fetchall() if _has(con, name_table(name))
                else [] for name, sql in queries.items()}
    finally:
        con.close()


def name_table(section: str) -> str:
    """The table behind a history section."""
    return {"removals": "suppressions", "left family flags": "flag_member_ends"}.get(section, section)
