"""Rules in the whole pipeline: default reproduces >= 2 departments, hashes in outputs,
persistence over committed runs, explain for a family case."""

from __future__ import annotations

import csv
import textwrap
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from targetgroup.cli import app
from targetgroup.errors import RulesError
from targetgroup.pipeline import RunSettings, run_pipeline
from targetgroup.rules import DEFAULT_RULES
from conftest import EXPECTED_DEFAULT

CONTRACT = ["rule_id", "subject_type", "subject_id", "cpr", "family_id", "departments", "case_keys",
            "reason_codes", "notify_departments"]


def rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_default_rules_reproduce_two_departments_and_every_output_carries_the_hash(tiny, tmp_path):
    run = run_pipeline(RunSettings(sources=tiny, as_of=date(2026, 11, 1), out=tmp_path / "out"))
    assert run.summary["rules_name"] == "default"
    digest = run.summary["rules_hash"]
    assert len(digest) == 64
    flags = rows(run.report_dir / "flags_JOB.csv")
    assert {r["CPR-nr."].replace("-", "") for r in flags} == set(EXPECTED_DEFAULT)
    assert {r["Regelsættets hash"] for r in flags} == {digest}
    assert {r["Begrundelse"] for r in flags} == {"aktive sager i mindst to forvaltninger; aktiv sag i JOB; aktiv sag i SOC"}
    assert {r["rules_hash"] for r in rows(run.report_dir / "leadership_counts.csv")} == {digest}
    excluded = rows(run.report_dir / "exclusions.csv")
    assert sorted(r["Begrundelse"] for r in excluded) == ["død", "fraflyttet kommunen"]
    assert {r["Regelsættets hash"] for r in excluded} == {digest}
    con = duckdb.connect(str(run.settings.warehouse_path), read_only=True)
    columns = [c[0] for c in con.execute("select * from targets limit 0").description]
    assert columns[2:2 + len(CONTRACT)] == CONTRACT and "rules_hash" in columns
    assert con.execute("select rules_name, rules_hash from runs").fetchall() == [("default", digest)]
    assert con.execute("select count(*) from rule_matches").fetchone()[0] == 2


PERSISTENT = """\
# two consecutive runs
name: persistent
rules:
  - id: two_runs
    title_da: P
    title_en: P
    conditions:
      - {kind: departments, at_least: 2}
      - {kind: persistence, runs: 2}
    exclusions: {consent_refused: ignore}
"""


def test_persistence_needs_the_previous_committed_run(tiny, tmp_path):
    rules = tmp_path / "persistent.yaml"
    rules.write_text(PERSISTENT, encoding="utf-8")
    settings = dict(sources=tiny, rules=rules, out=tmp_path / "out")
    first = run_pipeline(RunSettings(as_of=date(2026, 11, 1), **settings))
    assert first.summary["identify"]["targets"] == 0          # no history yet
    second = run_pipeline(RunSettings(as_of=date(2026, 11, 2), **settings))
    # 0101800001's SOC case ended on 2026-11-01: only 0303900004 held on both runs
    flags = rows(second.report_dir / "flags_SOC.csv")
    assert [(r["CPR-nr."], r["Begrundelse"]) for r in flags] == [
        ("030390-0004", "aktive sager i mindst to forvaltninger; aktiv sag i JOB; aktiv sag i SOC; "
                        "opfyldt i 2 kørsler i træk")]


def test_run_with_a_broken_rule_file_fails_before_anything_is_stored(tiny, tmp_path):
    rules = tmp_path / "bad.yaml"
    rules.write_text(PERSISTENT.replace("at_least: 2", "at_least: 1, of: [XXX]"), encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        run_pipeline(RunSettings(sources=tiny, rules=rules, as_of=date(2026, 11, 1), out=tmp_path / "out"))
    assert "unknown department 'XXX'" in str(caught.value)
    assert not (tmp_path / "out" / "warehouse.duckdb").exists()


def test_explain_shows_a_family_case_with_roles_and_evidence(tiny, tmp_path):
    result = CliRunner().invoke(app, [
        "explain", "--cpr", "010115-0002", "--as-of", "2026-11-01", "--rules", str(DEFAULT_RULES.parent / "odense.yaml"),
        "--sources", str(tiny), "--warehouse", str(tmp_path / "none.duckdb")], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Citizen 010115-0002 on 2026-11-01" in out
    assert "buf_bsf_family (family) Family with cases in both BUF and BSF: FLAGGED" in out
    assert "FAMILY_CHILD FAMILY_VIA_MOTHER DEPTS_ALL_BUF ACTIVE_BUF" in out
    assert "child, linked to parent 010180-**** via mother" in out
    assert "mother" in out and "father" in out and "202800-****" not in out
    assert "020280-****" in out                                # the father, masked, by role
    assert "buf_bsf_person (person) Active cases in both BUF and BSF: not flagged" in out
    assert "✗ departments: at least 1 of JOB, SOC: not met" in out


def test_explain_rejects_a_non_cpr(tiny):
    result = CliRunner().invoke(app, ["explain", "--cpr", "12", "--sources", str(tiny)])
    assert result.exit_code == 1 and "not a CPR number" in result.output


def test_default_rules_file_is_the_default():
    assert RunSettings().rules == DEFAULT_RULES and DEFAULT_RULES.is_file()
