"""The national-scale benchmark (issue 17): three whole processes per size and format, interleaved.

    python benchmarks/run.py [--sizes 200000,1000000,6000000] [--formats csv,parquet] [--repeat 3]
                             [--large-repeat N] [--threads N] [--memory-limit 2GB] [--cache DIR] [--no-generate]
                             [--callgrind-size 3000] [--timeout 3600] [--results benchmarks/RESULTS.md] [--render-only]

For every size and format (the synthetic municipality of `targetgroup sample`, cached in --cache,
default ~/.cache/targetgroup-bench or $TARGETGROUP_BENCH_CACHE) it times three whole processes,
from process start to exit, with their peak RSS (ru_maxrss from os.wait4):
- floor: DuckDB reading the same files into in-memory tables, nothing else, same threads
  (benchmarks/worker.py floor);
- run: `targetgroup run` as a user runs it: the console script, benchmarks/rules.yaml, as-of
  2026-11-01, a fresh --out folder and warehouse each time, --quiet;
- pandas: benchmarks/pandas_baseline.py, the same two rules in plain pandas.
Each is repeated --repeat times, interleaved (floor, run, pandas, floor, run, pandas, ...); the
median is quoted, every measurement kept in the JSON. After every run the citizens it flagged
(read from its warehouse) are compared with the baseline's, per rule, by sha256 digests of the
sorted sets: a difference ends the benchmark with an error (after writing what it measured).
Instructions counted by `valgrind --tool=callgrind` (a figure that does not drift) for the floor
and the run at --callgrind-size citizens, from CSV; `perf stat` is not used (not supported on the
virtual machines this was written on).
Writes --results (Markdown) and the raw figures next to it as JSON. The hand-written sections
after the marker line in --results (other issues' benchmarks) are kept. Run from the repository
root; it is not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "benchmarks"
sys.path.insert(0, str(HERE))
from pandas_baseline import digest  # noqa: E402
from worker import flagged_in_warehouse  # noqa: E402

BENCH_KEY = "benchmark-only-pseudonym-key-not-secret-0123456789"
AS_OF = "2026-11-01"
KEPT = "<!-- generated part ends: sections below are kept by benchmarks/run.py -->"
PROCESSES = ("floor", "run", "pandas")
TARGET_FLOOR_RATIO, TARGET_PANDAS_SPEEDUP, TARGET_PEAK_MB = 5.0, 6.0, 1536


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="200000,1000000,6000000")
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument("--repeat", type=int, default=3, help="measurements per process (median quoted)")
    parser.add_argument("--large-repeat", type=int, default=None,
                        help="measurements per process at 6,000,000 citizens and more (default: --repeat)")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--memory-limit", default=None, help="DuckDB memory limit for the run, e.g. 2GB "
                        "(default: the run's own default)")
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get(
        "TARGETGROUP_BENCH_CACHE", Path.home() / ".cache" / "targetgroup-bench")))
    parser.add_argument("--no-generate", action="store_true", help="skip a size whose data set is not cached")
    parser.add_argument("--callgrind-size", type=int, default=3_000, help="citizens for the instruction "
                        "counts (0: none)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds a process may take; a run "
                        "that takes longer ends the benchmark with an error (after writing what it measured)")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite --results from the RESULTS.json next to it, measuring nothing")
    args = parser.parse_args()
    if args.render_only:
        results = json.loads(args.results.with_suffix(".json").read_text(encoding="utf-8"))
        write_results(args.results, results)
        return

    results: dict = {"command": " ".join(["python", "benchmarks/run.py", *sys.argv[1:]]), "repeat": args.repeat,
                     "large_repeat": args.large_repeat or args.repeat,
                     "threads": args.threads, "memory_limit": args.memory_limit, "as_of": AS_OF,
                     "load_before": [round(x, 2) for x in os.getloadavg()], "cases": [], "skipped": []}
    results["machine"] = machine()
    results["imports"] = [json.loads(timed([sys.executable, str(HERE / "worker.py"), "imports"])["stdout"])
                          for _ in range(args.repeat)]
    mismatches: list[str] = []
    for size in (int(s) for s in args.sizes.split(",")):
        if "failed" in results:
            break
        for fmt in args.formats.split(","):
            sources = dataset(args.cache, size, fmt, generate=not args.no_generate)
            if sources is None:
                results["skipped"].append(f"{size:,} {fmt}: no cached data set (--no-generate)")
                continue
            try:
                case = measure(sources, size, fmt, args, mismatches)
            except Failed as exc:
                results["failed"] = f"{size:,} {fmt}: {exc}"
                break
            results["cases"].append(case)
            print(f"{size:>9,} {fmt:<8} " + "  ".join(
                f"{p} {median(case, p, 'wall_s'):.2f} s {median(case, p, 'peak_mb'):,.0f} MB" for p in PROCESSES),
                flush=True)
    results["mismatches"] = mismatches
    results["load_after"] = [round(x, 2) for x in os.getloadavg()]
    write_results(args.results, results)   # the timings stay, should the instruction counts not finish
    if args.callgrind_size:
        results["callgrind"] = callgrind(args.cache, args.callgrind_size, args.threads, args.timeout)
        write_results(args.results, results)
    print(f"written {args.results}")
    if "failed" in results:
        sys.exit(f"benchmark stopped: {results['failed']}")
    if mismatches:
        sys.exit("the pipeline and the pandas baseline flagged different citizens:\n  " + "\n  ".join(mismatches))


def measure(sources: Path, size: int, fmt: str, args: argparse.Namespace, mismatches: list[str]) -> dict:
    """The three processes, `args.repeat` times each, interleaved; the run's flags checked each time."""
    case: dict = {"citizens": size, "format": fmt,
                  "input_mb": round(sum(f.stat().st_size for f in sources.parent.iterdir()) / 1e6),
                  **{p: [] for p in PROCESSES}}
    cli = shutil.which("targetgroup", path=str(Path(sys.executable).parent))
    run_cmd = [cli] if cli else [sys.executable, "-m", "targetgroup"]
    repeat = args.large_repeat if args.large_repeat and size >= 6_000_000 else args.repeat
    for _ in range(repeat):
        floor = timed([sys.executable, str(HERE / "worker.py"), "floor", str(sources), str(args.threads)],
                      args.timeout)
        case["floor"].append({**floor, **json.loads(floor.pop("stdout"))})
        out = Path(tempfile.mkdtemp(prefix="run-", dir=args.cache))
        try:
            run = timed([*run_cmd, "run", "--sources", str(sources), "--rules", str(HERE / "rules.yaml"),
                         "--as-of", AS_OF, "--out", str(out), "--threads", str(args.threads), "--quiet",
                         *(["--memory-limit", args.memory_limit] if args.memory_limit else [])], args.timeout)
            run.pop("stdout")
            manifest = json.loads(next(out.glob("*/manifest.json")).read_text(encoding="utf-8"))
            flagged = flagged_in_warehouse(out / "warehouse.duckdb")
        finally:
            shutil.rmtree(out, ignore_errors=True)
        every = set().union(*flagged.values())
        counts = manifest["counts"]
        case["run"].append({**run, "stages": manifest["duration_seconds"], "cases": counts["cases"],
                            "persons": counts["persons"], "active_cases": counts["active_cases"],
                            "citizens_flagged": counts["citizens_flagged"],
                            "flagged": {rule: len(c) for rule, c in flagged.items()},
                            "digests": {**{rule: digest(c) for rule, c in flagged.items()}, "all": digest(every)}})
        pandas = timed([sys.executable, str(HERE / "pandas_baseline.py"), str(sources), "--as-of", AS_OF],
                       args.timeout)
        case["pandas"].append({**pandas, **json.loads(pandas.pop("stdout").strip().splitlines()[-1])})
        ours, theirs = case["run"][-1]["digests"], case["pandas"][-1]["digests"]
        if ours != theirs:
            differ = sorted(r for r in set(ours) | set(theirs) if ours.get(r) != theirs.get(r))
            mismatches.append(f"{size:,} {fmt}: rule(s) {', '.join(differ)} (pipeline "
                              f"{case['run'][-1]['flagged']}, pandas "
                              f"{ {r: case['pandas'][-1].get(r) for r in ours if r != 'all'} })")
            print(f"MISMATCH {mismatches[-1]}", file=sys.stderr, flush=True)
    return case


def child_env() -> dict[str, str]:
    """The environment of the measured processes: this checkout's code, the benchmark's pseudonym
    key, and compiled modules cached (as an installed package has them)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TARGETGROUP_PSEUDONYM_KEY": BENCH_KEY}
    for name in ("TARGETGROUP_PSEUDONYM_KEY_FILE", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    return env


class Failed(Exception):
    """A measured process failed or took longer than --timeout."""


def timed(cmd: list[str], timeout: float | None = None) -> dict:
    """Run `cmd` to its end: wall seconds from start to exit, peak RSS (MB), user+system CPU seconds.
    Raises Failed when it exits non-zero or runs past `timeout` seconds (then it is killed)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=child_env(), cwd=ROOT)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if timeout and time.perf_counter() - start > timeout:
                proc.kill()
                os.wait4(proc.pid, 0)
                proc.returncode = -9
                raise Failed(f"{' '.join(cmd[:3])} ... did not finish within {timeout:.0f} s (killed)")
            time.sleep(0.02)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise Failed(f"{' '.join(cmd[:3])} ... failed ({proc.returncode}):\n{err.read().decode()[-3000:]}")
        out.seek(0)
        return {"wall_s": round(wall, 3), "peak_mb": round(usage.ru_maxrss / 1024),
                "cpu_s": round(usage.ru_utime + usage.ru_stime, 3), "stdout": out.read().decode()}


def dataset(cache: Path, size: int, fmt: str, generate: bool = True) -> Path | None:
    """The sources file of the cached data set (generated first if missing and `generate`)."""
    folder = cache / f"{fmt}_{size}_seed42"
    marker = folder / ".complete"
    if marker.exists():
        return folder / "sources.yaml"
    if not generate:
        return None
    shutil.rmtree(folder, ignore_errors=True)
    print(f"generating {size:,} citizens as {fmt} into {folder} ...", flush=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "targetgroup", "sample", "--citizens", str(size), "--format", fmt,
                    "--seed", "42", "--out", str(folder)], check=True, cwd=ROOT, env=child_env())
    marker.write_text(json.dumps({"generate_s": round(time.perf_counter() - start, 1)}))
    return folder / "sources.yaml"


def callgrind(cache: Path, size: int, threads: int, timeout: float) -> dict:
    """Instructions (valgrind's callgrind 'Collected' count) of the floor and of `targetgroup run`
    at `size` citizens from CSV; or why they could not be counted."""
    if shutil.which("valgrind") is None:
        return {"unavailable": "valgrind is not installed (apt-get install valgrind)"}
    sources = dataset(cache, size, "csv")
    cli = shutil.which("targetgroup", path=str(Path(sys.executable).parent))
    found: dict = {"citizens": size, "tool": subprocess.run(["valgrind", "--version"], capture_output=True,
                                                            text=True).stdout.strip()}
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        for name, cmd in (("floor", [sys.executable, str(HERE / "worker.py"), "floor", str(sources), str(threads)]),
                          ("run", [*([cli] if cli else [sys.executable, "-m", "targetgroup"]), "run", "--sources",
                                   str(sources), "--rules", str(HERE / "rules.yaml"), "--as-of", AS_OF, "--out",
                                   f"{tmp}/out", "--threads", str(threads), "--quiet"])):
            start = time.perf_counter()
            try:
                done = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.%p", *cmd],
                                      capture_output=True, text=True, env=child_env(), cwd=ROOT, timeout=timeout)
            except subprocess.TimeoutExpired:
                return {**found, "unavailable": f"valgrind --tool=callgrind of the {name} did not finish within "
                                                f"{timeout:.0f} s"}
            collected = [int(n) for n in re.findall(r"Collected : (\d+)", done.stderr)]
            if done.returncode != 0 or not collected:
                return {"unavailable": f"valgrind --tool=callgrind of the {name} failed ({done.returncode}): "
                                       f"{done.stderr.strip().splitlines()[-1:] }"}
            found[name] = {"instructions": sum(collected), "processes": len(collected),
                           "valgrind_wall_s": round(time.perf_counter() - start, 1)}
    return found


def machine() -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    mem = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines()
               if ln.startswith("MemTotal"))
    versions = {}
    for name in ("duckdb", "pandas", "pyarrow", "great_expectations", "prefect", "xlsxwriter"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "-"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem / 1024 / 1024, 1),
            "os": platform.platform(), "python": platform.python_version(), "versions": versions,
            "date": datetime.now().isoformat(timespec="minutes")}


# ---------------------------------------------------------------- rendering (RESULTS.md)

def median(case: dict, process: str, key: str) -> float:
    return statistics.median(m[key] for m in case[process])


def spread(case: dict, process: str, key: str) -> str:
    values = [m[key] for m in case[process]]
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def write_results(path: Path, results: dict) -> None:
    """RESULTS.json and RESULTS.md; what follows the KEPT marker in RESULTS.md stays as it is."""
    kept = ""
    if path.exists() and KEPT in (old := path.read_text(encoding="utf-8")):
        kept = old.split(KEPT, 1)[1]
    path.with_suffix(".json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    path.write_text(render(results) + "\n" + KEPT + kept, encoding="utf-8")


def render(r: dict) -> str:
    m = r["machine"]
    v = m["versions"]
    imports = {k: statistics.median(i[k] for i in r["imports"]) for k in r["imports"][0] if "pulls" not in k}
    pulled = r["imports"][0]
    lines = [
        "# Benchmark results (issue 17)", "",
        f"Written by `{r['command']}` on {m['date']}; raw figures in RESULTS.json. Medians of "
        f"{r['repeat']} measurements"
        + (f" (at 6 M citizens: {r['large_repeat']})" if r.get("large_repeat", r["repeat"]) != r["repeat"]
           and any(c["citizens"] >= 6_000_000 for c in r["cases"]) else "")
        + "; min-max in brackets; the three processes interleaved.", "",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB memory, {m['os']}",
        f"- Load average (1, 5, 15 min): {', '.join(map(str, r['load_before']))} before, "
        f"{', '.join(map(str, r['load_after']))} after",
        f"- Python {m['python']}, " + ", ".join(f"{k} {val}" for k, val in v.items()),
        f"- DuckDB threads: {r['threads']} (floor and run); memory limit: "
        f"{r['memory_limit'] or 'the run default (1 GB; the floor has none)'}; as-of date {r['as_of']}",
        "- Imports in a fresh process, seconds each adds in this order: "
        + ", ".join(f"`{k}` {s:.2f}" for k, s in imports.items())
        + f". `targetgroup.cli` pulls in: {', '.join(pulled['targetgroup.cli pulls in']) or 'none of them'}; "
          f"`targetgroup.pipeline`: {', '.join(pulled['targetgroup.pipeline pulls in']) or 'none of them'}.",
        *(f"- Skipped: {s}" for s in r.get("skipped", [])),
        *([f"- **Stopped**: {r['failed'].splitlines()[0]}; the sizes after it were not measured"]
          if r.get("failed") else []), "",
        "## Whole processes, from process start to exit", "",
        "| citizens | format | input MB | case rows | floor s | run s | pandas s | run / floor | pandas / run "
        "| floor MB | run MB | pandas MB | run µs per case row |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in r["cases"]:
        f_s, r_s, p_s = (median(c, p, "wall_s") for p in PROCESSES)
        cases = c["run"][0]["cases"]
        lines.append(
            f"| {c['citizens']:,} | {c['format']} | {c['input_mb']} | {cases:,} | {spread(c, 'floor', 'wall_s')} "
            f"| {spread(c, 'run', 'wall_s')} | {spread(c, 'pandas', 'wall_s')} | {r_s / f_s:.1f} | {p_s / r_s:.2f} "
            f"| {median(c, 'floor', 'peak_mb'):,.0f} | {median(c, 'run', 'peak_mb'):,.0f} "
            f"| {median(c, 'pandas', 'peak_mb'):,.0f} | {r_s / cases * 1e6:.1f} |")
    lines += ["", "floor: DuckDB reading the files into tables. run: `targetgroup run` (CLI, fresh warehouse). "
              "pandas: benchmarks/pandas_baseline.py. MB: the process's peak RSS (ru_maxrss, MiB). "
              "Ratios of the medians.", "",
              "## The run's stages (median seconds, from the run's manifest)", ""]
    stages = list(dict.fromkeys(s for c in r["cases"] for m_ in c["run"] for s in m_["stages"]))
    lines += ["| citizens | format | " + " | ".join(stages) + " | sum | process |",
              "|---:|---|" + "---:|" * (len(stages) + 2)]
    for c in r["cases"]:
        cells = [statistics.median(m_["stages"].get(s, 0) for m_ in c["run"]) for s in stages]
        lines.append(f"| {c['citizens']:,} | {c['format']} | " + " | ".join(f"{x:.2f}" for x in cells)
                     + f" | {sum(cells):.2f} | {median(c, 'run', 'wall_s'):.2f} |")
    lines += ["", "process - sum: the process's start-up (interpreter, imports) and its end.", "",
              "## Targets (issue 17), from this run", "", *targets(r), "",
              "## Instructions counted (valgrind --tool=callgrind)", ""]
    cg = r.get("callgrind") or {"unavailable": "not requested (--callgrind-size 0)"}
    if "unavailable" in cg:
        lines.append(f"Not counted: {cg['unavailable']}.")
    else:
        lines += [f"{cg['citizens']:,} citizens from CSV, {cg['tool']}; a count that does not drift with the "
                  "machine's load (valgrind runs the threads one at a time).", "",
                  "| process | instructions | x floor |", "|---|---:|---:|"]
        for name in ("floor", "run"):
            lines.append(f"| {name} | {cg[name]['instructions']:,} | "
                         f"{cg[name]['instructions'] / cg['floor']['instructions']:.1f} |")
    lines += ["", "`perf stat -e instructions` is not supported on this virtual machine (no hardware counters), "
              "so callgrind is the instruction count.", "",
              "## Same citizens flagged (pipeline vs pandas baseline)", "",
              "| citizens | format | run: flagged per rule | pandas: flagged per rule | citizens flagged | same sets |",
              "|---:|---|---|---|---:|---|"]
    for c in r["cases"]:
        run0, pd0 = c["run"][0], c["pandas"][0]
        same = all(m_["digests"] == p_["digests"] for m_, p_ in zip(c["run"], c["pandas"]))
        rules = sorted(run0["flagged"])
        lines.append(f"| {c['citizens']:,} | {c['format']} | " + ", ".join(f"{k} {run0['flagged'][k]:,}" for k in rules)
                     + " | " + ", ".join(f"{k} {pd0.get(k, 0):,}" for k in rules)
                     + f" | {run0['citizens_flagged']:,} | {'yes' if same else '**NO**'} |")
    lines += ["", "same sets: the sha256 digests of the sorted flagged CPR numbers, per rule and for all, "
              "equal in every repetition (the benchmark stops with an error otherwise)."]
    notes = HERE / "NOTES.md"
    if notes.exists():
        lines += ["", notes.read_text(encoding="utf-8").strip()]
    return "\n".join(lines) + "\n"


def targets(r: dict) -> list[str]:
    """The targets of issue 17 with the figures of this run: met / NOT MET."""
    def verdict(ok: bool) -> str:
        return "met" if ok else "**NOT MET**"

    by = {(c["citizens"], c["format"]): c for c in r["cases"]}
    out = []
    big = by.get((6_000_000, "csv"))
    if big:
        ratio = median(big, "run", "wall_s") / median(big, "floor", "wall_s")
        out.append(f"- 6 M citizens from CSV, run within {TARGET_FLOOR_RATIO:.0f}x the floor: "
                   f"{median(big, 'run', 'wall_s'):.1f} s / {median(big, 'floor', 'wall_s'):.1f} s = {ratio:.1f}x: "
                   f"{verdict(ratio <= TARGET_FLOOR_RATIO)}")
    for fmt in ("csv", "parquet"):
        if c := by.get((6_000_000, fmt)):
            speed = median(c, "pandas", "wall_s") / median(c, "run", "wall_s")
            out.append(f"- 6 M citizens from {fmt}, at least {TARGET_PANDAS_SPEEDUP:.0f}x faster than pandas: "
                       f"{median(c, 'pandas', 'wall_s'):.1f} s / {median(c, 'run', 'wall_s'):.1f} s = {speed:.1f}x: "
                       f"{verdict(speed >= TARGET_PANDAS_SPEEDUP)}")
    for fmt in ("csv", "parquet"):
        if c := by.get((200_000, fmt)):
            r_s, p_s = median(c, "run", "wall_s"), median(c, "pandas", "wall_s")
            out.append(f"- 200,000 citizens from {fmt}, from process start no slower than pandas: run {r_s:.2f} s, "
                       f"pandas {p_s:.2f} s ({r_s / p_s:.2f}x): {verdict(r_s <= p_s)}")
    for fmt in ("csv", "parquet"):
        if c := by.get((6_000_000, fmt)):
            peak = median(c, "run", "peak_mb")
            out.append(f"- 6 M citizens from {fmt}, peak memory at most 1.5 GB ({TARGET_PEAK_MB:,} MiB) with the "
                       f"default settings: {peak:,.0f} MiB: "
                       + (verdict(peak <= TARGET_PEAK_MB) if not r.get("memory_limit") else
                          f"not judged (run with --memory-limit {r['memory_limit']})"))
    for fmt in ("csv", "parquet"):
        sizes = sorted(s for s, f in by if f == fmt)
        if len(sizes) < 2:
            continue
        per = {s: median(by[(s, fmt)], "run", "wall_s") / by[(s, fmt)]["run"][0]["cases"] * 1e6 for s in sizes}
        growing = any(per[b] > per[a] * 1.05 for a, b in zip(sizes, sizes[1:]))
        out.append(f"- cost per case row no faster than linear ({fmt}): "
                   + ", ".join(f"{s:,}: {per[s]:.1f} µs" for s in sizes)
                   + f" (whole process / case rows; 5% allowed for noise): {verdict(not growing)}")
    sizes = {s for s, _ in by}
    missing = [what for size, what in ((6_000_000, "6 M citizens: run / floor, speed against pandas, peak memory"),
                                       (200_000, "200,000 citizens: run against pandas from process start"))
               if size not in sizes]
    if len({s for s in sizes if s in (200_000, 1_000_000, 6_000_000)}) < 2:
        missing.append("linear cost per case row (needs two of 200,000, 1 M, 6 M)")
    return out + [f"- not measured in this run: {m}" for m in missing]


if __name__ == "__main__":
    main()
