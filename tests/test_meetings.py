"""Transition meetings held (issue 19 §3): files and the CLI, due / held / overdue on chosen
dates, the lists' "overdue meeting" column, the report's counts and their audit relation.

Fake CPR numbers and names ("Fiktiv"). Every expected value is worked out by hand below.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import SOURCES_YAML, write_municipality
from targetgroup import meetings
from targetgroup.cli import app
from targetgroup.config import load_sources
from targetgroup.deliver import texts
from targetgroup.deliver.audit import audit, report_from_frame
from targetgroup.deliver.figures import MEETINGS_SQL
from targetgroup.errors import InputError
from targetgroup.pipeline import RunSettings, run_pipeline
from targetgroup.rules.load import DEFAULT_RULES
from targetgroup.warehouse import open_work, run_sql

AS_OF = date(2026, 11, 1)


# ---- due, held, overdue on chosen dates (sql/meeting_status.sql on hand-built tables) ----

def _status(records: list[tuple], as_of: date = AS_OF) -> dict[tuple, tuple]:
    con = open_work()
    run_sql(con, "rules/prepare.sql")   # tg_add_period, as in a run
    con.execute("create temp table flag_status (flag_id varchar, rule_id varchar, cpr varchar, change varchar)")
    con.execute("create temp table targets (rule_id varchar, cpr varchar, reason_codes varchar[], review_due date)")
    con.execute("create temp table persons (cpr varchar, birth_date date)")
    con.executemany("insert into flag_status values (?, 'r', ?, ?)",
                    [("F1", "0111100001", "continuing"), ("F2", "2005090002", "new"), ("F3", "0101800003", "continuing"),
                     ("F4", "0101800004", "ended")])
    con.executemany("insert into targets values ('r', ?, ?, ?)", [
        ("0111100001", ["TURNS_16Y_IN_60D"], None),        # 16 on 2026-11-01
        ("2005090002", ["TURNS_17Y6M_IN_60D"], None),      # 17½ on 2026-11-20
        ("0101800003", ["SPELL_JOB"], date(2026, 10, 31)),  # review due the day before
        ("0101800004", [], date(2026, 10, 1))])            # ended flag: no meeting due
    con.executemany("insert into persons values (?, ?)", [
        ("0111100001", date(2010, 11, 1)), ("2005090002", date(2009, 5, 20)),
        ("0101800003", date(1980, 1, 1)), ("0101800004", date(1980, 1, 1))])
    con.execute(meetings.RECORDS_EMPTY.format(name="meeting_records"))
    if records:
        con.executemany("insert into meeting_records values ('M', ?, ?, ?, ?, 'AB', null, 'BUF', 'test', now())",
                        records)
    meetings.build_status(con, as_of)
    return {(r[0], r[1]): r[2:] for r in con.execute(
        "select flag_id, kind, due_on, held, overdue from meeting_status").fetchall()}


def test_due_held_and_overdue_on_chosen_dates():
    assert _status([]) == {
        ("F1", "16"): (date(2026, 11, 1), False, True),       # due today, none held: overdue
        ("F2", "17.5"): (date(2026, 11, 20), False, False),   # due in 19 days
        ("F3", "review"): (date(2026, 10, 31), False, True),
    }
    got = _status([
        ("0111100001", "r", "16", date(2026, 8, 3)),       # due - 90 days exactly: held
        ("2005090002", "*", "17.5", date(2026, 10, 15)),   # every course of the citizen; before the date
        ("0101800003", "r", "review", date(2026, 8, 1)),   # due - 91 days: too early
        ("0101800003", "other", "review", date(2026, 10, 30)),  # another rule's course
        ("0101800003", "r", "16", date(2026, 10, 30)),     # another kind
    ])
    assert got == {("F1", "16"): (date(2026, 11, 1), True, False), ("F2", "17.5"): (date(2026, 11, 20), True, False),
                   ("F3", "review"): (date(2026, 10, 31), False, True)}
    # a meeting recorded as held after the as-of date does not count yet
    assert _status([("0111100001", "r", "16", date(2026, 11, 2))])[("F1", "16")] == (date(2026, 11, 1), False, True)


def test_the_report_counts_due_within_90_days_held_and_overdue():
    con = open_work()
    con.execute("create temp table meeting_status (cpr varchar, rule_id varchar, kind varchar, due_on date, "
                "held boolean, overdue boolean)")
    con.executemany("insert into meeting_status values ('0101800001', 'r', 'review', ?, ?, ?)", [
        (date(2026, 10, 1), False, True), (date(2026, 11, 1), True, False), (date(2027, 1, 30), False, False),
        (date(2027, 1, 31), True, False)])   # as-of + 91 days: not yet counted
    assert con.execute(MEETINGS_SQL, {"as_of": AS_OF, "ahead": 90}).fetchone() == (3, 1, 1)


def test_the_audit_knows_held_plus_overdue_is_at_most_due():
    # rounded to 5: due shown 5 -> 1..9, held shown 10 -> 6..14, overdue shown 0 -> 0..4;
    # held + overdue <= due makes both held and due 6..9
    frame = pd.DataFrame([("total", "all", "", "100"), ("transition_meetings", "due", "", "5"),
                          ("transition_meetings", "held", "", "10"), ("transition_meetings", "overdue", "", "0")],
                         columns=["breakdown", "group", "subgroup", "count"])
    frame["rounded_to"] = "5"
    result = audit([report_from_frame(frame, "R1", AS_OF, name="r")])
    got = {c.label.split(" ", 1)[1]: (c.lo, c.hi) for c in result.cells}
    assert got["transition_meetings held"] == (6, 9) and got["transition_meetings due"] == (6, 9)


# ---- the department files ----

def _import(tmp_path, text: str, warehouse=None) -> duckdb.DuckDBPyConnection:
    sources = write_municipality(tmp_path / "in", **{"sources.yaml": SOURCES_YAML + "meetings: moeder\n"})
    (tmp_path / "in" / "moeder").mkdir(exist_ok=True)
    (tmp_path / "in" / "moeder" / "BUF.csv").write_text(text, encoding="utf-8")
    config = load_sources(sources)
    con = duckdb.connect()
    run_sql(con, "macros.sql")
    meetings.import_files(con, config, config.base / config.meetings, warehouse)
    return con


def test_a_department_file_is_read_with_kind_rule_date_and_origin(tmp_path):
    con = _import(tmp_path, "cpr,rule,kind,held_on,recorded_by,team\n"
                            "011110-0001,transition_meeting,16,2026-10-01,UU,Ung\n"
                            "2005090002,,17½,20-10-2026,VV,\n"
                            "2005090002,,17½,20-10-2026,VV,\n")   # the same record twice: one record
    rows = con.execute("""select meeting_id, cpr, rule_id, kind, held_on, recorded_by, team, recorded_in_department,
                                 origin from meeting_new order by meeting_id""").fetchall()
    assert rows == [("M000001", "0111100001", "transition_meeting", "16", date(2026, 10, 1), "UU", "Ung", "BUF",
                     "file BUF.csv line 2"),
                    ("M000002", "2005090002", "*", "17.5", date(2026, 10, 20), "VV", None, "BUF", "file BUF.csv line 3")]


@pytest.mark.parametrize(("text", "problem", "value"), [
    ("cpr,kind,held_on,recorded_by\n0111100001,18,2026-10-01,UU\n", "kind is not a meeting kind", None),
    ("cpr,kind,held_on,recorded_by\n0111100001,16,1 oktober,UU\n", "held_on is not a date", "oktober"),
    ("cpr,kind,held_on,recorded_by\n98765,16,2026-10-01,UU\n", "the CPR number cannot be read", "98765"),
    ("cpr,kind,held_on,recorded_by\n0111100001,16,2026-10-01,\n", "recorded_by is empty", None),
])
def test_a_bad_line_names_file_and_line_never_the_value(tmp_path, text, problem, value):
    with pytest.raises(InputError) as caught:
        _import(tmp_path, text)
    message = str(caught.value)
    assert "BUF.csv:2" in message and problem in message and "0111100001" not in message
    assert value is None or value not in message


def test_a_file_without_the_kind_column_is_refused_at_its_header(tmp_path):
    with pytest.raises(InputError) as caught:
        _import(tmp_path, "cpr,held_on,recorded_by\n0111100001,2026-10-01,UU\n")
    assert "BUF.csv:1" in str(caught.value) and "no column kind" in str(caught.value)


# ---- one run of a small municipality: files, the CLI, the list column, the report ----
# Children with a BUF case, rule ballerup_transitions (16 / 17½ within 60 days), as of 2026-11-01:
#   A 16 today, a 16 meeting recorded for another rule            -> overdue
#   B 16 today, 16 meeting held 2026-10-01 (file)                -> held
#   C 16 today, 16 meeting 2026-07-01 (too early) + a 17½ meeting -> overdue
#   D 17½ on 2026-11-20, nothing                                  -> due, not overdue
#   E 17½ on 2026-12-01, 17½ meeting 2026-10-15 (command line)    -> held
#   F 16 today, 16 meeting on 2026-08-03 (due - 90 days)          -> held
# Report: due 6, held 3, overdue 2 (true counts; published rounded to 5).
KIDS = {"A": ("0111100001", "2010-11-01"), "B": ("0111100002", "2010-11-01"), "C": ("0111100003", "2010-11-01"),
        "D": ("2005090004", "2009-05-20"), "E": ("0106090005", "2009-06-01"), "F": ("0111100006", "2010-11-01")}
MEETINGS_CSV = """cpr,rule,kind,held_on,recorded_by
0111100001,other_rule,16,2026-10-30,UU
011110-0002,transition_meeting,16,2026-10-01,UU
0111100003,,16,2026-07-01,UU
0111100003,,17.5,2026-10-20,UU
0111100006,,16,03-08-2026,UU
"""


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    root = tmp_path_factory.mktemp("meetings")
    persons = ["cpr,name,birth,household,mother,father,died,moved"]
    persons += [f"{c},Barn {k} Fiktiv,{b},H{k},,,," for k, (c, b) in KIDS.items()]
    buf = ["CPR-nr;Sagsnr;Sagstype;Status;Start;Slut;Rådgiver;Team"]
    buf += [f"{c[:6]}-{c[6:]};B{k};Forebyggende;Aktiv;01-01-2024;;Ulla Ung;Ung" for k, (c, _) in KIDS.items()]
    yaml = SOURCES_YAML.replace('  SOC: {name: "Social", name_en: "Adult social"}\n',
                                '  SOC: {name: "Social", name_en: "Adult social"}\n'
                                '  UNG: {name: "Ungevejledning", name_en: "Youth guidance"}\n') + "meetings: moeder\n"
    sources = write_municipality(root / "in", **{"sources.yaml": yaml, "persons.csv": "\n".join(persons) + "\n",
                                                 "buf.csv": "\n".join(buf) + "\n"})
    (root / "in" / "moeder").mkdir()
    (root / "in" / "moeder" / "BUF.csv").write_text(MEETINGS_CSV, encoding="utf-8")
    out = root / "out"
    cli = CliRunner().invoke(app, ["meeting", "--cpr", "010609-0005", "--kind", "17.5", "--held", "2026-10-15",
                                   "--by", "VV", "--department", "BUF", "--sources", str(sources), "--out", str(out)])
    assert cli.exit_code == 0, cli.output
    rules = DEFAULT_RULES.parent / "ballerup_transitions.yaml"
    first = run_pipeline(RunSettings(sources=sources, rules=rules, as_of=AS_OF, out=out, threads=1))
    again = run_pipeline(RunSettings(sources=sources, rules=rules, as_of=date(2026, 11, 2), out=out, threads=1))
    return {"first": first, "again": again, "out": out, "cli": cli.output}


def test_the_cli_says_the_id_and_masks_the_cpr(town):
    assert "M000001" in town["cli"] and "010609-****" in town["cli"] and "0005" not in town["cli"]


def test_the_register_keeps_file_and_command_line_records_once(town):
    assert town["first"].summary["meetings_imported"] == 5 and town["again"].summary["meetings_imported"] == 0
    con = duckdb.connect(str(town["out"] / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute("select meeting_id, cpr, kind, origin from meetings order by meeting_id").fetchall()
    finally:
        con.close()
    assert rows == [("M000001", "0106090005", "17.5", "command line"),
                    ("M000002", "0111100001", "16", "file BUF.csv line 2"),
                    ("M000003", "0111100002", "16", "file BUF.csv line 3"),
                    ("M000004", "0111100003", "16", "file BUF.csv line 4"),
                    ("M000005", "0111100003", "17.5", "file BUF.csv line 5"),
                    ("M000006", "0111100006", "16", "file BUF.csv line 6")]


def test_the_lists_show_the_overdue_meetings_in_csv_and_excel(town):
    import openpyxl

    run = town["first"]
    heading = texts.t("col_overdue_meeting", "da")
    frame = pd.read_csv(run.report_dir / "flags_BUF.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    got = dict(zip(frame[texts.t("col_cpr", "da")], frame[heading]))
    overdue = "overgangsmøde 16 år, skulle holdes 01-11-2026"
    assert got == {"011110-0001": overdue, "011110-0002": "", "011110-0003": overdue, "200509-0004": "",
                   "010609-0005": "", "011110-0006": ""}
    sheet = openpyxl.load_workbook(run.report_dir / "flags_BUF.xlsx", read_only=True).worksheets[1]
    rows = list(sheet.iter_rows(values_only=True))
    col, cpr_col = rows[0].index(heading), rows[0].index(texts.t("col_cpr", "da"))
    assert {r[cpr_col]: r[col] or "" for r in rows[1:]} == got


def test_the_report_publishes_the_meeting_counts_rounded_and_audited(town):
    run = town["first"]
    counts = pd.read_csv(run.report_dir / "leadership_counts.csv", dtype=str, keep_default_na=False)
    rows = counts[counts["breakdown"] == "transition_meetings"]
    assert sorted(rows["group"]) == ["due", "held", "overdue"] and set(rows["rounded_to"]) == {"5"}
    assert all(c == "•" or int(c) % 5 == 0 for c in rows["count"])
    assert run.manifest["disclosure"]["audit_passed"]
    assert texts.t("sec_meetings", "da") in (run.report_dir / "leadership_report.html").read_text(encoding="utf-8")
