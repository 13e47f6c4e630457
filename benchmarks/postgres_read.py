"""Benchmark: one million case rows read from PostgreSQL against the same rows from CSV.

    python benchmarks/postgres_read.py [--rows 1000000] [--repeat 3]

Starts a throwaway PostgreSQL cluster (Debian's postgresql binaries, as the tests do:
tests/pg_cluster.py), fills a table with synthetic case rows (fake CPR numbers, native date
columns) behind a view, and has the server write the same rows as a CSV file. Then, each in a
fresh process so that the peak memory is that read's own, it reads them into a DuckDB work
connection the way a run does: `extract_postgres.read_source` (ADBC, Arrow batches) and
`extract.read_extract` (DuckDB's CSV reader). Prints the median wall time (imports excluded)
and the median peak RSS of each (both processes import the same modules first), one line per source kind, then the line for RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = {"cpr": "cpr", "case_id": "sagsnr", "status": "status", "start_date": "startdato",
           "end_date": "slutdato", "caseworker": "sagsbehandler", "team": "team"}

FILL_SQL = """
create table sager as
select
    lpad(((g::bigint * 7919) % 311299 + 10100)::text, 6, '0') || lpad((g % 10000)::text, 4, '0') as cpr,
    'SAG-' || g as sagsnr,
    (array['AKT', 'PAS', 'AFS'])[1 + g % 3] as status,
    date '2015-01-01' + (g % 4000) as startdato,
    case when g % 4 = 0 then date '2020-01-01' + (g % 3000) end as slutdato,
    'Sagsbehandler ' || (g % 500) as sagsbehandler,
    'Team ' || (g % 40) as team
from generate_series(1, {rows}) as g;
create view v_sager as select * from sager;
create role bench login password 'bench-fiktiv';
grant select on v_sager to bench;
copy sager to '{csv}' with (format csv, header true, delimiter ';');
"""


def child(kind: str, target: str) -> None:
    """Read the rows once into a fresh work connection; print seconds, rows and peak RSS as JSON."""
    sys.path.insert(0, str(ROOT / "src"))
    from targetgroup.config import Connection, Extract  # noqa: PLC0415
    from targetgroup.warehouse import open_work  # noqa: PLC0415

    con = open_work()
    import adbc_driver_postgresql.dbapi  # noqa: F401, PLC0415 - both kinds import the same before the clock
    import pyarrow  # noqa: F401, PLC0415

    from targetgroup import extract_postgres  # noqa: PLC0415
    from targetgroup.extract import read_extract  # noqa: PLC0415
    before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    if kind == "postgresql":
        os.environ["TG_BENCH_DB"] = target
        extract = Extract(name="sager", format="postgresql", connection=Connection(env="TG_BENCH_DB"),
                          table="v_sager", columns=COLUMNS)
        extract_postgres.read_source(con, extract, ROOT, "raw_sager")
    else:
        extract = Extract(name="sager", format="csv", path=target, delimiter=";", columns=COLUMNS)
        read_extract(con, extract, [Path(target)], "raw_sager")
    rows, = con.execute("select count(*) from raw_sager").fetchone()
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "rows": rows,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "imports_mb": before_mb}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "TARGET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    sys.path.insert(0, str(ROOT))
    from tests import pg_cluster  # noqa: PLC0415

    cluster = pg_cluster.start()
    try:
        csv = cluster.folder / "sager.csv"
        started = time.perf_counter()
        cluster.admin(FILL_SQL.format(rows=int(args.rows), csv=csv))
        print(f"filled {args.rows:,} rows in {time.perf_counter() - started:.1f} s; CSV {csv.stat().st_size / 1e6:.0f} MB")
        uri = cluster.uri("bench", "bench-fiktiv")
        results: dict[str, list[dict]] = {"postgresql": [], "csv": []}
        for _ in range(args.repeat):
            for kind, target in (("postgresql", uri), ("csv", str(csv))):
                done = subprocess.run([sys.executable, __file__, "--child", kind, target],
                                      check=True, capture_output=True, text=True)
                results[kind].append(json.loads(done.stdout.strip().splitlines()[-1]))
        line = []
        for kind, runs in results.items():
            assert all(r["rows"] == args.rows for r in runs), runs
            secs = statistics.median(r["seconds"] for r in runs)
            peak = statistics.median(r["peak_mb"] for r in runs)
            base = statistics.median(r["imports_mb"] for r in runs)
            print(f"{kind:>10}: median {secs:.2f} s, peak RSS {peak:.0f} MB ({base:.0f} MB after imports) "
                  f"over {args.repeat} runs "
                  f"({', '.join(format(r['seconds'], '.2f') for r in runs)} s)")
            line.append(f"{kind} {secs:.2f} s / {peak:.0f} MB")
        print(f"{args.rows:,} case rows into DuckDB (median of {args.repeat}, fresh process each): " + "; ".join(line))
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
