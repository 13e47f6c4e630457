"""Quarantine: rows that parse but break a row-level expectation are set aside with the reason.

Tables (in the run's work connection):
- `findings`: one row per (row, failed row-level check): source, file, line, field, masked CPR,
  case id (CPR-shaped parts masked by `tg_scrub`: a case id may be a CPR in the wrong column), expectation, severity, reason, and whether the row is quarantined (unmatched CPRs
  are reported but not quarantined: identification already leaves them out).
- `quarantine`: the quarantined findings; their rows are removed from `cases` / `persons`
  before identification.
The report `quarantine.csv` lists rejects (cannot be parsed), quarantined and unmatched rows
together, so one file tells a person what to fix in each source.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from targetgroup.config import SourcesConfig
from targetgroup.deliver.files import write_csv
from targetgroup.validate.suites import Check
from targetgroup.warehouse import sql_literal

FINDINGS_DDL = """
create or replace table findings (
    source varchar, file varchar, line bigint, field varchar, masked_cpr varchar, case_id varchar,
    expectation varchar, severity varchar, reason varchar, quarantined boolean
)
"""

REPORT_SQL = """
with rejected as (
    select 'rejected' as kind, source, file, line, field, masked_cpr, null::varchar as case_id,
           'types_parse' as expectation, reason
    from rejects
),

found as (
    select case when quarantined then 'quarantined'
                when expectation = 'cpr_in_register' then 'unmatched'
                else 'reported' end as kind, source, file, line,
           field, masked_cpr, case_id, expectation, reason
    from findings
),

final as (
    select kind, source, file, line, field, masked_cpr, case_id, expectation, reason
    from rejected
    union all
    select kind, source, file, line, field, masked_cpr, case_id, expectation, reason
    from found
)

select * from final order by source, file, line, expectation
"""


def collect(con: duckdb.DuckDBPyConnection, failed: list[Check]) -> None:
    """Fill `findings` and `quarantine` with the rows behind each failed row-level check."""
    con.execute(FINDINGS_DDL)
    for check in failed:
        con.execute(f"""
            insert into findings
            select {sql_literal(check.extract)}, file, line, {sql_literal(check.column)}, tg_mask(cpr), tg_scrub(case_id),
                   {sql_literal(check.expectation)}, {sql_literal(check.severity)}, {check.reason}, {check.quarantine}
            from gate_{check.extract}
            where parsed and ({check.predicate})
        """)
    con.execute("create or replace table quarantine as select * exclude (quarantined) from findings where quarantined")


def apply(con: duckdb.DuckDBPyConnection, config: SourcesConfig) -> None:
    """Take quarantined rows out of `cases` and `persons`; cases of a quarantined person become unmatched."""
    con.execute("""
        delete from cases using quarantine as q
        where cases.source = q.source and cases.file = q.file and cases.line = q.line
    """)
    removed, = con.execute("""
        delete from persons using quarantine as q
        where q.source = ? and persons.file = q.file and persons.line = q.line
    """, [config.persons.name]).fetchone()
    # staging matched every case against these persons; only a removed person row can change
    # that (an anti-join of every case with every person: about 2 s at 6 M citizens, issue 17)
    if removed:
        con.execute("update cases set in_register = false where in_register and cpr not in (select cpr from persons)")


def counts(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """Quarantined rows per source and expectation."""
    out: dict[str, dict[str, int]] = {}
    for source, expectation, n in con.execute(
            "select source, expectation, count(*) from quarantine group by all order by all").fetchall():
        out.setdefault(source, {})[expectation] = n
    return out


def examples(con: duckdb.DuckDBPyConnection, check: Check, limit: int = 3) -> list[str]:
    """A few failing rows as 'file:line case X (masked CPR): reason' for messages."""
    rows = con.execute(f"""
        select file, line, case_id, masked_cpr, reason from findings
        where source = ? and expectation = ? order by file, line limit {limit}
    """, [check.extract, check.expectation]).fetchall()
    return [f"{f}:{ln}" + (f" case {c}" if c else "") + f" ({m}): {r}" for f, ln, c, m, r in rows]


def write_report(con: duckdb.DuckDBPyConnection, folder: Path) -> Path:
    """quarantine.csv (owner-only): rejected, quarantined and unmatched rows, masked CPR only."""
    return write_csv(folder / "quarantine.csv", con.execute(REPORT_SQL).df())


def store_step(run_id: str):
    """A commit step that keeps this run's quarantine (masked CPR only) in `wh.quarantine`."""
    from targetgroup.warehouse import ALIAS  # noqa: PLC0415

    def store(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"create table if not exists {ALIAS}.quarantine as "
                    "select ''::varchar as run_id, * from quarantine limit 0")
        con.execute(f"insert into {ALIAS}.quarantine select ?, * from quarantine", [run_id])
    return store
