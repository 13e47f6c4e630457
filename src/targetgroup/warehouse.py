"""The warehouse: the local DuckDB file that keeps state between runs, and the run's work connection.

A run does all its work in an in-memory DuckDB connection. The warehouse file is only read at
the start (what the last runs left) and written once at the end, inside one transaction, so a
run that fails at any stage leaves the warehouse exactly as it was. A lock file next to the
warehouse keeps two runs from working on it at once.

Persistent tables (grain):
- `runs`: one row per committed run (the run ledger).
- `cases`, `persons`: views over the last committed run's canonical extracts, Parquet files
  beside the warehouse written only when their content changed (targetgroup.snapshots; left
  out with `--no-store-extracts`: no later run reads them).
- `targets`: one row per citizen per rule per committed run.
- `rejects`: one row per rejected input row per committed run (masked CPR only).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb

from targetgroup.errors import RunError

DEFAULT_WAREHOUSE = Path("reports") / "warehouse.duckdb"
ALIAS = "wh"

LEDGER_DDL = f"""
create table if not exists {ALIAS}.runs (
    run_id varchar primary key,
    as_of date not null,
    started_at timestamp not null,
    finished_at timestamp not null,
    status varchar not null,
    rules_name varchar,
    rules_hash varchar,
    sources_file varchar,
    report_dir varchar,
    targets integer,
    citizens_flagged integer,
    flags_new integer,
    flags_continuing integer,
    flags_ended integer,
    counts json
)
"""


def sql_text(name: str) -> str:
    """The text of `sql/<name>` shipped with the package."""
    return resources.files("targetgroup").joinpath("sql", name).read_text(encoding="utf-8")


def run_sql(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> None:
    """Run every statement of `sql/<name>`, binding the named parameters each one uses."""
    run_script(con, sql_text(name), params)


def run_script(con: duckdb.DuckDBPyConnection, text: str, params: dict | None = None) -> None:
    """Run every statement of `text`, binding the `$name` parameters each one uses.

    DuckDB's own parser splits the script (duckdb.extract_statements), so a ';' or '--' inside a
    string literal or a comment is never taken for the end of a statement. A parameter a
    statement uses but `params` lacks is DuckDB's error, not a silent NULL.
    """
    params = params or {}
    for statement in duckdb.extract_statements(text):
        used = {k: params[k] for k in statement.named_parameters if k in params}
        con.execute(statement, used or None)


THREADS_ENV = "TARGETGROUP_THREADS"
MEMORY_LIMIT_ENV = "TARGETGROUP_MEMORY_LIMIT"
# Enough for 6 million citizens at full speed (benchmarks/RESULTS.md): the process then peaks under 2 GB.
DEFAULT_MEMORY_LIMIT = "1GB"


def open_work(threads: int | None = None, memory_limit: str | None = None,
              spill_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with the shared macros loaded.

    DuckDB's threads and memory limit come from the run's settings (--threads, --memory-limit),
    else from the environment (TARGETGROUP_THREADS, TARGETGROUP_MEMORY_LIMIT, e.g. "2GB"), else
    all cores and DEFAULT_MEMORY_LIMIT. Past the limit DuckDB spills to `spill_dir`, which holds
    case data: it must be private (mode 700; pipeline.prepare makes one per run); without one DuckDB may
    not spill and stops with an out-of-memory error instead.
    """
    threads = threads or _env_threads()
    memory_limit = memory_limit or os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT
    config = {"memory_limit": memory_limit}
    if threads:
        config["threads"] = threads
    # never DuckDB's default '.tmp' in the current folder: spilled blocks hold CPR numbers
    config["temp_directory"] = str(spill_dir) if spill_dir else ""
    try:
        con = duckdb.connect(":memory:", config=config)
    except duckdb.Error:
        raise RunError(f"DuckDB refused the memory limit {memory_limit!r}",
                       hint=f"use a size such as 2GB (--memory-limit or {MEMORY_LIMIT_ENV})") from None
    run_sql(con, "macros.sql")
    return con


def _env_threads() -> int | None:
    value = os.environ.get(THREADS_ENV, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise RunError(f"{THREADS_ENV}={value!r} is not a number of threads", hint="set it to a whole number >= 1")
    return int(value)


@contextmanager
def run_lock(warehouse: Path, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the warehouse's lock file for a run; wait up to `wait_seconds`, then refuse clearly."""
    warehouse.parent.mkdir(mode=0o700, parents=True, exist_ok=True)   # new folders owner-only
    lock_path = warehouse.with_name(warehouse.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
                    raise RunError(f"another run is using the warehouse {warehouse} ({holder})",
                                   hint="wait for it to finish, or pass --wait SECONDS to queue behind it") from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}".encode(), 0)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextmanager
def attached(con: duckdb.DuckDBPyConnection, warehouse: Path, *, read_only: bool) -> Iterator[bool]:
    """Attach the warehouse as `wh`; yields False (and attaches nothing) if it does not exist yet."""
    if read_only and not warehouse.exists():
        yield False
        return
    mode = " (read_only)" if read_only else ""
    con.execute(f"attach {sql_literal(warehouse)} as {ALIAS}{mode}")
    try:
        yield True
    finally:
        con.execute(f"detach {ALIAS}")


def sql_literal(value: object) -> str:
    """A SQL string literal for text that cannot be a bound parameter (ATTACH's path, a COPY target).

    This and `sql_identifier` are the only places SQL text is made from a value; every other
    value is a bound parameter. Quotes are doubled; a backslash is an ordinary character in
    DuckDB's standard strings (they are never E'' strings); NUL is refused: no path or code
    holds one, and SQL text with a NUL in it is read differently by different tools.
    """
    text = str(value)
    if "\x00" in text:
        raise ValueError("a NUL character cannot be part of a SQL literal")
    return "'" + text.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """A quoted SQL identifier (a column name taken from an extract or the sources file).

    Double quotes are doubled, so the name can never end the identifier; NUL is refused as in
    `sql_literal`.
    """
    if "\x00" in name:
        raise ValueError("a NUL character cannot be part of a SQL identifier")
    return '"' + name.replace('"', '""') + '"'


def commit(con: duckdb.DuckDBPyConnection, warehouse: Path,
           steps: list[Callable[[duckdb.DuckDBPyConnection], None]], *, run_id: str | None = None,
           sending: Callable[[], None] | None = None) -> BaseException | None:
    """Run `steps` against the attached warehouse in one transaction: all of them, or none.

    `sending` is called just before the commit is sent (the run stops taking interrupts there).
    An interrupt or error that lands in the commit itself leaves its outcome open (the commit may
    have gone through: the rollback then fails with "no transaction"); with `run_id` the ledger
    decides: if `runs` holds the run, the commit went through and the exception is returned
    instead of raised. Returns None otherwise.
    """
    warehouse.parent.mkdir(mode=0o700, parents=True, exist_ok=True)   # new folders owner-only
    fresh = not warehouse.exists()
    con.execute(f"attach {sql_literal(warehouse)} as {ALIAS}")
    try:
        if fresh:
            os.chmod(warehouse, 0o600)
        con.execute("begin transaction")
        try:
            con.execute(LEDGER_DDL)
            for step in steps:
                step(con)
        except BaseException:
            con.execute("rollback")
            raise
        if sending is not None:
            sending()
        try:
            _send_commit(con)
        except BaseException as exc:
            _quietly(con, "rollback")   # fails with "no transaction" when the commit went through
            _quietly(con, f"detach {ALIAS}")
            try:
                landed = run_id is not None and ledger_has(warehouse, run_id)
            except duckdb.Error:
                landed, fresh = False, False   # cannot tell: keep the file, the caller asks again
            if landed:
                return exc
            raise
        return None
    except BaseException:
        _quietly(con, f"detach {ALIAS}")
        if fresh:
            # leave no half-made warehouse behind: before this run there was none
            for leftover in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
                leftover.unlink(missing_ok=True)
        raise
    finally:
        _quietly(con, f"detach {ALIAS}")


def _send_commit(con: duckdb.DuckDBPyConnection) -> None:
    # one function, so that tests can land an interrupt in it
    con.execute("commit")


def _quietly(con: duckdb.DuckDBPyConnection, statement: str) -> None:
    try:
        con.execute(statement)
    except duckdb.Error:
        pass


def has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the attached warehouse (`wh`) holds `table` (a new warehouse has none yet)."""
    return bool(con.execute("select count(*) from duckdb_tables() where database_name = ? and table_name = ?",
                            [ALIAS, table]).fetchone()[0])


def copy_stored(con: duckdb.DuckDBPyConnection, warehouse: Path | None, table: str, into: str) -> None:
    """Insert the rows of the warehouse's `table` into the work table `into` (by column name),
    when the warehouse and the table exist: the stored records an import compares file rows with."""
    if warehouse is None:
        return
    with attached(con, warehouse, read_only=True) as exists:
        if exists and has_table(con, table):
            con.execute(f"insert into {sql_identifier(into)} by name select * from {ALIAS}.{sql_identifier(table)}")


def ledger_has(warehouse: Path, run_id: str) -> bool:
    """Whether the run ledger (`runs`) of `warehouse` holds `run_id`: the one truth about
    whether a run was stored. Opens the file on its own connection, read only."""
    if not warehouse.exists():
        return False
    con = duckdb.connect(":memory:")
    try:
        with attached(con, warehouse, read_only=True):
            return has_table(con, "runs") and con.execute(
                f"select count(*) from {ALIAS}.runs where run_id = ?", [run_id]).fetchone()[0] > 0
    finally:
        con.close()
