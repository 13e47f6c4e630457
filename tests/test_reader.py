"""Readers never block the nightly: they open the reader copy published after each commit."""

from __future__ import annotations

import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from targetgroup.cli import app
from targetgroup.pipeline import RunSettings, run_pipeline
from targetgroup.reader import reader_path

HOLD_OPEN = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("select count(*) from runs").fetchone()[0], flush=True)
sys.stdin.readline()                      # hold the file open until the test says so
print(con.execute("select count(*) from runs").fetchone()[0], flush=True)
"""


def _settings(sources: Path, tmp_path: Path, day: int) -> RunSettings:
    return RunSettings(sources=sources, as_of=date(2026, 11, day), out=tmp_path / "reports")


def test_an_analyst_holding_the_reader_copy_open_does_not_block_the_nightly_commit(tiny, tmp_path):
    first = run_pipeline(_settings(tiny, tmp_path, 1))
    copy = reader_path(first.settings.warehouse_path)
    assert copy == tmp_path / "reports" / "warehouse.reader.duckdb"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    analyst = subprocess.Popen([sys.executable, "-c", HOLD_OPEN, str(copy)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert analyst.stdout.readline().strip() == "1"           # the copy is open in another process
        second = run_pipeline(_settings(tiny, tmp_path, 2))         # commits while it is open
        assert second.manifest["reader_copy"] == str(copy)
        analyst.stdin.write("\n")
        analyst.stdin.flush()
        assert analyst.stdout.readline().strip() == "1"           # undisturbed: still its snapshot
    finally:
        analyst.communicate(timeout=30)
    with duckdb.connect(str(copy), read_only=True) as con:       # opened again: the new commit
        assert con.execute("select count(*) from runs").fetchone()[0] == 2
        assert con.execute("select count(*) from v_runs").fetchone()[0] == 2   # the analyst views too


def test_runs_reads_the_copy_while_the_warehouse_is_held_for_writing(tiny, tmp_path):
    run = run_pipeline(_settings(tiny, tmp_path, 1))
    writer = duckdb.connect(str(run.settings.warehouse_path))   # as a run committing would
    try:
        shown = CliRunner().invoke(app, ["runs", "--out", str(tmp_path / "reports")])
    finally:
        writer.close()
    assert shown.exit_code == 0, shown.output
    assert run.run_id in shown.output
