"""SIGINT/SIGTERM and interrupts at the commit: the CLI, the manifest and the run folder say what
the ledger says. The wider sweep (real signals, kill -9, at 20 points) is benchmarks/interrupt_sweep.py."""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import write_municipality
from targetgroup import pipeline, warehouse
from targetgroup.deliver import analyst
from targetgroup.cli import app
from targetgroup.interrupts import EXIT_INTERRUPTED, EXIT_INTERRUPTED_COMMITTED


@pytest.fixture(scope="module")
def committed_once(tmp_path_factory) -> Path:
    """A report folder whose warehouse holds one committed run (2026-11-01)."""
    base = tmp_path_factory.mktemp("base")
    sources = write_municipality(base / "input")
    out = base / "reports"
    result = CliRunner().invoke(app, ["run", "--as-of", "2026-11-01", "--sources", str(sources), "--out", str(out),
                                      "--quiet"])
    assert result.exit_code == 0, result.output
    return base


def _copy(base: Path, tmp_path: Path) -> tuple[Path, Path]:
    shutil.copytree(base, tmp_path / "m")
    return tmp_path / "m" / "input" / "sources.yaml", tmp_path / "m" / "reports"


def _run(sources: Path, out: Path):
    return CliRunner().invoke(app, ["run", "--as-of", "2026-11-02", "--sources", str(sources), "--out", str(out),
                                    "--quiet"])


def _ledger(out: Path) -> list[str]:
    with duckdb.connect(str(out / "warehouse.duckdb"), read_only=True) as con:
        return [r[0] for r in con.execute("select run_id from runs order by as_of").fetchall()]


def _state_of_second_run(out: Path) -> dict:
    """Where the 2026-11-02 run's folder ended, what its manifest says, what the ledger says."""
    found = [p for p in (*out.glob("2026-11-02_*"), *out.glob("*/2026-11-02_*")) if p.is_dir()]
    assert len(found) == 1, found
    folder, = found
    manifest = json.loads((folder / "manifest.json").read_text())
    return {"place": folder.parent.name if folder.parent != out else "final",
            "manifest": manifest["status"], "stored": manifest["stored_in_warehouse"],
            "failed_marker": (folder / "FAILED.txt").exists(),
            "in_ledger": manifest["run_id"] in _ledger(out),
            "action_files": sorted(p.name for p in folder.glob("actions_*")),
            "staging_left": [p.name for p in (out / ".staging").iterdir()]}


ROLLED_BACK = {"place": "failed", "manifest": "failed", "stored": False, "failed_marker": True,
               "in_ledger": False, "action_files": [], "staging_left": []}


def _signal(sig):
    def send(*_):
        os.kill(os.getpid(), sig)
    return send


def _before(monkeypatch, name, action):
    real = getattr(pipeline, name)

    def wrapped(*args, **kw):
        action()
        return real(*args, **kw)
    monkeypatch.setattr(pipeline, name, wrapped)


def _inside_transaction(monkeypatch, action):
    """`action` runs as a step inside the commit's transaction, before the ledger row."""
    real = pipeline.commit_warehouse

    def wrapped(con, path, steps, **kw):
        return real(con, path, [*steps[:-1], lambda c: action(), steps[-1]], **kw)
    monkeypatch.setattr(pipeline, "commit_warehouse", wrapped)


@pytest.mark.parametrize("where,sig", [
    ("extract", signal.SIGINT),              # early: Ctrl-C while reading
    ("in the transaction", signal.SIGTERM),  # what a scheduler sends, with the commit half done
])
def test_a_signal_before_the_commit_rolls_back_and_says_so(committed_once, tmp_path, monkeypatch, where, sig):
    sources, out = _copy(committed_once, tmp_path)
    if where == "extract":
        _before(monkeypatch, "extract", _signal(sig))
    else:
        _inside_transaction(monkeypatch, _signal(sig))
    result = _run(sources, out)
    assert result.exit_code == EXIT_INTERRUPTED, result.output
    assert f"stopped by {signal.Signals(sig).name} before its commit; nothing was stored" in result.output
    assert _state_of_second_run(out) == ROLLED_BACK
    assert len(_ledger(out)) == 1


def test_a_keyboard_interrupt_landing_in_the_commit_that_went_through_is_reported_committed(
        committed_once, tmp_path, monkeypatch):
    """Issue 13: Ctrl-C hit con.execute('commit'), the rollback failed ('no transaction'), and the
    CLI said 'internal error', FAILED.txt said nothing was stored, though the ledger had the run."""
    sources, out = _copy(committed_once, tmp_path)
    real = warehouse._send_commit

    def commit_then_interrupt(con):
        real(con)
        raise KeyboardInterrupt
    monkeypatch.setattr(warehouse, "_send_commit", commit_then_interrupt)
    result = _run(sources, out)
    assert result.exit_code == EXIT_INTERRUPTED_COMMITTED, result.output
    assert "after the commit was sent" in result.output and "the run is stored" in result.output
    state = _state_of_second_run(out)
    assert state == {"place": "final", "manifest": "committed", "stored": True, "failed_marker": False,
                     "in_ledger": True, "action_files": ["actions_DUBU.csv", "actions_DUBU.json",
                                                         "actions_Momentum.csv", "actions_Momentum.json",
                                                         "actions_Nexus.csv", "actions_Nexus.json"],
                     "staging_left": []}


def test_sigterm_while_the_commit_is_sent_waits_for_it(committed_once, tmp_path, monkeypatch):
    sources, out = _copy(committed_once, tmp_path)
    real = warehouse._send_commit

    def signal_then_commit(con):
        os.kill(os.getpid(), signal.SIGTERM)   # arrives while the commit is on its way
        real(con)
    monkeypatch.setattr(warehouse, "_send_commit", signal_then_commit)
    result = _run(sources, out)
    assert result.exit_code == EXIT_INTERRUPTED_COMMITTED, result.output
    assert "Stopped by SIGTERM after the commit was sent" in result.output
    state = _state_of_second_run(out)
    assert (state["place"], state["manifest"], state["in_ledger"], state["failed_marker"]) == \
        ("final", "committed", True, False)
    # the reader copy was published too: it has both runs
    with duckdb.connect(str(out / "warehouse.reader.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from runs").fetchone()[0] == 2


def test_an_interrupt_in_the_commit_that_did_not_go_through_is_reported_not_stored(
        committed_once, tmp_path, monkeypatch):
    sources, out = _copy(committed_once, tmp_path)

    def interrupt_instead(con):
        raise KeyboardInterrupt
    monkeypatch.setattr(warehouse, "_send_commit", interrupt_instead)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run_pipeline(pipeline.RunSettings(sources=sources, out=out,
                                                   as_of=pipeline.date(2026, 11, 2)))
    assert _state_of_second_run(out) == ROLLED_BACK


def test_an_interrupt_after_the_commit_outside_the_guard_is_settled_by_the_ledger(
        committed_once, tmp_path, monkeypatch):
    """E.g. in a Prefect worker thread, where no signal handler can be installed: a
    KeyboardInterrupt while the analyst views are made must not turn a stored run into 'failed'."""
    sources, out = _copy(committed_once, tmp_path)

    def interrupted(warehouse):
        raise KeyboardInterrupt
    monkeypatch.setattr(analyst, "create_views", interrupted)
    try:
        run = pipeline.run_pipeline(pipeline.RunSettings(sources=sources, out=out, as_of=pipeline.date(2026, 11, 2)))
    except KeyboardInterrupt:
        pytest.fail("raised, although the ledger holds the run")
    assert (run.status, run.interrupted) == ("committed", "KeyboardInterrupt")
    state = _state_of_second_run(out)
    assert (state["place"], state["manifest"], state["in_ledger"], state["failed_marker"]) == \
        ("final", "committed", True, False)
