"""The sample's configuration for issue 19: the area column it maps, the caseload capacity it
sets, and the rule set `backfill --sample` uses (review every 6 months, an area effort, refused
consent left out), checked against the shipped sources with `rules check`'s own loader.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from targetgroup.cli import app
from targetgroup.config import SAMPLE_SOURCES, load_sources
from targetgroup.rules import DEFAULT_RULES, load_rules

SAMPLE_RULES = DEFAULT_RULES.parent / "sample.yaml"


def test_the_sample_maps_the_area_column_and_sets_caseload_capacity():
    config = load_sources(SAMPLE_SOURCES)
    assert config.persons.columns.get("area") == "omraadekode"
    assert (config.caseload.capacity_per_caseworker, config.caseload.capacity_per_team) == (6, 15)
    # the shipped single-date extract has the column, with the synthetic codes only
    codes = duckdb.sql(f"select distinct omraadekode from read_csv('{SAMPLE_SOURCES.parent / 'cpr_register.csv'}', "
                       "all_varchar = true)").fetchall()
    assert {c for (c,) in codes} == {f"FIKTIV-{n:02d}" for n in range(1, 13)}


def test_the_sample_rule_set_reviews_courses_and_has_an_area_effort():
    loaded = load_rules(SAMPLE_RULES, load_sources(SAMPLE_SOURCES))
    rules = {r.id: r for r in loaded.rules.rules}
    assert set(rules) == {"two_departments", "area_effort"}
    text = SAMPLE_RULES.read_text(encoding="utf-8")
    assert "review_after: 6m" in text and "in: [FIKTIV-03, FIKTIV-07]" in text
    assert "consent_refused: exclude" in text


@pytest.mark.parametrize(("given", "expected"), [([], SAMPLE_RULES), (["--rules", "odense"], Path("odense"))])
def test_backfill_sample_runs_the_sample_rule_set_unless_told_otherwise(monkeypatch, tmp_path, given, expected):
    from targetgroup import backfill as series
    from targetgroup.cli import backfill as command

    seen = {}
    monkeypatch.setattr(command, "_sample_series",
                        lambda months, out: (str(tmp_path / "{date}" / "sources.yaml"), date(2026, 10, 1),
                                             date(2026, 11, 1)))
    monkeypatch.setattr(series, "plan", lambda *a, **k: series.Plan(runs=[]))

    def fake_backfill(todo, settings, *args, **kwargs):
        seen["rules"] = settings.rules
        raise RuntimeError("stop here")

    monkeypatch.setattr(series, "backfill", fake_backfill)
    CliRunner().invoke(app, ["backfill", "--sample", "12m", "--out", str(tmp_path / "out"), *given])
    assert seen["rules"] == expected
