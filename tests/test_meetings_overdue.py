"""A missed meeting stays overdue after its due date (issue 19): the register keeps the due
meetings per course (wh.meetings_due), over several runs of a small municipality, and the
following rules of sql/meeting_status.sql on hand-built tables.

Fake CPR numbers and names ("Fiktiv"). Every expected value is worked out by hand below.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
import pytest

from conftest import SOURCES_YAML, write_municipality
from targetgroup import meetings
from targetgroup.deliver import texts
from targetgroup.deliver.figures import MEETINGS_SQL
from targetgroup.errors import InputError
from targetgroup.pipeline import RunSettings, run_pipeline
from targetgroup.warehouse import open_work, run_sql

# ---- several runs: rule "two departments, review every 6 months" ----
# P1 JOB + SOC from 2020, no end; P4 a child with a BUF case only (not flagged); P2 the same, but SOC ends 2026-03-15; P3 JOB + SOC from 2026-05-15.
# Both P1 and P2 are first flagged by run 1 (2025-09-01), so their review is due 2026-03-01
# (tg_next_review: first as-of + 6 months).
#   run 1 2025-09-01: review due 2026-03-01 announced (kept in the register), not overdue
#   run 2 2026-03-01: due today, none held              -> P1 and P2 overdue 01-03-2026
#   run 3 2026-04-01: P1's next review is 2026-09-01, yet -> P1 still overdue 01-03-2026;
#                     P2's course ended (SOC closed)    -> nothing overdue for P2
#   run 4 2026-05-01: JOB's file records P1's review held 2026-03-20 -> nothing overdue
#   run 5 2026-06-01: a bad line in the meeting file stops the run; P3's review (2026-12-01),
#                     announced by it, is not stored
RULES = """name: review_test
description: Two departments, reviewed every 6 months.
rules:
  - id: two_depts
    title_da: To forvaltninger
    title_en: Two departments
    description: Active cases in two departments.
    subject: person
    conditions:
      - kind: departments
        at_least: 2
    review_after: 6m
"""
PERSONS = """cpr,name,birth,household,mother,father,died,moved
0101800001,Anna Fiktiv,1980-01-01,H1,,,,
0202800002,Bent Fiktiv,1980-02-02,H2,,,,
0303800003,Cilla Fiktiv,1980-03-03,H3,,,,
0101150004,Dino Fiktiv,2015-01-01,H4,,,,
"""
JOB = """cpr,id,type,status,start,end,worker,team
0101800001,J1,Jobparat kontanthjælp,AKT,2020-01-01,,Jens Job,Team A
0202800002,J2,Jobparat kontanthjælp,AKT,2020-01-01,,Jens Job,Team A
0303800003,J3,Jobparat kontanthjælp,AKT,2026-05-15,,Jens Job,Team A
"""
SOC = """cpr,id,type,status,start,end,worker,team,consent
0101800001,S1,Bostøtte,Bevilget,2020-01-01,,Sara Soc,Voksen,
0202800002,S2,Bostøtte,Bevilget,2020-01-01,2026-03-15,Sara Soc,Voksen,
0303800003,S3,Bostøtte,Bevilget,2026-05-15,,Sara Soc,Voksen,
"""
BUF = "CPR-nr;Sagsnr;Sagstype;Status;Start;Slut;Rådgiver;Team\n010115-0004;B1;Forebyggende;Aktiv;01-01-2024;;Søs Ærø;Familie\n"
REVIEW = "revurderingsmøde, skulle holdes"
DATES = [date(2025, 9, 1), date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)]


def _stored(warehouse) -> set[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return set(con.execute("select cpr, rule_id, kind, due_on, first_as_of from meetings_due").fetchall())
    finally:
        con.close()


def _overdue_column(run) -> dict[str, str]:
    frame = pd.read_csv(run.report_dir / "flags_JOB.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    rows = frame[frame[texts.t("col_overdue_meeting", "da")] != ""]
    return dict(zip(rows[texts.t("col_cpr", "da")], rows[texts.t("col_overdue_meeting", "da")]))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("overdue")
    sources = write_municipality(root / "in", **{"sources.yaml": SOURCES_YAML + "meetings: moeder\n",
                                                 "persons.csv": PERSONS, "job.csv": JOB, "soc.csv": SOC,
                                                 "buf.csv": BUF})
    (root / "in" / "moeder").mkdir()
    rules = root / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    out = root / "out"
    # P2's SOC case closing halves SOC's active cases: the volume guard is told it is real

    def settings(day: date) -> RunSettings:
        return RunSettings(sources=sources, rules=rules, as_of=day, out=out, threads=1, allow_drop=("soc",))

    done, stored = [], []
    for day in DATES:
        if day == date(2026, 5, 1):
            (root / "in" / "moeder" / "JOB.csv").write_text(
                "cpr,rule,kind,held_on,recorded_by\n0101800001,two_depts,review,2026-03-20,JJ\n", encoding="utf-8")
        done.append(run_pipeline(settings(day)))
        stored.append(_stored(out / "warehouse.duckdb"))
    (root / "in" / "moeder" / "JOB.csv").write_text(
        "cpr,rule,kind,held_on,recorded_by\n0101800001,two_depts,review,2026-03-20,JJ\n"
        "0303800003,two_depts,revision,2026-05-20,JJ\n", encoding="utf-8")
    with pytest.raises(InputError) as failed:
        run_pipeline(settings(date(2026, 6, 1)))
    return {"runs": done, "stored": stored, "after_failure": _stored(out / "warehouse.duckdb"),
            "failure": str(failed.value), "out": out}


@pytest.mark.slow
def test_the_register_keeps_each_due_meeting_once_with_the_run_that_first_saw_it(runs):
    first = {("0101800001", "two_depts", "review", date(2026, 3, 1), date(2025, 9, 1)),
             ("0202800002", "two_depts", "review", date(2026, 3, 1), date(2025, 9, 1))}
    assert runs["stored"][0] == first
    assert runs["stored"][1] == first   # seen again on its due date: not stored twice
    assert runs["stored"][2] == first | {("0101800001", "two_depts", "review", date(2026, 9, 1), date(2026, 4, 1))}
    assert runs["stored"][3] == runs["stored"][2]


@pytest.mark.slow
def test_a_missed_meeting_stays_overdue_until_held_or_the_course_ends(runs):
    run1, run2, run3, run4 = runs["runs"]
    assert _overdue_column(run1) == {}
    assert _overdue_column(run2) == {"010180-0001": f"{REVIEW} 01-03-2026", "020280-0002": f"{REVIEW} 01-03-2026"}
    # a month later: P1 still overdue (its next review is 2026-09-01); P2's course has ended
    assert _overdue_column(run3) == {"010180-0001": f"{REVIEW} 01-03-2026"}
    # the record held 2026-03-20 (on or after the due date - 90 days) clears it
    assert _overdue_column(run4) == {}


@pytest.mark.slow
def test_a_failed_run_stores_no_due_meeting(runs):
    assert "JOB.csv:3" in runs["failure"] and "0303800003" not in runs["failure"]
    assert runs["after_failure"] == runs["stored"][3]


@pytest.mark.slow
def test_the_reader_copy_has_the_due_meetings(runs):
    copies = list(runs["out"].glob("*.reader.duckdb"))
    assert len(copies) == 1
    con = duckdb.connect(str(copies[0]), read_only=True)
    try:
        assert con.execute("select count(*) from meetings_due").fetchone()[0] == 3
    finally:
        con.close()


# ---- following rules on hand-built tables (as of 2026-11-01) ----
# Current flags: G1 (rule s) of the child 1510090001 (born 2009-10-15: 16 on 2025-10-15, 18 on
# 2027-10-15) and F2 (rule r) of 0101800002 (next review 2027-04-01).
AS_OF = date(2026, 11, 1)


def _follow(stored: list[tuple], records: list[tuple] = (), as_of: date = AS_OF) -> set[tuple]:
    con = open_work()
    run_sql(con, "rules/prepare.sql")   # tg_add_period, as in a run
    con.execute("create temp table flag_status (flag_id varchar, rule_id varchar, cpr varchar, change varchar)")
    con.executemany("insert into flag_status values (?, ?, ?, ?)",
                    [("G1", "s", "1510090001", "continuing"), ("F2", "r", "0101800002", "continuing")])
    con.execute("create temp table targets (rule_id varchar, cpr varchar, reason_codes varchar[], review_due date)")
    con.execute("insert into targets values ('s', '1510090001', [], null), ('r', '0101800002', [], date '2027-04-01')")
    con.execute("create temp table persons (cpr varchar, birth_date date)")
    con.execute("insert into persons values ('1510090001', date '2009-10-15'), ('0101800002', date '1980-01-01')")
    con.execute(meetings.RECORDS_EMPTY.format(name="meeting_records"))
    for record in records:
        con.execute("insert into meeting_records values ('M', ?, ?, ?, ?, 'AB', null, 'BUF', 'test', now())", record)
    con.execute(meetings.DUE_STORED_EMPTY)
    for row in stored:
        con.execute("insert into meeting_due_stored values (?, ?, ?, ?, ?, 'R0', ?, ?)", row)
    meetings.build_status(con, as_of)
    return set(con.execute("select flag_id, cpr, kind, due_on, due_flag_id, overdue from meeting_status").fetchall())


CHILD_CPR = "1510090001"


def _child(rows: set[tuple]) -> set[tuple]:
    return {r for r in rows if r[1] == CHILD_CPR}


def test_a_transition_meeting_is_followed_on_the_citizens_other_course_until_18():
    # the 16 meeting came due 2025-10-15 in course B1 (rule r, ended since); the child's course
    # G1 (rule s) goes on: it shows there; 17½ due 2027-04-15 is not yet due
    kept = ("B1", "r", CHILD_CPR, "16", date(2025, 10, 15), date(2025, 9, 1), True)
    assert _child(_follow([kept])) == {("G1", "1510090001", "16", date(2025, 10, 15), "B1", True)}
    # held (a record of kind 16, for rule r, 2025-09-01 >= due - 90 days): followed, not overdue
    assert _child(_follow([kept], [("1510090001", "r", "16", date(2025, 9, 1))])) == {
        ("G1", "1510090001", "16", date(2025, 10, 15), "B1", False)}
    # on the 18th birthday the transition is over
    assert _child(_follow([kept], as_of=date(2027, 10, 15))) == set()
    # a meeting whose course was not flagged on its due date is not followed
    assert _child(_follow([(*kept[:-1], False)])) == set()


def test_a_review_is_followed_only_while_its_own_course_runs():
    review = ("F2", "r", "0101800002", "review", date(2026, 10, 1), date(2026, 4, 1), True)
    other = ("E2", "r", "0101800002", "review", date(2026, 9, 1), date(2026, 3, 1), True)
    assert _follow([review, other]) == {("F2", "0101800002", "review", date(2026, 10, 1), "F2", True),
                                        ("F2", "0101800002", "review", date(2027, 4, 1), "F2", False)}
    # a kept meeting due after the as-of date is not yet due (the announced one is: 2027-04-01)
    later = ("F2", "r", "0101800002", "review", date(2026, 12, 1), date(2026, 4, 1), True)
    assert ("F2", "0101800002", "review", date(2026, 12, 1), "F2", False) not in _follow([later])


def test_the_report_counts_a_meeting_once_whatever_shows_it():
    con = open_work()
    con.execute("create temp table meeting_status (flag_id varchar, cpr varchar, rule_id varchar, kind varchar, "
                "due_on date, held boolean, overdue boolean)")
    con.executemany("insert into meeting_status values (?, ?, 'r', ?, ?, ?, ?)", [
        ("F1", "0111100001", "16", date(2026, 10, 1), False, True),
        ("G1", "0111100001", "16", date(2026, 10, 1), False, True),    # the same meeting on another course
        ("F2", "0101800002", "review", date(2026, 3, 1), True, False),
        ("F2", "0101800002", "review", date(2027, 1, 1), False, False)])
    assert con.execute(MEETINGS_SQL, {"as_of": AS_OF, "ahead": 90}).fetchone() == (3, 1, 1)


def test_the_register_says_whether_the_course_was_flagged_on_the_due_date(tmp_path):
    # flag A ended 2026-04-01 (valid_to, excluded), in two versions; B is open; C is not in the register
    # yet (opened by the run itself): flagged
    warehouse = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create table flags (flag_id varchar, valid_from date, valid_to date)")
    con.execute("""insert into flags values ('A', '2025-09-01', '2026-01-01'), ('A', '2026-01-01', '2026-04-01'),
                                            ('B', '2025-09-01', '2026-01-01'), ('B', '2026-01-01', null)""")
    con.execute(meetings.DUE_DDL.replace(f"{meetings.ALIAS}.", ""))   # the table as the warehouse holds it
    con.executemany("insert into meetings_due values (?, 'r', '0101800001', 'review', ?, 'R1', '2025-09-01')",
                    [("A", date(2026, 3, 31)), ("A", date(2026, 4, 1)), ("B", date(2027, 3, 1)), ("C", date(2026, 3, 1))])
    con.close()
    work = open_work()
    assert meetings.load_due(work, warehouse) == 4
    got = dict(((f, d), o) for f, d, o in work.execute(
        "select flag_id, due_on, open_on_due from meeting_due_stored").fetchall())
    assert got == {("A", date(2026, 3, 31)): True, ("A", date(2026, 4, 1)): False, ("B", date(2027, 3, 1)): True,
                   ("C", date(2026, 3, 1)): True}
