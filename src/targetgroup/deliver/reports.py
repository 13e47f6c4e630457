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
}


def write_flag_lists(con: duckdb.DuckDBPyConnection, departments: list[str], out_dir: Path) -> dict[str, Path]:
    """Write `flags_<DEPT>.csv` per department (also an empty list, so absence means nothing)."""
    run_sql(con, "flag_lists.sql")
    frame = con.execute("select * from flag_list").df()
    written = {}
    for dept in departments:
        part = frame.loc[frame["department"] == dept, list(FLAG_LIST_COLUMNS)].rename(columns=FLAG_LIST_COLUMNS)
        written[dept] = write_csv(out_dir / f"flags_{dept}.csv", part)
    return written
