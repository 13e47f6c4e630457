"""The floor process and helpers of benchmarks/run.py (counts and timings only, never CPR numbers).

    python benchmarks/worker.py floor SOURCES THREADS   # DuckDB reading the extracts, nothing else
    python benchmarks/worker.py imports                 # import costs, one fresh process

`floor` is one of the three whole processes run.py times (floor, `targetgroup run`, the pandas
baseline): it imports DuckDB, reads every file the sources file names into an in-memory table
(types detected by DuckDB, the same threads as the run) and prints its row count as JSON.
`flagged_in_warehouse` reads the citizens a committed run flagged, per rule, for the comparison
with the pandas baseline (run.py compares digests; tests/test_benchmark_baseline.py the sets).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def floor(sources: str, threads: str) -> dict:
    """Read every extract into an in-memory DuckDB table; the rows read."""
    import duckdb  # noqa: PLC0415
    import yaml  # noqa: PLC0415

    config = yaml.safe_load(Path(sources).read_text(encoding="utf-8"))
    base = Path(sources).parent
    con = duckdb.connect(":memory:", config={"threads": int(threads)})
    rows = 0
    for i, spec in enumerate([config["persons"], *config["sources"]]):
        path = str(base / spec["path"])
        if spec["format"] == "parquet":
            con.execute(f"create table t{i} as select * from read_parquet(?)", [path])
        else:
            encoding = "latin-1" if spec.get("encoding") == "latin-1" else "utf-8"
            con.execute(f"create table t{i} as select * from read_csv(?, delim = ?, header = true, encoding = ?)",
                        [path, spec.get("delimiter", ","), encoding])
        rows += con.execute(f"select count(*) from t{i}").fetchone()[0]
    return {"rows": rows}


def imports() -> dict:
    """Seconds each import adds, in this order, in one fresh process: the CLI's module tree, the
    pipeline, pandas, Great Expectations, Prefect; and whether the CLI or the pipeline pulled in
    pandas, Great Expectations or Prefect."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    heavy = ("pandas", "great_expectations", "prefect")
    out: dict = {}
    for name in ("targetgroup.cli", "targetgroup.pipeline", *heavy):
        start = time.perf_counter()
        __import__(name)
        out[name] = round(time.perf_counter() - start, 3)
        if name.startswith("targetgroup"):
            out[f"{name} pulls in"] = [h for h in heavy if h in sys.modules]
    return out


def flagged_in_warehouse(warehouse: Path) -> dict[str, set[str]]:
    """The CPR numbers the last committed run of `warehouse` flagged, per rule (wh.targets)."""
    import duckdb  # noqa: PLC0415

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        last = con.execute("select max(run_id) from runs where status = 'committed'").fetchone()[0] \
            if "runs" in tables else None
        if last is None:
            raise RuntimeError(f"{warehouse}: no committed run")
        rows = con.execute("select rule_id, cpr from targets where run_id = ?", [last]).fetchall()
    finally:
        con.close()
    flagged: dict[str, set[str]] = {}
    for rule, cpr in rows:
        flagged.setdefault(rule, set()).add(cpr)
    return flagged


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    print(json.dumps({"floor": floor, "imports": imports}[kind](*args)))
