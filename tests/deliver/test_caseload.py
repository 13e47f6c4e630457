"""Caseload against a configured capacity (issue 19 §4): coordinators over / within N courses,
counted by hand; in the report and leadership_counts.csv under the rounding and the audit."""

from __future__ import annotations

from datetime import date

import pandas as pd
from conftest import JOB_CSV, SOURCES_YAML, write_municipality

from targetgroup.deliver.figures import CASELOAD_SQL
from targetgroup.pipeline import RunSettings, run_pipeline
from targetgroup.warehouse import open_work


def test_coordinators_over_and_within_capacity_counted_by_hand():
    con = open_work()
    con.execute("create table courses (coordinator varchar, ongoing boolean)")
    # A: 3 ongoing; B: 1 ongoing + 1 ended; C: 2 ongoing; one ongoing course without a coordinator
    con.executemany("insert into courses values (?, ?)", [("A", True)] * 3 + [("B", True), ("B", False)]
                    + [("C", True)] * 2 + [(None, True)])
    assert con.execute(CASELOAD_SQL, {"capacity": 2}).fetchone() == (1, 2)   # A over; B, C within
    assert con.execute(CASELOAD_SQL, {"capacity": 1}).fetchone() == (2, 1)   # A, C over; B within
    assert con.execute(CASELOAD_SQL, {"capacity": 3}).fetchone() == (0, 3)   # exactly 3 is within


def test_the_report_sets_caseload_against_the_configured_capacity(tmp_path):
    # 0303900004's JOB case now starts first, so Jens Job (Team A) is guessed coordinator of both
    # courses: capacity 1 -> one coordinator over, none within; Team A holds 2 of a capacity of 40
    sources = write_municipality(
        tmp_path / "input",
        **{"sources.yaml": SOURCES_YAML + "caseload: {capacity_per_caseworker: 1, capacity_per_team: 40}\n",
           "job.csv": JOB_CSV.replace("J2,Jobparat kontanthjælp,AKT,2026-11-01", "J2,Jobparat kontanthjælp,AKT,2020-06-01")})
    run = run_pipeline(RunSettings(sources=sources, as_of=date(2026, 11, 1), out=tmp_path / "reports"))
    counts = pd.read_csv(run.report_dir / "leadership_counts.csv", dtype=str, keep_default_na=False)
    rows = counts[counts["breakdown"] == "caseload_against_capacity"]
    assert sorted(zip(rows["group"], rows["subgroup"])) == [("caseworkers_over", "capacity_1"),
                                                             ("caseworkers_within", "capacity_1")]
    assert set(rows["rounded_to"]) == {"5"} and run.manifest["disclosure"]["audit_passed"]
    html = (run.report_dir / "leadership_report.html").read_text(encoding="utf-8")
    assert "Belastning mod kapacitet" in html and "over kapaciteten (mere end 1 igangværende forløb)" in html
    team = counts[(counts["breakdown"] == "ongoing_courses_by_team") & (counts["group"] == "Team A")]["count"].item()
    share = "•" if team in ("•", "") else f"{round(100 * int(team) / 40)} %"
    assert f"<td class=\"n\">40</td><td class=\"n\">{share}</td>" in html


def test_a_capacity_below_one_is_a_config_error_with_file_and_line(tmp_path):
    import pytest

    from targetgroup.config import load_sources
    from targetgroup.errors import ConfigError

    text = SOURCES_YAML + "caseload:\n  capacity_per_caseworker: 0\n"
    path = write_municipality(tmp_path / "input", **{"sources.yaml": text})
    with pytest.raises(ConfigError) as info:
        load_sources(path, check_files=False)
    line = text.splitlines().index("  capacity_per_caseworker: 0") + 1
    assert f"sources.yaml:{line}: caseload.capacity_per_caseworker" in str(info.value)
