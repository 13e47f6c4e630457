"""A family flag (Odense's rule) and a caseworker removing the whole family."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from nights import actions
from targetgroup.pipeline import RunSettings, run_pipeline
from targetgroup.register import suppress as ops
from targetgroup.rules import DEFAULT_RULES
from tests.conftest import write_municipality

ODENSE = DEFAULT_RULES.parent / "odense.yaml"
CHILD, MOTHER = "0101150002", "0101800001"


def test_a_caseworker_removes_a_family(tmp_path: Path):
    sources = write_municipality(tmp_path / "in")
    out = tmp_path / "out"

    def night(day: int):
        return run_pipeline(RunSettings(sources=sources, rules=ODENSE, as_of=date(2026, 11, day), out=out, threads=1))

    first = night(1)
    assert first.summary["flags"]["new"] == 1
    assert [a[:2] for a in actions(first, "DUBU")] == [("create", CHILD)]
    assert [a[:2] for a in actions(first, "Momentum")] == [("create", MOTHER)]
    # the BUF caseworker removes the family by typing the child's CPR
    removal = ops.add_suppression(out / "warehouse.duckdb", cpr=CHILD, rule_id="buf_bsf_family",
                                  removed_by="Søs Ærø", reason="familien har sagt nej", until=None,
                                  department="BUF", today=date(2026, 11, 1))
    second = night(2)
    assert second.summary["flags"] == {"new": 0, "continuing": 0, "updated": 0, "ended": 1}
    assert actions(second, "DUBU") == [("end", CHILD, "2026-11-01", "2026-11-02", "removed by caseworker")]
    assert actions(second, "Momentum") == [("end", MOTHER, "2026-11-01", "2026-11-02", "removed by caseworker")]
    listed = ops.list_suppressions(out / "warehouse.duckdb")
    assert listed[0]["id"] == removal and listed[0]["subject"] == "family" and listed[0]["state"] == "holds"
    assert night(3).summary["flags"]["new"] == 0  # the removal sticks
