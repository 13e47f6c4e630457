"""What a newcomer sees on a first run into an empty folder: the new warehouse named, the quality
gate's page working offline, `runs` readable at 80 columns. One CLI run, shared by the tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import write_municipality
from targetgroup.cli import app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    """The CLI's first run of the tiny municipality into an empty --out: (output, out folder)."""
    folder = tmp_path_factory.mktemp("first")
    sources = write_municipality(folder / "input")
    out = folder / "out"
    result = CliRunner().invoke(app, ["run", "--sources", str(sources), "--as-of", "2026-11-01", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return result.output, out


def test_the_first_run_says_it_creates_a_new_warehouse_and_where(first):
    output, out = first
    assert f"creates a new one at {out / 'warehouse.duckdb'}" in output
    assert (out / "warehouse.duckdb").is_file()


def test_a_run_into_an_existing_warehouse_says_nothing_about_creating_one(first, tmp_path):
    output, out = first
    sources = write_municipality(tmp_path / "input")
    result = CliRunner().invoke(app, ["run", "--sources", str(sources), "--as-of", "2026-11-02", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "✓ extract" in result.output and "creates a new one" not in result.output


def test_the_quality_gate_page_the_run_links_to_works_offline(first):
    output, out = first
    [linked] = re.findall(r"Details: (\S+)", output)
    page = Path(linked)
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"https?://", html), "the page must not load anything from the internet"
    assert page.parent.parent == out   # in the run's own folder
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    # the results are on the page itself: every expectation of the tiny municipality's suites
    assert "Quality gate: passed" in html
    for expectation in ("row_count", "columns_present", "cpr_unique"):
        assert expectation in html


def _runs(out: Path, columns: int) -> str:
    result = subprocess.run([sys.executable, "-m", "targetgroup", "runs", "--out", str(out)],
                            capture_output=True, text=True, env={**os.environ, "COLUMNS": str(columns)}, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_runs_is_readable_at_80_columns(first):
    _, out = first
    run_id = next(p.name.split("_", 1)[1] for p in out.iterdir() if p.name.startswith("2026-11-01_"))
    text = _runs(out, 80)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert run_id in text   # whole, on one line
    # every figure with its name beside it (headings used to wrap one letter per line)
    for label, value in (("as-of", "2026-11-01"), ("citizens", "2"), ("new", "2"), ("continuing", "0"),
                         ("updated", "0"), ("ended", "0"), ("rules", "default")):
        assert re.search(rf"(^|\s){label} {value}(\s|$)", text, re.M), label
    wide = _runs(out, 200)
    assert "run id" in wide and "continuing" in wide and run_id in wide   # the table where it fits
