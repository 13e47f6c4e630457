"""The last run's canonical extracts as Parquet snapshots beside the warehouse (issue 17):
written only when their content changed, referenced by views that the one commit switches, old
files removed under the run lock. The expected counts come from the hand-written tiny
municipality (tests/conftest.py: 7 persons, 11 cases) and the person lines added here."""

from __future__ import annotations

import json
import stat
from datetime import date
from pathlib import Path

import duckdb
import pytest

from targetgroup import warehouse as warehouse_module
from targetgroup.pipeline import RunSettings, run_pipeline
from targetgroup.reader import reader_path
from targetgroup.snapshots import folder
from tests.conftest import PERSONS_CSV, write_municipality

pytestmark = pytest.mark.slow  # five runs of the tiny municipality

# visibly fake extra citizens (serials 9001, 9002), no cases: only the person extract changes
EXTRA_A = "0707909001,Ekstra Fiktiv A,1990-07-07,H9,,,,\n"
EXTRA_B = "0808909002,Ekstra Fiktiv B,1990-08-08,H9,,,,\n"


def _persons(*extra: str) -> str:
    return PERSONS_CSV + "".join(extra)


def _night(sources: Path, out: Path, day: int):
    return run_pipeline(RunSettings(sources=sources, as_of=date(2026, 11, day), out=out, threads=1))


def _state(out: Path) -> dict:
    wh = out / "warehouse.duckdb"
    with duckdb.connect(str(wh), read_only=True) as con:
        views = {r[0] for r in con.execute("select view_name from duckdb_views() where not internal").fetchall()}
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        counts = con.execute("select (select count(*) from persons), (select count(*) from cases)").fetchone()
    with duckdb.connect(str(reader_path(wh)), read_only=True) as con:   # the reader copy, opened alone
        extra = sorted(r[0] for r in con.execute("select name from persons where name like 'Ekstra%'").fetchall())
    files = {p.name: p.stat() for p in folder(wh).iterdir()}
    return {"views": views, "tables": tables, "counts": counts, "files": files, "reader_extra": extra}


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    root = tmp_path_factory.mktemp("snapshots")
    out = root / "reports"
    sources = write_municipality(root / "in")
    seen = {}
    seen[1] = (_night(sources, out, 1), _state(out))
    seen[2] = (_night(sources, out, 2), _state(out))
    # night 3, first try: a changed person extract, and the commit fails after the file is written
    (root / "in" / "persons.csv").write_text(_persons(EXTRA_A), encoding="utf-8")

    def lost(con):  # noqa: ANN001
        raise duckdb.IOException("the disk went away")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(warehouse_module, "_send_commit", lost)
        with pytest.raises(Exception):  # noqa: B017 - whatever the pipeline makes of it
            _night(sources, out, 3)
    seen["3-failed"] = (None, _state(out))
    (root / "in" / "persons.csv").write_text(_persons(EXTRA_B), encoding="utf-8")
    seen[3] = (_night(sources, out, 3), _state(out))
    (root / "in" / "persons.csv").write_text(_persons(EXTRA_A), encoding="utf-8")
    seen[4] = (_night(sources, out, 4), _state(out))
    return out, seen


def _manifest(run) -> dict:  # noqa: ANN001
    return json.loads((run.report_dir / "manifest.json").read_text())


def _persons_files(state: dict) -> set[str]:
    return {name for name in state["files"] if name.startswith("persons-")}


def test_the_extracts_are_views_over_private_parquet_files(nights):
    out, seen = nights
    run, state = seen[1]
    assert {"persons", "cases"} <= state["views"] and not {"persons", "cases"} & state["tables"]
    assert state["counts"] == (7, 11)
    assert stat.S_IMODE(folder(out / "warehouse.duckdb").stat().st_mode) == 0o700
    assert sorted(n.split("-")[0] for n in state["files"]) == ["cases", "persons"]
    assert all(stat.S_IMODE(s.st_mode) == 0o600 for s in state["files"].values())
    assert {t: s["written"] for t, s in _manifest(run)["snapshots"].items()} == {"persons": True, "cases": True}


def test_an_unchanged_extract_is_not_written_again(nights):
    _, seen = nights
    (run, state), (_, before) = seen[2], seen[1]
    assert {t: s["written"] for t, s in _manifest(run)["snapshots"].items()} == {"persons": False, "cases": False}
    assert {n: (s.st_ino, s.st_mtime_ns) for n, s in state["files"].items()} == \
           {n: (s.st_ino, s.st_mtime_ns) for n, s in before["files"].items()}


def test_a_failed_commit_leaves_the_views_on_the_old_files(nights):
    _, seen = nights
    state, before = seen["3-failed"][1], seen[2][1]
    assert state["counts"] == (7, 11)                       # not the 8 persons of the failed run
    assert _persons_files(before) < _persons_files(state)   # its file was written, unreferenced


def test_a_changed_extract_gets_a_new_file_and_leftovers_go(nights):
    _, seen = nights
    run, state = seen[3]
    assert state["counts"] == (8, 11)
    assert {t: s["written"] for t, s in _manifest(run)["snapshots"].items()} == {"persons": True, "cases": False}
    # the failed run's file is removed at the next start; the replaced one stays one more night
    assert any("snapshot" in line for line in _manifest(run)["leftovers_cleaned"])
    assert _persons_files(state) == _persons_files(seen[1][1]) | {_manifest(run)["snapshots"]["persons"]["file"]}
    assert state["reader_extra"] == ["Ekstra Fiktiv B"] and seen["3-failed"][1]["reader_extra"] == []
    run4, state4 = seen[4]
    assert state4["counts"] == (8, 11) and state4["reader_extra"] == ["Ekstra Fiktiv A"]
    assert _persons_files(state4) == {_manifest(run)["snapshots"]["persons"]["file"],
                                      _manifest(run4)["snapshots"]["persons"]["file"]}
