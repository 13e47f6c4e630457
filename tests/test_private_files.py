"""Files holding CPRs are private, always (issue 11, section 4).

The umask is set to 077 once, when the process starts (CLI, flows, `pipeline.prepare`), and
nothing changes it per operation: a thread flipping the process-wide umask races with files
other threads create at that moment, such as DuckDB's write-ahead log during a commit.
"""

from __future__ import annotations

import os
import re
import stat
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from targetgroup import pipeline, privacy
from targetgroup.warehouse import commit, open_work

SRC = Path(__file__).resolve().parents[1] / "src"


class Watcher(threading.Thread):
    """Polls a folder tree and records every entry whose mode lets group or others in."""

    def __init__(self, root: Path):
        super().__init__(daemon=True)
        self.root, self.stop, self.lax, self.seen = root, threading.Event(), {}, set()

    def run(self) -> None:
        while not self.stop.is_set():
            if self.root.exists() and stat.S_IMODE(self.root.stat().st_mode) & 0o077:
                self.lax[str(self.root)] = oct(stat.S_IMODE(self.root.stat().st_mode))
            for folder, dirs, files in os.walk(self.root):
                for name in [*dirs, *files]:
                    path = os.path.join(folder, name)
                    try:
                        mode = os.lstat(path).st_mode
                    except FileNotFoundError:
                        continue   # gone between listing and looking (the WAL, a .part file)
                    self.seen.add(name)
                    if stat.S_IMODE(mode) & 0o077:
                        self.lax[path] = oct(stat.S_IMODE(mode))


@pytest.mark.slow
def test_every_file_and_folder_written_during_commits_with_the_excel_pool_busy_is_private(tiny, tmp_path):
    old = os.umask(0o022)   # a process started from an ordinary login shell
    out = tmp_path / "out"
    watcher = Watcher(out)
    try:
        watcher.start()
        run = pipeline.prepare(pipeline.RunSettings(sources=tiny, as_of=date(2026, 11, 1), out=out, threads=1))
        for stage in (pipeline.extract, pipeline.stage, pipeline.identify, pipeline.register):
            stage(run)
        failures: list[BaseException] = []

        def deliver_again_and_again() -> None:   # the Excel writer's pool busy all the time
            try:
                for i in range(6):
                    run.report_dir = out / f"deliver_{i}"
                    pipeline.deliver(run)
            except BaseException as exc:  # noqa: BLE001
                failures.append(exc)

        writer = threading.Thread(target=deliver_again_and_again)
        writer.start()
        con = open_work(threads=1)
        warehouse = out / "nightly" / "warehouse.duckdb"   # not the one deliver reads
        commits = 0
        while writer.is_alive() or commits < 12:
            if commits % 4 == 0:   # now and then a fresh warehouse (it must never be 644, not briefly)
                for leftover in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
                    leftover.unlink(missing_ok=True)
            commit(con, warehouse, [lambda c, n=commits: c.execute(
                f"create or replace table wh.t{n % 3} as select range as cpr, 'x' || range as v from range(20000)")])
            commits += 1
        writer.join()
        con.close()
        run.close()
        assert not failures, failures
    finally:
        watcher.stop.set()
        watcher.join()
        os.umask(old)
    assert "warehouse.duckdb.wal" in watcher.seen, "the watcher never saw the WAL: the test checks nothing"
    assert {"flags_JOB.xlsx", "manifest.json"} - watcher.seen == {"manifest.json"}
    assert watcher.lax == {}, f"{len(watcher.lax)} entries readable by others, e.g. {sorted(watcher.lax.items())[:5]}"


def test_only_the_process_start_sets_the_umask():
    """No module changes the umask per operation (the races of issue 11): only privacy.private_umask."""
    callers = sorted(str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
                     if re.search(r"\bos\.umask\(", p.read_text(encoding="utf-8")))
    assert callers == ["targetgroup/privacy.py"], callers
    assert "private_files" not in "".join(p.read_text(encoding="utf-8") for p in SRC.rglob("*.py"))


def test_the_cli_makes_the_process_private(tmp_path):
    from typer.testing import CliRunner

    from targetgroup.cli import app

    old = os.umask(0o022)
    try:
        result = CliRunner().invoke(app, ["runs", "--warehouse", str(tmp_path / "none.duckdb")])
        assert privacy.current_umask() == 0o077, result.output
    finally:
        os.umask(old)
