"""The whole pipeline on the tiny hand-written municipality: results, files, failure safety."""

from __future__ import annotations

import hashlib
import json
import stat
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from conftest import EXPECTED_DEFAULT, JOB_CSV, SOURCES_YAML, write_municipality
from targetgroup import pipeline
from targetgroup.errors import InputError, RunError
from targetgroup.pipeline import RunSettings, run_pipeline

AS_OF = date(2026, 11, 1)


def _settings(sources: Path, tmp_path: Path, **kw) -> RunSettings:
    return RunSettings(sources=sources, as_of=kw.pop("as_of", AS_OF), out=tmp_path / "reports", **kw)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_overlap_on_hand_written_data(tiny, tmp_path):
    run = run_pipeline(_settings(tiny, tmp_path))
    targets = run.summary["identify"]
    assert targets["citizens_flagged"] == len(EXPECTED_DEFAULT)
    with duckdb.connect(str(tmp_path / "reports" / "warehouse.duckdb"), read_only=True) as con:
        got = con.execute("select cpr, departments from targets order by cpr").fetchall()
    assert {cpr: list(depts) for cpr, depts in got} == EXPECTED_DEFAULT


def test_a_relative_report_folder_works(tiny, tmp_path, monkeypatch):
    """The CLI's default --out is the relative 'reports' (the README's first command)."""
    monkeypatch.chdir(tmp_path)
    run = run_pipeline(RunSettings(sources=tiny, as_of=AS_OF, out=Path("reports")))
    assert run.summary["identify"]["citizens_flagged"] == len(EXPECTED_DEFAULT)
    docs = Path(run.manifest["quality"]["data_docs"])
    assert (tmp_path / "reports").resolve() in docs.resolve().parents and docs.exists()


def test_canonical_tables_land_in_the_warehouse(tiny, tmp_path):
    settings = _settings(tiny, tmp_path)
    run_pipeline(settings)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        columns = [r[0] for r in con.execute("describe cases").fetchall()]
        assert {"cpr", "department", "system", "case_id", "case_type", "status", "start_date", "end_date",
                "caseworker", "team"} <= set(columns)
        assert con.execute("select count(*) from cases").fetchone()[0] == 11
        assert con.execute("select count(*) from persons").fetchone()[0] == 7
    run_pipeline(_settings(tiny, tmp_path, as_of=date(2026, 11, 2), store_extracts=False))
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        tables = {r[0] for r in con.execute("show tables").fetchall()}
    assert "cases" not in tables and "persons" not in tables and "runs" in tables


def test_flag_lists_hold_only_citizens_the_department_serves(tiny, tmp_path):
    run = run_pipeline(_settings(tiny, tmp_path))
    job = pd.read_csv(run.report_dir / "flags_JOB.csv", encoding="utf-8-sig", dtype=str)
    buf = pd.read_csv(run.report_dir / "flags_BUF.csv", encoding="utf-8-sig", dtype=str)
    assert sorted(job["CPR-nr."]) == ["010180-0001", "030390-0004"]
    assert buf.empty  # the BUF child is not flagged; BUF serves no flagged citizen
    row = job.set_index("CPR-nr.").loc["010180-0001"]
    assert row["Andre forvaltninger (sagsbehandler, team)"] == "SOC: Sara Soc (Voksen)"
    assert row["Status"] == "Ny" and row["Team"] == "Team A"
    assert (run.report_dir / "flags_JOB.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for Excel


def test_outputs_are_owner_only_and_counts_rounded(tiny, tmp_path):
    run = run_pipeline(_settings(tiny, tmp_path))
    for path in run.report_dir.rglob("*"):   # incl. the quality gate's Data Docs under quality/
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
    assert stat.S_IMODE(run.report_dir.stat().st_mode) == 0o700
    counts = pd.read_csv(run.report_dir / "leadership_counts.csv", encoding="utf-8-sig", dtype=str)
    # two citizens: every count is rounded to a multiple of 5 or hidden (deliver.disclosure)
    assert all(v == "•" or int(v) % 5 == 0 for v in counts["count"]) and set(counts.pop("rounded_to")) == {"5"}
    # rules_hash is a hex sha256 (it may hold digit runs); every other cell must not look like a CPR
    assert set(counts.pop("rules_hash")) == {run.summary["rules_hash"]}
    assert not counts.apply(lambda col: col.str.contains(r"\d{6}", regex=True)).any().any()


def test_manifest_describes_inputs_and_stages(tiny, tmp_path):
    run = run_pipeline(_settings(tiny, tmp_path))
    manifest = json.loads((run.report_dir / "manifest.json").read_text())
    assert manifest["status"] == "committed" and manifest["as_of"] == "2026-11-01"
    by_source = {i["source"]: i for i in manifest["inputs"]}
    assert by_source["job"]["rows_read"] == 5 and len(by_source["job"]["sha256"]) == 64
    assert {"extract", "stage", "identify", "deliver", "commit"} <= set(manifest["duration_seconds"])
    assert manifest["versions"]["duckdb"].startswith("2.")


def test_rejected_rows_are_counted_with_reasons(tmp_path):
    bad_job = JOB_CSV + "A303900004,J9,Jobparat kontanthjælp,AKT,2020-01-01,,Jens Job,Team A\n" \
                        "0303900004,J8,Jobparat kontanthjælp,AKT,01-01-2020,,Jens Job,Team A\n"
    # 2 of 7 rows is more than the gate's default 5 % reject share: allow it for this test
    lenient = SOURCES_YAML + "quality: {max_reject_share: 0.5}\n"
    sources = write_municipality(tmp_path / "in", **{"job.csv": bad_job, "sources.yaml": lenient})
    run = run_pipeline(_settings(sources, tmp_path))
    staged = run.summary["stage"]
    assert staged.rows_rejected["job"] == 2
    assert staged.reject_reasons["job"] == {
        "cpr: CPR contains characters other than digits, dashes and spaces": 1,
        "start_date: start date is not a date in %Y-%m-%d": 1,
    }


def test_failed_run_leaves_warehouse_unchanged(tiny, tmp_path, monkeypatch):
    settings = _settings(tiny, tmp_path)
    run_pipeline(settings)
    warehouse = settings.warehouse_path
    before = _sha(warehouse)

    def explode(run):
        raise RuntimeError("injected")
    monkeypatch.setattr(pipeline, "deliver", explode)
    with pytest.raises(RunError, match=r"\(RuntimeError\)"):   # a foreign exception leaves as its type only
        run_pipeline(_settings(tiny, tmp_path, as_of=date(2026, 11, 2)))
    assert _sha(warehouse) == before


def test_failure_inside_the_commit_rolls_back(tiny, tmp_path):
    settings = _settings(tiny, tmp_path)
    run_pipeline(settings)
    before = _sha(settings.warehouse_path)
    run = pipeline.prepare(_settings(tiny, tmp_path, as_of=date(2026, 11, 2)))
    pipeline.extract(run)
    pipeline.stage(run)
    pipeline.identify(run)
    pipeline.register(run)
    pipeline.deliver(run)

    def explode(con):
        raise RuntimeError("injected midway through the commit")
    run.commit_steps.append(explode)
    with pytest.raises(RuntimeError):
        pipeline.commit(run)
    run.close()
    assert _sha(settings.warehouse_path) == before


def test_first_run_that_fails_leaves_no_warehouse(tmp_path):
    sources = write_municipality(tmp_path / "in", **{"job.csv": "cpr,id\n"})
    settings = _settings(sources, tmp_path)
    with pytest.raises(InputError, match="mapped column"):
        run_pipeline(settings)
    assert not settings.warehouse_path.exists()


def test_run_into_the_past_is_refused(tiny, tmp_path):
    run_pipeline(_settings(tiny, tmp_path))
    with pytest.raises(RunError, match="before the last committed run"):
        run_pipeline(_settings(tiny, tmp_path, as_of=date(2026, 10, 1)))
    run_pipeline(_settings(tiny, tmp_path, as_of=date(2026, 10, 1), rebuild=True))


def test_second_run_on_the_same_warehouse_is_refused(tiny, tmp_path):
    settings = _settings(tiny, tmp_path)
    from targetgroup.warehouse import run_lock
    with run_lock(settings.warehouse_path):
        with pytest.raises(RunError, match="another run is using the warehouse"):
            run_pipeline(settings)
