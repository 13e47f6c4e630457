"""Disclosure policy and consent (issue 12 §4): a rule that requires consent lists the citizen
as awaiting consent; a consent recorded from the command line or a department's file lets the
flag and the other department's involvement through; the register keeps the records."""

from __future__ import annotations

import shutil

import duckdb
import pytest
from typer.testing import CliRunner

from targetgroup.cli import app
from targetgroup.config import load_sources
from targetgroup.deliver import texts
from targetgroup.errors import ConfigError, InputError, RulesError
from targetgroup.pipeline import RunSettings, run_pipeline
from targetgroup.rules import DEFAULT_RULES, load_rules
from tests.deliver import lists_town as town
from tests.deliver.lists_town import L1, NIGHTS

pytestmark = pytest.mark.slow  # three whole-pipeline runs

RULES = """\
name: consent_test
rules:
  - id: two_departments_consent
    title_da: To forvaltninger, med samtykke
    title_en: Two departments, with consent
    conditions:
      - {kind: departments, at_least: 2}
    consent: required
"""


def h(key: str) -> str:
    return texts.t(key, "da")


def row_of(run, dept: str) -> dict:
    rows = [r for r in town.read_csv(run.report_dir / f"flags_{dept}.csv") if r[h("col_cpr")] == f"{L1[:6]}-{L1[6:]}"]
    assert len(rows) == 1, rows
    return rows[0]


def test_consent_required_records_and_disclosure(tmp_path):
    sources = town.write(tmp_path / "in")
    sources.write_text(sources.read_text() + "consents: consent\n")
    (tmp_path / "in" / "consent").mkdir()
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    out = tmp_path / "out"

    def night(n: int):
        return run_pipeline(RunSettings(sources=sources, rules=rules, as_of=NIGHTS[n], out=out, threads=1,
                                        allow_drop=("sund",)))

    # night 1: no consent anywhere -> awaiting consent in both of L1's departments, not flagged
    first = night(1)
    job, sund = row_of(first, "JOB"), row_of(first, "SUND")
    assert job[h("col_change")] == sund[h("col_change")] == h("awaiting")
    assert job[h("col_consent")] == h("unknown")
    # SUND's involvement needs consent (the policy in lists_town): not shown to JOB's caseworker
    assert job[h("col_others")] == h("not_shown_no_consent")
    assert sund[h("col_others")] == "JOB: Jens Job (Team A)"    # JOB's is shown to anyone
    assert first.summary["identify"]["targets"] == 0
    excluded = town.read_csv(first.report_dir / "exclusions.csv")
    assert [r[h("col_action")] for r in excluded] == [texts.t("action_await", "da")]

    # a caseworker records the consent from the command line
    runner = CliRunner()
    result = runner.invoke(app, ["consent", "--cpr", f"{L1[:6]}-{L1[6:]}", "--given", "--departments", "JOB,SUND",
                                 "--by", "AB", "--department", "JOB", "--on", "2026-11-01", "--until", "2027-05-01",
                                 "--sources", str(sources), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert L1[6:] not in result.output and "C000001" in result.output

    second = night(2)
    job = row_of(second, "JOB")
    assert job[h("col_change")] == h("new")
    assert job[h("col_others")] == "SUND: Hans Sund (Team Sund)"
    assert job[h("col_consent")] == "givet (JOB, SUND; til 01-05-2027)"
    notice = [r for r in town.read_csv(second.report_dir / "notices_JOB.csv") if r[h("col_cpr")].endswith(L1[6:])]
    assert notice and notice[0][h("col_consent")] == "givet (JOB, SUND; til 01-05-2027)"

    # SUND withdraws it in its file; the newest record in force decides over the older one
    (tmp_path / "in" / "consent" / "SUND.csv").write_text(
        "cpr,consent,departments,recorded_by,recorded_on,until\n"
        f"{L1[:6]}-{L1[6:]},withdrawn,*,HS,2026-11-03,\n")
    third = night(3)
    statuses = sorted(r[h("col_change")] for r in town.read_csv(third.report_dir / "flags_JOB.csv")
                      if r[h("col_cpr")].endswith(L1[6:]))
    assert statuses == sorted([h("ended"), h("awaiting")])
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    try:
        records = con.execute("select consent_id, consent, departments, recorded_by, recorded_in_department, "
                              "recorded_on::varchar, origin from consents order by consent_id").fetchall()
    finally:
        con.close()
    assert records == [("C000001", "given", ["JOB", "SUND"], "AB", "JOB", "2026-11-01", "command line"),
                       ("C000002", "withdrawn", [], "HS", "SUND", "2026-11-03", "file SUND.csv line 2")]
    # an unchanged file is not imported twice
    fourth = night(4)
    assert fourth.summary["consents_imported"] == 0

    history = runner.invoke(app, ["history", "--cpr", f"{L1[:6]}-{L1[6:]}", "--out", str(out)])
    assert history.exit_code == 0 and "C000001" in history.output and "C000002" in history.output
    listed = runner.invoke(app, ["consent", "--cpr", f"{L1[:6]}-{L1[6:]}", "--list", "--out", str(out)])
    assert "withdrawn" in listed.output and "2027-05-01" in listed.output


def test_a_bad_consent_line_names_file_and_line_without_the_value(tmp_path):
    sources = town.write(tmp_path / "in")
    sources.write_text(sources.read_text() + "consents: consent\n")
    (tmp_path / "in" / "consent").mkdir()
    (tmp_path / "in" / "consent" / "JOB.csv").write_text(
        "cpr,consent,departments,recorded_by,recorded_on,until\n"
        f"{L1[:6]}-{L1[6:]},maybe,JOB,AB,2026-11-01,\n")
    with pytest.raises(InputError) as caught:
        run_pipeline(RunSettings(sources=sources, rules=DEFAULT_RULES.parent / "odense.yaml", as_of=NIGHTS[1],
                                 out=tmp_path / "out", threads=1, allow_drop=("sund",)))
    text = str(caught.value)
    assert "JOB.csv" in text and ":2" in text and "maybe" not in text and L1[6:] not in text
    assert not (tmp_path / "out" / "warehouse.duckdb").exists()


def test_the_disclosure_policy_is_checked_at_load(tmp_path):
    sources = town.write(tmp_path / "in")
    shutil.copy(sources, tmp_path / "in" / "ok.yaml")
    assert load_sources(sources).disclosure.level("SUND", "JOB") == "with_consent"
    assert load_sources(sources).disclosure.level("JOB", "SUND") == "shown"
    sources.write_text(sources.read_text().replace("    SUND: with_consent", "    PSYK: with_consent"))
    with pytest.raises(ConfigError, match="unknown department 'PSYK'"):
        load_sources(sources)
    sources.write_text((tmp_path / "in" / "ok.yaml").read_text().replace("with_consent", "sometimes"))
    with pytest.raises(ConfigError, match="disclosure"):
        load_sources(sources)


def test_consent_is_a_checked_rule_option(tmp_path):
    config = load_sources(town.write(tmp_path / "in"))
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(RULES)
    bad.write_text(RULES.replace("consent: required", "consent: maybe"))
    assert load_rules(good, config).rules.rules[0].consent == "required"
    with pytest.raises(RulesError, match="consent"):
        load_rules(bad, config)


def test_a_recorded_consent_reaches_the_reader_copy_at_once(tmp_path):
    # history and explain read the reader copy: a consent recorded between two nights must be
    # there without waiting for the next run (as caseworker removals are)
    from datetime import date

    from targetgroup import consent, reader

    sources = town.write(tmp_path / "in")
    out = tmp_path / "out"
    run_pipeline(RunSettings(sources=sources, as_of=NIGHTS[1], out=out, threads=1))
    warehouse = out / "warehouse.duckdb"
    made = consent.add_consent(warehouse, cpr=L1, consent="given", departments=["JOB"], recorded_by="AB",
                               department="JOB", recorded_on=date(2026, 11, 1), until=None)
    copy = duckdb.connect(str(reader.reader_path(warehouse)), read_only=True)
    try:
        assert copy.execute("select consent_id from consents where cpr = ?", [L1]).fetchall() == [(made,)]
    finally:
        copy.close()
    assert [r[0] for r in consent.citizen_consents(warehouse, L1)] == [made]

