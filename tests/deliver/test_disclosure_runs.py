"""The disclosure audit on real runs: generated municipalities (two seeds, 3,000 citizens), two
consecutive nightly runs each, audited alone and together, through the library and the CLI.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from targetgroup.cli import app
from targetgroup.deliver import disclosure, figures
from targetgroup.deliver.audit import audit, read_report
from targetgroup.pipeline import RunSettings, run_pipeline
from targetgroup.sample import generate

pytestmark = pytest.mark.slow
NIGHTS = (date(2026, 10, 1), date(2026, 11, 1))


def _two_runs(base: Path, seed: int) -> list[Path]:
    sources = base / "input"
    generate(sources, citizens=3000, seed=seed)
    return [run_pipeline(RunSettings(sources=sources / "sources.yaml", as_of=night, out=base / "out")).report_dir
            for night in NIGHTS]


@pytest.fixture(scope="module", params=[7, 2026])
def runs(request, tmp_path_factory) -> list[Path]:
    return _two_runs(tmp_path_factory.mktemp(f"seed{request.param}"), request.param)


def test_each_report_and_both_together_pass(runs):
    for folder in runs:
        alone = audit([read_report(folder)])
        assert alone.passed and len(alone.cells) > 30, [(c.label, c.lo, c.hi) for c in alone.pinned]
    both = audit([read_report(f) for f in runs])
    assert both.passed, [(c.label, c.lo, c.hi) for c in both.pinned]
    # the series and the cumulative counts tie the two reports together, and those ties hold
    assert both.assumed >= 4 and both.dropped == []


def test_the_cli_audits_consecutive_reports(runs):
    result = CliRunner().invoke(app, ["audit-disclosure", *map(str, runs)])
    assert result.exit_code == 0, result.output
    assert "Disclosure audit passed" in result.output and "in 2 report(s)" in result.output


def test_the_relations_hold_for_the_true_counts(tmp_path, monkeypatch):
    # Published unrounded (base 1), the true counts must satisfy every relation the audit uses:
    # a false "by construction" relation would make the audit raise, a false usual one be dropped.
    monkeypatch.setattr(disclosure, "BASE", 1)
    monkeypatch.setattr(figures, "BASE", 1)
    runs = _two_runs(tmp_path, seed=11)
    result = audit([read_report(f) for f in runs])
    assert result.cells == [] and result.dropped == [] and result.assumed >= 4


OLD_METHOD = """breakdown,group,subgroup,count
total,all,,30
flags_new,all,,0
flags_ended,all,,0
department_combination,A+B,,•
department_combination,A+C,,<5
department_combination,B+C,,<5
department_combination,A+B+C,,13
department,A,,28
department,B,,27
department,C,,18
"""


def test_the_cli_fails_the_old_suppression(tmp_path):
    # the <5 / • suppression this project published before: A+B, A+C, B+C follow from the margins
    folder = tmp_path / "2026-11-01_20261101T040000-old1"
    folder.mkdir()
    (folder / "leadership_counts.csv").write_text(OLD_METHOD, encoding="utf-8")
    result = CliRunner().invoke(app, ["audit-disclosure", str(folder)])
    assert result.exit_code == 1
    assert "Disclosure audit FAILED" in result.output and result.output.count("PINNED") == 3
    assert not re.search(r"\d{6}-?\d{4}", result.output)


def test_the_cli_names_a_folder_without_figures(tmp_path):
    result = CliRunner().invoke(app, ["audit-disclosure", str(tmp_path)])
    assert result.exit_code == 1 and "Error:" in result.output and "leadership_counts.csv" in result.output
