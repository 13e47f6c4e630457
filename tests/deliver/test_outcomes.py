"""Outcomes after a course ends, on a hand-built history of five runs.

Three citizens (fake CPR numbers, serial 000x): A's course ends on 2026-01-15; B's flag is
removed by a caseworker and C is held back for consent the same night (the comparison group).
Where they are 3, 6 and 12 months later is written below by hand, and so is every expected count.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from targetgroup.config import Outcomes
from targetgroup.deliver import outcomes

A, B, C, D, E = "0101900001", "0101900002", "0101900003", "0101900004", "0101900005"
BENEFIT = ["Aktivitetsparat kontanthjælp", "Jobparat kontanthjælp", "Sygedagpenge"]
EDUCATION = ["Uddannelsesvejledning"]


class _Config:
    outcomes = Outcomes(benefit_case_types=BENEFIT, education_case_types=EDUCATION)


def _night(con, as_of: date, run_id: str, *, status=(), exclusions=(), residents=(), cases=()) -> None:
    """One run: this night's tables, then outcomes.compute, then what the commit would store."""
    con.execute("create or replace temp table flag_status (flag_id varchar, rule_id varchar, cpr varchar, "
                "change varchar, end_reason varchar)")
    con.executemany("insert into flag_status values (?, ?, ?, ?, ?)", list(status) or None) if status else None
    con.execute("create or replace temp table exclusions (rule_id varchar, cpr varchar, reason_code varchar)")
    if exclusions:
        con.executemany("insert into exclusions values (?, ?, ?)", list(exclusions))
    con.execute("create or replace temp table residents (cpr varchar)")
    if residents:
        con.executemany("insert into residents values (?)", [[c] for c in residents])
    con.execute("create or replace temp table active_cases (cpr varchar, department varchar, case_type varchar)")
    if cases:
        con.executemany("insert into active_cases values (?, ?, ?)", list(cases))
    outcomes.compute(con, as_of, run_id, _Config())
    con.execute("insert into oc_index_hist by name select * from oc_index_now")
    con.execute("insert into oc_followup_hist by name select * from oc_followup_now")
    con.execute("insert into oc_runs values (?, ?)", [run_id, as_of])


@pytest.fixture(scope="module")
def history():
    con = duckdb.connect()
    outcomes.load(con, __import__("pathlib").Path("/nonexistent/warehouse.duckdb"))
    _night(con, date(2026, 1, 15), "r1",
           status=[("F1", "two", A, "ended", "case closed in JOB"),
                   ("F2", "two", B, "ended", "removed by caseworker"),
                   ("F3", "two", D, "ended", "merged into family flag F9"),
                   ("F4", "two", E, "continuing", None)],
           exclusions=[("two", C, "AWAITING_CONSENT"), ("two", E, "AWAITING_CONSENT")],
           residents=[A, B, C, D, E])
    # 3 months (due 2026-04-15): A back, two departments, on a benefit; B no case; C moved away
    _night(con, date(2026, 4, 20), "r2",
           status=[("F5", "two", A, "new", None)],
           exclusions=[("two", C, "AWAITING_CONSENT")],
           residents=[A, B],
           cases=[(A, "JOB", "Aktivitetsparat kontanthjælp"), (A, "SOC", "Bostøtte")])
    # 6 months (due 2026-07-15): A in guidance only; B on sickness benefit; C back, no case
    _night(con, date(2026, 7, 20), "r3",
           status=[("F5", "two", A, "ended", "case closed in SOC")],
           residents=[A, B, C],
           cases=[(A, "UNG", "Uddannelsesvejledning"), (B, "JOB", "Sygedagpenge")])
    # 12 months (due 2027-01-15): A died; B flagged again with two departments; C in guidance
    _night(con, date(2027, 1, 20), "r4",
           status=[("F6", "two", B, "new", None)],
           residents=[B, C],
           cases=[(B, "JOB", "Jobparat kontanthjælp"), (B, "SOC", "Bostøtte"), (C, "UNG", "Uddannelsesvejledning")])
    _night(con, date(2027, 4, 1), "r5", residents=[B, C])
    yield con
    con.close()


def _measures(con) -> dict[tuple, int]:
    counts, _, _ = outcomes.cells(con, date(2027, 4, 1))
    return counts


def test_the_index_holds_ended_courses_and_the_comparison_group_once(history):
    rows = history.execute("select cohort, kind, cpr, index_date from oc_index_hist order by cohort, kind, cpr").fetchall()
    assert rows == [
        ("comparison", "no_consent", C, date(2026, 1, 15)),      # once, though held back twice
        ("comparison", "removed", B, date(2026, 1, 15)),
        ("ended", "course_ended", A, date(2026, 1, 15)),
        ("ended", "course_ended", A, date(2026, 7, 20)),          # A's second course
    ]  # D's flag merged (not an end); E is flagged, so not in the comparison group


def test_outcomes_at_3_6_12_months_as_computed_by_hand(history):
    got = _measures(history)
    ended, comparison = "ended:2026Q1", "comparison:2026Q1"
    expected = {
        (ended, "cohort"): 1,
        (ended, "3m:followed"): 1, (ended, "3m:back_in_group"): 1, (ended, "3m:departments_0"): 0,
        (ended, "3m:departments_1"): 0, (ended, "3m:departments_2p"): 1, (ended, "3m:benefit"): 1,
        (ended, "3m:education"): 0,
        (ended, "6m:followed"): 1, (ended, "6m:back_in_group"): 0, (ended, "6m:departments_1"): 1,
        (ended, "6m:departments_2p"): 0, (ended, "6m:benefit"): 0, (ended, "6m:education"): 1,
        (ended, "12m:followed"): 0, (ended, "12m:back_in_group"): 0, (ended, "12m:benefit"): 0,
        (comparison, "cohort"): 2,
        (comparison, "3m:followed"): 1, (comparison, "3m:departments_0"): 1, (comparison, "3m:back_in_group"): 0,
        (comparison, "3m:benefit"): 0,
        (comparison, "6m:followed"): 2, (comparison, "6m:departments_0"): 1, (comparison, "6m:departments_1"): 1,
        (comparison, "6m:benefit"): 1, (comparison, "6m:education"): 0,
        (comparison, "12m:followed"): 2, (comparison, "12m:back_in_group"): 1, (comparison, "12m:departments_1"): 1,
        (comparison, "12m:departments_2p"): 1, (comparison, "12m:benefit"): 1, (comparison, "12m:education"): 1,
        (comparison, "12m:departments_0"): 0,
    }
    assert {k: got[("outcome", *k)] for k in expected} == expected


def test_a_horizon_appears_only_once_the_whole_quarter_has_reached_it(history):
    # A's second course ended in 2026Q3 (on 2026-07-20): by 2027-04-01, 3 and 6 months are
    # reached (Sep 30 + 6 months = Mar 31), 12 months not yet
    keys = set(_measures(history))
    assert ("outcome", "ended:2026Q3", "6m:followed") in keys
    assert not any(k[1] == "ended:2026Q3" and k[2].startswith("12m") for k in keys)
    early, _, _ = outcomes.cells(history, date(2026, 9, 29))
    assert ("outcome", "ended:2026Q1", "3m:followed") in early
    assert not any(k[2].startswith("6m") for k in early)


def test_followups_stop_after_a_year_and_a_month(history):
    followed = dict(history.execute("select run_id, count(*) from oc_followup_hist group by 1").fetchall())
    assert followed["r3"] == followed["r4"] == 3
    # 2027-04-01 is past 2027-01-15 + 31 days: only A, whose second course ended on 2026-07-20
    assert history.execute("select cpr from oc_followup_hist where run_id = 'r5'").fetchall() == [(A,)]


def test_relations_tie_the_parts_to_their_totals(history):
    counts, keys, relations = outcomes.cells(history, date(2027, 4, 1))
    assert len(keys) == len(set(keys)) == len(counts)
    for kind, total, parts in relations:
        if kind == "eq":
            assert counts[total] == sum(counts[p] for p in parts)
        else:
            assert all(counts[p] <= counts[total] for p in parts)


@pytest.mark.slow
def test_three_runs_store_the_course_end_and_publish_its_outcome(tmp_path, monkeypatch):
    """The tiny municipality: 0101800001's SOC case ends on 2026-11-01, so the flag of the
    2026-11-01 run ends on 2026-12-01; on 2027-03-31 (3 months on, the whole of 2026Q4 reached)
    the citizen has one active case, a jobcentre benefit, and no flag."""
    import pandas as pd

    from conftest import SOURCES_YAML, write_municipality
    from targetgroup.deliver import analyst
    from targetgroup.pipeline import RunSettings, run_pipeline

    monkeypatch.setenv(analyst.ENV_KEY, "outcomes-test-key-0123456789abcdef")
    sources = write_municipality(tmp_path / "input", **{"sources.yaml": SOURCES_YAML.replace(
        "departments:", "outcomes: {benefit_case_types: [Aktivitetsparat kontanthjælp]}\ndepartments:", 1)})
    out = tmp_path / "out"
    for day in ("2026-11-01", "2026-12-01", "2027-03-31"):
        run = run_pipeline(RunSettings(sources=sources, as_of=date.fromisoformat(day), out=out))
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    try:
        index = con.execute("select cohort, kind, cpr, index_date from outcome_index").fetchall()
        seen = con.execute("""select as_of, resident, flagged, departments, benefit, education
                              from outcome_followup order by as_of""").fetchall()
    finally:
        con.close()
    assert index == [("ended", "course_ended", "0101800001", date(2026, 12, 1))]
    assert seen == [(date(2026, 12, 1), True, False, 1, True, False),
                    (date(2027, 3, 31), True, False, 1, True, False)]
    counts = pd.read_csv(run.report_dir / "leadership_counts.csv", dtype=str, keep_default_na=False)
    rows = counts[counts["breakdown"] == "outcomes"]
    assert set(rows["group"]) == {"ended:2026Q4"}
    assert set(rows["subgroup"]) == {"cohort", *(f"3m:{m}" for m in outcomes.MEASURES)}
    assert all(v == "•" or int(v) % 5 == 0 for v in rows["count"]) and set(rows["rounded_to"]) == {"5"}
    parquet = pd.read_parquet(run.report_dir / "analyst" / "counts.parquet")
    published = parquet[parquet["figure"] == "outcome"]
    assert len(published) == len(rows)
    html = run.summary["report_html"].read_text(encoding="utf-8")
    assert "Udfald efter forløb" in html and "2026Q4" in html and "0101800001" not in html
