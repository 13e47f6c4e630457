"""The national-scale benchmark (issue 7): the whole pipeline against the parse floor and pandas.

    python benchmarks/run.py [--sizes 200000,6000000] [--formats csv,parquet] [--threads N]
                             [--memory-limit 2GB] [--cache DIR] [--results benchmarks/RESULTS.md]

For every size and format it generates the synthetic municipality once (`targetgroup sample`,
cached in --cache, default ~/.cache/targetgroup-bench or $TARGETGROUP_BENCH_CACHE), then runs,
each in a fresh Python process (benchmarks/worker.py):
- imports: the fixed start-up cost of `import targetgroup.pipeline` and of Great Expectations, on its own line;
- floor: DuckDB only reading the same files into in-memory tables, same threads;
- pipeline: run_pipeline with benchmarks/rules.yaml (the default rule plus the BUF-child /
  JOB-parent family rule), a fresh warehouse, analyst outputs on: every stage, its wall time
  (Run.timings) and its peak memory (VmRSS sampled every 10 ms), and ru_maxrss for the process;
- cold (200,000 citizens only): the same run as `targetgroup run` does it, Great Expectations
  imported by the run itself in the background while it reads;
- pandas: benchmarks/pandas_baseline.py, the same two rules in plain pandas.
Writes the figures to --results (Markdown) and the raw measurements next to it as JSON.
Run from the repository root; it is not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "benchmarks"
BENCH_KEY = "benchmark-only-pseudonym-key-not-secret-0123456789"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="200000,6000000")
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--memory-limit", default=None, help="DuckDB memory limit for the pipeline, e.g. 2GB")
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get(
        "TARGETGROUP_BENCH_CACHE", Path.home() / ".cache" / "targetgroup-bench")))
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--skip-pandas", action="store_true", help="leave out the pandas baseline")
    parser.add_argument("--pandas-from", type=Path, default=None,
                        help="with --skip-pandas: take the pandas figures from an earlier RESULTS.json "
                             "(the baseline does not use the pipeline's code)")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite --results from the RESULTS.json next to it, measuring nothing")
    args = parser.parse_args()
    if args.render_only:
        results = json.loads(args.results.with_suffix(".json").read_text(encoding="utf-8"))
        args.results.write_text(render(results), encoding="utf-8")
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    formats = args.formats.split(",")

    results = {"imports": worker("imports"), "cases": []}
    print(f"imports: {results['imports']['imports_s']:.2f} s", flush=True)
    for size in sizes:
        for fmt in formats:
            sources, gen_s = dataset(args.cache, size, fmt)
            case = {"citizens": size, "format": fmt, "generate_s": gen_s,
                    "input_mb": round(sum(f.stat().st_size for f in sources.parent.iterdir()) / 1e6)}
            case["floor"] = worker("floor", str(sources), str(args.threads))
            out = Path(tempfile.mkdtemp(prefix="run-", dir=args.cache))
            try:
                case["pipeline"] = worker("pipeline", str(sources), str(out), str(args.threads),
                                          args.memory_limit or "")
            finally:
                shutil.rmtree(out, ignore_errors=True)
            if size <= 200_000:
                # as `targetgroup run` does it: Great Expectations imported by the run itself
                out = Path(tempfile.mkdtemp(prefix="run-", dir=args.cache))
                try:
                    case["cold"] = worker("cold", str(sources), str(out), str(args.threads), args.memory_limit or "")
                finally:
                    shutil.rmtree(out, ignore_errors=True)
            if not args.skip_pandas:
                case["pandas"] = worker("pandas", str(sources))
            elif args.pandas_from:
                earlier = json.loads(args.pandas_from.read_text(encoding="utf-8"))
                for old in earlier["cases"]:
                    if (old["citizens"], old["format"]) == (size, fmt) and "pandas" in old:
                        case["pandas"] = {**old["pandas"], "measured": earlier["machine"]["date"]}
            results["cases"].append(case)
            p = case["pipeline"]
            print(f"{size:>9,} {fmt:<8} floor {case['floor']['floor_s']:.2f} s  pipeline {p['pipeline_s']:.2f} s "
                  f"({p['peak_mb']} MB)" + (f"  pandas {case['pandas']['pandas_s']:.2f} s" if "pandas" in case else ""),
                  flush=True)
    results["machine"] = machine()
    results["command"] = " ".join(["python", "benchmarks/run.py", *sys.argv[1:]])
    results["threads"] = args.threads
    results["memory_limit"] = args.memory_limit
    args.results.with_suffix(".json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    args.results.write_text(render(results), encoding="utf-8")
    print(f"written {args.results}")


def worker(*argv: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TARGETGROUP_PSEUDONYM_KEY": BENCH_KEY}
    env.pop("TARGETGROUP_PSEUDONYM_KEY_FILE", None)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(HERE / "worker.py"), *argv], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"benchmark step {argv[0]} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = round(time.perf_counter() - start, 3)
    return result


def dataset(cache: Path, size: int, fmt: str) -> tuple[Path, float | None]:
    """The sources file of the cached dataset, generated first if missing; and the generation time."""
    folder = cache / f"{fmt}_{size}_seed42"
    marker = folder / ".complete"
    if marker.exists():
        return folder / "sources.yaml", json.loads(marker.read_text())["generate_s"]
    shutil.rmtree(folder, ignore_errors=True)
    print(f"generating {size:,} citizens as {fmt} into {folder} ...", flush=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "targetgroup", "sample", "--citizens", str(size), "--format", fmt,
                    "--seed", "42", "--out", str(folder)], check=True, cwd=ROOT,
                   env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    elapsed = round(time.perf_counter() - start, 1)
    marker.write_text(json.dumps({"generate_s": elapsed}))
    return folder / "sources.yaml", elapsed


def machine() -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    mem = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines()
               if ln.startswith("MemTotal"))
    versions = {}
    for name in ("duckdb", "pandas", "pyarrow", "xlsxwriter", "prefect"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "-"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem / 1024 / 1024, 1),
            "os": platform.platform(), "python": platform.python_version(), **versions,
            "date": datetime.now().isoformat(timespec="minutes")}


def render(r: dict) -> str:
    m = r["machine"]
    lines = [
        "# Benchmark results (issue 7)", "",
        f"Written by `{r['command']}` on {m['date']}. Raw figures: RESULTS.json.", "",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, {m['os']}",
        f"- Python {m['python']}, duckdb {m['duckdb']}, pandas {m['pandas']}, pyarrow {m['pyarrow']}, "
        f"xlsxwriter {m['xlsxwriter']}",
        f"- DuckDB threads: {r['threads']}; memory limit: {r['memory_limit'] or 'the pipeline default (1 GB)'}",
        f"- Fixed start-up cost (imports, fresh process): **{r['imports']['imports_s']:.2f} s** "
        f"(`import targetgroup.pipeline` {r['imports'].get('targetgroup_s', r['imports']['imports_s']):.2f} s, "
        f"`import great_expectations` {r['imports'].get('great_expectations_s', 0):.2f} s), not included in the "
        "pipeline figures below. A command-line run imports Great Expectations in the background while it reads "
        "the extracts; the 200,000 rows of the targets show that way too (\"as run from the command line\").", "",
        "## Figures", "",
        "| citizens | format | input MB | cases | floor s | pipeline s | peak MB | pandas s | pandas MB "
        "| pipeline / floor | pandas / pipeline | pipeline µs per case |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in r["cases"]:
        p, f = c["pipeline"], c["floor"]
        pd_s = c.get("pandas", {}).get("pandas_s")
        lines.append(
            f"| {c['citizens']:,} | {c['format']} | {c['input_mb']} | {p['cases']:,} | {f['floor_s']:.2f} "
            f"| {p['pipeline_s']:.2f} | {p['peak_mb']:,} | {pd_s if pd_s is not None else '-'} "
            f"| {c.get('pandas', {}).get('peak_mb', '-')} | {p['pipeline_s'] / f['floor_s']:.1f} "
            f"| {(pd_s / (p['pipeline_s'] + p['imports_s'])) if pd_s else float('nan'):.1f} "
            f"| {p['pipeline_s'] / p['cases'] * 1e6:.1f} |")
    lines += ["", "pipeline s: run_pipeline from prepare to finish, imports excluded. pandas s: the whole "
              "pandas process (its imports included), so pandas / pipeline compares it with pipeline + imports. "
              "peak MB: ru_maxrss of the process. µs per case: pipeline s / staged cases."
              + "".join(f" Pandas figures for {c['citizens']:,} {c['format']} measured in an earlier run "
                        f"({c['pandas']['measured']}, same machine)." for c in r["cases"]
                        if "measured" in c.get("pandas", {})), "",
              "## Per stage: wall time s (peak RSS MB while the stage ran)", ""]
    stages = list(dict.fromkeys(s for c in r["cases"] for s in c["pipeline"]["timings"]))
    lines += ["| citizens | format | " + " | ".join(stages) + " |", "|---:|---|" + "---:|" * len(stages)]
    for c in r["cases"]:
        p = c["pipeline"]
        cells = [f"{p['timings'].get(s, 0):.2f} ({p['stage_peak_mb'].get(s, '-')})" for s in stages]
        lines.append(f"| {c['citizens']:,} | {c['format']} | " + " | ".join(cells) + " |")
    lines += ["", "## Targets (issue 7)", "", *targets(r)]
    lines += ["", "## Counts (pipeline vs pandas baseline)", "",
              "| citizens | format | pipeline: citizens flagged | pandas: citizens flagged | pandas: two_departments "
              "| pandas: family members |", "|---:|---|---:|---:|---:|---:|"]
    for c in r["cases"]:
        pd_ = c.get("pandas", {})
        lines.append(f"| {c['citizens']:,} | {c['format']} | {c['pipeline']['citizens_flagged']:,} "
                     f"| {pd_.get('citizens_flagged', '-')} | {pd_.get('two_departments', '-')} "
                     f"| {pd_.get('buf_child_job_parent', '-')} |")
    notes = HERE / "NOTES.md"
    if notes.exists():
        lines += ["", notes.read_text(encoding="utf-8").strip()]
    return "\n".join(lines) + "\n"


def targets(r: dict) -> list[str]:
    """Each target of issue 7 with the figure measured and met / NOT MET."""
    out = []
    for c in r["cases"]:
        p, f, pd_ = c["pipeline"], c["floor"], c.get("pandas")
        label = f"{c['citizens']:,} citizens from {c['format']}"
        if c["citizens"] >= 6_000_000 and c["format"] == "csv":
            ratio = p["pipeline_s"] / f["floor_s"]
            out.append(f"- {label}: pipeline / floor = {ratio:.1f} (target <= 3): {'met' if ratio <= 3 else 'NOT MET'}")
            if pd_:
                speed = pd_["pandas_s"] / (p["pipeline_s"] + p["imports_s"])
                out.append(f"- {label}: pandas / pipeline = {speed:.1f} (target >= 10): "
                           f"{'met' if speed >= 10 else 'NOT MET'}")
            out.append(f"- {label}: peak memory {p['peak_mb']:,} MB (target <= 2,048): "
                       f"{'met' if p['peak_mb'] <= 2048 else 'NOT MET'}")
        if c["citizens"] <= 200_000:
            out.append(f"- {label}: pipeline {p['pipeline_s']:.2f} s (target < 8 s, imports of "
                       f"{p['imports_s']:.2f} s on their own line): {'met' if p['pipeline_s'] < 8 else 'NOT MET'}")
            if "cold" in c:
                k = c["cold"]
                total = k["pipeline_s"] + k["imports_s"]
                out.append(f"  - as run from the command line (Great Expectations imported by the run, in the "
                           f"background): {k['pipeline_s']:.2f} s + {k['imports_s']:.2f} s of imports = {total:.2f} s "
                           f"from process start ({'under' if total < 8 else 'over'} 8 s)")
    small = {c["format"]: c for c in r["cases"] if c["citizens"] <= 200_000}
    for c in r["cases"]:
        if c["citizens"] >= 6_000_000 and c["format"] in small:
            s0, s1 = small[c["format"]]["pipeline"], c["pipeline"]
            growth = (s1["pipeline_s"] / s1["cases"]) / (s0["pipeline_s"] / s0["cases"])
            out.append(f"- linear growth ({c['format']}): cost per case at 6M is {growth:.2f} x the cost per case at 200k "
                       "(1.0 = linear; below 1: fixed costs spread over more cases)")
    return out


if __name__ == "__main__":
    main()
