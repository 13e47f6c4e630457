"""Action lists per case system, reconciliation findings and caseworker notices (docs/actions.md).

Files in the run's report folder, all owner-only and sorted, with no time stamp inside (the
JSON names the run id and as-of), so the same register change gives the same bytes:
- `actions_<SYSTEM>.csv` / `.json`: one row per create/update/end action for the marking.
- `reconcile_<SYSTEM>.csv`: findings for systems whose current markings were imported.
- `notices_<DEPT>.csv`: one row per notice per caseworker per citizen.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from targetgroup.config import SourcesConfig
from targetgroup.deliver.files import write_csv, write_json

ACTION_COLUMNS = ["as_of", "system", "action", "cpr", "marking_code", "start_date", "end_date", "reason",
                  "rule_ids", "flag_ids"]
RECONCILE_COLUMNS = ["system", "finding", "cpr", "marking_code", "start_date", "end_date", "file", "line"]
NOTICE_COLUMNS = ["team", "caseworker", "notice", "cpr", "name", "rule_id", "flag_id", "detail"]


def write_actions(con: duckdb.DuckDBPyConnection, config: SourcesConfig, out_dir: Path, *,
                  run_id: str, as_of: date) -> list[Path]:
    """Write `actions_<SYSTEM>.csv` and `.json` for every system with a marking code (also when empty)."""
    frame = con.execute("""
        select ?::varchar as as_of, system, action, cpr, marking_code, strftime(start_date, '%Y-%m-%d') as start_date,
            coalesce(strftime(end_date, '%Y-%m-%d'), '') as end_date, reason,
            array_to_string(rule_ids, ' ') as rule_ids, array_to_string(flag_ids, ' ') as flag_ids
        from reg_actions
        order by system, cpr, action
    """, [as_of.isoformat()]).df()
    written = []
    codes = {s.system: s.marking_code for s in reversed(config.sources) if s.marking_code}
    for system in config.systems:
        if system not in codes:
            continue
        part = frame.loc[frame["system"] == system, ACTION_COLUMNS].reset_index(drop=True)
        written.append(write_csv(out_dir / f"actions_{system}.csv", part))
        written.append(write_json(out_dir / f"actions_{system}.json", {
            "run_id": run_id, "as_of": as_of.isoformat(), "system": system, "marking_code": codes[system],
            "actions": part.drop(columns=["as_of", "system"]).to_dict(orient="records"),
        }))
    return written


def write_reconcile(con: duckdb.DuckDBPyConnection, config: SourcesConfig, out_dir: Path) -> list[Path]:
    """Write `reconcile_<SYSTEM>.csv` for every system whose marking list was imported."""
    frame = con.execute("""
        select system, finding, cpr, marking_code, strftime(start_date, '%Y-%m-%d') as start_date,
            strftime(end_date, '%Y-%m-%d') as end_date, file, line
        from reg_reconcile order by system, finding, cpr
    """).df()
    written = []
    for system in dict.fromkeys(m.system for m in config.markings):
        part = frame.loc[frame["system"] == system, RECONCILE_COLUMNS]
        written.append(write_csv(out_dir / f"reconcile_{system}.csv", part))
    return written


def write_notices(con: duckdb.DuckDBPyConnection, departments: list[str], out_dir: Path) -> list[Path]:
    """Write `notices_<DEPT>.csv` for every department (also when empty)."""
    frame = con.execute("select * from reg_notices").df()
    return [write_csv(out_dir / f"notices_{dept}.csv", frame.loc[frame["department"] == dept, NOTICE_COLUMNS])
            for dept in departments]
