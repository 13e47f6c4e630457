"""Flag lists per department as CSV (the Excel lists are deliver.excel; counts are deliver.figures)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from targetgroup.deliver.files import write_csv
from targetgroup.warehouse import run_sql

FLAG_LIST_COLUMNS = {
    "cpr": "cpr",
    "name": "name",
    "age": "age",
    "own_caseworker": "caseworker",
    "own_team": "team",
    "other_departments": "other_departments",
    "other_contacts": "other_contacts",
    "rule_id": "rule",
    "family_id": "family_id",
    "reason_codes": "reason_codes",
    "rules_hash": "rules_hash",
}
EXCLUSION_COLUMNS = ["rule_id", "cpr", "action", "reason_code", "reason", "added_by", "list_file", "list_line"]


def write_flag_lists(con: duckdb.DuckDBPyConnection, departments: list[str], out_dir: Path) -> dict[str, Path]:
    """Write `flags_<DEPT>.csv` per department (also an empty list, so absence means nothing)."""
    run_sql(con, "flag_lists.sql")
    frame = con.execute("select * from flag_list").df()
    written = {}
    for dept in departments:
        part = frame.loc[frame["department"] == dept, list(FLAG_LIST_COLUMNS)].rename(columns=FLAG_LIST_COLUMNS)
        written[dept] = write_csv(out_dir / f"flags_{dept}.csv", part)
    return written


def write_exclusions(con: duckdb.DuckDBPyConnection, out_dir: Path) -> Path:
    """Write `exclusions.csv` (a caseworker file: full CPR): who each rule left out or added, and why."""
    frame = con.execute(f"select {', '.join(EXCLUSION_COLUMNS)} from exclusions").df()
    return write_csv(out_dir / "exclusions.csv", frame)
