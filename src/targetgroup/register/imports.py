"""Inputs only the register reads: the departments' removal files and the markings systems hold.

Tables it creates (work connection):
- `reg_file_suppressions`: one row per removal listed in a department's file that the register
  does not hold yet (same file, CPR, rule, by, reason and until = already imported).
- `reg_held`: one row per marking a case system reports holding today (imported systems only);
  `reg_held_systems`: one row per system whose markings were imported.
Rows that cannot be used go to `rejects` (source, file, line, field, masked CPR, reason).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from targetgroup.config import MarkingSource, SourcesConfig
from targetgroup.errors import InputError
from targetgroup.extract import read_extract
from targetgroup.limits import MAX_LIST_BYTES, check_size
from targetgroup.stage import _col, _date, native_dates
from targetgroup.warehouse import sql_identifier

SUPPRESSION_COLUMNS = ("cpr", "rule", "removed_by", "reason")


def department_files(folder: Path | None, key: str, hint: str) -> list[Path]:
    """The departments' files in `folder` (`<DEPT>.csv`: removals, consent records), sorted; none
    when no folder is configured. Each is checked against MAX_LIST_BYTES before anything reads it."""
    if folder is None:
        return []
    if not folder.is_dir():
        raise InputError(f"the {key} folder does not exist", file=folder,
                         hint=f"create it (one <DEPT>.csv per department) or fix {hint}")
    files = sorted(folder.glob("*.csv"))
    for path in files:
        check_size(path, MAX_LIST_BYTES, InputError)
    return files


def suppression_files(folder: Path | None) -> list[Path]:
    """The removal files in `folder` (`<DEPT>.csv`), sorted; none when no folder is configured."""
    return department_files(folder, "suppressions", "suppressions: / --suppressions")


def import_suppression_files(con: duckdb.DuckDBPyConnection, config: SourcesConfig, folder: Path | None,
                             started_at: datetime) -> int:
    """Read every removal file into `reg_file_suppressions`; returns the number of new removals."""
    con.execute("""create or replace temp table reg_file_rows (
        file varchar, line bigint, department varchar, cpr_raw varchar, rule_id varchar,
        removed_by varchar, reason varchar, until_raw varchar)""")
    for path in suppression_files(folder):
        department = path.stem.upper()
        if department not in config.departments:
            raise InputError(f"'{path.name}' is not named after a department", file=path,
                             hint=f"name removal files <DEPT>.csv, one of {', '.join(config.departments)}")
        _read_suppression_file(con, path, department)
    con.execute("""
        insert into rejects
        select 'suppressions', file, line, problem[1], tg_mask(tg_cpr(cpr_raw)), problem[2]
        from (
            select *,
                case
                    when tg_cpr_problem(cpr_raw) is not null then ['cpr', tg_cpr_problem(cpr_raw)]
                    when rule_id is null then ['rule', 'rule is empty']
                    when removed_by is null then ['removed_by', 'who removed the citizen is empty']
                    when reason is null then ['reason', 'reason is empty']
                    when until_raw is not null and tg_until(until_raw) is null
                        then ['until', 'until is not a date (YYYY-MM-DD or DD-MM-YYYY)']
                end as problem
            from reg_file_rows
        )
        where problem is not null
    """)
    con.execute("""
        create or replace temp table reg_file_suppressions as
        with valid as (
            select file, line, department, tg_cpr(cpr_raw) as cpr, rule_id, removed_by, reason,
                tg_until(until_raw) as until
            from reg_file_rows
            where tg_cpr(cpr_raw) is not null and rule_id is not null and removed_by is not null
              and reason is not null and (until_raw is null or tg_until(until_raw) is not null)
        ),

        first_seen as (
            select department, cpr, rule_id, removed_by, reason, until, min(file) as file, min(line) as line
            from valid
            group by all
        ),

        fresh as (
            select f.*
            from first_seen as f
            anti join reg.suppressions as s
                on s.origin = 'file ' || f.file and s.cpr = f.cpr and s.rule_id = f.rule_id
                and s.removed_by = f.removed_by and s.reason = f.reason and s.until is not distinct from f.until
        ),

        subject as (
            -- the subject and departments involved now: the open flag, else today's target, else active cases
            select f.*,
                coalesce(o.subject_type, t.subject_type, 'person') as subject_type,
                coalesce(o.subject_id, t.subject_id, f.cpr) as subject_id,
                coalesce(o.departments, t.departments, a.departments, []) as departments
            from fresh as f
            left join (select * from reg.flags where status = 'open') as o
                on o.rule_id = f.rule_id and list_contains(o.members, f.cpr)
            left join (select rule_id, cpr, min(subject_type) as subject_type, min(subject_id) as subject_id,
                              list_sort(list_distinct(flatten(list(departments)))) as departments
                       from targets group by rule_id, cpr) as t
                on t.rule_id = f.rule_id and t.cpr = f.cpr
            left join (select cpr, list_sort(list_distinct(list(department))) as departments
                       from active_cases group by cpr) as a
                on a.cpr = f.cpr
        ),

        last_id as (
            select coalesce(max(try_cast(substr(suppression_id, 2) as integer)), 0) as n from reg.suppressions
        ),

        final as (
            select
                'S' || lpad((l.n + row_number() over (order by s.file, s.line))::varchar, 6, '0') as suppression_id,
                s.rule_id, s.cpr, s.subject_type, s.subject_id, s.departments, s.removed_by,
                s.department as removed_in_department, s.reason, s.until,
                ?::timestamp as created_at, 'file ' || s.file as origin,
                null::timestamp as lifted_at, null::varchar as lifted_by, null::varchar as ended_run,
                null::date as ended_as_of, null::varchar as ended_reason
            from subject as s, last_id as l
        )

        select * from final
    """, [started_at])
    con.execute("insert into reg.suppressions by name select * from reg_file_suppressions")
    return con.execute("select count(*) from reg_file_suppressions").fetchone()[0]


def _read_suppression_file(con: duckdb.DuckDBPyConnection, path: Path, department: str) -> None:
    try:
        con.execute("create or replace temp table reg_file_raw as "
                    "select *, (row_number() over () + 1)::bigint as _line "
                    "from read_csv(?, all_varchar = true, header = true)", [str(path)])
    except duckdb.Error:
        # DuckDB's message quotes the line, and with it a CPR
        raise InputError("the removal file cannot be read as CSV", file=path,
                         hint="save it as CSV (UTF-8, ';' or ',') with the header "
                              "cpr, rule, removed_by, reason, until") from None
    present = {r[0].strip().lower(): r[0] for r in con.execute("describe reg_file_raw").fetchall()}
    missing = [c for c in SUPPRESSION_COLUMNS if c not in present]
    if missing:
        raise InputError(f"column(s) missing: {', '.join(missing)}", file=path, line=1,
                         hint="the header must be cpr, rule, removed_by, reason and optionally until")

    def col(name: str) -> str:
        return f"nullif(trim({sql_identifier(present[name])}), '')" if name in present else "null::varchar"

    con.execute(f"""
        insert into reg_file_rows
        select ?, _line, ?, {col('cpr')}, {col('rule')}, {col('removed_by')}, {col('reason')}, {col('until')}
        from reg_file_raw
    """, [path.name, department])
    con.execute("drop table reg_file_raw")


def import_held_markings(con: duckdb.DuckDBPyConnection, config: SourcesConfig) -> list[dict]:
    """Read every configured marking list into `reg_held`; returns what was read, for the manifest."""
    con.execute("""create or replace temp table reg_held (
        system varchar, cpr varchar, marking_code varchar, start_date date, end_date date,
        file varchar, line bigint)""")
    con.execute("create or replace temp table reg_held_systems (system varchar)")
    read = []
    for marking in config.markings:
        files = marking.files(config.base)
        if not files:
            raise InputError(f"no file matches '{marking.path}'", source=marking.name,
                             file=config.base / marking.path, hint="the marking list did not arrive")
        table = f"raw_{marking.name}"
        read_extract(con, marking, files, table)
        _stage_markings(con, marking, table)
        con.execute("insert into reg_held_systems values (?)", [marking.system])
        rows = con.execute(f"select count(*) from {table}").fetchone()[0]
        read.append({"source": marking.name, "system": marking.system, "files": [str(f) for f in files],
                     "rows_read": rows})
    return read


def _stage_markings(con: duckdb.DuckDBPyConnection, src: MarkingSource, table: str) -> None:
    native = native_dates(con, table)   # a date cell is a date as it is; date_format reads text
    con.execute(f"""
        create or replace temp table reg_held_staged as
        select _file as file, _line as line, {_col(src, 'cpr')} as cpr_raw,
            {_col(src, 'marking_code')} as marking_code,
            {_date(src, 'start_date', native)} as start_date, {_date(src, 'end_date', native)} as end_date
        from {table}
    """, {"date_format": src.date_format})
    con.execute("""
        insert into rejects
        select ?, file, line, 'cpr', tg_mask(tg_cpr(cpr_raw)), tg_cpr_problem(cpr_raw)
        from reg_held_staged where tg_cpr(cpr_raw) is null
    """, [src.name])
    con.execute("""
        insert into reg_held
        select ?, tg_cpr(cpr_raw), marking_code, start_date, end_date, file, line
        from reg_held_staged where tg_cpr(cpr_raw) is not null
    """, [src.system])
    con.execute("drop table reg_held_staged")
