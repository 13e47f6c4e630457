"""The tables the gate's expectations run on, built once from the staged tables in DuckDB.

- `gate_<source>`: one row per staged case row of the source (`parsed` true) plus one per row
  staging rejected (`parsed` false); `case_id_rows` counts the staged rows sharing the case id;
  `cpr_invalid` (the CPR check) is computed once here, not in each query that reads it.
- `gate_<persons>`: the same for the person extract; `cpr_rows` counts rows per CPR and
  `cpr_birth_date` is the birth date the CPR encodes (computed once, not per query).
- `gate_cases`: every staged case (all sources), without the CPR; a table, because
  quarantine.apply deletes from `cases` while Great Expectations reads it (validate.start_gate).
The per-extract tables are narrow (only the columns a check reads) and materialised once in the
run's in-memory database, then dropped after the gate. They hold the CPR for the CPR checks,
whose queries select file, line, case id and the masked CPR (`tg_mask(cpr)`) only.
"""

from __future__ import annotations

import duckdb

from targetgroup.config import SourcesConfig
from targetgroup.warehouse import sql_literal

CASE_VIEW = """
create or replace table gate_{name} as
with repeated_ids as (
    -- case ids on more than one distinct row (few): counted once, joined back (no window over all rows)
    select case_id, count(*) as case_id_rows
    from cases
    where source = {lit}
    group by case_id
    having count(*) > 1
),

staged as (
    select
        true as parsed, c.file, c.line, c.case_id, c.cpr, c.status, c.start_date, c.end_date,
        c.in_register, coalesce(r.case_id_rows, 1) as case_id_rows,
        tg_cpr_invalid(c.cpr, tg_cpr_birth_date(c.cpr)) as cpr_invalid
    from cases as c
    left join repeated_ids as r using (case_id)
    where c.source = {lit}
),

rejected as (
    select
        false as parsed, file, line, null::varchar as case_id, null::varchar as cpr,
        null::varchar as status, null::date as start_date, null::date as end_date,
        null::boolean as in_register, null::bigint as case_id_rows, null::boolean as cpr_invalid
    from rejects
    where source = {lit}
),

final as (
    select * from staged
    union all
    select * from rejected
)

select * from final
"""

PERSON_VIEW = """
create or replace table gate_{name} as
with repeated as (
    -- CPRs on more than one distinct row; staging listed the CPRs delivered more than once
    select cpr, count(*) as cpr_rows
    from persons
    semi join repeated_persons using (cpr)
    group by cpr
    having count(*) > 1
),

birth_dates as (
    select p.file, p.line, p.cpr, p.birth_date, tg_cpr_birth_date(p.cpr) as cpr_birth_date
    from persons as p
),

staged as (
    select
        true as parsed, b.file, b.line, null::varchar as case_id, b.cpr, b.birth_date, b.cpr_birth_date,
        coalesce(r.cpr_rows, 1) as cpr_rows,
        tg_cpr_invalid(b.cpr, b.cpr_birth_date) as cpr_invalid
    from birth_dates as b
    left join repeated as r using (cpr)
),

rejected as (
    select
        false as parsed, file, line, null::varchar as case_id, null::varchar as cpr,
        null::date as birth_date, null::date as cpr_birth_date, null::bigint as cpr_rows,
        null::boolean as cpr_invalid
    from rejects
    where source = {lit}
),

final as (
    select * from staged
    union all
    select * from rejected
)

select * from final
"""

CASES_VIEW = """
create or replace table gate_cases as
select source, department, file, line, case_id
from cases
"""


def create_views(con: duckdb.DuckDBPyConnection, config: SourcesConfig) -> None:
    """Create (or replace) every gate table; source names are checked identifiers (config)."""
    for src in config.sources:
        con.execute(CASE_VIEW.format(name=src.name, lit=sql_literal(src.name)))
    con.execute(PERSON_VIEW.format(name=config.persons.name, lit=sql_literal(config.persons.name)))
    con.execute(CASES_VIEW)


def drop_views(con: duckdb.DuckDBPyConnection, config: SourcesConfig) -> None:
    """Remove the gate tables."""
    for name in [*(s.name for s in config.sources), config.persons.name, "cases"]:
        con.execute(f"drop table if exists gate_{name}")
