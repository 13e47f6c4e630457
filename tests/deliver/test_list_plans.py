"""The caseworker lists' SQL scales with the flagged citizens, not with the municipality
(issue 17): no step of `caseworker_rows` compares every pair of rows.

A nested-loop join (DuckDB's Blockwise/Nested Loop/Piecewise Merge join) in that statement made
the lists quadratic: a correlated `exists` over all persons, for the co-parent relation, took
32 s at 200,000 citizens and did not finish in minutes at 1 million. The plan is read on the
hand-written town of lists_town.py (a family with two parents), where every join is present.
"""

from __future__ import annotations

import re
from datetime import date

import duckdb
import pytest

from targetgroup.deliver import excel
from targetgroup.pipeline import RunSettings, run_pipeline
from targetgroup.rules import DEFAULT_RULES
from targetgroup.warehouse import sql_text
from tests.deliver import lists_town as town

pytestmark = pytest.mark.slow  # one whole-pipeline run

PAIRWISE = {"Blockwise Nl Join", "Nested Loop Join", "Piecewise Merge Join"}


def operators(plan: str) -> set[str]:
    return set(re.findall(r"─ ([A-Za-z_ ]+?) ─", plan))


def test_the_caseworker_rows_plan_has_no_pairwise_join(tmp_path, monkeypatch):
    plans: list[str] = []
    real = excel.run_sql

    def explain_first(con, name, params=None):  # noqa: ANN001, ANN202
        if name == "caseworker_rows.sql":
            for statement in duckdb.extract_statements(sql_text(name)):
                used = {k: params[k] for k in statement.named_parameters if k in params}
                plans.append("\n".join(r[1] for r in con.execute("explain " + statement.query, used or None).fetchall()))
        return real(con, name, params)

    monkeypatch.setattr(excel, "run_sql", explain_first)
    run = run_pipeline(RunSettings(sources=town.write(tmp_path / "in"), rules=DEFAULT_RULES.parent / "odense.yaml",
                                   as_of=date(2026, 11, 2), out=tmp_path / "out", threads=1, allow_drop=("sund",)))
    assert run.status == "committed" and plans
    found = set().union(*(operators(p) for p in plans))
    assert "Hash Join" in found           # the plan was read
    assert not found & PAIRWISE, found & PAIRWISE
