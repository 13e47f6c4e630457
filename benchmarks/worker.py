"""One measurement in a fresh process, started by benchmarks/run.py; prints one JSON line.

    python benchmarks/worker.py imports
    python benchmarks/worker.py pipeline SOURCES OUT_DIR THREADS [MEMORY_LIMIT]
    python benchmarks/worker.py cold SOURCES OUT_DIR THREADS [MEMORY_LIMIT]
    python benchmarks/worker.py floor SOURCES THREADS
    python benchmarks/worker.py pandas SOURCES

Peak memory: ru_maxrss of the process for the whole run, and, per stage, the largest VmRSS a
sampling thread saw (every 10 ms) while that stage was running (stages are told apart by the
progress calls Run.timed makes when a stage starts). Counts only, never CPR numbers.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
AS_OF = "2026-11-01"


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Sampler(threading.Thread):
    """Largest VmRSS seen per label; `label` is switched by the caller."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.label = "start"
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()

    def mark(self, label: str) -> None:
        self._sample()
        self.label = label
        self._sample()

    def _sample(self) -> None:
        now = rss_mb()
        self.peaks[self.label] = max(self.peaks.get(self.label, 0.0), now)

    def run(self) -> None:
        while not self._stop.wait(0.01):
            self._sample()

    def stop(self) -> None:
        self._sample()
        self._stop.set()


def _import_all() -> tuple[float, float]:
    """Import what a run needs: the pipeline, then Great Expectations (a run imports it lazily,
    overlapping with reading; here it is timed on its own). Returns both durations."""
    start = time.perf_counter()
    import targetgroup.pipeline  # noqa: F401, PLC0415
    mid = time.perf_counter()
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations  # noqa: F401, PLC0415
    return mid - start, time.perf_counter() - mid


def imports() -> dict:
    tg_s, gx_s = _import_all()
    return {"imports_s": round(tg_s + gx_s, 3), "targetgroup_s": round(tg_s, 3),
            "great_expectations_s": round(gx_s, 3), "peak_mb": round(max_rss_mb())}


def pipeline(sources: str, out: str, threads: str, memory_limit: str | None = None, cold: bool = False) -> dict:
    """One run; imports (Great Expectations included) first, so the run's time excludes them.
    `cold`: as a command-line run does it (Great Expectations imported by the run, in the background)."""
    sampler = Sampler()
    sampler.start()
    sampler.mark("imports")
    from datetime import date  # noqa: PLC0415

    if cold:
        t0 = time.perf_counter()
        import targetgroup.pipeline  # noqa: F401, PLC0415 - Great Expectations as a run imports it
        imports_s = time.perf_counter() - t0
    else:
        imports_s = sum(_import_all())
    from targetgroup.pipeline import RunSettings, run_pipeline  # noqa: PLC0415
    sampler.mark("prepare")

    def progress(stage: str, detail: str) -> None:
        if detail == "started":
            sampler.mark(stage)

    settings = RunSettings(sources=Path(sources), rules=HERE / "rules.yaml", as_of=date.fromisoformat(AS_OF),
                           out=Path(out), threads=int(threads), memory_limit=memory_limit or None)
    t1 = time.perf_counter()
    run = run_pipeline(settings, progress)
    total_s = time.perf_counter() - t1
    sampler.stop()
    stage_peaks: dict[str, float] = {}
    sub_peaks: dict[str, float] = {}
    for label, mb in sampler.peaks.items():
        stage_name = label.split(":")[0]
        stage_peaks[stage_name] = max(stage_peaks.get(stage_name, 0.0), mb)
        if ":" in label:
            sub_peaks[label] = round(mb)
    counts = run.summary["identify"]
    return {"imports_s": round(imports_s, 3), "pipeline_s": round(total_s, 3), "timings": run.timings,
            "stage_peak_mb": {k: round(v) for k, v in stage_peaks.items()}, "substage_peak_mb": sub_peaks,
            "peak_mb": round(max_rss_mb()), "citizens_flagged": counts["citizens_flagged"],
            "targets": counts["targets"], "active_cases": counts["active_cases"],
            "cases": run.summary["stage"].cases, "persons": run.summary["stage"].persons}


def cold(sources: str, out: str, threads: str, memory_limit: str | None = None) -> dict:
    """A run as `targetgroup run` does it: only the pipeline imported beforehand."""
    return pipeline(sources, out, threads, memory_limit, cold=True)


def floor(sources: str, threads: str) -> dict:
    """DuckDB only reading the same files into in-memory tables (types detected by DuckDB)."""
    import duckdb  # noqa: PLC0415
    import yaml  # noqa: PLC0415

    config = yaml.safe_load(Path(sources).read_text(encoding="utf-8"))
    base = Path(sources).parent
    con = duckdb.connect(":memory:", config={"threads": int(threads)})
    start = time.perf_counter()
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
    return {"floor_s": round(time.perf_counter() - start, 3), "rows": rows, "peak_mb": round(max_rss_mb())}


def pandas(sources: str) -> dict:
    import subprocess  # noqa: PLC0415

    start = time.perf_counter()
    out = subprocess.run([sys.executable, str(HERE / "pandas_baseline.py"), sources, "--as-of", AS_OF],
                         check=True, capture_output=True, text=True).stdout
    elapsed = time.perf_counter() - start
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"pandas_s": round(elapsed, 3), "peak_mb": round(child), **json.loads(out.strip().splitlines()[-1])}


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    print(json.dumps({"imports": imports, "pipeline": pipeline, "cold": cold, "floor": floor,
                      "pandas": pandas}[kind](*args)))
