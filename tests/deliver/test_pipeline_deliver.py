"""The pipeline's deliver stage, dry runs, and the CLI's closing summary."""

import json
from datetime import date

import duckdb
from typer.testing import CliRunner

from targetgroup.cli import app
from targetgroup.pipeline import RunSettings, run_pipeline
from tests.conftest import AS_OF, PERSONS_CSV

CPRS = [line.split(",")[0] for line in PERSONS_CSV.splitlines()[1:]]


def test_dry_run_writes_outputs_but_changes_no_warehouse(tiny, tmp_path):
    out = tmp_path / "out"
    first = run_pipeline(RunSettings(sources=tiny, as_of=date(2026, 10, 1), out=out))
    before = duckdb.connect(str(first.settings.warehouse_path), read_only=True).execute(
        "select count(*) from runs").fetchone()[0]
    dry = run_pipeline(RunSettings(sources=tiny, as_of=date.fromisoformat(AS_OF), out=out, dry_run=True))
    manifest = json.loads((dry.report_dir / "manifest.json").read_text())
    assert manifest["status"] == "dry_run" and "not changed" in manifest["dry_run"]
    assert (dry.report_dir / "leadership_report.html").exists() and not (dry.report_dir / "FAILED.txt").exists()
    after = duckdb.connect(str(first.settings.warehouse_path), read_only=True).execute(
        "select count(*) from runs").fetchone()[0]
    assert before == after == 1


def test_ledger_gets_flag_changes(tiny, tmp_path):
    run = run_pipeline(RunSettings(sources=tiny, as_of=date.fromisoformat(AS_OF), out=tmp_path / "out"))
    row = duckdb.connect(str(run.settings.warehouse_path), read_only=True).execute(
        "select flags_new, flags_continuing, flags_ended from runs").fetchone()
    assert row == (2, 0, 0)


def test_cli_summary_table_and_report_path(tiny, tmp_path):
    result = CliRunner().invoke(app, ["run", "--sources", str(tiny), "--as-of", AS_OF, "--out",
                                      str(tmp_path / "out"), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "continuing" in result.output and "ended" in result.output
    assert "Open first:" in result.output and "leadership_report.html" in result.output
    assert not any(cpr in result.output for cpr in CPRS)


def test_cli_rejects_unknown_language(tiny, tmp_path):
    result = CliRunner().invoke(app, ["run", "--sources", str(tiny), "--lang", "de"])
    assert result.exit_code != 0 and "--lang must be da or en" in result.output
