"""Caseworker lists: one Excel workbook per department per run, an overview sheet and a sheet per team.

    prepare_rows(con, as_of, lang, rule_titles)   -> table caseworker_rows (sql/caseworker_rows.sql)
    write_workbooks(con, departments, out_dir, lang, as_of) -> {department: path of flags_<DEPT>.xlsx}

Only citizens the department already serves are listed (see the SQL). Headings and words come
from deliver.texts in the run's language. Dates are real Excel dates; files are mode 600.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import xlsxwriter

from targetgroup.deliver import texts
from targetgroup.deliver.files import private_files
from targetgroup.warehouse import run_sql

# (column in caseworker_rows, heading key in texts, kind)
COLUMNS = [
    ("change_text", "col_change", "text"),
    ("cpr_text", "col_cpr", "text"),
    ("name", "col_name", "text"),
    ("age", "col_age", "int"),
    ("caseworker", "col_caseworker", "text"),
    ("rule_title", "col_rule", "text"),
    ("reason", "col_reason", "text"),
    ("others", "col_others", "text"),
    ("consent", "col_consent", "text"),
    ("flag_valid_from", "col_since", "date"),
    ("ended_on", "col_ended_on", "date"),
    ("end_reason_text", "col_end_reason", "text"),
    ("family_id", "col_family", "text"),
]
DATE_FORMAT = "dd-mm-yyyy"
MIN_WIDTH, MAX_WIDTH = 8, 60


def _lookup(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> None:
    con.register("_lookup_frame", frame)
    con.execute(f"create or replace temp table {name} as select * from _lookup_frame")
    con.unregister("_lookup_frame")


def prepare_rows(con: duckdb.DuckDBPyConnection, as_of: date, lang: str,
                 rule_titles: dict[str, dict[str, str]] | None = None) -> int:
    """Fill the word tables for `lang` and build `caseworker_rows`; returns its row count."""
    codes = [r[0] for r in con.execute(
        """select distinct code from (select unnest(reason_codes) as code from targets
                                      union all select end_reason from flag_status)
           where code is not null""").fetchall()]
    _lookup(con, "reason_words", texts.reason_lookup(codes, lang))
    _lookup(con, "change_words", texts.word_lookup(["new", "continuing", "updated", "ended"], lang))
    _lookup(con, "consent_words", texts.word_lookup(["given", "refused"], lang))
    rules = sorted(r[0] for r in con.execute("select distinct rule_id from flag_status").fetchall())
    _lookup(con, "rule_words", pd.DataFrame({
        "rule_id": pd.Series(rules, dtype="string"),
        "text": pd.Series([texts.rule_title(r, lang, rule_titles) for r in rules], dtype="string")}))
    run_sql(con, "caseworker_rows.sql", {"as_of": as_of})
    return con.execute("select count(*) from caseworker_rows").fetchone()[0]


def sheet_names(teams: list[str | None], lang: str) -> dict[str | None, str]:
    """A valid, unique Excel sheet name (<= 31 chars, no []:*?/\\) for each team."""
    names: dict[str | None, str] = {}
    used = {texts.t("overview", lang).lower()}
    for team in teams:
        base = re.sub(r"[\[\]:*?/\\]", "-", team or texts.t("no_team", lang)).strip("'") or "-"
        name, n = base[:31], 2
        while name.lower() in used:
            suffix = f" ({n})"
            name, n = base[:31 - len(suffix)] + suffix, n + 1
        used.add(name.lower())
        names[team] = name
    return names


def write_workbooks(con: duckdb.DuckDBPyConnection, departments: list[str], out_dir: Path,
                    lang: str, as_of: date) -> dict[str, Path]:
    """Write flags_<DEPT>.xlsx for every department (also when empty); returns the paths."""
    rows = con.execute("select * from caseworker_rows").df()
    for field, _, kind in COLUMNS:
        if kind == "date":
            rows[field] = pd.to_datetime(rows[field]).dt.date
    written = {}
    for dept in departments:
        part = rows[rows["department"] == dept]
        written[dept] = _write_workbook(part, out_dir / f"flags_{dept}.xlsx", dept, lang, as_of)
    return written


def _write_workbook(rows: pd.DataFrame, path: Path, dept: str, lang: str, as_of: date) -> Path:
    teams = sorted(rows["team"].dropna().unique().tolist()) + ([None] if rows["team"].isna().any() else [])
    names = sheet_names(teams, lang)
    with private_files():
        book = xlsxwriter.Workbook(str(path), {"default_date_format": DATE_FORMAT, "strings_to_numbers": False,
                                               "strings_to_formulas": False, "strings_to_urls": False})
        fmt = {
            "title": book.add_format({"bold": True, "font_size": 14}),
            "head": book.add_format({"bold": True, "bg_color": "#DDE7F0", "border": 1, "text_wrap": True,
                                     "valign": "top"}),
            "date": book.add_format({"num_format": DATE_FORMAT}),
            "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
        }
        _overview(book, fmt, rows, names, dept, lang, as_of)
        for team in teams:
            team_rows = rows[rows["team"].isna()] if team is None else rows[rows["team"] == team]
            _team_sheet(book, fmt, team_rows, names[team], lang)
        book.close()
    os.chmod(path, 0o600)
    return path


def _overview(book: xlsxwriter.Workbook, fmt: dict, rows: pd.DataFrame, names: dict, dept: str,
              lang: str, as_of: date) -> None:
    sheet = book.add_worksheet(texts.t("overview", lang))
    sheet.write(0, 0, texts.t("list_title", lang, dept=dept, as_of=f"{as_of:%d-%m-%Y}"), fmt["title"])
    sheet.merge_range(1, 0, 1, 5, texts.t("list_intro", lang, dept=dept), fmt["wrap"])
    sheet.set_row(1, 60)
    heads = [texts.t("sheet", lang), texts.t("new", lang), texts.t("continuing", lang),
             texts.t("ended", lang), texts.t("citizens", lang), texts.t("rows", lang)]
    sheet.write_row(3, 0, heads, fmt["head"])
    counts = (rows.assign(team_key=rows["team"].fillna("\0"))
              .groupby("team_key")
              .agg(new=("change_group", lambda s: int((s == "new").sum())),
                   continuing=("change_group", lambda s: int((s == "continuing").sum())),
                   ended=("change_group", lambda s: int((s == "ended").sum())),
                   citizens=("cpr", "nunique"), rows=("cpr", "size")))
    for i, (team, name) in enumerate(names.items(), start=4):
        c = counts.loc[team if team is not None else "\0"]
        sheet.write_row(i, 0, [name, c["new"], c["continuing"], c["ended"], c["citizens"], c["rows"]])
    if not names:
        sheet.write(4, 0, texts.t("none", lang))
    sheet.set_column(0, 0, 32)
    sheet.set_column(1, 5, 12)


def _team_sheet(book: xlsxwriter.Workbook, fmt: dict, rows: pd.DataFrame, name: str, lang: str) -> None:
    sheet = book.add_worksheet(name)
    heads = [texts.t(key, lang) for _, key, _ in COLUMNS]
    sheet.write_row(0, 0, heads, fmt["head"])
    for col, (field, _, kind) in enumerate(COLUMNS):
        values = rows[field].astype(object).where(rows[field].notna(), None).tolist()
        if kind == "int":
            values = [None if v is None else int(v) for v in values]
        cell_fmt = fmt["date"] if kind == "date" else None
        sheet.write_column(1, col, values, cell_fmt)
        width = max([len(heads[col])] + [len(str(v)) for v in values if v is not None]) + 2
        if kind == "date":
            width = max(width, 12)
        sheet.set_column(col, col, min(max(width, MIN_WIDTH), MAX_WIDTH))
    sheet.freeze_panes(1, 2)
    sheet.autofilter(0, 0, max(len(rows), 1), len(COLUMNS) - 1)
    sheet.set_row(0, 30)
