"""Reconciliation with imported marking lists, removal files and the register's commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nights import A, B, C, D, F, G, NIGHTS, RULE, Town, actions, rows, town  # noqa: F401
from targetgroup.cli import app
from targetgroup.errors import ConfigError, InputError
from targetgroup.register import suppress as ops
from tests.conftest import MARKINGS_YAML

UNKNOWN = "0909900009"


def test_reconcile_both_directions(town: Town):
    town.run(1)
    # Momentum holds the marking for B, C, D and F, plus one for a citizen the register never flagged,
    # one with another code and one that has ended; A and G are missing.
    held = ("cpr,code,start,end\n"
            f"{B},PGM,2026-11-02,\n{C},PGM,2026-11-02,\n{D},PGM,2026-11-02,\n{F},PGM,2026-11-02,\n"
            f"{UNKNOWN},PGM,2026-01-01,\n{UNKNOWN},OTHER,2026-01-01,\n0101800001,PGM,2025-01-01,2025-06-01\n")
    n2 = town.run(2, **{"sources.yaml": MARKINGS_YAML, "momentum_markings.csv": held})
    assert actions(n2, "Momentum") == [
        ("create", A, "2026-11-02", "", "missing in the system, create again: coordinated course: JOB, SOC"),
        ("create", G, "2026-11-02", "", "missing in the system, create again: coordinated course: JOB, SOC")]
    assert actions(n2, "Nexus") == []  # no list imported for Nexus: nothing to reconcile
    found = [(r["finding"], r["cpr"], r["line"]) for r in rows(n2.report_dir / "reconcile_Momentum.csv")]
    assert found == [("held by the system, unknown to the register", UNKNOWN, "6"),
                     ("missing in the system, create action issued", A, ""),
                     ("missing in the system, create action issued", G, "")]
    assert not (n2.report_dir / "reconcile_Nexus.csv").exists()
    # once the system holds everything, the next night has nothing to say
    held_all = "cpr,code,start,end\n" + "".join(f"{c},PGM,2026-11-02,\n" for c in sorted([A, B, C, D, F, G]))
    n2b = town.run(2, **{"sources.yaml": MARKINGS_YAML, "momentum_markings.csv": held_all})
    assert actions(n2b, "Momentum") == []
    assert rows(n2b.report_dir / "reconcile_Momentum.csv") == []


def test_marking_list_for_an_unknown_system_is_a_config_error(town: Town):
    with pytest.raises(ConfigError, match="unknown case system 'Sbsys'") as info:
        town.run(1, **{"sources.yaml": MARKINGS_YAML.replace("system: Momentum\n    path: momentum",
                                                              "system: Sbsys\n    path: momentum"),
                       "momentum_markings.csv": "cpr,code,start,end\n"})
    assert info.value.key == "markings[0].system" and info.value.line is not None


def test_removal_file_rows_are_imported_once_and_bad_rows_rejected(town: Town, tmp_path: Path):
    town.run(1)
    folder = tmp_path / "removals"
    folder.mkdir()
    (folder / "SOC.csv").write_text(
        "cpr,rule,removed_by,reason,until\n"
        f"{B},{RULE},Sune Soc,ønsker ikke,\n"
        f"12345,{RULE},Sune Soc,typo,\n"
        f"{G},{RULE},,glemt navn,\n"
        f"{G},{RULE},Sune Soc,dato,31-02-2027\n", encoding="utf-8")
    n2 = town.run(2, suppressions=folder)
    assert n2.summary["register"].suppressions_imported == 1
    assert ("end", B, "2026-11-02", "2026-11-03", "removed by caseworker") in actions(n2, "Nexus")
    rejected = town.query("select line, field, masked_cpr from rejects where source = 'suppressions' order by line")
    assert rejected == [(3, "cpr", "******-****"), (4, "removed_by", "070790-****"), (5, "until", "070790-****")]
    n3 = town.run(3, suppressions=folder)
    assert n3.summary["register"].suppressions_imported == 0
    assert town.query("select count(*) from suppressions") == [(1,)]


def test_removal_file_not_named_after_a_department(town: Town, tmp_path: Path):
    folder = tmp_path / "removals"
    folder.mkdir()
    (folder / "jobcenter.csv").write_text("cpr,rule,removed_by,reason\n", encoding="utf-8")
    with pytest.raises(InputError, match="not named after a department"):
        town.run(1, suppressions=folder)


def test_lift_lets_the_rule_flag_again(town: Town):
    town.run(1)
    removal = ops.add_suppression(town.warehouse, cpr=B, rule_id=RULE, removed_by="Jens Job", reason="pause",
                                  until=None, department="JOB", today=NIGHTS[1])
    assert town.run(2).summary["flags"]["ended"] == 1
    ops.lift_suppression(town.warehouse, removal, lifted_by="Jens Job")
    n3 = town.run(3)
    assert ("create", B, "2026-11-04") in [a[:3] for a in actions(n3, "Momentum")]
    with pytest.raises(InputError, match="already lifted"):
        ops.lift_suppression(town.warehouse, removal)
    with pytest.raises(InputError, match="no removal S999999"):
        ops.lift_suppression(town.warehouse, "S999999")


def test_suppress_runs_history_commands(town: Town):
    town.run(1)
    cli = CliRunner()
    wh = ["--warehouse", str(town.warehouse)]
    result = cli.invoke(app, ["suppress", "--cpr", "060690-0007", "--rule", RULE, "--by", "Jens Job",
                              "--reason", "pause", "--until", "2099-01-01", "--department", "JOB", *wh])
    assert result.exit_code == 0, result.output
    assert B not in result.output and "060690-****" in result.output
    listed = cli.invoke(app, ["suppress", "--list", *wh], env={"COLUMNS": "250"})
    assert "S000001" in listed.output and B not in listed.output
    bad = cli.invoke(app, ["suppress", "--cpr", "not-a-cpr", "--rule", RULE, "--by", "x", "--reason", "y", *wh])
    assert bad.exit_code == 1 and "Error: not a CPR number" in bad.output
    unknown = cli.invoke(app, ["suppress", "--cpr", "060690-0007", "--rule", "nope", "--by", "x", "--reason", "y", *wh])
    assert unknown.exit_code == 1 and "no run has used the rule 'nope'" in unknown.output
    town.run(2)
    runs = cli.invoke(app, ["runs", *wh], env={"COLUMNS": "250"})
    assert runs.exit_code == 0 and "2026-11-03" in runs.output and "committed" in runs.output
    history = cli.invoke(app, ["history", "--cpr", "060690-0007", *wh], env={"COLUMNS": "250"})
    assert history.exit_code == 0
    assert "removed by caseworker" in history.output and "S000001" in history.output
    missing = cli.invoke(app, ["runs", "--warehouse", str(town.root / "none.duckdb")])
    assert missing.exit_code == 1 and "no warehouse" in missing.output
