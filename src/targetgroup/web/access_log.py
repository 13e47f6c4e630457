"""The web overview's access log: who looked at which citizen, who downloaded which list, when.

    OUT/access_log.duckdb (beside the warehouse, never inside it), mode 600

    table access_log: one row per request that shows or refuses case data, or logs in or out
        logged_at   timestamp   when (server's local time)
        user_name   varchar     who (the users file's name)
        role        varchar     caseworker | leader | admin
        page        varchar     citizen | list | list_download | leadership | access_log | login | logout
        department  varchar     the department the page was for (lists, citizen look-ups)
        cpr         varchar     the citizen looked up (citizen pages only; the only place it is kept)
        outcome     varchar     shown | not_found | refused | downloaded | failed | locked | ok
        address     varchar     the client's address

    record(path, **entry)      one row (opened, written, closed: the CLI can read between requests)
    prune(path, days)          drop rows older than `days`; returns how many
    read(path, user, since)    rows, newest last

The server is the only writer. The file is separate from the warehouse because the web
application never writes the warehouse (it only opens the reader copy, read-only).
"""

from __future__ import annotations

import os
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from targetgroup.errors import RunError

DEFAULT_NAME = "access_log.duckdb"
COLUMNS = ("logged_at", "user_name", "role", "page", "department", "cpr", "outcome", "address")
SCHEMA = """create table if not exists access_log (
    logged_at timestamp not null, user_name varchar, role varchar, page varchar not null, department varchar,
    cpr varchar, outcome varchar not null, address varchar)"""
_lock = threading.Lock()


def _connect(path: Path, read_only: bool = False, wait_seconds: float = 5.0) -> duckdb.DuckDBPyConnection:
    """Open the log; another process holding it (the server writing) is waited for briefly."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException:
            if time.monotonic() > deadline:
                raise RunError("the access log is busy (another process holds it)", hint="try again") from None
            time.sleep(0.05)


def record(path: Path, *, user: str | None, role: str | None, page: str, outcome: str,
           cpr: str | None = None, department: str | None = None, address: str | None = None) -> None:
    """Append one row (creates the file, owner-only, the first time)."""
    with _lock:
        fresh = not path.exists()
        if fresh:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        con = _connect(path)
        try:
            if fresh:
                os.chmod(path, 0o600)
            con.execute(SCHEMA)
            con.execute("insert into access_log values (localtimestamp, ?, ?, ?, ?, ?, ?, ?)",
                        [user, role, page, department, cpr, outcome, address])
        finally:
            con.close()
        _private_wal(path)


def prune(path: Path, days: int) -> int:
    """Drop rows older than `days` days (the retention setting); returns how many went."""
    if not path.exists():
        return 0
    with _lock:
        con = _connect(path)
        try:
            con.execute(SCHEMA)
            cutoff = datetime.now() - timedelta(days=days)
            gone = con.execute("select count(*) from access_log where logged_at < ?", [cutoff]).fetchone()[0]
            con.execute("delete from access_log where logged_at < ?", [cutoff])
        finally:
            con.close()
        return gone


def read(path: Path, user: str | None = None, since: date | None = None, limit: int | None = None) -> list[dict]:
    """The log's rows (oldest first; the last `limit` when given), filtered by user and first day."""
    if not path.exists():
        return []
    with _lock:
        con = _connect(path, read_only=True)
        try:
            rows = con.execute(
                f"""select {', '.join(COLUMNS)} from access_log
                    where (?::varchar is null or user_name = ?) and (?::date is null or logged_at >= ?::date)
                    order by logged_at desc, rowid desc limit ?""",
                [user, user, since, since, limit if limit is not None else 2**62]).fetchall()
        finally:
            con.close()
    return [dict(zip(COLUMNS, r)) for r in reversed(rows)]


def _private_wal(path: Path) -> None:
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        os.chmod(wal, 0o600)
