"""The fleet benchmark (issue 18): Denmark's 98 municipalities, sequentially and on 1 and 2 Dask workers.

    python benchmarks/fleet.py [--scale 0.02] [--modes 2,0,1] [--cache DIR] [--results benchmarks/RESULTS.md]

Generates the synthetic fleet once (`targetgroup sample --fleet`, cached in --cache, default
~/.cache/targetgroup-bench/fleet-<scale>), then, each time with every municipality's out folder
emptied first, runs `targetgroup fleet --as-of 2026-11-01`:
- on a local Dask cluster of N worker processes (`--workers N`, modes 1 and 2);
- sequentially in one process (`--workers 0`, mode 0);
in the order --modes gives, writing the results after each mode (a long benchmark that is stopped
keeps what it measured).
Each mode: total wall time (the command, cluster start included), the slowest municipality,
peak memory per worker process (ru_maxrss of the process that ran the tasks, reported by each
task in fleet_summary.json). From the sequential per-municipality times it estimates the wall
time with W workers (longest-processing-time-first schedule, and the lower bound
max(longest, total / W)); without a sequential mode, from the first mode's task times. Writes a "Fleet" section into --results (replacing an earlier one).
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETGROUP = Path(sys.executable).parent / "targetgroup"
AS_OF = "2026-11-01"
BEGIN, END = "<!-- fleet benchmark: begin -->", "<!-- fleet benchmark: end -->"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--modes", default="2,0,1", help="worker counts in order; 0 = sequential in one process")
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get(
        "TARGETGROUP_BENCH_CACHE", Path.home() / ".cache" / "targetgroup-bench")))
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    args = parser.parse_args()

    folder = args.cache / f"fleet-{args.scale}"
    fleet_file = folder / "fleet.yaml"
    if not fleet_file.exists():
        started = time.perf_counter()
        subprocess.run([str(TARGETGROUP), "sample", "--fleet", str(folder), "--scale", str(args.scale)], check=True)
        print(f"generated the fleet in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    modes = [("sequential, one process", 0) if int(n) == 0 else (f"local cluster, {n} worker(s)", int(n))
             for n in args.modes.split(",")]
    results = {"machine": machine(), "scale": args.scale, "citizens": citizens(folder),
               "date": datetime.now().isoformat(timespec="minutes"), "modes": []}
    for label, workers in modes:
        for out in folder.glob("*/out"):
            shutil.rmtree(out)
        print(f"{label} ...", file=sys.stderr)
        started = time.perf_counter()
        proc = subprocess.run([str(TARGETGROUP), "fleet", "--fleet", str(fleet_file), "--as-of", AS_OF,
                               "--workers", str(workers)], capture_output=True, text=True)
        wall = time.perf_counter() - started
        summary = json.loads((folder / "fleet_summary.json").read_text())
        rows = summary["municipalities"]
        peaks: dict[str, int] = {}
        for r in rows:
            peaks[r["worker"]] = max(peaks.get(r["worker"], 0), r["peak_mb"] or 0)
        slowest = max(rows, key=lambda r: r["seconds"])
        results["modes"].append({"label": label, "workers": workers, "wall": round(wall, 1), "exit": proc.returncode,
                                 "committed": summary["committed"], "failed": summary["failed"],
                                 "slowest": [slowest["municipality"], slowest["seconds"]],
                                 "sum_task_seconds": round(sum(r["seconds"] for r in rows), 1),
                                 "peak_mb_per_worker": sorted(peaks.values(), reverse=True),
                                 "seconds": {r["municipality"]: r["seconds"] for r in rows}})
        print(f"  {wall:.0f} s, {summary['committed']} committed, {summary['failed']} failed", file=sys.stderr)
        base = next((m for m in results["modes"] if m["workers"] == 0), results["modes"][0])
        results["estimate_from"] = base["label"]
        results["estimate"] = {w: estimate(list(base["seconds"].values()), w) for w in (1, 2, 4, 8, 16, 32, 98)}
        results["machine"] = machine()
        (args.results.parent / "RESULTS_fleet.json").write_text(json.dumps(results, indent=2) + "\n")
        write_section(args.results, render(results))


def estimate(times: list[float], workers: int) -> dict[str, float]:
    """Longest-processing-time-first makespan on `workers` workers, and the lower bound."""
    loads = [0.0] * workers
    for t in sorted(times, reverse=True):
        heapq.heapreplace(loads, loads[0] + t)
    return {"lpt": round(max(loads), 1), "bound": round(max(max(times), sum(times) / workers), 1)}


def citizens(folder: Path) -> int:
    """Citizens in the generated fleet (rows of every CPR register extract)."""
    return sum(sum(1 for _ in p.open(encoding="utf-8-sig")) - 1 for p in folder.glob("*/cpr_register.csv"))


def machine() -> str:
    """CPU model, cores, memory, load and OS, for the results."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) // 1024 // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    load = os.getloadavg()
    return (f"{model}, {os.cpu_count()} cores, {mem} GB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}; load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")


def render(r: dict) -> str:
    """The Markdown section."""
    lines = [BEGIN, "## Fleet: 98 municipalities on Dask (issue 18)", "",
             f"`python benchmarks/fleet.py --scale {r['scale']}`, {r['date']}. Machine: {r['machine']}.", "",
             f"The synthetic fleet of Denmark's 98 municipalities (FOLK1A, 1 January 2024) x {r['scale']}, "
             f"at least 200 citizens each: {r['citizens']:,} citizens in all. Every mode starts from empty out "
             "folders (a first night: a new warehouse per municipality).", "",
             "| mode | wall (s) | committed / failed | slowest municipality (s) | sum of task times (s) | peak memory per worker (MB) |",
             "|---|---:|---:|---|---:|---|"]
    for m in r["modes"]:
        lines.append(f"| {m['label']} | {m['wall']:,.1f} | {m['committed']} / {m['failed']} | {m['slowest'][0]} "
                     f"({m['slowest'][1]:.1f}) | {m['sum_task_seconds']:,.1f} | {', '.join(map(str, m['peak_mb_per_worker']))} |")
    lines += ["", f"Expected wall time with W workers, from the per-municipality times of the mode '{r['estimate_from']}' "
              "(longest-processing-time-first schedule; lower bound max(longest run, total / W)); "
              "cluster start-up (a few seconds) and each worker's first-run imports not included:", "",
              "| W | LPT schedule (s) | lower bound (s) |", "|---:|---:|---:|"]
    for w, e in r["estimate"].items():
        lines.append(f"| {w} | {e['lpt']:,.1f} | {e['bound']:,.1f} |")
    lines += ["", "Raw figures: `benchmarks/RESULTS_fleet.json`.", END, ""]
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    """Put `section` into `path`, replacing the earlier fleet section if there is one."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section.rstrip("\n") + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
