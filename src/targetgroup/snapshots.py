"""The last committed run's canonical extracts (`persons`, `cases`), kept as Parquet files beside
the warehouse and referenced from it by views: written only when their content changed.

    <warehouse dir>/<warehouse stem>.snapshots/         owner-only folder (mode 700)
        persons-<fingerprint>.parquet                   mode 600, never changed once written
        cases-<fingerprint>.parquet

    prepare(con, warehouse)  -> [Snapshot]          before the commit: write what changed
    store_step(snapshots)    -> commit step         inside the commit: point the views at them
    clean(warehouse)         -> removed files       after the commit (and at the next start)

Grain: `persons` one row per citizen, `cases` one row per case of the last committed run (the
run's own tables, unchanged). The warehouse's `persons` and `cases` are views over the files
(`select * from read_parquet(<absolute path>)`), so analysts, the web overview and the reader
copy read them as before; `snapshots` (one row per snapshot table) records the file, its rows
and the file it replaced.

A file is named by a fingerprint of its content (columns, types, row count and the sum of every
row's hash), so an unchanged extract is not written again: the nightly commit then only
re-creates two views. Writing the 6 M-row tables into the warehouse file was most of the commit
at national scale, and made the reader copy (a copy of the warehouse file) as large.

Crash safety (the one-transaction commit still decides): a file is written under a temporary
name and renamed into place (after fsync), before the commit; the views change inside the
commit. A run that fails or is killed before or during its commit leaves the views pointing at
the files they pointed at, which are untouched; its new file is then an unreferenced leftover
that `clean` removes (or a later run with the same content reuses). `clean` runs under the
warehouse's run lock and keeps, per table, the file the warehouse references and the one it
replaced this night (if it changed): a reader (the web app, an analyst) still holding the
previous reader copy open keeps a readable `persons` until the next commit.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from targetgroup.warehouse import ALIAS, has_table, sql_identifier, sql_literal

TABLES = ("persons", "cases")
SUFFIX = ".snapshots"
FORMAT = "1"   # bump when the files' layout changes: a new fingerprint, so new files

SNAPSHOTS_DDL = f"""
create table if not exists {ALIAS}.snapshots (
    table_name varchar primary key,
    file varchar not null,
    rows bigint not null,
    replaced varchar,
    run_id varchar not null
)
"""


@dataclass(frozen=True)
class Snapshot:
    """One table's snapshot file: where it is, how many rows, whether this run wrote it."""

    table: str
    path: Path
    rows: int
    written: bool


def folder(warehouse: Path) -> Path:
    """The snapshot folder of `warehouse` (whether it exists or not)."""
    return warehouse.with_name(warehouse.stem + SUFFIX)


def fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> tuple[str, int]:
    """A name for the content of work table `table` (columns, types, rows, the rows' hashes; not
    their order) and its row count. One pass over the table, no sort."""
    columns = con.execute(f"describe {sql_identifier(table)}").fetchall()
    rows, total = con.execute(
        f"select count(*), coalesce(sum(hash(snapshot_row)::hugeint), 0)::varchar "
        f"from {sql_identifier(table)} as snapshot_row").fetchone()
    digest = hashlib.sha256(repr((FORMAT, table, [(c[0], c[1]) for c in columns], rows, total)).encode())
    return digest.hexdigest()[:32], int(rows)


def prepare(con: duckdb.DuckDBPyConnection, warehouse: Path, tables: tuple[str, ...] = TABLES) -> list[Snapshot]:
    """Write each work table in `tables` to its snapshot file unless a file with the same content
    is there already. Call it under the run lock, before the commit. Returns the snapshots."""
    place = folder(warehouse)
    place.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(place, 0o700)
    out = []
    for table in tables:
        key, rows = fingerprint(con, table)
        path = (place / f"{table}-{key}.parquet").resolve()
        written = not path.is_file()
        if written:
            part = path.with_name(path.name + f".part-{os.getpid()}")
            try:
                con.execute(f"copy (select * from {sql_identifier(table)}) to {sql_literal(part)} "
                            "(format parquet, compression snappy)")
                os.chmod(part, 0o600)
                _fsync(part)
                os.replace(part, path)
                _fsync(place)
            finally:
                part.unlink(missing_ok=True)
        out.append(Snapshot(table, path, rows, written))
    return out


def store_step(snapshots: list[Snapshot], run_id: str):  # noqa: ANN201 - a commit step
    """The commit step that points the warehouse's views at `snapshots` (and records them)."""

    def step(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(SNAPSHOTS_DDL)
        for snap in snapshots:
            before = con.execute(f"select file from {ALIAS}.snapshots where table_name = ?", [snap.table]).fetchone()
            replaced = before[0] if before and before[0] and before[0] != str(snap.path) else None
            drop(con, snap.table)
            con.execute(f"create view {ALIAS}.{sql_identifier(snap.table)} as "
                        f"select * from read_parquet({sql_literal(snap.path)})")
            con.execute(f"insert or replace into {ALIAS}.snapshots values (?, ?, ?, ?, ?)",
                        [snap.table, str(snap.path), snap.rows, replaced, run_id])

    return step


def drop_step(con: duckdb.DuckDBPyConnection) -> None:
    """The commit step of a run that keeps no extracts (--no-store-extracts): no views, no record."""
    for table in TABLES:
        drop(con, table)
    if has_table(con, "snapshots"):   # the files stay one more night for readers of the last copy
        con.execute(f"update {ALIAS}.snapshots set replaced = nullif(file, ''), file = ''")


def drop(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Drop the warehouse's `table`, a view (this module's) or a table (warehouses from before)."""
    kind = con.execute(
        "select 'view' from duckdb_views() where database_name = ? and view_name = ? "
        "union all select 'table' from duckdb_tables() where database_name = ? and table_name = ?",
        [ALIAS, table, ALIAS, table]).fetchone()
    if kind:
        con.execute(f"drop {kind[0]} {ALIAS}.{sql_identifier(table)}")


def clean(warehouse: Path) -> list[str]:
    """Remove the snapshot files the warehouse neither references nor has just replaced, and
    half-written ones; returns their names. Call it under the warehouse's run lock."""
    place = folder(warehouse)
    if not place.is_dir():
        return []
    keep: set[str] = set()
    if warehouse.exists():
        con = duckdb.connect(":memory:")
        try:
            con.execute(f"attach {sql_literal(warehouse)} as {ALIAS} (read_only)")
            if has_table(con, "snapshots"):
                for file, replaced in con.execute(f"select file, replaced from {ALIAS}.snapshots").fetchall():
                    keep.update(p for p in (file, replaced) if p)
        finally:
            con.close()
    removed = []
    for path in sorted(place.iterdir()):
        if path.name.endswith(".parquet") or ".parquet.part-" in path.name:
            if str(path.resolve()) not in keep:
                path.unlink(missing_ok=True)
                removed.append(path.name)
    return removed


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
