"""The register's warehouse writes, as commit steps: they run inside the run's one transaction.

Each step takes the work connection with the warehouse attached as `wh` and copies what the
register stage computed (work tables `reg_*`) into the persistent tables. Only rows the stage
decided to close are updated (valid_to, status, closed_run, end_reason, all empty before), and
new rows are inserted; nothing else in the register changes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import duckdb

from targetgroup.register.compare import RegisterResult
from targetgroup.register.state import register_sql
from targetgroup.warehouse import ALIAS

Step = Callable[[duckdb.DuckDBPyConnection], None]


def commit_steps(result: RegisterResult, *, as_of: date, run_id: str) -> list[Step]:
    """The register's writes for one run, in order (each a function of the attached connection)."""

    def schema(con: duckdb.DuckDBPyConnection) -> None:
        register_sql(con, "schema.sql", ALIAS)

    def rewind(con: duckdb.DuckDBPyConnection) -> None:
        if result.rewind_from is None:
            return
        register_sql(con, "rewind.sql", ALIAS, {"as_of": result.rewind_from, "run_id": run_id})
        con.execute(f"update {ALIAS}.runs set status = 'rewound' where status = 'committed' and as_of >= ?",
                    [result.rewind_from])

    def flags(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"""
            update {ALIAS}.flags as f
            set status = x.status, valid_to = x.valid_to, closed_run = x.closed_run, end_reason = x.end_reason
            from reg_flag_closes as x
            where f.flag_id = x.flag_id and f.version = x.version and f.status = 'open'
        """)
        con.execute(f"insert into {ALIAS}.flags by name select * from reg_flag_opens order by flag_id, version")
        con.execute(f"insert into {ALIAS}.flag_member_ends by name select * from reg_member_ends "
                    "order by flag_id, cpr")

    def markings(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"""
            update {ALIAS}.markings as m
            set status = x.status, valid_to = x.valid_to, closed_run = x.closed_run, end_reason = x.end_reason
            from reg_marking_closes as x
            where m.system = x.system and m.cpr = x.cpr and m.valid_from = x.valid_from and m.status = 'open'
        """)
        con.execute(f"insert into {ALIAS}.markings by name select * from reg_marking_opens order by system, cpr")

    def suppressions(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"insert into {ALIAS}.suppressions by name "
                    "select * from reg_file_suppressions order by suppression_id")
        con.execute(f"""
            update {ALIAS}.suppressions as s
            set ended_run = e.ended_run, ended_as_of = e.ended_as_of, ended_reason = e.ended_reason
            from reg_suppression_ends as e
            where s.suppression_id = e.suppression_id and s.ended_run is null
        """)

    def actions(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"insert into {ALIAS}.actions by name select ? as run_id, ? as as_of, * from reg_actions",
                    [run_id, as_of])

    def active_cases(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"delete from {ALIAS}.last_active_cases")
        con.execute(f"""
            insert into {ALIAS}.last_active_cases
            select ?, ?, source, department, system, cpr, case_id, caseworker, team
            from active_cases order by source, case_id, cpr
        """, [run_id, as_of])

    def ledger(con: duckdb.DuckDBPyConnection) -> None:
        f = result.flags
        n_actions = sum(sum(per.values()) for per in result.actions.values())
        con.execute(f"insert into {ALIAS}.register_runs values (?, ?, ?, ?, ?, ?, ?, ?)",
                    [run_id, as_of, f["new"], f["continuing"], f["updated"], f["ended"], n_actions,
                     result.rewind_from])

    return [schema, rewind, flags, markings, suppressions, actions, active_cases, ledger]
