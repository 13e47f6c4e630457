"""Caseworker lists: one Excel workbook per department per run, an overview sheet and a sheet per team.

    prepare_rows(con, as_of, lang, rule_titles, disclosure, rules)  -> table caseworker_rows (sql/caseworker_rows.sql)
    write_workbooks(con, departments, out_dir, lang, as_of, rules)  -> {department: path of flags_<DEPT>.xlsx}

Only citizens the department already serves are listed (see the SQL). Headings and words come
from deliver.texts in the run's language. Dates are real Excel dates; files are mode 600.
The CSV list (deliver.reports.write_flag_lists) holds the same rows and columns, plus the team.
"""

from __future__ import annotations

import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from targetgroup import meetings
from targetgroup.config import Disclosure
from targetgroup.deliver import texts
from targetgroup.deliver.files import create_private
from targetgroup.warehouse import run_sql, sql_text

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
    ("relatives", "col_relatives", "text"),
    ("consent", "col_consent", "text"),
    ("flag_valid_from", "col_since", "date"),
    ("ended_on", "col_ended_on", "date"),
    ("end_reason_text", "col_end_reason", "text"),
    ("transition_due", "col_transition_due", "date"),
    ("review_due", "col_review_due", "date"),
    ("overdue_meeting", "col_overdue_meeting", "text"),
    ("family_id", "col_family", "text"),
    ("flag_id", "col_flag", "text"),
]
CHANGES = ["new", "continuing", "updated", "ended", "awaiting"]
WORDS = ["given", "refused", "withdrawn", "unknown", "until", "years", "not_shown_no_consent", "awaiting_reason",
         "rel_mother", "rel_father", "rel_child", "rel_sibling", "rel_coparent", "rel_household", "all_rules", "no_team",
         "action_exclude", "action_include", "action_ignored", "action_await", "notice_new", "notice_updated",
         "notice_ended", "notice_case_closed", "case_closed_detail", "meeting_16", "meeting_17_5", "meeting_review"]
ORDER = ("case change_group when 'new' then 0 when 'continuing' then 1 when 'awaiting' then 2 else 3 end, "
         "caseworker, cpr, rule_id, flag_id")
DATE_FORMAT = "dd-mm-yyyy"
MIN_WIDTH, MAX_WIDTH = 8, 60


def _lookup(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> None:
    con.register("_lookup_frame", frame)
    con.execute(f"create or replace temp table {name} as select * from _lookup_frame")
    con.unregister("_lookup_frame")


def prepare_rows(con: duckdb.DuckDBPyConnection, as_of: date, lang: str,
                 rule_titles: dict[str, dict[str, str]] | None = None, disclosure: Disclosure | None = None,
                 departments: list[str] | None = None, rules: tuple[str | None, str | None] = (None, None)) -> int:
    """Fill the word tables for `lang` and the disclosure levels, build `caseworker_rows`; returns its rows.

    `rules` is the run's rule set (name, hash), written into every row of the CSV list.
    """
    codes = [r[0] for r in con.execute(
        """select distinct code from (select unnest(reason_codes) as code from targets
                                      union all select end_reason from flag_status
                                      union all select reason_code from exclusions)
           where code is not null""").fetchall()]
    _lookup(con, "reason_words", texts.reason_lookup(codes, lang))
    _lookup(con, "change_words", texts.word_lookup(CHANGES, lang))
    _lookup(con, "words", texts.word_lookup(WORDS, lang))
    rules_ids = sorted(r[0] for r in con.execute(
        "select distinct rule_id from flag_status union select distinct rule_id from exclusions").fetchall())
    _lookup(con, "rule_words", pd.DataFrame({
        "rule_id": pd.Series(rules_ids, dtype="string"),
        "text": pd.Series([texts.rule_title(r, lang, rule_titles) for r in rules_ids], dtype="string")}))
    policy = disclosure or Disclosure()
    depts = departments or sorted({r[0] for r in con.execute("select distinct department from active_cases").fetchall()})
    _lookup(con, "disclosure_levels", pd.DataFrame(
        [(a, b, policy.level(a, b)) for a in depts for b in depts if a != b] or [("", "", "shown")],
        columns=["shown", "shown_to", "level"]).astype("string"))
    meetings.build_status(con, as_of)
    run_sql(con, "caseworker_rows.sql", {"as_of": as_of, "rules_name": rules[0], "rules_hash": rules[1]})
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
                    lang: str, as_of: date, rules: tuple[str | None, str | None] = (None, None)) -> dict[str, Path]:
    """Write flags_<DEPT>.xlsx for every department (also when empty); returns the paths.

    xlsxwriter lays out each workbook (overview, headings, formats, widths, filters) and DuckDB
    renders the team sheets' rows as sheet XML (sql/caseworker_sheet.sql), spliced in after:
    no row of the lists passes through pandas or per-cell Python (issue 7: 270,000 rows at
    national scale). Workbooks are compressed on two threads.
    """
    paths = {dept: out_dir / f"flags_{dept}.xlsx" for dept in departments}
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(_compress, *_write_workbook(con, paths[dept], dept, lang, as_of, rules))
                for dept in departments]
        for job in jobs:
            job.result()
    return paths


def _team_counts(con: duckdb.DuckDBPyConnection, dept: str) -> list[tuple]:
    """Per team of `dept` (teams sorted, no team last): new, continuing, ended, awaiting consent,
    citizens, rows, and the widest value of each column."""
    widths = ", ".join(f"max(length({_as_text(field, kind)}))" for field, _, kind in COLUMNS)
    return con.execute(f"""
        select team, count(*) filter (where change_group = 'new'), count(*) filter (where change_group = 'continuing'),
            count(*) filter (where change_group = 'ended'), count(*) filter (where change_group = 'awaiting'),
            count(distinct cpr), count(*), {widths}
        from caseworker_rows where department = ? group by team order by team nulls last""", [dept]).fetchall()


def _as_text(field: str, kind: str) -> str:
    return f"strftime({field}, '%Y-%m-%d')" if kind == "date" else f"{field}::varchar"


def _write_workbook(con: duckdb.DuckDBPyConnection, path: Path, dept: str, lang: str,
                    as_of: date, rules: tuple[str | None, str | None]) -> tuple[Path, dict[str, bytes]]:
    """Lay out the workbook with xlsxwriter; return it with the sheet XML files to splice in."""
    counts = _team_counts(con, dept)
    teams = [row[0] for row in counts]
    names = sheet_names(teams, lang)
    create_private(path)   # xlsxwriter truncates it: mode 600 from the first byte
    book = xlsxwriter.Workbook(str(path), {"default_date_format": DATE_FORMAT, "strings_to_numbers": False,
                                           "strings_to_formulas": False, "strings_to_urls": False})
    fmt = {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "head": book.add_format({"bold": True, "bg_color": "#DDE7F0", "border": 1, "text_wrap": True,
                                 "valign": "top"}),
        "date": book.add_format({"num_format": DATE_FORMAT}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
    }
    _overview(book, fmt, counts, names, dept, lang, as_of, rules)
    for row in counts:
        _team_sheet(book, fmt, row, names[row[0]], lang)
    book.close()
    sheets = {team: (xml or "", n) for team, xml, n in
              con.execute(_sheet_sql(fmt["date"].xf_index), {"department": dept}).fetchall()}
    # sheet1 is the overview; the team sheets follow in the order of `counts`
    splice = {f"xl/worksheets/sheet{i}.xml": sheets[row[0]] for i, row in enumerate(counts, start=2)}
    return path, splice


def _sheet_sql(date_style: int) -> str:
    cells = []
    for col, (field, _, kind) in enumerate(COLUMNS):
        ref = f"'<c r=\"{xl_col_to_name(col)}' || excel_row || '\""
        if kind == "text":
            text = (f"replace(replace(replace(regexp_replace({field}, '[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]', '', 'g'), "
                    f"'&', '&amp;'), '<', '&lt;'), '>', '&gt;')")
            value = f"{ref} t=\"inlineStr\"><is><t xml:space=\"preserve\">' || {text} || '</t></is></c>'"
        elif kind == "int":
            value = f"{ref}><v>' || {field} || '</v></c>'"
        else:
            value = f"{ref} s=\"{date_style}\"><v>' || datediff('day', date '1899-12-30', {field}) || '</v></c>'"
        cells.append(f"coalesce({value}, '')")
    return sql_text("caseworker_sheet.sql").replace("{cells}", " || ".join(cells))


def _compress(path: Path, splice: dict[str, tuple[str, int]]) -> None:
    """Rewrite the workbook with the team sheets' rows in place (deflate level 1: fast, large XML)."""
    if not splice:
        return
    with zipfile.ZipFile(path) as old:
        parts = [(info, old.read(info.filename)) for info in old.infolist()]
    # rewritten in place (truncated, so it keeps mode 600; no umask change from the pool's threads)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as new:
        for info, data in parts:
            if info.filename in splice:
                xml, n = splice[info.filename]
                text = data.decode("utf-8")
                text = re.sub(r'<dimension ref="[^"]*"/>',
                              f'<dimension ref="A1:{xl_col_to_name(len(COLUMNS) - 1)}{n + 1}"/>', text, count=1)
                head, tail = text.split("</sheetData>", 1)
                new.writestr(info.filename, (head + xml + "</sheetData>" + tail).encode("utf-8"))
            else:
                new.writestr(info, data)


def _overview(book: xlsxwriter.Workbook, fmt: dict, counts: list[tuple], names: dict, dept: str,
              lang: str, as_of: date, rules: tuple[str | None, str | None]) -> None:
    sheet = book.add_worksheet(texts.t("overview", lang))
    sheet.write(0, 0, texts.t("list_title", lang, dept=dept, as_of=f"{as_of:%d-%m-%Y}"), fmt["title"])
    sheet.merge_range(1, 0, 1, 6, texts.t("list_intro", lang, dept=dept), fmt["wrap"])
    sheet.set_row(1, 60)
    sheet.merge_range(2, 0, 2, 6, texts.t("list_statuses", lang), fmt["wrap"])
    sheet.set_row(2, 75)
    sheet.write(3, 0, f"{texts.t('rule_set_label', lang)}: {rules[0] or ''} ({rules[1] or ''})")
    heads = [texts.t("sheet", lang), texts.t("new", lang), texts.t("continuing", lang),
             texts.t("ended", lang), texts.t("awaiting", lang), texts.t("citizens", lang), texts.t("rows", lang)]
    sheet.write_row(5, 0, heads, fmt["head"])
    for i, row in enumerate(counts, start=6):
        sheet.write_row(i, 0, [names[row[0]], *row[1:7]])
    if not names:
        sheet.write(6, 0, texts.t("none", lang))
    sheet.set_column(0, 0, 32)
    sheet.set_column(1, 6, 12)


def _team_sheet(book: xlsxwriter.Workbook, fmt: dict, row: tuple, name: str, lang: str) -> None:
    """Headings, column widths and formats, frozen panes and the filter; rows come from _sheet_sql."""
    sheet = book.add_worksheet(name)
    heads = [texts.t(key, lang) for _, key, _ in COLUMNS]
    sheet.write_row(0, 0, heads, fmt["head"])
    widest = row[7:]
    for col, (_, _, kind) in enumerate(COLUMNS):
        width = max(len(heads[col]), widest[col] or 0) + 2
        if kind == "date":
            width = max(width, 12)
        sheet.set_column(col, col, min(max(width, MIN_WIDTH), MAX_WIDTH), fmt["date"] if kind == "date" else None)
    sheet.freeze_panes(1, 2)
    sheet.autofilter(0, 0, max(row[6], 1), len(COLUMNS) - 1)
    sheet.set_row(0, 30)
