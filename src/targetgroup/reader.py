"""The reader copy: a read-only copy of the warehouse, published after every commit.

    <warehouse>.reader.duckdb      e.g. reports/warehouse.reader.duckdb, mode 600

    record(warehouse, step)        a small write outside a run, then the copy republished

Anyone who only reads (analysts, `targetgroup runs`, `history`, `suppress --list`, `explain`)
opens the copy, never the warehouse: DuckDB lets one process write a database file only when
no other process has it open, so a reader holding the warehouse open made the nightly fail at
its commit. The copy is replaced by a rename, so a reader that holds the old copy open keeps
reading it undisturbed (Linux keeps the old file until it is closed) and sees the new one when
it opens it again.

Cost: one copy of the warehouse file per commit, with the kernel's copy (reflink on btrfs/XFS,
where it costs nothing); docs/analysts.md has the figures. The copy holds what the warehouse
holds (CPR numbers in its base tables): same owner, same mode 600.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

import duckdb

from targetgroup.warehouse import commit, open_work, run_lock

SUFFIX = ".reader.duckdb"
FICLONE = 0x40049409   # Linux ioctl: share the blocks (copy-on-write) where the filesystem can


def reader_path(warehouse: Path) -> Path:
    """The reader copy that belongs to `warehouse` (whether it exists or not)."""
    return warehouse.with_name(warehouse.stem + SUFFIX)


def for_reading(warehouse: Path) -> Path:
    """What a reader should open: the reader copy when there is one, else the warehouse itself."""
    copy = reader_path(warehouse)
    return copy if copy.exists() else warehouse


def publish(warehouse: Path) -> Path:
    """Checkpoint `warehouse` (so the file alone is the whole database), copy it, and move the
    copy into place by one rename; returns the reader copy's path. Call it after a commit,
    still holding the warehouse's run lock."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("checkpoint")
    finally:
        con.close()
    target = reader_path(warehouse)
    part = target.with_name(target.name + f".part-{os.getpid()}")
    try:
        _clone(warehouse, part)
        os.chmod(part, 0o600)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    return target


def remove_leftovers(warehouse: Path) -> int:
    """Remove half-written copies (`*.reader.duckdb.part-*`) of runs that were killed; returns
    how many. Call it under the warehouse's run lock."""
    leftovers = list(warehouse.parent.glob(reader_path(warehouse).name + ".part-*"))
    for path in leftovers:
        path.unlink(missing_ok=True)
    return len(leftovers)


def _clone(source: Path, target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with source.open("rb") as src:
            fcntl.ioctl(fd, FICLONE, src.fileno())
            return
    except OSError:
        pass   # not a copy-on-write filesystem: copy the bytes below
    finally:
        os.close(fd)
    shutil.copyfile(source, target)   # sendfile: the kernel copies, no Python loop


def record(warehouse: Path, step, wait_seconds: float = 0.0) -> None:
    """Write one small change outside a run (a caseworker's removal, a consent record): `step`
    runs under the warehouse's run lock in one transaction, then the copy is republished so
    that readers (`history`, `explain`, analysts) see the change at once."""
    with run_lock(warehouse, wait_seconds):
        con = open_work(threads=1)
        try:
            commit(con, warehouse, [step])
        finally:
            con.close()
        publish(warehouse)
