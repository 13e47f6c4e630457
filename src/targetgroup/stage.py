"""Staging: rename and cast the raw extracts into the canonical model. No business rules here.

Tables it creates (in the run's working connection):
- `persons`: one row per citizen in the CPR register extract.
- `cases`: one row per distinct case row delivered by a source (exact duplicates count once),
  with the status already mapped to `active` and `in_register` telling whether the CPR is in
  the person extract. A case whose status is not active may have no start date (a waiting
  list): it is an inactive case with `start_date` null, not a reject.
- `rejects`: one row per input row that cannot be parsed (CPR not normalisable, a required
  field empty, an active case without a start date, a date not in the configured format), with source, file, line, field, masked
  CPR and the reason (the kind of problem; never the cell, which may be a CPR in the wrong column). Rejected rows are counted and reported, never silently dropped.
Rows that parse but break an expectation (unknown status, end before start, two different rows
for one CPR, ...) are the quality gate's business (targetgroup.validate): it quarantines them.
`persons` keeps distinct rows, so a CPR with two different rows stays visible to the gate.
Once a raw extract is staged its text is freed; `raw_<name>` keeps its columns and row count
for the gate's table-level checks (extract.keep_shape_only).

Dates: a text cell is parsed with the source's `date_format` as written (`tg_date`: a time of
day the format does not read is ignored; month names may be English or Danish). A column the
extract delivers as a native date or timestamp (Parquet, Excel date cells) is a date as it is:
`date_format` is not applied to it. Status codes are trimmed of spaces, tabs and non-breaking
spaces (`tg_code`) and compared case-insensitively.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from targetgroup.config import CaseSource, Extract, PersonSource, SourcesConfig, status_key
from targetgroup.extract import keep_shape_only
from targetgroup.warehouse import sql_identifier

REJECTS_DDL = """
create or replace table rejects (
    source varchar, file varchar, line bigint, field varchar, masked_cpr varchar, reason varchar
)
"""


@dataclass
class StageResult:
    """Counts from staging, per source: for the manifest and the progress display."""

    rows_read: dict[str, int] = field(default_factory=dict)
    rows_rejected: dict[str, int] = field(default_factory=dict)
    reject_reasons: dict[str, dict[str, int]] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    cprs_repaired: dict[str, int] = field(default_factory=dict)
    unmatched_rows: dict[str, int] = field(default_factory=dict)
    cases: int = 0
    persons: int = 0


def native_dates(con: duckdb.DuckDBPyConnection, table: str) -> frozenset[str]:
    """The columns of a raw table delivered as dates or timestamps (not text): read as they are."""
    return frozenset(name for name, kind, *_ in con.execute(f"describe {table}").fetchall()
                     if kind == "DATE" or kind.startswith("TIMESTAMP"))


def _col(extract: Extract, canonical: str, native: frozenset[str] = frozenset()) -> str:
    """The raw column mapped to `canonical` as trimmed text, or NULL when the source does not deliver it."""
    column = extract.columns.get(canonical)
    if not column:
        return "null::varchar"
    if column in native:
        return f"strftime({sql_identifier(column)}, '%Y-%m-%d')"
    return f"nullif(trim({sql_identifier(column)}::varchar), '')"


def _date(extract: Extract, canonical: str, native: frozenset[str] = frozenset()) -> str:
    """The mapped date column as a date: a native date as it is, text with the source's `$date_format`."""
    column = extract.columns.get(canonical)
    if column and column in native:
        return f"{sql_identifier(column)}::date"
    return f"tg_date({_col(extract, canonical)}, $date_format)"


def _code(extract: Extract, canonical: str) -> str:
    """The mapped column as a code: trimmed of spaces, tabs and non-breaking spaces."""
    column = extract.columns.get(canonical)
    return f"tg_code({sql_identifier(column)}::varchar)" if column else "null::varchar"


def source_params(src: Extract) -> dict[str, object]:
    """The values a staging statement binds for `src`: never written into the SQL text."""
    params: dict[str, object] = {"date_format": src.date_format, "source": src.name}
    if isinstance(src, CaseSource):
        consent = {status_key(k): v for k, v in src.consent_values.items()}
        params.update(department=src.department, system=src.system, active_statuses=src.active_codes,
                      consent_keys=list(consent), consent_values=list(consent.values()))
    return params


# Only quoted column names (sql_identifier) are filled into CASES_SQL and PERSONS_SQL; the
# source's codes and formats are the `$` parameters of source_params.
CASES_SQL = """
with raw as (
    select
        _file as file,
        _line as line,
        {cpr_raw} as cpr_raw,
        {case_id} as case_id,
        {case_type} as case_type,
        {status} as status,
        {start_raw} as start_text,
        {end_raw} as end_text,
        {start_date} as start_date,
        {end_date} as end_date,
        {caseworker} as caseworker,
        {team} as team,
        lower({consent_raw}) as consent_raw
    from {raw_table}
),

cleaned as (
    select *, tg_cpr(cpr_raw) as cpr
    from raw
),

typed as (
    -- the CPR is cleaned once per row; the problem is only looked at when there is no clean CPR
    select
        *,
        case when cpr is null then tg_cpr_problem(cpr_raw) end as cpr_problem,
        tg_cpr_repaired(cpr_raw, cpr) as cpr_repaired,
        list_contains($active_statuses::varchar[], lower(status)) as active,
        list_extract($consent_values::varchar[], list_position($consent_keys::varchar[], consent_raw)) as consent
    from cleaned
),

checked as (
    select
        *,
        case
            when cpr_problem is not null then ['cpr', cpr_problem]
            when case_id is null then ['case_id', 'case id is empty']
            when status is null then ['status', 'status is empty']
            -- a case that is not active may have no start date yet (a waiting list)
            when start_text is null and active then ['start_date', 'start date is empty']
            -- never the cell itself in a reason: it may be a CPR number in the wrong column
            when start_text is not null and start_date is null
                then ['start_date', 'start date is not a date in ' || $date_format]
            when end_text is not null and end_date is null
                then ['end_date', 'end date is not a date in ' || $date_format]
        end as problem
    from typed
),

final as (
    select
        $source::varchar as source,
        $department::varchar as department,
        $system::varchar as system,
        file, line, cpr, case_id, case_type, status, active, start_date, end_date,
        caseworker, team, consent, cpr_repaired, problem
    from checked
)

select * from final
"""


def _case_sql(src: CaseSource, raw_table: str, native: frozenset[str]) -> str:
    return CASES_SQL.format(
        raw_table=raw_table, cpr_raw=_col(src, "cpr"), case_id=_col(src, "case_id"),
        case_type=_col(src, "case_type"), status=_code(src, "status"),
        start_raw=_col(src, "start_date", native), end_raw=_col(src, "end_date", native),
        start_date=_date(src, "start_date", native), end_date=_date(src, "end_date", native),
        caseworker=_col(src, "caseworker"), team=_col(src, "team"), consent_raw=_col(src, "consent"),
    )


PERSONS_SQL = """
with raw as (
    select
        _file as file,
        _line as line,
        {cpr_raw} as cpr_raw,
        {name} as name,
        {birth_raw} as birth_text,
        {birth_date} as birth_date,
        {household_id} as household_id,
        tg_cpr({mother}) as mother_cpr,
        tg_cpr({father}) as father_cpr,
        {death_date} as death_date,
        {moved_away_date} as moved_away_date,
        coalesce(lower({protected}) in ('1', 'true', 'ja', 'yes', 'j', 'x'), false) as protected,
        {area} as area
    from {raw_table}
),

cleaned as (
    select *, tg_cpr(cpr_raw) as cpr
    from raw
),

checked as (
    -- as for cases: the CPR is cleaned once per row, the problem only looked at when needed
    select
        *,
        tg_cpr_repaired(cpr_raw, cpr) as cpr_repaired,
        case
            when cpr is null then ['cpr', tg_cpr_problem(cpr_raw)]
            when birth_text is null then ['birth_date', 'birth date is empty']
            when birth_date is null then ['birth_date', 'birth date is not a date in ' || $date_format]
        end as problem
    from cleaned
),

final as (
    select
        cpr, name, birth_date, household_id, mother_cpr, father_cpr,
        death_date, moved_away_date, protected, area, file, line, cpr_repaired, problem
    from checked
)

select * from final
"""


def _person_sql(src: PersonSource, raw_table: str, native: frozenset[str]) -> str:
    return PERSONS_SQL.format(
        raw_table=raw_table, cpr_raw=_col(src, "cpr"), name=_col(src, "name"),
        birth_raw=_col(src, "birth_date", native), birth_date=_date(src, "birth_date", native),
        household_id=_col(src, "household_id"), mother=_col(src, "mother_cpr"),
        father=_col(src, "father_cpr"), death_date=_date(src, "death_date", native),
        moved_away_date=_date(src, "moved_away_date", native), protected=_col(src, "protected"),
        area=_col(src, "area"),
    )


def stage_all(con: duckdb.DuckDBPyConnection, config: SourcesConfig, tables: dict[str, str]) -> StageResult:
    """Build `persons`, `cases` and `rejects` from the raw tables named in `tables`."""
    result = StageResult()
    con.execute(REJECTS_DDL)
    _stage_persons(con, config.persons, tables[config.persons.name], result)
    keep_shape_only(con, tables[config.persons.name])
    for i, src in enumerate(config.sources):
        # one statement per source, each binding its own codes (a union would mix their parameters)
        into = "create or replace temp table staged_cases as " if i == 0 else "insert into staged_cases "
        table = tables[src.name]
        con.execute(into + _case_sql(src, table, native_dates(con, table)), source_params(src))
    for src in config.sources:
        keep_shape_only(con, tables[src.name])
    con.execute("""
        insert into rejects
        select source, file, line, problem[1], tg_mask(cpr), problem[2]
        from staged_cases where problem is not null
    """)
    con.execute("""
        create or replace table cases as
        with accepted as (
            select * exclude (problem) from staged_cases where problem is null
        ),

        deduplicated as (
            -- an exact duplicate row counts once (DOMAIN.md); keep the first line it appears on
            select
                source, department, system, cpr, case_id, case_type, status, active,
                start_date, end_date, caseworker, team, consent,
                min(file) as file, min(line) as line, count(*) as copies, bool_or(cpr_repaired) as cpr_repaired
            from accepted
            group by all
        ),

        final as (
            select
                d.source, d.department, d.system, d.file, d.line, d.cpr, d.case_id, d.case_type,
                d.status, d.active, d.start_date, d.end_date, d.caseworker, d.team, d.consent,
                d.copies, d.cpr_repaired, p.cpr is not null as in_register
            from deduplicated as d
            left join persons as p using (cpr)
        )

        select * from final
    """)
    for src in config.sources:
        name = src.name
        read, = con.execute("select count(*) from staged_cases where source = ?", [name]).fetchone()
        result.rows_read[name] = read
        _count_rejects(con, name, result)
        dupes, repaired, unmatched = con.execute(
            """select coalesce(sum(copies - 1), 0), count(*) filter (where cpr_repaired),
                      count(*) filter (where not in_register)
               from cases where source = ?""", [name]).fetchone()
        result.duplicates[name] = int(dupes)
        result.cprs_repaired[name] = int(repaired)
        result.unmatched_rows[name] = int(unmatched)
    con.execute("drop table staged_cases")
    result.cases, = con.execute("select count(*) from cases").fetchone()
    return result


def _stage_persons(con: duckdb.DuckDBPyConnection, src: PersonSource, raw_table: str, result: StageResult) -> None:
    # One pass over the extract straight into `persons` (at 6 M persons a staged copy first cost
    # a second table of the same size); the few rejected and repeated rows are then moved out.
    con.execute("create or replace table persons as " + _person_sql(src, raw_table, native_dates(con, raw_table)),
                {"date_format": src.date_format})
    con.execute("""
        insert into rejects
        select ?, file, line, problem[1], tg_mask(cpr), problem[2]
        from persons where problem is not null
    """, [src.name])
    read, repaired = con.execute(
        "select count(*), count(*) filter (where problem is null and cpr_repaired) from persons").fetchone()
    con.execute("delete from persons where problem is not null")
    con.execute("alter table persons drop column problem")
    con.execute("alter table persons drop column cpr_repaired")
    # CPRs delivered more than once (few; the quality gate judges them): an exact duplicate row
    # counts once, at the first line it is on; different rows for one CPR all stay
    con.execute("create or replace temp table repeated_persons as "
                "select cpr from persons group by cpr having count(*) > 1")
    con.execute("""
        create or replace temp table repeated_rows as
        select
            cpr, name, birth_date, household_id, mother_cpr, father_cpr, death_date,
            moved_away_date, protected, area, min(file) as file, min(line) as line
        from persons
        semi join repeated_persons using (cpr)
        group by all
    """)
    delivered, = con.execute("select count(*) from persons semi join repeated_persons using (cpr)").fetchone()
    kept, = con.execute("select count(*) from repeated_rows").fetchone()
    result.duplicates[src.name] = delivered - kept
    con.execute("delete from persons where cpr in (select cpr from repeated_persons)")
    con.execute("insert into persons select * from repeated_rows")
    con.execute("drop table repeated_rows")   # repeated_persons (few rows) stays for the quality gate
    result.rows_read[src.name] = read
    _count_rejects(con, src.name, result)
    result.cprs_repaired[src.name] = repaired
    result.persons, = con.execute("select count(*) from persons").fetchone()


def _count_rejects(con: duckdb.DuckDBPyConnection, source: str, result: StageResult) -> None:
    reasons = con.execute(
        """select field || ': ' || regexp_replace(reason, '''[^'']*''', '''...''', 'g'), count(*)
           from rejects where source = ? group by 1 order by 2 desc""", [source]).fetchall()
    result.reject_reasons[source] = dict(reasons)
    result.rows_rejected[source] = sum(n for _, n in reasons)
