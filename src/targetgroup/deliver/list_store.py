"""Tonight's caseworker lists kept in the warehouse, for the read-only web overview (targetgroup.web).

    store_list_rows(con)   commit step: table wh.list_rows = this run's caseworker_rows

Grain: one row per department per team per listed citizen per rule (caseworker_rows' grain),
for the last committed run only (replaced at every commit, with that run's id). These are the
rows the Excel and CSV lists were written from, so the web page's department list and the
need-to-know check behind its citizen page are the lists' own decision (sql/caseworker_rows.sql,
the tg_disclosure macro), not a second definition. The table holds CPR numbers, as the lists do;
the warehouse and its reader copy are owner-only.
"""

from __future__ import annotations

import duckdb

from targetgroup.warehouse import ALIAS

TABLE = "list_rows"


def store_list_rows(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Commit step: replace wh.list_rows with `caseworker_rows` (built by deliver.excel.prepare_rows)."""
    con.execute(f"create or replace table {ALIAS}.{TABLE} as select ?::varchar as run_id, * from caseworker_rows",
                [run_id])


def step(run_id: str):
    """The commit step for run `run_id` (a callable taking the work connection)."""
    return lambda con: store_list_rows(con, run_id)
