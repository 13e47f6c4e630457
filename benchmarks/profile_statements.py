"""Statement-level profile of one pipeline run (a benchmark aid, not part of the test suite).

    python benchmarks/profile_statements.py SOURCES [--out DIR] [--top N] [--threads N] [--memory-limit 2GB]

Wraps the run's DuckDB work connection so that every `execute`/`sql` call is timed (and
Great Expectations' queries, through SQLAlchemy events), then prints
the slowest statements (first line of SQL, the stage it ran in, seconds) and the time per stage.
Prints SQL text and timings only, never data.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent


class TimedConnection:
    """Delegates to a DuckDB connection, timing execute() and sql() (materialised by the caller)."""

    def __init__(self, con, log: list, stage: list) -> None:  # noqa: ANN001
        self._con, self._log, self._stage = con, log, stage

    def _timed(self, method: str, query, *args, **kwargs):  # noqa: ANN001, ANN202
        start = time.perf_counter()
        result = getattr(self._con, method)(query, *args, **kwargs)
        text = " ".join(str(getattr(query, "query", query)).split())  # a parsed Statement or text
        self._log.append((time.perf_counter() - start, self._stage[0], text[:150]))
        return result

    def execute(self, query, *args, **kwargs):  # noqa: ANN001, ANN201
        self._timed("execute", query, *args, **kwargs)
        return self

    def sql(self, query, *args, **kwargs):  # noqa: ANN001, ANN201
        return self._timed("sql", query, *args, **kwargs)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._con, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", type=Path)
    parser.add_argument("--out", type=Path, default=Path("/tmp/targetgroup-profile"))
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default=None)
    args = parser.parse_args()
    import targetgroup.pipeline as pipeline  # noqa: PLC0415

    log: list = []
    stage = ["prepare"]
    real_open = pipeline.open_work
    pipeline.open_work = lambda *a, **k: TimedConnection(real_open(*a, **k), log, stage)

    def progress(name: str, detail: str) -> None:
        if detail == "started":
            stage[0] = name

    from sqlalchemy import event  # noqa: PLC0415 - Great Expectations' queries go through SQLAlchemy
    from sqlalchemy.engine import Engine  # noqa: PLC0415

    def before(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        conn.info["tg_started"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        text = " ".join(str(statement).split())
        log.append((time.perf_counter() - conn.info.pop("tg_started"), stage[0] + " (GX)", text[:150]))

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    shutil.rmtree(args.out, ignore_errors=True)
    settings = pipeline.RunSettings(sources=args.sources, rules=HERE / "rules.yaml", as_of=date(2026, 11, 1),
                                    out=args.out, threads=args.threads, memory_limit=args.memory_limit)
    start = time.perf_counter()
    run = pipeline.run_pipeline(settings, progress)
    total = time.perf_counter() - start
    per_stage: dict[str, float] = defaultdict(float)
    for seconds, name, _ in log:
        per_stage[name] += seconds
    print(f"total {total:.2f} s; stage wall times {run.timings}")
    print("SQL seconds per stage: " + ", ".join(f"{k} {v:.2f}" for k, v in per_stage.items()))
    for seconds, name, text in sorted(log, reverse=True)[: args.top]:
        print(f"{seconds:7.2f}  {name:9}  {text}")
    os._exit(0)   # skip DuckDB/GX teardown noise


if __name__ == "__main__":
    main()
