"""Extract from PostgreSQL: a `format: postgresql` source's table or query into `raw_<name>`.

    read_source(con, extract, base, table) -> FileRead   (the manifest's entry; no secret in it)

The libpq URI comes from an environment variable or an owner-only file (`connection:`), never
from the sources file. The query runs in a read-only transaction with the source's statement
timeout (a bound parameter), through the ADBC PostgreSQL driver, which streams the result as
Arrow record batches (binary COPY underneath); DuckDB reads that stream into
`raw_<name>__read` batch by batch, so memory stays bounded whatever the number of rows.

Grain of `raw_<name>`: one row per row of the query's result, in the order PostgreSQL sent it,
with the result's own column names plus `_file` (the database's location, without user or
password) and `_line` (the row's number in the result, from 1). Text, integer and numeric
columns become text, as a CSV cell would be (a whole number without '.0', so a numeric CPR keeps
its digits and staging repairs a lost leading zero as for Excel); date and timestamp columns stay
dates: staging takes them as they are and never parses them with `date_format`, which applies
to text columns only. A timestamp with time zone becomes the local (Copenhagen) date and time.

Errors are `InputError`s naming the source and the database's location, worded here from the
SQLSTATE the server sent: the driver's own text is never passed on, because it can quote the
URI (with its password) or a cell (a CPR number). Nothing stored changes: a failed read drops
what it had read, and the run stops before its commit.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import duckdb

from targetgroup.config import Extract
from targetgroup.errors import ConfigError, InputError
from targetgroup.extract import FileRead, check_header, drop_raw
from targetgroup.warehouse import sql_identifier, sql_literal

CONNECT_TIMEOUT_SECONDS = 15
LOCAL_TIME_ZONE = "Europe/Copenhagen"
# Arrow types that stay dates in the raw table; everything else becomes text
_DATE_TYPES = ("DATE", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS")


@dataclass(frozen=True)
class Target:
    """Where a source's database is: what the manifest and messages may say (no user, no password)."""

    host: str
    port: int
    database: str

    @property
    def location(self) -> str:
        """`postgresql://host:port/database`, the source's `_file` and its place in messages."""
        return f"postgresql://{self.host}:{self.port}/{self.database}"


def query_text(extract: Extract) -> str:
    """The query a source runs: its `query:` as written, or `select * from` its quoted `table:`.

    `query:` is the one configuration value that is SQL text by design (docs/security.md); it
    runs inside a read-only transaction. Each part of `table:` goes through `sql_identifier`
    (PostgreSQL quotes identifiers as DuckDB does).
    """
    if extract.query is not None:
        return extract.query.strip().rstrip(";")
    return "select * from " + ".".join(sql_identifier(part.strip()) for part in extract.table_parts)


def connection_uri(extract: Extract, base: Path) -> str:
    """The libpq URI of `extract`'s database, from its environment variable or owner-only file.

    Raises ConfigError (naming the variable or file, never the URI) when it is missing, empty,
    not a postgresql:// URI, or kept in a file that others can read.
    """
    conn = extract.connection
    assert conn is not None  # checked when the sources file was loaded
    if conn.env is not None:
        uri = os.environ.get(conn.env, "").strip()
        where = f"environment variable {conn.env}"
        if not uri:
            raise ConfigError(f"the {where} is not set (source {extract.name})",
                              hint=f"set {conn.env} to the database's URI, e.g. postgresql://user@host:5432/db")
    else:
        path = base / conn.file
        where = f"connection file {path}"
        try:
            mode = path.stat().st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise ConfigError(f"the {where} can be read by others (source {extract.name})",
                                  hint=f"it holds a password: chmod 600 {path}")
            uri = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            raise ConfigError(f"the {where} cannot be read (source {extract.name})",
                              hint="check the path under connection: file:, relative to the sources file") from None
    if not uri.startswith(("postgresql://", "postgres://")) or "\n" in uri:
        raise ConfigError(f"the {where} does not hold a postgresql:// URI (source {extract.name})",
                          hint="write one line: postgresql://user:password@host:5432/database")
    return uri


def target_of(uri: str) -> Target:
    """Host, port and database of a postgresql:// URI (libpq's defaults where it leaves them out)."""
    parts = urlsplit(uri)
    params = dict(parse_qsl(parts.query))
    host = params.get("host") or parts.hostname or "localhost"
    try:
        port = int(params.get("port") or parts.port or 5432)
    except ValueError:
        port = 5432
    database = params.get("dbname") or unquote(parts.path.lstrip("/")) or unquote(parts.username or "") or "postgres"
    return Target(host, port, database)


def _with_connect_timeout(uri: str) -> str:
    """The URI with libpq's connect_timeout set unless it sets one: an unreachable host fails fast."""
    parts = urlsplit(uri)
    params = parse_qsl(parts.query)
    if any(key == "connect_timeout" for key, _ in params):
        return uri
    params.append(("connect_timeout", str(CONNECT_TIMEOUT_SECONDS)))
    return urlunsplit(parts._replace(query=urlencode(params)))


def read_source(con: duckdb.DuckDBPyConnection, extract: Extract, base: Path, table: str) -> FileRead:
    """Create `table` (a view over `table`__read) with every row `extract`'s query returns.

    Returns what the manifest records: the database's host, port and name, the query's sha256
    and the rows read. Raises InputError (source and location named, no driver text) when the
    server cannot be reached or refuses the login, the table, a column or the query fails, or the
    statement timeout ends it; `table` then does not exist.
    """
    uri = connection_uri(extract, base)
    target = target_of(uri)
    query = query_text(extract)
    drop_raw(con, table)
    try:
        _stream_into(con, extract, _with_connect_timeout(uri), query, f"{table}__read")
        columns = [r[0] for r in con.execute(f"describe {table}__read").fetchall()]
        check_header(columns, target.location, extract.name)   # type: ignore[arg-type] - a location, not a file
        _check_mapped_columns(extract, target, columns)
        # a view takes no parameters: the location (host, port, database) goes in through sql_literal
        con.execute(f"create view {table} as select *, {sql_literal(target.location)} as _file, "
                    f"(rowid + 1)::bigint as _line from {table}__read")
    except BaseException:
        drop_raw(con, table)
        raise
    rows, = con.execute(f"select count(*) from {table}__read").fetchone()
    return FileRead(extract.name, target.location, hashlib.sha256(query.encode("utf-8")).hexdigest(), 0,
                    int(rows), database={"format": "postgresql", "host": target.host, "port": target.port,
                                         "database": target.database,
                                         "query_sha256": hashlib.sha256(query.encode("utf-8")).hexdigest(),
                                         "statement_timeout_seconds": extract.statement_timeout_seconds})


def _stream_into(con: duckdb.DuckDBPyConnection, extract: Extract, uri: str, query: str, into: str) -> None:
    """Run `query` read-only with the statement timeout and stream its batches into table `into`."""
    import adbc_driver_postgresql.dbapi as pg  # noqa: PLC0415 - only a run with a database source needs the driver
    import pyarrow as pa  # noqa: PLC0415

    target = target_of(uri)
    failures: list[BaseException] = []
    try:
        db = pg.connect(uri, autocommit=True)
    except Exception as exc:  # noqa: BLE001 - the driver's errors; worded from their kind below
        raise _input_error(exc, extract, target, connecting=True) from None
    started = time.monotonic()
    try:
        with db.cursor() as cur:
            cur.execute("begin transaction isolation level repeatable read, read only")
            cur.execute("select set_config('statement_timeout', $1, true)",
                        parameters=(f"{extract.statement_timeout_seconds * 1000}",))
            cur.fetchall()
            cur.execute(query)
            reader = cur.fetch_record_batch()

            def batches():
                try:
                    yield from reader
                except BaseException as exc:   # DuckDB stops on it; it is worded below
                    failures.append(exc)
                    raise

            con.register("_tg_pg_stream", pa.RecordBatchReader.from_batches(reader.schema, batches()))
            try:
                select = _select_list(con)
                con.execute(f"create or replace table {into} as select {select} from _tg_pg_stream")
            finally:
                con.unregister("_tg_pg_stream")
            cur.execute("rollback")
    except Exception as exc:  # noqa: BLE001 - driver and DuckDB errors quote cells: never passed on
        cause = failures[0] if failures else exc
        timed_out = time.monotonic() - started >= extract.statement_timeout_seconds
        raise _input_error(cause, extract, target, midway=bool(failures), timed_out=timed_out) from None
    finally:
        try:
            db.close()
        except Exception:  # noqa: BLE001, S110 - closing a broken connection; the first error is the one to tell
            pass


def _select_list(con: duckdb.DuckDBPyConnection) -> str:
    """Casts for the streamed result: dates stay dates, timestamps with a time zone become local
    time, everything else text (integers and whole numerics without '.0')."""
    described = con.execute("describe select * from _tg_pg_stream").fetchall()
    out = []
    for name, kind, *_ in described:
        col = sql_identifier(name)
        if kind in _DATE_TYPES:
            out.append(col)
        elif kind.startswith("TIMESTAMP WITH TIME ZONE"):
            out.append(f"timezone('{LOCAL_TIME_ZONE}', {col}) as {col}")
        elif kind in ("FLOAT", "DOUBLE"):
            # a float CPR column: 101901234.0 -> '101901234' (staging puts the zero back)
            out.append(f"case when {col} = round({col}) and abs({col}) < 1e15 "
                       f"then ({col})::hugeint::varchar else {col}::varchar end as {col}")
        else:
            out.append(f"{col}::varchar as {col}")
    return ", ".join(out)


def _check_mapped_columns(extract: Extract, target: Target, columns: list[str]) -> None:
    missing = [f"{field} -> '{col}'" for field, col in extract.columns.items() if col not in columns]
    if missing:
        from targetgroup import privacy  # noqa: PLC0415

        raise InputError(f"mapped column(s) missing: {'; '.join(missing)}", file=target.location,
                         source=extract.name,
                         hint=f"the query returns the columns: {privacy.describe_names(sorted(columns))}")


# SQLSTATE (or its class, the first two characters) -> what to tell the operator
_PROBLEMS = {
    "28P01": ("the database refused the login (wrong user or password)",
              "check the URI in the connection's variable or file"),
    "28000": ("the database refused the login (no access for this user from this host)",
              "ask the database's administrator for a login for this host (pg_hba.conf)"),
    "3D000": ("the database does not exist", "check the database name in the URI"),
    "42P01": ("the table or view does not exist, or this login cannot see it",
              "check table:/query: in the sources file, and that the login has USAGE on its schema"),
    "3F000": ("the schema does not exist, or this login cannot see it", "check the schema name"),
    "42703": ("the query names a column that does not exist", "check the column names in query:"),
    "42501": ("this login has no permission to read the table or view",
              "GRANT SELECT on the view to the read-only login (docs/postgresql.md)"),
    "57014": ("the query ran longer than the statement timeout and was cancelled",
              "raise statement_timeout_seconds for this source, or ask for a faster view"),
    "25006": ("the query tried to change the database; a source only reads",
              "a source's query must be a plain select"),
    "42601": ("the query is not valid SQL", "check query: in the sources file"),
    "22012": ("the query failed while its rows were read (division by zero)",
              "the view fails on some rows; ask the case system's administrator to fix it"),
    "22": ("the query failed while its rows were read (a value cannot be converted)",
           "the view fails on some rows (e.g. a cast); ask the case system's administrator to fix it"),
    "22P02": ("the query failed while its rows were read (a value cannot be converted)",
              "the view fails on some rows (e.g. a cast); ask the case system's administrator to fix it"),
    "08": ("the database server cannot be reached", "check host and port, and that the server runs"),
    "53": ("the database server is out of resources", "run again later, or ask the database's administrator"),
    "57": ("the database server stopped the query", "run again; ask the database's administrator if it repeats"),
}


# Driver errors without a SQLSTATE (a failed connection, a failure while the rows stream): the
# state is recognised from PostgreSQL's English message, which is looked at and never repeated.
_TEXT_STATES = (
    ("statement timeout", "57014"),
    ("division by zero", "22012"),
    ("invalid input syntax", "22P02"),
    ("out of range", "22003"),
    ("password authentication failed", "28P01"),
    ("no pg_hba.conf entry", "28000"),
    ("does not exist", "3D000"),   # at connection time only the database can be missing
)


def _input_error(exc: BaseException, extract: Extract, target: Target, *, connecting: bool = False,
                 midway: bool = False, timed_out: bool = False) -> InputError:
    """An InputError worded from the driver error's SQLSTATE; the driver's text is never passed on."""
    sqlstate = (getattr(exc, "sqlstate", None) or "").upper()
    if not sqlstate:
        text = str(exc).lower()
        sqlstate = next((state for needle, state in _TEXT_STATES if needle in text
                         and (connecting or not state.startswith(("28", "3D")))), "")
    if not sqlstate:
        sqlstate = "08" if connecting else "57014" if timed_out else ""
    problem = _PROBLEMS.get(sqlstate) or _PROBLEMS.get(sqlstate[:2])
    if problem is None and midway:
        problem = ("the query failed while its rows were read",
                   "the view fails on some rows, or the connection broke off; run again, and if it "
                   "repeats ask the case system's administrator")
    elif problem is None:
        kind = "connecting to" if connecting else "reading from"
        problem = (f"{kind} the database failed", "check the query and the login in the database; "
                                                   "nothing was stored")
    message, hint = problem
    if len(sqlstate) == 5:
        message += f" [SQLSTATE {sqlstate}]"
    return InputError(message, file=target.location, source=extract.name, hint=hint)
