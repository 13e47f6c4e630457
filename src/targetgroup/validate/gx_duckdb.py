"""Great Expectations over the run's own in-memory DuckDB database: every GX workaround lives here.

GX 1.24's SQL datasource reaches DuckDB through duckdb-engine, with two problems (seen with GX 1.24.1 and DuckDB 2.0):
1. GX closes its connection between a query and reading the result for dialects it does not
   list as needing a persisted connection; every metric then fails with "list index out of
   range" (GX issues 10738, 11579). We add DuckDB to that private list while the gate runs.
2. A connection string opens a *new* database; the run's tables live in an in-memory one.
   A SQLAlchemy `do_connect` hook hands GX a cursor on the run's connection instead (a DuckDB
   cursor is a second connection to the same database), so no row is copied or written out.

`needs_persisted_connection_patch()` tells when upstream has fixed (1); the test in
tests/validate/test_gx_duckdb.py fails at that moment so the patch can be removed.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb


class _DuckDBDialect(str):
    """Compares equal to the dialect name 'duckdb' and has `.value`, like GX's dialect enum."""

    value = "duckdb"


def _engine_module():
    from great_expectations.execution_engine import sqlalchemy_execution_engine  # noqa: PLC0415

    return sqlalchemy_execution_engine


def needs_persisted_connection_patch() -> bool:
    """True while GX does not by itself keep DuckDB connections open."""
    listed = _engine_module()._PERSISTED_CONNECTION_DIALECTS
    return not any(getattr(d, "value", d) == "duckdb" for d in listed)


@contextmanager
def gx_connection_string(con: duckdb.DuckDBPyConnection, *, patch: bool = True) -> Iterator[str]:
    """Yield a connection string under which GX's SQL datasource sees `con`'s database."""
    import duckdb_engine  # noqa: PLC0415
    from sqlalchemy import event  # noqa: PLC0415

    engine_module = _engine_module()
    name = f":memory:targetgroup_gate_{secrets.token_hex(4)}"
    cursors: list[duckdb.DuckDBPyConnection] = []

    def connect(dialect, conn_rec, cargs, cparams):  # noqa: ANN001, ARG001 - SQLAlchemy's signature
        if cparams.get("database") != name:
            return None
        cursors.append(con.cursor())
        return duckdb_engine.ConnectionWrapper(cursors[-1])

    saved = engine_module._PERSISTED_CONNECTION_DIALECTS
    if patch and needs_persisted_connection_patch():
        engine_module._PERSISTED_CONNECTION_DIALECTS = (*saved, _DuckDBDialect("duckdb"))
    event.listen(duckdb_engine.Dialect, "do_connect", connect)
    try:
        yield f"duckdb:///{name}"
    finally:
        event.remove(duckdb_engine.Dialect, "do_connect", connect)
        engine_module._PERSISTED_CONNECTION_DIALECTS = saved
        for cursor in cursors:
            cursor.close()
