"""Run folders: a run writes into a private staging folder; its folder appears under its final
name, by one rename, only once the ledger holds the run (docs/actions.md, "Which folders to take").

    <out>/.staging/<as-of>_<run-id>.lock    flock-ed by the working process for its whole life
    <out>/.staging/<as-of>_<run-id>/        the run's private folder (mode 700) while it works
        run.json                            run id, folder name, warehouse (for the next start's sweep)
        report/                             every output, written here
        tmp/                                every temporary file: DuckDB's spill, transcoded extracts,
                                            anything a library puts in `tempfile.gettempdir()`
    <out>/<as-of>_<run-id>/                 a committed run (the ledger `runs` has it)
    <out>/dry-run/<as-of>_<run-id>/         a dry run (nothing stored)
    <out>/validated/<as-of>_<run-id>/       `targetgroup validate` (nothing stored)
    <out>/failed/<as-of>_<run-id>/          a failed or interrupted run (nothing stored): manifest.json,
                                            FAILED.txt and the quality gate's reports; no list, no action

`sweep` (at the start of the next run, under the warehouse lock) finds the staging folders of
runs whose process is gone (its lock file is free): a run the ledger holds is published (killed
between its commit and the rename), any other is removed with everything in it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from targetgroup.deliver.files import make_private_dir, write_json

STAGING = ".staging"
PLACES = {"committed": None, "dry_run": "dry-run", "validated": "validated", "failed": "failed"}
# what a failed run keeps: why it failed, and the quality gate's findings (no list, no action)
FAILED_KEEPS = ("manifest.json", "FAILED.txt", "quarantine.csv", "quality")
STRAY_LOCK_SECONDS = 60


@dataclass
class RunFolder:
    """One run's staging folder; `place(status)` moves its outputs to where they belong."""

    out: Path
    name: str
    root: Path
    lock_fd: int | None = field(default=None, repr=False)

    @property
    def report(self) -> Path:
        """Where the run writes its outputs until it is placed."""
        return self.root / "report"

    @property
    def tmp(self) -> Path:
        """The run's private temporary folder (removed when the run closes)."""
        return self.root / "tmp"

    def final(self, status: str) -> Path:
        """The folder the outputs end in for a run that ended with `status`."""
        place = PLACES[status]
        return self.out / self.name if place is None else self.out / place / self.name

    def remove_tmp(self) -> None:
        """Remove every temporary file of the run (DuckDB's spill may hold CPR numbers)."""
        shutil.rmtree(self.tmp, ignore_errors=True)

    def place(self, status: str) -> Path:
        """Move the outputs to `final(status)` with one rename, then remove the staging folder.

        A failed run keeps only FAILED_KEEPS: its lists and actions were never valid.
        """
        target = self.final(status)
        if status == "failed":
            for path in self.report.iterdir() if self.report.exists() else ():
                if path.name not in FAILED_KEEPS:
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
        make_private_dir(target.parent)
        os.rename(self.report, target)
        self.release()
        return target

    def release(self) -> None:
        """Remove the staging folder and its lock file (outputs not yet placed are lost)."""
        shutil.rmtree(self.root, ignore_errors=True)
        lock = self.root.with_name(self.root.name + ".lock")
        lock.unlink(missing_ok=True)
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None


def open_staging(out: Path, name: str, *, run_id: str, warehouse: Path) -> RunFolder:
    """Create and lock `<out>/.staging/<name>/` with empty report/ and tmp/ (all mode 700)."""
    staging = make_private_dir(out / STAGING)
    fd = os.open(staging / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)   # the lock before the folder: see sweep
    folder = RunFolder(out=out, name=name, root=staging / name, lock_fd=fd)
    make_private_dir(folder.root)
    write_json(folder.root / "run.json", {"run_id": run_id, "name": name, "warehouse": _key(warehouse)})
    make_private_dir(folder.report)
    make_private_dir(folder.tmp)
    return folder


def sweep(out: Path, warehouse: Path, committed: Callable[[str], bool]) -> list[str]:
    """Deal with the staging folders that killed runs of this warehouse left in `out`.

    `committed(run_id)` asks the ledger. Returns one line per folder dealt with (run ids and
    folder names only), for the log.
    """
    staging = out / STAGING
    if not staging.is_dir():
        return []
    done = []
    for root in sorted(p for p in staging.iterdir() if p.is_dir()):
        lock = root.with_name(root.name + ".lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue   # its run is still working (another process)
            info = _read_info(root)
            if info is not None and info.get("warehouse") != _key(warehouse):
                continue   # another warehouse's run: its own next start deals with it
            folder = RunFolder(out=out, name=root.name, root=root)
            folder.remove_tmp()
            run_id = (info or {}).get("run_id")
            final = folder.final("committed")
            if run_id and committed(run_id) and (root / "report").is_dir() and not final.exists():
                folder.place("committed")
                done.append(f"published the folder {final.name} of run {run_id}: it was committed, "
                            "then stopped before its folder was moved into place")
            else:
                folder.release()
                done.append(f"removed the staging folder {root.name} left by a run stopped before its "
                            "commit (nothing of it was stored)")
        finally:
            os.close(fd)
    now = time.time()
    for lock in staging.glob("*.lock"):
        if not lock.with_suffix("").exists() and now - lock.stat().st_mtime > STRAY_LOCK_SECONDS:
            lock.unlink(missing_ok=True)
    return done


def moved(path: str | Path | None, src: Path, dst: Path) -> str | None:
    """`path` (a file in folder `src`) once `src` has been renamed to `dst`; other paths unchanged."""
    if path is None:
        return None
    try:
        rel = Path(path).resolve().relative_to(src.resolve())
    except ValueError:
        return str(path)
    return str((dst.resolve() if Path(path).is_absolute() else dst) / rel)


def _read_info(root: Path) -> dict | None:
    try:
        return json.loads((root / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _key(warehouse: Path) -> str:
    return str(Path(warehouse).resolve())
