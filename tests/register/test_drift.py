"""The register does not drift (issue 13 §4): persistence by as-of dates, stale markings ended
again, stable flag ids and minimal actions across a rebuild, no silent rule-set switch, dry runs
for any date, explain that knows about removals.

Expected values are written by hand from the story in nights.py (A's JOB case closes on night 3,
G gets a BUF case on night 3), never read back from the pipeline's own tables.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from nights import A, B, C, D, F, G, NIGHTS, RULE, Town, actions, rows, town  # noqa: F401
from targetgroup.cli import app
from targetgroup.errors import RunError
from targetgroup.register import suppress as ops
from tests.conftest import MARKINGS_YAML

pytestmark = pytest.mark.slow   # each test runs the pipeline three to six times

ALL = sorted([A, B, C, D, F, G])

PERSISTENT_3 = """\
name: three_nights
rules:
  - id: two_departments
    title_da: Tre nætter
    title_en: Three nights
    conditions:
      - {kind: departments, at_least: 2}
      - {kind: persistence, runs: 3}
    exclusions: {consent_refused: ignore}
"""

BUF_AND_JOB = """\
name: buf_and_job
rules:
  - id: buf_and_job
    title_da: BUF og JOB
    title_en: BUF and JOB
    conditions:
      - {kind: departments, all_of: [BUF, JOB]}
    exclusions: {consent_refused: ignore}
"""


def _flags(town: Town) -> list[tuple]:
    return town.query("select flag_id, version, rule_id, subject_id, status, valid_from, valid_to, change, "
                      "end_reason from flags order by flag_id, version")


def test_persistence_counts_as_of_dates_not_reruns(town: Town, tmp_path: Path):
    rules = tmp_path / "three.yaml"
    rules.write_text(PERSISTENT_3, encoding="utf-8")
    town.run(1, rules=rules)
    town.run(1, rules=rules)                      # a safe rerun of the same night
    second = town.run(2, rules=rules)
    assert second.summary["identify"]["targets"] == 0   # two dates so far, three needed
    third = town.run(3, rules=rules)
    # night 3: A's JOB case closed; the other five held on nights 1, 2 and 3
    assert sorted(r["CPR-nr."].replace("-", "") for r in rows(third.report_dir / "flags_JOB.csv")) == \
        sorted([B, C, D, F, G])


def test_a_marking_the_register_ended_but_the_system_holds_is_ended_again(town: Town):
    town.run(1)
    town.run(2)
    n3 = town.run(3)                              # A's JOB case closed: A's flag and markings end
    assert ("end", A) in [a[:2] for a in actions(n3, "Momentum")]
    # night 4: Momentum did not apply A's end, and also holds a marking for a stranger
    stranger = "0909900009"
    held = "cpr,code,start,end\n" + "".join(f"{c},PGM,2026-11-02,\n" for c in ALL) \
        + f"{stranger},PGM,2026-01-01,\n"
    n4 = town.run(4, **{"sources.yaml": MARKINGS_YAML, "momentum_markings.csv": held})
    assert actions(n4, "Momentum") == [
        ("end", A, "2026-11-02", "2026-11-05", "still held after the end on 2026-11-04: case closed in JOB")]
    found = [(r["finding"], r["cpr"]) for r in rows(n4.report_dir / "reconcile_Momentum.csv")]
    # a marking the register never placed is reported, not ended (docs/actions.md)
    assert found == [("ended in the register, still held by the system: end action issued again", A),
                     ("held by the system, unknown to the register", stranger)]
    # the register's own markings do not change: A's stays ended, no row for the stranger
    assert town.query("select cpr, status from markings where system = 'Momentum' and cpr in (?, ?) "
                      "order by cpr, valid_from", [A, stranger]) == [(A, "ended")]
    # once the system has applied it, the next night says nothing
    held_now = "cpr,code,start,end\n" + "".join(f"{c},PGM,2026-11-02,\n" for c in ALL if c != A)
    n5 = town.run(5, **{"sources.yaml": MARKINGS_YAML, "momentum_markings.csv": held_now})
    assert [a for a in actions(n5, "Momentum") if a[1] in (A, stranger)] == []


def test_a_rebuild_keeps_flag_ids_and_issues_only_the_actions_needed(town: Town):
    for night in (1, 2, 3):
        town.run(night)
    original = _flags(town)
    rebuilt = town.run(1, rebuild=True)
    # systems hold night 3's markings; the rebuilt night 1 needs A's back and G's BUF marking gone
    assert [a[:2] for a in actions(rebuilt, "Momentum")] == [("create", A), ("update", G)]
    assert [a[:2] for a in actions(rebuilt, "Nexus")] == [("create", A), ("update", G)]
    assert [a[:2] for a in actions(rebuilt, "DUBU")] == [("end", G)]
    assert sorted(r[0] for r in town.query("select flag_id from flags where status = 'open'")) == \
        [f"F000000{i}" for i in range(1, 7)]
    again2 = town.run(2)
    assert all(actions(again2, s) == [] for s in ("Momentum", "Nexus", "DUBU"))
    town.run(3)
    assert _flags(town) == original               # same history, same register


def test_a_rule_set_switch_stops_unless_accepted(town: Town, tmp_path: Path):
    town.run(1)
    other = tmp_path / "buf_and_job.yaml"
    other.write_text(BUF_AND_JOB, encoding="utf-8")
    before = town.sha256()
    lists_before = set(town.out.glob("*/actions_*.csv"))
    for dry_run in (False, True):
        with pytest.raises(RunError) as caught:
            town.run(2, rules=other, dry_run=dry_run)
        message = str(caught.value)
        assert "rule set 'buf_and_job'" in message and "'default'" in message
        assert "would end 6 flag(s) and start 0" in message
        assert "JOB: 6 end, 0 start" in message and "SOC: 6 end, 0 start" in message
        assert "--switch-rules" in message
        assert not any(c in message or f"{c[:6]}-{c[6:]}" in message for c in ALL)
    assert town.sha256() == before
    assert set(town.out.glob("*/actions_*.csv")) == lists_before   # no output of the stopped runs
    switched = town.run(2, rules=other, switch_rules=True)
    assert switched.summary["flags"] == {"new": 0, "continuing": 0, "updated": 0, "ended": 6}
    assert town.query("select distinct end_reason from flags where status = 'ended'") == [("rule set changed",)]
    assert {a[4] for a in actions(switched, "Momentum")} == {"rule set changed"}
    book = load_workbook(switched.report_dir / "flags_JOB.xlsx", read_only=True)
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row]
    assert cells.count("regelsættet er ændret") == 6    # Danish in the caseworker list
    # the next night with the new rule set is an ordinary run
    town.run(3, rules=other)


def test_a_dry_run_for_an_earlier_date_needs_no_rebuild_and_changes_nothing(town: Town):
    for night in (1, 2, 3):
        town.run(night)
    before = town.dump()
    dry = town.run(1, dry_run=True)
    assert dry.summary["flags"] == {"new": 6, "continuing": 0, "updated": 0, "ended": 0}
    # what night 1 would need from the systems as they are now (after night 3), with night 1's flag ids
    assert [(r["action"], r["cpr"], r["flag_ids"]) for r in rows(dry.report_dir / "actions_Momentum.csv")] == \
        [("create", A, "F0000001"), ("update", G, "F0000006")]
    assert town.dump() == before
    with pytest.raises(RunError, match="before the last committed run"):
        town.run(1)                               # a real run into the past still needs --rebuild


def test_explain_shows_a_removal_and_does_not_say_flagged(town: Town):
    town.run(1)
    ops.add_suppression(town.warehouse, cpr=C, rule_id=RULE, removed_by="Jens Job", reason="pause efter aftale",
                        until=None, department="JOB")

    def explain(cpr: str) -> str:
        result = CliRunner().invoke(app, [
            "explain", "--cpr", f"{cpr[:6]}-{cpr[6:]}", "--as-of", str(NIGHTS[2]),
            "--sources", str(town.input / "sources.yaml"), "--warehouse", str(town.warehouse)], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        return result.output

    # before night 2: the flag is open, and the removal will end it
    out = explain(C)
    assert f"{RULE} (person) Active cases in at least two departments: not flagged" in out
    assert "FLAGGED" not in out
    assert "removal S000001 holds: by Jens Job (JOB), pause efter aftale, no end date" in out
    assert "register: flag F0000002 would end on D: removed by caseworker" in out
    # after night 2 it has ended
    n2 = town.run(2)
    assert n2.summary["flags"]["ended"] == 1
    out = explain(C)
    assert f"{RULE} (person) Active cases in at least two departments: not flagged" in out
    assert "FLAGGED" not in out
    assert "removal S000001 holds: by Jens Job (JOB), pause efter aftale, no end date" in out
    assert "register: flag F0000002 ended on 2026-11-03: removed by caseworker" in out
    # B, not removed, is flagged and explain says so, with its flag in the register
    out = explain(B)
    assert f"{RULE} (person) Active cases in at least two departments: FLAGGED" in out
    assert "register: flag F0000005 open since 2026-11-02" in out
