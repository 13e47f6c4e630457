"""Run folders: outputs are staged and renamed into place only once the ledger holds the run;
dry runs, failed runs and leftovers of killed runs each have their place (docs/actions.md)."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from datetime import date
from pathlib import Path

import duckdb
import pytest

from typer.testing import CliRunner

from conftest import SOURCES_YAML, write_municipality
from targetgroup import extract, pipeline, runfolder
from targetgroup.cli import app
from targetgroup.errors import RunError
from targetgroup.pipeline import RunSettings, run_pipeline

AS_OF = date(2026, 11, 1)


def _settings(sources: Path, tmp_path: Path, **kw) -> RunSettings:
    return RunSettings(sources=sources, as_of=kw.pop("as_of", AS_OF), out=tmp_path / "reports", **kw)


def _dirs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.exists() else []


def _ledger_folders(warehouse: Path) -> dict[str, str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(con.execute("select run_id, report_dir from runs").fetchall())


def test_committed_and_dry_runs_end_in_their_own_places(tiny, tmp_path):
    out = tmp_path / "reports"
    dry = run_pipeline(_settings(tiny, tmp_path, dry_run=True))
    assert dry.report_dir == out / "dry-run" / f"2026-11-01_{dry.run_id}"
    assert json.loads((dry.report_dir / "manifest.json").read_text())["status"] == "dry_run"
    assert not (out / f"2026-11-01_{dry.run_id}").exists()

    run = run_pipeline(_settings(tiny, tmp_path))
    final = out / f"2026-11-01_{run.run_id}"
    manifest = json.loads((final / "manifest.json").read_text())
    assert (run.report_dir, manifest["status"], manifest["folder"], manifest["stored_in_warehouse"]) == \
        (final, "committed", str(final), True)
    assert (final / "actions_Momentum.csv").exists() and (final / "leadership_report.html").exists()
    assert Path(manifest["quality"]["data_docs"]).exists()
    # under its final name: only the committed run; the ledger names its folder
    assert [d for d in _dirs(out) if d.startswith("2026")] == [final.name]
    assert _ledger_folders(run.settings.warehouse_path) == {run.run_id: str(final)}
    assert _dirs(out / ".staging") == []
    shown = CliRunner().invoke(app, ["runs", "--out", str(out)])
    assert shown.exit_code == 0 and final.name in shown.output


def test_a_failed_run_keeps_its_reasons_in_failed_and_no_lists(tiny, tmp_path, monkeypatch):
    real = pipeline.deliver

    def deliver_then_fail(run):
        real(run)   # every list and action file written, then something breaks
        raise RuntimeError("injected")
    monkeypatch.setattr(pipeline, "deliver", deliver_then_fail)
    with pytest.raises(RunError, match=r"internal error .*\(RuntimeError\)"):   # only its type leaves
        run_pipeline(_settings(tiny, tmp_path))
    out = tmp_path / "reports"
    assert [d for d in _dirs(out) if d.startswith("2026")] == []
    failed, = (out / "failed").iterdir()
    kept = sorted(p.name for p in failed.iterdir())
    assert set(kept) <= set(runfolder.FAILED_KEEPS) and {"manifest.json", "FAILED.txt"} <= set(kept)
    manifest = json.loads((failed / "manifest.json").read_text())
    assert (manifest["status"], manifest["stored_in_warehouse"], manifest["folder"]) == ("failed", False, str(failed))
    assert _dirs(out / ".staging") == []


def _dead_staging(out: Path, name: str, warehouse: Path, run_id: str) -> Path:
    """What a run killed before its commit leaves: a staging folder with outputs and spill, lock free."""
    folder = runfolder.open_staging(out, name, run_id=run_id, warehouse=warehouse)
    (folder.report / "actions_Momentum.csv").write_text("cpr\n0101800001\n")
    (folder.tmp / "duckdb_temp_block.tmp").write_bytes(b"0303900004")
    os.close(folder.lock_fd)   # the process is gone: so is its lock
    return folder.root


def test_leftovers_of_killed_runs_are_dealt_with_at_the_next_start(tiny, tmp_path, monkeypatch, caplog):
    out = tmp_path / "reports"
    settings = _settings(tiny, tmp_path)

    def killed_past_the_commit(run, status="committed", error=None):
        run.close()
        os.close(run.folder.lock_fd)   # dies before the folder is moved into place
        run.folder.lock_fd = None
        return run.report_dir / "manifest.json"
    monkeypatch.setattr(pipeline, "finish", killed_past_the_commit)
    committed = run_pipeline(settings)
    monkeypatch.undo()
    assert [d for d in _dirs(out) if d.startswith("2026")] == []   # not yet in place

    before = _dead_staging(out, "2026-11-02_20261102T040000-dead", settings.warehouse_path, "20261102T040000-dead")
    other = _dead_staging(out, "2026-11-02_20261102T040000-othr", tmp_path / "other.duckdb", "20261102T040000-othr")
    alive = runfolder.open_staging(out, "2026-11-02_20261102T040000-live", run_id="20261102T040000-live",
                                   warehouse=settings.warehouse_path)
    part = out / "warehouse.reader.duckdb.part-4242"
    part.write_bytes(b"half a copy")

    caplog.set_level(logging.WARNING, logger="targetgroup")
    run = run_pipeline(_settings(tiny, tmp_path, as_of=date(2026, 11, 3)))

    published = out / f"2026-11-01_{committed.run_id}"
    assert json.loads((published / "manifest.json").read_text())["status"] == "committed"
    assert (published / "actions_Momentum.csv").exists()
    assert not before.exists() and not part.exists() and not (out / before.name).exists()
    assert other.exists() and alive.root.exists()   # another warehouse's, and a live run's: left alone
    logged = " | ".join(r.getMessage() for r in caplog.records)
    assert f"published the folder {published.name}" in logged and before.name in logged
    assert "half-written reader copy" in logged
    assert len(run.manifest["leftovers_cleaned"]) == 3
    alive.release()


def test_a_transcoded_cp1252_extract_lives_in_the_runs_private_folder(tmp_path, monkeypatch):
    sources = write_municipality(tmp_path / "in", **{
        "sources.yaml": SOURCES_YAML.replace("encoding: latin-1", "encoding: cp1252")})
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    seen = []
    real_copy = extract.shutil.copyfileobj

    def spy(src, dst, *args):
        seen.append(Path(dst.name))
        return real_copy(src, dst, *args)
    monkeypatch.setattr(extract.shutil, "copyfileobj", spy)
    run = pipeline.prepare(_settings(sources, tmp_path))
    pipeline.extract(run)
    (copy,), tmp = seen, run.folder.tmp
    assert tmp in copy.parents
    run.discard()
    assert not tmp.exists() and list(system_tmp.iterdir()) == []
