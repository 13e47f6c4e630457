"""Every count the leadership report and leadership_counts.csv publish, suppressed once, together.

    collect(con, run_id, as_of, changes, history_runs=24) -> Figures

A figure is a cell keyed by a tuple, e.g. ("size", run_id), ("combo", "BUF+JOB"),
("duration", "dur_lt3m", "ongoing"). The relations between cells (totals and their parts, a
run's size with the previous size and the new and ended flags) go to deliver.suppression, so a
figure is hidden the same way in every table, chart and file that shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from targetgroup.deliver.files import write_csv
from targetgroup.deliver.suppression import Suppressed, suppress
from targetgroup.warehouse import run_sql

DURATIONS = ("dur_lt3m", "dur_3_6m", "dur_6_12m", "dur_1_2y", "dur_ge2y")
COORD_BUCKETS = ("coord_1", "coord_2", "coord_3_4", "coord_5p")
STATES = ("ongoing", "ended")
# names of the figures in leadership_counts.csv
CSV_BREAKDOWNS = {"combo": "department_combination", "dept": "department", "rule": "rule",
                  "duration": "course_duration", "courses": "courses", "team": "ongoing_courses_by_team",
                  "coord": "coordinators_by_courses"}


@dataclass
class Figures:
    """The run's published counts: ordered keys per figure and the suppression outcome."""

    run_id: str
    as_of: date
    runs: list[tuple[str, date]]
    keys: dict[str, list[tuple]] = field(default_factory=dict)
    cells: Suppressed | None = None

    def show(self, key: tuple) -> str:
        """Text of a cell as published ('12', '<5', '•')."""
        return self.cells.show(key)

    def value(self, key: tuple) -> int | None:
        """Number of a cell, None if hidden."""
        return self.cells.value(key)


def collect(con: duckdb.DuckDBPyConnection, run_id: str, as_of: date, changes: dict[str, int],
            history_runs: int = 24) -> Figures:
    """Count everything for this run (needs targets, active_cases, courses, hist_runs)."""
    run_sql(con, "leadership_figures.sql")
    rows = con.execute("select figure, grp, grp2, n from leadership_figures").fetchall()
    size = con.execute("select count(distinct cpr) from targets").fetchone()[0]
    hist = con.execute(
        """select run_id, as_of, citizens_flagged, flags_new, flags_ended from hist_runs
           order by as_of desc, started_at desc, run_id desc limit ?""", [history_runs - 1]).fetchall()[::-1]
    fig = Figures(run_id=run_id, as_of=as_of, runs=[(r[0], r[1]) for r in hist] + [(run_id, as_of)])
    counts: dict[tuple, int] = {}
    relations: list[list[tuple]] = []

    # over time: size, new, ended per run (the current run from this run's numbers)
    series = [(r[0], r[2], r[3], r[4]) for r in hist] + [(run_id, size, changes["new"], changes["ended"])]
    for rid, n_size, n_new, n_ended in series:
        counts[("size", rid)] = int(n_size or 0)
        if n_new is not None:
            counts[("new", rid)] = int(n_new)
        if n_ended is not None:
            counts[("ended", rid)] = int(n_ended)
    for (prev, *_), (rid, *_) in zip(series, series[1:]):
        rel = [("size", rid), ("size", prev), ("new", rid), ("ended", rid)]
        if all(k in counts for k in rel):
            relations.append(rel)
    fig.keys["size"] = [("size", rid) for rid, *_ in series]
    fig.keys["new"] = [("new", rid) for rid, *_ in series if ("new", rid) in counts]
    fig.keys["ended"] = [("ended", rid) for rid, *_ in series if ("ended", rid) in counts]

    frame = pd.DataFrame(rows, columns=["figure", "grp", "grp2", "n"])
    total = ("size", run_id)
    for name in ("combo", "dept", "rule", "team"):
        part = frame[frame["figure"] == name].sort_values(["n", "grp"], ascending=[False, True])
        fig.keys[name] = [(name, g) for g in part["grp"]]
        counts.update({(name, g): int(n) for g, n in zip(part["grp"], part["n"])})
    relations.append([total, *fig.keys["combo"]])
    for _, dept in fig.keys["dept"]:
        relations.append([("dept", dept), *[k for k in fig.keys["combo"] if dept in k[1].split("+")]])
    if len(fig.keys["rule"]) == 1:
        relations.append([total, fig.keys["rule"][0]])

    found = {(r.grp, r.grp2): int(r.n) for r in frame[frame["figure"] == "duration"].itertuples()}
    course_totals = {r.grp: int(r.n) for r in frame[frame["figure"] == "courses"].itertuples()}
    for state in STATES:
        keys = [("duration", b, state) for b in DURATIONS]
        counts.update({k: found.get((k[1], state), 0) for k in keys})
        counts[("courses", state)] = course_totals.get(state, 0)
        relations.append([("courses", state), *keys])
        fig.keys[f"duration_{state}"] = keys
    relations.append([("courses", "ongoing"), *fig.keys["team"]])

    coord = {r.grp: int(r.n) for r in frame[frame["figure"] == "coord"].itertuples()}
    fig.keys["coord"] = [("coord", b) for b in COORD_BUCKETS]
    counts.update({("coord", b): coord.get(b, 0) for b in COORD_BUCKETS})
    counts[("coord", "total")] = sum(coord.values())
    relations.append([("coord", "total"), *fig.keys["coord"]])

    keep = [*fig.keys["size"], ("courses", "ongoing"), ("courses", "ended"), ("coord", "total")]
    fig.cells = suppress(counts, relations, keep)
    return fig


def write_counts_csv(fig: Figures, path: Path, rules_hash: str | None = None) -> Path:
    """leadership_counts.csv: every published figure (breakdown, group, subgroup, count as shown),
    each row with the rule set's content hash."""
    current = fig.run_id
    rows = []
    for key in fig.cells.counts:
        figure = key[0]
        if figure in ("size", "new", "ended"):
            if key[1] != current:
                continue  # earlier runs' figures are in their own run folders
            rows.append({"breakdown": {"size": "total", "new": "flags_new", "ended": "flags_ended"}[figure],
                         "group": "all", "subgroup": "", "count": fig.show(key)})
        else:
            rows.append({"breakdown": CSV_BREAKDOWNS.get(figure, figure), "group": key[1], "subgroup": key[2] if len(key) > 2 else "",
                         "count": fig.show(key)})
    frame = pd.DataFrame(rows, columns=["breakdown", "group", "subgroup", "count"])
    frame["rules_hash"] = rules_hash
    return write_csv(path, frame)


def counts_frame(fig: Figures) -> pd.DataFrame:
    """All figures of this run as a frame (for the analysts' Parquet): count null when hidden."""
    rows = [{"figure": k[0], "group": str(k[1]), "subgroup": k[2] if len(k) > 2 else None,
             "count": fig.value(k), "shown": fig.show(k)} for k in fig.cells.counts]
    return pd.DataFrame(rows, columns=["figure", "group", "subgroup", "count", "shown"])
