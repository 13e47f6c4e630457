"""`targetgroup validate`: the gate alone; exit 1 on errors, nothing written to the warehouse."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from targetgroup.cli import app

pytestmark = pytest.mark.slow
BAD = Path(__file__).parent / "bad_inputs"


def test_validate_passes_and_writes_no_warehouse(tiny: Path, tmp_path: Path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["validate", "--sources", str(tiny), "--as-of", "2026-11-01", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert "Quality gate: 0 error(s)" in result.output
    assert not (out / "warehouse.duckdb").exists()
    # not a committed run: its folder is under validated/, never under a run folder's final name
    [report] = list(out.glob("validated/*/quarantine.csv"))
    assert list(out.glob("*/quarantine.csv")) == [] and list((out / ".staging").iterdir()) == []
    assert (report.parent / "quality" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").exists()


def test_validate_exits_1_on_an_error(tiny: Path, tmp_path: Path):
    shutil.copyfile(BAD / "job_header_only.csv", tiny.parent / "job.csv")
    result = CliRunner().invoke(app, ["validate", "--sources", str(tiny), "--as-of", "2026-11-01",
                                      "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 1
    assert "source job: row_count: 0 rows, at least 1 expected" in result.output
