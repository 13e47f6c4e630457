"""Flag lists per department as CSV, and the exclusions list (the Excel lists are deliver.excel;
counts are deliver.figures).

The CSV list of a department holds exactly the rows of its Excel list (`caseworker_rows`), in
the same order, with the same columns and headings in the run's language, plus the team (the
Excel list's sheet) and the rule set's name and hash. Dates are written dd-mm-yyyy.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from targetgroup.deliver import texts
from targetgroup.deliver.excel import COLUMNS, ORDER
import pandas as pd

from targetgroup.deliver.files import copy_csv, write_csv
from targetgroup.warehouse import sql_identifier, sql_literal

EXCLUSION_COLUMNS = [("rule_title", "col_rule"), ("cpr_text", "col_cpr"), ("name", "col_name"),
                     ("action_text", "col_action"), ("reason_text", "col_reason"), ("added_by", "col_added_by"),
                     ("list_file", "col_list_file"), ("list_line", "col_list_line"),
                     ("rules_name", "col_rules_name"), ("rules_hash", "col_rules_hash")]


def _select(columns: list[tuple[str, str, str]], lang: str) -> str:
    """`field as "Heading"` for each (field, heading key, kind); dates as dd-mm-yyyy text."""
    out = []
    for field, key, kind in columns:
        value = f"strftime({field}, '%d-%m-%Y')" if kind == "date" else field
        out.append(f"{value} as {sql_identifier(texts.t(key, lang))}")
    return ", ".join(out)


def write_flag_lists(con: duckdb.DuckDBPyConnection, departments: list[str], out_dir: Path,
                     lang: str = "da") -> dict[str, Path]:
    """Write `flags_<DEPT>.csv` per department (also an empty list, so absence means nothing)."""
    columns = [("coalesce(team, " + sql_literal(texts.t("no_team", lang)) + ")", "col_team", "text"), *COLUMNS,
               ("rules_name", "col_rules_name", "text"), ("rules_hash", "col_rules_hash", "text")]
    query = (f"select {_select(columns, lang)} from caseworker_rows where department = ? "
             f"order by team nulls last, {ORDER}")
    return {dept: copy_csv(con, out_dir / f"flags_{dept}.csv", query, [dept]) for dept in departments}


def list_rows(con: duckdb.DuckDBPyConnection, departments: list[str]) -> dict[str, int]:
    """Rows per department's list (the same in the CSV and the Excel file), for the manifest."""
    found = dict(con.execute("select department, count(*) from caseworker_rows group by 1").fetchall())
    return {d: int(found.get(d, 0)) for d in departments}


def write_exclusions(con: duckdb.DuckDBPyConnection, out_dir: Path, lang: str = "da",
                     rules: tuple[str | None, str | None] = (None, None)) -> Path:
    """Write `exclusions.csv` (a caseworker file: full CPR as DDMMYY-SSSS): who each rule left out,
    holds back until consent, or added, and why, in the run's language."""
    query = f"""
        select {_select([(f, k, "text") for f, k in EXCLUSION_COLUMNS], lang)}
        from (
            select coalesce(rw.text, w.text) as rule_title, left(e.cpr, 6) || '-' || right(e.cpr, 4) as cpr_text,
                p.name, coalesce(aw.text, e.action) as action_text,
                case when e.reason_code in ('MANUAL_EXCLUDE', 'MANUAL_INCLUDE') then e.reason
                     else coalesce(r.text, e.reason) end as reason_text,
                e.added_by, e.list_file, e.list_line::varchar as list_line,
                ?::varchar as rules_name, ?::varchar as rules_hash, e.rule_id, e.action, e.reason_code, e.cpr
            from exclusions as e
            left join persons as p using (cpr)
            left join rule_words as rw using (rule_id)
            left join (select text from words where code = 'all_rules') as w on e.rule_id = '*'
            left join words as aw on aw.code = 'action_' || e.action
            left join reason_words as r on r.code = e.reason_code
            order by e.rule_id, e.action, e.reason_code, e.cpr)"""
    return copy_csv(con, out_dir / "exclusions.csv", query, [rules[0], rules[1]])


def stamp_rules(path: Path, rules: tuple[str | None, str | None]) -> None:
    """Add the rule set's name and hash as the last two columns of a CSV the quality gate wrote
    before the rules were loaded (quarantine.csv); nothing when the file is not there."""
    if not path.is_file():
        return
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    frame["rules_name"], frame["rules_hash"] = rules[0] or "", rules[1] or ""
    write_csv(path, frame)
