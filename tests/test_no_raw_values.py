"""Messages name file, line, column and the kind of problem, never the cell (issue 11, section 2).

CPR numbers (synthetic: 010199-99xx) are planted in fields that are not CPR fields; each test
looks at one place a cell used to be copied into and checks that the planted number is not
there in any spelling, while the message still names the row and the problem.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from conftest import BUF_CSV, JOB_CSV, PERSONS_CSV, SOC_CSV, SOURCES_YAML, write_municipality
from targetgroup import pipeline
from targetgroup.errors import InputError, ValidationError


def spellings(cpr: str) -> tuple[str, ...]:
    """A planted CPR as delivered, with a dash, with a space, and as Excel's 9 digits."""
    return cpr, f"{cpr[:6]}-{cpr[6:]}", f"{cpr[:6]} {cpr[6:]}", cpr.lstrip("0")


def leaks(text: str, planted: list[str]) -> list[str]:
    """The planted CPRs found in `text`, in any spelling."""
    return [cpr for cpr in planted if any(s in text for s in spellings(cpr))]


def test_leak_finder_can_fail():
    assert leaks("line 3: '101999901'", ["0101999901"]) == ["0101999901"]


def _settings(sources: Path, tmp_path: Path) -> pipeline.RunSettings:
    return pipeline.RunSettings(sources=sources, as_of=date(2026, 11, 1), out=tmp_path / "out", threads=1)


def _staged(sources: Path, tmp_path: Path) -> pipeline.Run:
    run = pipeline.prepare(_settings(sources, tmp_path))
    pipeline.extract(run)
    pipeline.stage(run)
    return run


def test_reject_reasons_name_the_problem_not_the_value(tmp_path):
    planted = ["0101999901", "0101999902", "0101999903"]
    job = JOB_CSV + (f"0303900004,J7,Jobparat kontanthjælp,AKT,{planted[0]},,Jens Job,Team A\n"
                     f"0303900004,J8,Jobparat kontanthjælp,AKT,2020-01-01,010199-9902,Jens Job,Team A\n")
    persons = PERSONS_CSV + f"0707900008,Hans Fiktiv,{planted[2][:6]} {planted[2][6:]},H7,,,,\n"
    sources = write_municipality(tmp_path / "in", **{"job.csv": job, "persons.csv": persons})
    run = _staged(sources, tmp_path)
    try:
        rows = run.con.execute("select source, file, line, field, reason from rejects order by all").fetchall()
        assert [(s, f, ln, fd) for s, f, ln, fd, _ in rows] == [
            ("job", "job.csv", 7, "start_date"), ("job", "job.csv", 8, "end_date"),
            ("persons", "persons.csv", 9, "birth_date")]
        text = repr(rows) + repr(run.summary["stage"].reject_reasons)
        assert not leaks(text, planted), text
        assert all("not a date in %Y-%m-%d" in r for *_, r in rows), rows
    finally:
        run.close()


@pytest.mark.slow
def test_gate_findings_quarantine_and_gx_files_hold_no_cell(tmp_path):
    planted = ["0101999911", "0101999912", "0101999913"]
    job = JOB_CSV + (
        f"0303900004,J7,Jobparat kontanthjælp,{planted[0]},2020-01-01,,Jens Job,Team A\n"   # status
        f"0303900004,{planted[1]},Jobparat kontanthjælp,AKT,2020-01-01,,Jens Job,Team A\n"  # case id twice,
        f"0303900004,{planted[1]},Jobparat kontanthjælp,AKT,2021-01-01,,Jens Job,Team A\n"  # different rows
        "0303900004,J9,Jobparat kontanthjælp,AKT,2021-01-01,2020-01-01,Jens Job,Team A\n")  # end before start
    # an undeclared status stops a run by default (issue 14); here it is a warning, to see its text
    lowered = SOURCES_YAML + "quality: {severity: {job.status_known: warning}}\n"
    sources = write_municipality(tmp_path / "in", **{"job.csv": job, "sources.yaml": lowered})
    run = _staged(sources, tmp_path)
    try:
        pipeline.validate(run)
        quality = run.manifest["quality"]
        findings = run.con.execute("select * from findings").fetchall()
        expectations = {r[6] for r in findings}
        assert {"status_known", "case_id_unique", "dates_ordered"} <= expectations
        texts = [json.dumps(quality, default=str), repr(findings)]
        for path in run.report_dir.rglob("*"):
            if path.is_file():
                texts.append(path.read_text(encoding="utf-8", errors="replace"))
        assert not leaks("\n".join(texts), planted)
        status = next(w for w in quality["warnings"] if "status_known" in w)
        assert "job.csv:7" in status and "not shown" in status
    finally:
        run.close()


def test_status_code_that_cannot_be_personal_is_shown(tmp_path):
    job = JOB_CSV + "0303900004,J7,Jobparat kontanthjælp,XYZ,2020-01-01,,Jens Job,Team A\n"
    run = _staged(write_municipality(tmp_path / "in", **{"job.csv": job}), tmp_path)
    try:
        from targetgroup.validate.suites import build_suites
        [check] = [c for s in build_suites(run.config, date(2026, 11, 1)) for c in s.checks
                   if c.extract == "job" and c.expectation == "status_known"]
        reason = run.con.execute(f"select {check.reason} from cases where status = 'XYZ'").fetchone()[0]
        assert reason == "status 'XYZ' is not declared for this source in the sources file"
    finally:
        run.close()


def test_headerless_file_is_named_without_its_first_row(tmp_path):
    planted = "0101999921"
    job = JOB_CSV.split("\n", 1)[1].replace("0101800001", planted)   # no header line
    sources = write_municipality(tmp_path / "in", **{"job.csv": job})
    with pytest.raises(InputError) as info:
        _staged(sources, tmp_path)
    text = str(info.value)
    assert "job.csv:1" in text and "mapped column(s) missing" in text
    assert "no header line" in text
    assert not leaks(text, [planted]), text
    assert "Jens Job" not in text


def test_repeated_header_names_are_not_shown_when_they_look_like_data(tmp_path):
    planted = "0101999922"
    job = f"{planted},{planted},type,status,start,end,worker,team\n" + JOB_CSV.split("\n", 1)[1]
    sources = write_municipality(tmp_path / "in", **{"job.csv": job})
    with pytest.raises(InputError) as info:
        _staged(sources, tmp_path)
    assert "job.csv:1" in str(info.value) and not leaks(str(info.value), [planted])


def test_removal_file_reason_names_the_problem_not_the_value(tmp_path):
    from targetgroup.register import imports
    from targetgroup.stage import REJECTS_DDL
    from targetgroup.warehouse import run_sql

    planted = "0101999931"
    folder = tmp_path / "removals"
    folder.mkdir()
    (folder / "JOB.csv").write_text(f"cpr,rule,removed_by,reason,until\n0303900004,r1,A B,why,{planted}\n",
                                    encoding="utf-8")
    run = _staged(write_municipality(tmp_path / "in"), tmp_path)
    con = run.con
    try:
        con.execute("attach ':memory:' as reg")
        con.execute("create table reg.suppressions (origin varchar, cpr varchar, rule_id varchar, "
                    "removed_by varchar, reason varchar, until date, suppression_id varchar)")
        con.execute("create temp table active_cases (cpr varchar, department varchar)")
        con.execute("create temp table targets (rule_id varchar, cpr varchar, subject_type varchar, "
                    "subject_id varchar, departments varchar[])")
        con.execute("create table reg.flags (status varchar, rule_id varchar, members varchar[], "
                    "subject_type varchar, subject_id varchar, departments varchar[])")
        con.execute(REJECTS_DDL)
        run_sql(con, "register/macros.sql")
        with pytest.raises(duckdb.Error):   # the register's tables are not all here; rejects come first
            imports.import_suppression_files(con, run.config, folder, run.started_at)
        [(field, reason)] = con.execute("select field, reason from rejects").fetchall()
        assert field == "until" and not leaks(reason, [planted]) and "not a date" in reason
    finally:
        run.close()
