"""Action lists per case system, reconciliation findings and caseworker notices (docs/actions.md).

Files in the run's report folder, all owner-only and sorted, with no time stamp inside (the
JSON names the run id and as-of), so the same register change gives the same bytes:
- `actions_<SYSTEM>.csv` / `.json`: one row per create/update/end action for the marking.
- `reconcile_<SYSTEM>.csv`: findings for systems whose current markings were imported.
- `notices_<DEPT>.csv`: one row per notice per caseworker per citizen.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb

from targetgroup.config import SourcesConfig
from targetgroup.deliver.files import copy_csv, write_text

ACTION_COLUMNS = ["as_of", "system", "action", "cpr", "marking_code", "start_date", "end_date", "reason",
                  "rule_ids", "flag_ids", "action_id"]
RECONCILE_COLUMNS = ["system", "finding", "cpr", "marking_code", "start_date", "end_date", "file", "line"]
NOTICE_COLUMNS = ["team", "caseworker", "notice", "cpr", "name", "rule_id", "flag_id", "detail"]


# action_id: the same change to the same marking always gets the same id, whichever run (or
# rebuilt run) issues it, so a robot can tell an action it has applied (docs/actions.md). A
# create issued again because the system lacks the marking is a new action: its as-of counts.
ACTIONS_SQL = """
    with actions as (
        select ?::varchar as as_of, system, action, cpr, marking_code,
            strftime(start_date, '%Y-%m-%d') as start_date,
            coalesce(strftime(end_date, '%Y-%m-%d'), '') as end_date, reason,
            array_to_string(rule_ids, ' ') as rule_ids, array_to_string(flag_ids, ' ') as flag_ids
        from reg_actions
        where system = ?
    ),
    final as (
        select *, 'A' || left(sha256(concat_ws('|', system, action, cpr, marking_code, start_date, end_date, reason,
                                                if(reason like 'missing in the system%', as_of, ''))), 16) as action_id
        from actions
    )
    select * from final
    order by system, cpr, action
"""


def write_actions(con: duckdb.DuckDBPyConnection, config: SourcesConfig, out_dir: Path, *,
                  run_id: str, as_of: date) -> list[Path]:
    """Write `actions_<SYSTEM>.csv` and `.json` for every system with a marking code (also when empty).

    DuckDB writes both (one JSON object per action per line): no action passes through pandas.
    """
    written = []
    codes = {s.system: s.marking_code for s in reversed(config.sources) if s.marking_code}
    for system in config.systems:
        if system not in codes:
            continue
        params = [as_of.isoformat(), system]
        query = f"select {', '.join(ACTION_COLUMNS)} from ({ACTIONS_SQL})"
        written.append(copy_csv(con, out_dir / f"actions_{system}.csv", query, params))
        fields = [c for c in ACTION_COLUMNS if c not in ("as_of", "system")]
        rows = con.execute(
            f"select coalesce(string_agg(to_json(struct_pack({', '.join(fields)}))::varchar, ',\n    '), '') "
            f"from ({ACTIONS_SQL})", params).fetchone()[0]
        head = json.dumps({"run_id": run_id, "as_of": as_of.isoformat(), "system": system,
                           "marking_code": codes[system]}, indent=2, ensure_ascii=False)[:-2]
        body = f'{head},\n  "actions": [\n    {rows}\n  ]\n}}\n' if rows else f'{head},\n  "actions": []\n}}\n'
        written.append(write_text(out_dir / f"actions_{system}.json", body))
    return written


def write_reconcile(con: duckdb.DuckDBPyConnection, config: SourcesConfig, out_dir: Path) -> list[Path]:
    """Write `reconcile_<SYSTEM>.csv` for every system whose marking list was imported."""
    query = f"""
        select {', '.join(RECONCILE_COLUMNS)} from (
            select system, finding, cpr, marking_code, strftime(start_date, '%Y-%m-%d') as start_date,
                strftime(end_date, '%Y-%m-%d') as end_date, file, line
            from reg_reconcile where system = ?)
        order by system, finding, cpr"""
    return [copy_csv(con, out_dir / f"reconcile_{system}.csv", query, [system])
            for system in dict.fromkeys(m.system for m in config.markings)]


def write_notices(con: duckdb.DuckDBPyConnection, departments: list[str], out_dir: Path) -> list[Path]:
    """Write `notices_<DEPT>.csv` for every department (also when empty)."""
    query = f"select {', '.join(NOTICE_COLUMNS)} from reg_notices where department = ?"
    return [copy_csv(con, out_dir / f"notices_{dept}.csv", query, [dept]) for dept in departments]
