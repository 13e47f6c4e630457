"""The tables the gate's expectations run on, built once from the staged tables in DuckDB.

- `gate_<source>`: one row per staged case row of the source (`parsed` true) plus one per row
  staging rejected (`parsed` false); `case_id_rows` counts the staged rows sharing the case id.
- `gate_<persons>`: the same for the person extract; `cpr_rows` counts rows per CPR.
- `gate_cases`: one row per staged case (all sources), without the CPR.
They are materialised once (window counts computed once, not per GX query: 2x faster) in the
run's in-memory database and dropped after the gate. The CPR is present in the per-extract tables only for the CPR expectations, whose queries select
file, line, case id and the masked CPR; nothing else may select it.
"""

from __future__ import annotations

import duckdb

from targetgroup.config import SourcesConfig

CASE_VIEW = """
create or replace table gate_{name} as
with staged as (
    select
        true as parsed, file, line, case_id, cpr, tg_mask(cpr) as masked_cpr, status,
        start_date, end_date, in_register,
        count(*) over (partition by case_id) as case_id_rows
    from cases
    where source = {lit}
),

rejected as (
    select
        false as parsed, file, line, null::varchar as case_id, null::varchar as cpr, masked_cpr,
        null::varchar as status, null::date as start_date, null::date as end_date,
        null::boolean as in_register, null::bigint as case_id_rows
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
with staged as (
    select
        true as parsed, file, line, null::varchar as case_id, cpr, tg_mask(cpr) as masked_cpr,
        birth_date, count(*) over (partition by cpr) as cpr_rows
    from persons
),

rejected as (
    select
        false as parsed, file, line, null::varchar as case_id, null::varchar as cpr, masked_cpr,
        null::date as birth_date, null::bigint as cpr_rows
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
select source, department, file, line, case_id, tg_mask(cpr) as masked_cpr
from cases
"""


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def create_views(con: duckdb.DuckDBPyConnection, config: SourcesConfig) -> None:
    """Create (or replace) every gate table; source names are checked identifiers (config)."""
    for src in config.sources:
        con.execute(CASE_VIEW.format(name=src.name, lit=_lit(src.name)))
    con.execute(PERSON_VIEW.format(name=config.persons.name, lit=_lit(config.persons.name)))
    con.execute(CASES_VIEW)


def drop_views(con: duckdb.DuckDBPyConnection, config: SourcesConfig) -> None:
    """Remove the gate tables."""
    for name in [*(s.name for s in config.sources), config.persons.name, "cases"]:
        con.execute(f"drop table if exists gate_{name}")
