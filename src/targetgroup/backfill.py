"""Backfill: run a series of dated extract snapshots, oldest first, into one warehouse.

    plan(template, start, end, every="month", last_as_of=None, allow_gaps=False, resume=False)
        -> Plan (the dates with their sources files, and the dates skipped and why)
    backfill(plan, base_settings, progress, outputs="all") -> list of committed runs

Each snapshot is one ordinary run (`pipeline.run_pipeline`) with the snapshot's date as its
as-of date: same quality gate, same register, one committed run each, and a failed snapshot
stops the backfill with the earlier ones stored and nothing of the failed one.

`template` is a path with `{date}` in it (e.g. `history/{date}/sources.yaml`); `{date}` becomes
the snapshot date as YYYY-MM-DD, by plain text replacement into the path (never SQL, never
str.format). A date whose sources file is missing is a gap: refused unless `allow_gaps`. A date
on or before the warehouse's last committed as-of date is disorder: refused unless `resume`,
which skips those dates (to finish an interrupted backfill).

`outputs="last"` writes the deliverables (caseworker lists, notices, leadership report, analyst
files) for the last snapshot only: every earlier snapshot is still one committed run into the
register and its history (and writes its action files), but nobody acts on a past night's
lists, and the report with its audit is most of a run's time. `backfill --sample` uses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np

from targetgroup.errors import ConfigError, RunError

PLACEHOLDER = "{date}"
EVERY = ("month", "week", "day")
OUTPUTS = ("all", "last")


@dataclass(frozen=True)
class Plan:
    """What a backfill will run: `runs` (date, sources file) oldest first; `gaps` and `done`
    are the dates skipped because their file is missing or the warehouse already has them."""

    runs: list[tuple[date, Path]]
    gaps: list[date] = field(default_factory=list)
    done: list[date] = field(default_factory=list)


def dates_between(start: date, end: date, every: str) -> list[date]:
    """`start`, then every month/week/day after it, up to and including `end`.

    Monthly steps keep the day of `start` (a 31st rolls into the next month as
    population.add_months does)."""
    if every not in EVERY:
        raise ConfigError(f"unknown interval {every!r}", hint=f"use one of {', '.join(EVERY)}")
    if end < start:
        raise ConfigError(f"--to {end} is before --from {start}", hint="give the oldest snapshot date first")
    first = np.datetime64(start, "D")
    out: list[date] = []
    step = 0
    while True:
        if every == "month":
            month_start = first.astype("datetime64[M]")
            offset = first - month_start.astype("datetime64[D]")
            day = (month_start + step).astype("datetime64[D]") + offset
        else:
            day = first + np.timedelta64(step * (7 if every == "week" else 1), "D")
        if day > np.datetime64(end, "D"):
            return out
        out.append(day.astype(date))
        step += 1


def sources_path(template: str, day: date) -> Path:
    """The sources file of `day`: `template` with `{date}` replaced by YYYY-MM-DD."""
    return Path(template.replace(PLACEHOLDER, day.isoformat()))


def plan(template: str, start: date, end: date, every: str = "month", *, last_as_of: date | None = None,
         allow_gaps: bool = False, resume: bool = False) -> Plan:
    """Check the snapshot series before anything runs; ConfigError/RunError say what is wrong."""
    if template.count(PLACEHOLDER) != 1:
        raise ConfigError(f"--sources must contain {PLACEHOLDER} exactly once",
                          hint="e.g. --sources 'history/{date}/sources.yaml'")
    days = dates_between(start, end, every)
    done = [d for d in days if last_as_of is not None and d <= last_as_of]
    if done and not resume:
        raise RunError(f"the warehouse already holds a committed run on {last_as_of}, on or after the "
                       f"first snapshot date {days[0]}: backfilling would go back in time",
                       hint="backfill into a new --out (or --warehouse), or pass --resume to skip the "
                            "dates it already holds")
    todo = [d for d in days if d not in done]
    gaps = [d for d in todo if not sources_path(template, d).is_file()]
    if gaps and not allow_gaps:
        shown = ", ".join(d.isoformat() for d in gaps[:5]) + (" ..." if len(gaps) > 5 else "")
        raise ConfigError(f"{len(gaps)} snapshot(s) missing from the series: {shown}",
                          file=sources_path(template, gaps[0]),
                          hint="supply them, or pass --allow-gaps to run the others in order")
    runs = [(d, sources_path(template, d)) for d in todo if d not in gaps]
    if not runs:
        raise RunError("no snapshot left to run", hint="every date is missing or already in the warehouse")
    return Plan(runs=runs, gaps=gaps, done=done)


def last_committed(warehouse: Path) -> date | None:
    """The as-of date of the warehouse's last committed run (None for a new warehouse)."""
    import duckdb  # noqa: PLC0415

    from targetgroup.warehouse import ALIAS, attached, has_table  # noqa: PLC0415

    if not warehouse.exists():
        return None
    con = duckdb.connect(":memory:")
    try:
        with attached(con, warehouse, read_only=True):
            if not has_table(con, "runs"):
                return None
            return con.execute(f"select max(as_of) from {ALIAS}.runs where status = 'committed'").fetchone()[0]
    finally:
        con.close()


def backfill(series: Plan, base, progress: Callable[[date, int, int], None] | None = None,
             stage_progress=None, outputs: str = "all") -> list:
    """Run each snapshot of `series` with `base` (a pipeline.RunSettings) as its settings but
    its own as-of date and sources file; return the runs. With `outputs="last"` only the last
    snapshot writes deliverables (RunSettings.deliverables). The first failure stops the
    backfill (its exception propagates; the snapshots before it stay committed)."""
    from targetgroup.pipeline import run_pipeline  # noqa: PLC0415

    if outputs not in OUTPUTS:
        raise ConfigError(f"unknown --outputs {outputs!r}", hint=f"use one of {', '.join(OUTPUTS)}")
    runs = []
    for number, (day, sources) in enumerate(series.runs, start=1):
        if progress:
            progress(day, number, len(series.runs))
        deliverables = base.deliverables and (outputs == "all" or number == len(series.runs))
        run = run_pipeline(replace(base, as_of=day, sources=sources, deliverables=deliverables), stage_progress)
        runs.append(run)
        if run.interrupted:   # stopped by a signal after its commit: the later snapshots wait
            break
    return runs
