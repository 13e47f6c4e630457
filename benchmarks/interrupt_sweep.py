"""The interrupt sweep (issue 13): stop real `targetgroup run` processes at many points and check
that the CLI, the manifest, the run folder and the ledger agree. Not part of the test suite.

    python benchmarks/interrupt_sweep.py [--sources SOURCES (default: the shipped sample)] [--signals INT,TERM,KILL]
                                         [--delays 0] [--commit-delays 0,0.1,0.2,0.3,0.4,0.5,0.6,0.8]
                                         [--results benchmarks/INTERRUPTS.md]

Once: one committed run on 2026-11-01 (the base). Then per trial, on a fresh copy of the base:
`targetgroup run --as-of 2026-11-02` in its own process, with TMPDIR pointed at an empty
folder; when its progress line for a stage appears (extract, stage, validate, identify,
register, deliver, commit: the stage has finished, the next one is working), wait DELAY
seconds and send the signal. After `deliver` the commit is working: --commit-delays spread
the signals over it (at 20,000 citizens it takes about a second). Then, as the next start would, sweep the leftovers
(`pipeline.sweep_leftovers`) and check:
- ledger: does `runs` hold the trial's run? (the one truth);
- CLI: exit 0 or 4 (stored) / 3 or 1 (not stored) agrees, and its message says the same
  ("the run is stored" / "nothing was stored"); a killed process (kill -9) says nothing;
- folder: stored <=> `<out>/<as-of>_<run-id>/` exists with manifest status committed and no
  FAILED.txt; not stored <=> no such folder (a signal leaves `failed/<name>/` with FAILED.txt
  and a failed manifest; kill -9 leaves nothing after the sweep);
- the reader copy's ledger equals the warehouse's; `.staging/` and TMPDIR are empty.
Writes a Markdown table to --results: trials, the stage each signal landed after, outcomes,
disagreements (each listed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb

from targetgroup.config import SAMPLE_SOURCES

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("extract", "stage", "validate", "identify", "register", "deliver", "commit")
CLI = [sys.executable, "-m", "targetgroup"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, default=SAMPLE_SOURCES)
    parser.add_argument("--signals", default="INT,TERM,KILL")
    parser.add_argument("--delays", default="0")
    parser.add_argument("--commit-delays", default="0,0.1,0.2,0.3,0.4,0.5,0.6,0.8")
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "INTERRUPTS.md")
    args = parser.parse_args()
    signals = [getattr(signal, f"SIG{name}") for name in args.signals.split(",")]
    delays = [float(d) for d in args.delays.split(",")]
    commit_delays = [float(d) for d in args.commit_delays.split(",")]
    stages = args.stages.split(",")

    work = Path(tempfile.mkdtemp(prefix="targetgroup-sweep-"))
    try:
        base = work / "base"
        done = _cli(["run", "--as-of", "2026-11-01", "--sources", str(args.sources), "--out", str(base), "--quiet"],
                    work / "tmp-base")
        assert done.returncode == 0, done.stderr
        trials = []
        for stage in stages:
            for sig in signals:
                for delay in commit_delays if stage == "deliver" else delays:
                    trial = _trial(base, work / f"t{len(trials)}", args.sources, stage, sig, delay)
                    trials.append(trial)
                    print(f"{len(trials):3} after {stage:<9} +{delay:<4} {sig.name:<7} -> exit {trial['exit']:>3}, "
                          f"stored {trial['stored']!s:<5} {'OK' if not trial['problems'] else trial['problems']}",
                          flush=True)
        _write(args.results, trials, args)
        bad = sum(1 for t in trials if t["problems"])
        print(f"{len(trials)} interrupts, {bad} disagreement(s); results in {args.results}")
        sys.exit(1 if bad else 0)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _cli(argv: list[str], tmp: Path, **kw) -> subprocess.CompletedProcess:
    tmp.mkdir(parents=True, exist_ok=True)
    return subprocess.run([*CLI, *argv], env={**os.environ, "TMPDIR": str(tmp)}, capture_output=True, text=True,
                          **kw)


def _trial(base: Path, folder: Path, sources: Path, stage: str, sig: signal.Signals, delay: float) -> dict:
    out, tmp = folder / "reports", folder / "tmp"
    shutil.copytree(base, out)
    tmp.mkdir(parents=True)
    proc = subprocess.Popen([*CLI, "run", "--as-of", "2026-11-02", "--sources", str(sources), "--out", str(out)],
                            env={**os.environ, "TMPDIR": str(tmp), "COLUMNS": "200"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    landed, lines = ["(finished first)"], []

    def watch() -> None:
        sent = False
        for line in proc.stderr:
            lines.append(line)
            words = line.replace("✓", " ").split()
            if not sent and words and words[0] == stage:
                time.sleep(delay)
                if proc.poll() is None:
                    proc.send_signal(sig)
                    landed[0] = f"after {stage} +{delay}s"
                sent = True
    watcher = threading.Thread(target=watch)
    watcher.start()
    stdout = proc.stdout.read()
    code = proc.wait()
    watcher.join()
    stderr = "".join(lines)
    return {"stage": stage, "signal": sig.name, "delay": delay, "landed": landed[0], "exit": code,
            **_check(out, tmp, code, stdout + stderr)}


def _check(out: Path, tmp: Path, code: int, said: str) -> dict:
    from targetgroup import pipeline   # noqa: PLC0415 - the sweep the next start runs
    from targetgroup.warehouse import run_lock   # noqa: PLC0415

    warehouse = out / "warehouse.duckdb"
    before = set(_ledger(warehouse))
    settings = pipeline.RunSettings(out=out, as_of=date(2026, 11, 3))
    with run_lock(warehouse):
        swept = pipeline.sweep_leftovers(settings)
    ledger = _ledger(warehouse)
    new = [r for r in ledger if r not in before]   # never: only the run itself commits
    ours = [p for p in (*out.glob("2026-11-02_*"), *out.glob("*/2026-11-02_*")) if p.is_dir()]
    run_ids = {p.name.split("_", 1)[1] for p in ours}
    stored_ids = [r for r in ledger if r not in _base_ids(out)]
    stored = bool(stored_ids)
    problems = []
    if new:
        problems.append("the sweep changed the ledger")
    if code in (0, 4) and not stored:
        problems.append(f"exit {code} but the ledger does not hold the run")
    if code in (1, 3) and stored:
        problems.append(f"exit {code} but the ledger holds the run")
    if code == 4 and "the run is stored" not in said:
        problems.append("exit 4 without 'the run is stored'")
    if code == 3 and "nothing was stored" not in said:
        problems.append("exit 3 without 'nothing was stored'")
    final = [p for p in ours if p.parent == out]
    if stored:
        if len(final) != 1 or final[0].name.split("_", 1)[1] != stored_ids[0]:
            problems.append(f"stored, but its folder is not in place: {[str(p.relative_to(out)) for p in ours]}")
        else:
            manifest = json.loads((final[0] / "manifest.json").read_text())
            if manifest["status"] != "committed" or (final[0] / "FAILED.txt").exists():
                problems.append(f"stored, but the folder says {manifest['status']}")
    else:
        if final:
            problems.append("not stored, but a folder is under its final name")
        for p in ours:
            manifest = json.loads((p / "manifest.json").read_text())
            if manifest["status"] != "failed" or not (p / "FAILED.txt").exists():
                problems.append(f"not stored, but {p.relative_to(out)} says {manifest['status']}")
    if code == -signal.SIGKILL and not stored and ours:
        problems.append("kill -9 before the commit, yet a folder is left")
    reader = out / "warehouse.reader.duckdb"
    if _ledger(reader) != ledger:
        problems.append("the reader copy's ledger differs from the warehouse's")
    if any((out / ".staging").iterdir()):
        problems.append(f"staging left: {[p.name for p in (out / '.staging').iterdir()]}")
    if any(tmp.iterdir()):
        problems.append(f"TMPDIR not empty: {[p.name for p in tmp.iterdir()]}")
    return {"stored": stored, "published_by_sweep": any(line.startswith("published") for line in swept),
            "folder": ours[0].parent.name if ours and ours[0].parent != out else
            ("final" if ours else "none"), "swept": len(swept), "run_ids": sorted(run_ids), "problems": problems}


def _ledger(warehouse: Path) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [r[0] for r in con.execute("select run_id from runs order by run_id").fetchall()]


def _base_ids(out: Path) -> set[str]:
    return {p.name.split("_", 1)[1] for p in out.glob("2026-11-01_*")}


def _write(path: Path, trials: list[dict], args: argparse.Namespace) -> None:
    by_stage = Counter((t["stage"], t["stored"]) for t in trials)
    outcomes = Counter((t["signal"], t["exit"], t["stored"], t["folder"]) for t in trials)
    lines = [
        "# Interrupt sweep (issue 13)", "",
        f"`python benchmarks/interrupt_sweep.py --signals {args.signals} --delays {args.delays} "
        f"--commit-delays {args.commit_delays}` on "
        f"`{args.sources.relative_to(ROOT) if args.sources.is_relative_to(ROOT) else args.sources}`, "
        f"{time.strftime('%Y-%m-%d %H:%M')}.", "",
        f"**{len(trials)} interrupts, {sum(1 for t in trials if t['problems'])} disagreements** between the "
        "CLI (exit code and message), the manifest and the run folder's place, and the ledger.", "",
        "| signal sent after the progress line of | trials | stored (ledger) | not stored |", "|---|---|---|---|",
    ]
    for stage in dict.fromkeys(t["stage"] for t in trials):
        lines.append(f"| {stage} | {by_stage[(stage, True)] + by_stage[(stage, False)]} | "
                     f"{by_stage[(stage, True)]} | {by_stage[(stage, False)]} |")
    lines += ["", "Seconds after the progress line: "
              + "; ".join(f"{st} {sorted({t['delay'] for t in trials if t['stage'] == st})}"
                          for st in dict.fromkeys(t["stage"] for t in trials)) + ".",
              "", "Exit 0: the run had finished before the signal arrived. Exit -9: killed; `none` means the "
              "next start removed its staging folder, `final` that it published it (stored).",
              "", "| signal | exit | stored | folder ended in | trials | of them published by the next start |",
              "|---|---|---|---|---|---|"]
    for (sig, code, stored, folder), n in sorted(outcomes.items(), key=str):
        swept = sum(1 for t in trials if (t["signal"], t["exit"], t["stored"], t["folder"]) == (sig, code, stored, folder)
                    and t["published_by_sweep"])
        lines.append(f"| {sig} | {code} | {stored} | {folder} | {n} | {swept} |")
    bad = [t for t in trials if t["problems"]]
    if bad:
        lines += ["", "## Disagreements", ""] + [f"- {t['landed']} {t['signal']}: {'; '.join(t['problems'])}"
                                                 for t in bad]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
