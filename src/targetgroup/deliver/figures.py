"""Every count the leadership report and leadership_counts.csv publish, protected once, together.

    collect(con, run_id, as_of, changes, key, out=None, history_runs=24) -> Figures
    published_rows(fig) -> the rows of leadership_counts.csv (the HTML shows nothing else)

A figure is a cell keyed by a tuple, e.g. ("size", run_id), ("combo", "BUF+JOB"),
("duration", "dur_lt3m", "ongoing"). Every cell is rounded to base 5 by deliver.disclosure
(keyed, so a re-published figure keeps its value), then deliver.audit checks the rounded report
together with the previous run's published figures; cells a reader could still pin to fewer
than five values are hidden ('•') until the audit passes. A figure is shown the same way in
every table, chart and file that shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from targetgroup import meetings
from targetgroup.deliver import audit as disclosure_audit
from targetgroup.deliver.disclosure import BASE, Published, cell_name, protect
from targetgroup.deliver.files import write_csv
from targetgroup.deliver.outcomes import cells as outcome_cells
from targetgroup.errors import InputError
from targetgroup.warehouse import run_sql

DURATIONS = ("dur_lt3m", "dur_3_6m", "dur_6_12m", "dur_1_2y", "dur_ge2y")
COORD_BUCKETS = ("coord_1", "coord_2", "coord_3_4", "coord_5p")
STATES = ("ongoing", "ended")
COORD_SOURCES = ("recorded", "guessed", "none")
# names of the figures in leadership_counts.csv
CSV_BREAKDOWNS = {"combo": "department_combination", "dept": "department", "rule": "rule",
                  "duration": "course_duration", "courses": "courses", "team": "ongoing_courses_by_team",
                  "coord": "coordinators_by_courses", "outcome": "outcomes",
                  "coord_source": "courses_by_coordinator_source", "caseload": "caseload_against_capacity",
                  "meeting": "transition_meetings"}
MEETING_STATES = ("due", "held", "overdue")
# transition meetings, each counted once (meeting_status shows a meeting on every current flag
# that follows it): due on or before $as_of + $ahead days, of those held, and overdue (due on or
# before $as_of, not held)
MEETINGS_SQL = """
with meeting as (
    select distinct cpr, rule_id, kind, due_on, held, overdue
    from meeting_status
)

select count(*) filter (where due_on <= $as_of::date + $ahead::integer) as due,
    count(*) filter (where due_on <= $as_of::date + $ahead::integer and held) as held,
    count(*) filter (where overdue) as overdue
from meeting
"""
# coordinators with more / at most `$capacity` ongoing courses (the grain of leadership_figures' coord)
CASELOAD_SQL = """
with per_coordinator as (
    select coordinator, count(*) as courses
    from courses
    where ongoing and coordinator is not null
    group by coordinator
)

select count(*) filter (where courses > $capacity) as over, count(*) filter (where courses <= $capacity) as within
from per_coordinator
"""


@dataclass
class Figures:
    """The run's published counts: ordered keys per figure and the protected (rounded) cells."""

    run_id: str
    as_of: date
    runs: list[tuple[str, date]]
    keys: dict[str, list[tuple]] = field(default_factory=dict)
    cells: Published | None = None
    coins: dict[tuple, str] = field(default_factory=dict)
    audit: disclosure_audit.Audit | None = None
    inherited: frozenset = frozenset()  # figures the previous report alone pins or shows exactly
    safe: bool = False  # the audit pins nothing beyond `inherited`
    capacity: tuple[int | None, int | None] = (None, None)  # per caseworker, per team (config.Caseload)

    def show(self, key: tuple) -> str:
        """Text of a cell as published ('10', '•')."""
        return self.cells.show(key)

    def value(self, key: tuple) -> int | None:
        """Published (rounded) number of a cell, None if hidden."""
        return self.cells.value(key)


def collect(con: duckdb.DuckDBPyConnection, run_id: str, as_of: date, changes: dict[str, int], key: bytes,
            out: Path | None = None, history_runs: int = 24,
            capacity: tuple[int | None, int | None] = (None, None)) -> Figures:
    """Count everything for this run (needs targets, active_cases, courses, hist_runs), round it
    with `key` and audit it together with the last committed run's leadership_counts.csv (when
    its folder, as the ledger names it or by its name under `out`, is still there). `capacity`
    (courses per caseworker, per team) adds the coordinators over / within the first; the second
    is only set against the published team counts in the report (no new figure)."""
    run_sql(con, "leadership_figures.sql")
    rows = con.execute("select figure, grp, grp2, n from leadership_figures").fetchall()
    size = con.execute("select count(distinct cpr) from targets").fetchone()[0]
    hist = con.execute(
        """select run_id, as_of, citizens_flagged, flags_new, flags_ended, report_dir from hist_runs
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
    found_source = {r.grp: int(r.n) for r in frame[frame["figure"] == "coord_source"].itertuples()}
    fig.keys["coord_source"] = [("coord_source", s) for s in COORD_SOURCES]
    counts.update({("coord_source", s): found_source.get(s, 0) for s in COORD_SOURCES})
    relations.append([("courses", "ongoing"), *fig.keys["coord_source"]])
    fig.capacity = capacity
    fig.keys["caseload"] = []
    if capacity[0] is not None:
        over, within = con.execute(CASELOAD_SQL, {"capacity": int(capacity[0])}).fetchone()
        tag = f"capacity_{int(capacity[0])}"
        fig.keys["caseload"] = [("caseload", "caseworkers_over", tag), ("caseload", "caseworkers_within", tag)]
        counts.update(zip(fig.keys["caseload"], (int(over), int(within))))
        relations.append([("coord", "total"), *fig.keys["caseload"]])

    meetings.build_status(con, as_of)
    fig.keys["meeting"] = [("meeting", m) for m in MEETING_STATES]
    found_meetings = con.execute(MEETINGS_SQL, {"as_of": as_of, "ahead": meetings.DUE_AHEAD_DAYS}).fetchone()
    counts.update(zip(fig.keys["meeting"], (int(n) for n in found_meetings)))

    # outcomes after a course ends (deliver.outcomes; only when the run computed them)
    if con.execute("select count(*) from duckdb_tables() where table_name = 'oc_measures' and temporary").fetchone()[0]:
        found, fig.keys["outcome"], ties = outcome_cells(con, as_of)
        counts.update(found)
        relations.extend([total, *parts] for kind, total, parts in ties if kind == "eq")
    else:
        fig.keys["outcome"] = []

    first = con.execute("select run_id from hist_runs order by as_of, started_at, run_id limit 1").fetchone()
    first = first[0] if first else run_id
    if ("size", first) in counts and counts[("size", first)] == counts.get(("new", first)):
        relations.append([("size", first), ("new", first)])  # the first run: every flag is new

    keep = [*fig.keys["size"], ("courses", "ongoing"), ("courses", "ended"), ("coord", "total")]
    fig.coins = _same_coin(relations, counts, fig, len(fig.keys["rule"]) == 1)
    fig.cells = protect(counts, key, fig.coins)
    _hide_until_safe(fig, key, keep, _previous_report(hist[-1][5] if hist else None, out))
    for name in ("combo", "dept", "rule", "team"):
        # listed by the published number, never by the true one (the order would tell)
        fig.keys[name].sort(key=lambda k: (fig.cells.hidden(k), -(fig.cells.value(k) or 0), str(k[1])))
    return fig


def _same_coin(relations: list[list[tuple]], counts: dict[tuple, int], fig: Figures,
               one_rule: bool) -> dict[tuple, str]:
    """Cells that are one number by construction draw one rounding coin: a run's size, new and
    ended draw the coin of the series (not of the run), a relation of two cells is an equality,
    a part equal to its total is the total, and with one rule the ongoing courses are the
    citizens flagged."""
    parent: dict[tuple, tuple] = {}

    def root(cell: tuple) -> tuple:
        while parent.get(cell, cell) != cell:
            cell = parent[cell]
        return cell

    pairs = [rel for rel in relations if len(rel) == 2]
    # a part as large as its total is the total (the other parts are zero): one coin too
    pairs += [[rel[0], part] for rel in relations if len(rel) > 2 for part in rel[1:]
              if counts[part] == counts[rel[0]]]
    if one_rule:
        pairs.append([("size", fig.run_id), ("courses", "ongoing")])
    for left, right in pairs:
        if root(left) != root(right):
            parent[root(right)] = root(left)
    series = {k: name for name, kind in (("total", "size"), ("flags_new", "new"), ("flags_ended", "ended"))
              for k in fig.keys[kind]}
    coin = dict(series)
    for cell in {c for rel in pairs for c in rel}:
        top = root(cell)
        coin[cell] = series.get(top, cell_name(top))
    return coin


def _previous_report(folder: str | None, out: Path | None) -> disclosure_audit.Report | None:
    if not folder:
        return None
    for place in (Path(folder), *([Path(out) / Path(folder).name] if out else [])):
        if (place / disclosure_audit.COUNTS_FILE).is_file():
            try:
                return disclosure_audit.read_report(place)
            except InputError:
                return None  # an unreadable earlier report cannot be audited against; this one still is
    return None


def _hide_until_safe(fig: Figures, key: bytes, keep: list[tuple], previous: disclosure_audit.Report | None,
                     rounds: int = 12) -> None:
    """Audit the rounded figures (with the previous report) and hide one pinned cell of this
    report at a time, the smallest published one, headline figures last; when a pinned cell is
    hidden already or is the previous report's, hide a cell it is tied to. Repeat until the
    audit passes; after `rounds` rounds hide every such cell at once. Figures the previous report
    pins on its own (e.g. one written before rounding, with '<5') cannot be helped here: they
    are left out of the verdict and counted in `fig.inherited`."""
    index = 1 if previous is not None else 0
    if previous is not None:
        # a run's size, new or ended hidden in the previous report stays hidden in the series
        fig.cells = protect(fig.cells.counts, key, fig.coins,
                            fig.cells.hidden_cells | (_hidden_series(previous) & set(fig.cells.counts)))
    for round_ in range(rounds + 100):
        rows = published_rows(fig)
        current = disclosure_audit.report_from_frame(pd.DataFrame(rows), fig.run_id, fig.as_of, "this run")
        try:
            result = disclosure_audit.audit([r for r in (previous, current) if r is not None])
        except InputError:
            if previous is None:
                raise
            # the previous report does not fit this one (a rebuild, another rule set): audit alone
            previous, index, fig.inherited = None, 0, frozenset()
            continue
        fig.audit = result
        if not result.passed and previous is not None and not fig.inherited:
            alone = disclosure_audit.audit([previous])
            fig.inherited = frozenset({k for k, c in zip(alone.keys, alone.cells) if c.pinned} | alone.unprotected)
        pinned = [(k, c) for k, c in zip(result.keys, result.cells) if c.pinned and k not in fig.inherited]
        fig.safe = not pinned
        if fig.safe:
            return
        mine = {_audit_key(row, fig, index): row["key"] for row in rows}
        candidates: list[tuple] = []
        for akey, cell in pinned:
            if akey in mine and not fig.cells.hidden(mine[akey]):
                candidates.append(mine[akey])
            else:
                candidates.extend(mine[k] for k in sorted(result.neighbours.get(akey, ()), key=str)
                                  if k in mine and not fig.cells.hidden(mine[k]))
        if not candidates:
            return  # nothing of this report is left to hide; the audit's verdict stays in fig.audit
        candidates.sort(key=lambda k: (k in keep, fig.cells.published[k]))
        hide = set(candidates) if round_ >= rounds else {candidates[0]}
        fig.cells = protect(fig.cells.counts, key, fig.coins, fig.cells.hidden_cells | hide)


def _hidden_series(report: disclosure_audit.Report) -> set[tuple]:
    """The series cells (size, new, ended of a run) a published report shows as hidden."""
    kinds = {"total": "size", "new": "new", "ended": "ended"}
    hidden = set()
    for row in report.rows.itertuples(index=False):
        if row.breakdown in disclosure_audit.SERIES and row.count.strip() in disclosure_audit.HIDDEN:
            run_id = report.run_id if row.breakdown in CURRENT.values() else row.subgroup
            hidden.add((kinds[disclosure_audit.SERIES[row.breakdown]], run_id))
    return hidden


def _audit_key(row: dict, fig: Figures, index: int) -> tuple:
    """The audit's name of a published row (deliver.audit._figures)."""
    b = row["breakdown"]
    if b in disclosure_audit.SERIES:
        run_id = fig.run_id if b in ("total", "flags_new", "flags_ended") else row["subgroup"]
        return ("series", disclosure_audit.SERIES[b], run_id)
    return ("cell", index, b, row["group"], row["subgroup"])


HISTORY = {"size": "total_history", "new": "flags_new_history", "ended": "flags_ended_history"}
CURRENT = {"size": "total", "new": "flags_new", "ended": "flags_ended"}


def published_rows(fig: Figures) -> list[dict]:
    """Every published figure as a row of leadership_counts.csv (breakdown, group, subgroup,
    count as shown, rounded_to) plus the cell's key; the series of earlier runs that the HTML
    report draws are rows *_history (group: as-of date, subgroup: run id)."""
    as_of = dict(fig.runs)
    rows = []
    for cell in fig.cells.counts:
        figure = cell[0]
        if figure in CURRENT:
            if cell[1] == fig.run_id:
                row = {"breakdown": CURRENT[figure], "group": "all", "subgroup": ""}
            else:
                row = {"breakdown": HISTORY[figure], "group": as_of[cell[1]].isoformat(), "subgroup": cell[1]}
        else:
            row = {"breakdown": CSV_BREAKDOWNS.get(figure, figure), "group": cell[1],
                   "subgroup": cell[2] if len(cell) > 2 else ""}
        rows.append({**row, "count": fig.show(cell), "rounded_to": BASE, "key": cell})
    return rows


AUDIT_WARNING = ("leadership figures: the disclosure audit still pins a figure with everything of this report "
                 "hidden that could be; check the reports with `targetgroup audit-disclosure` (docs/disclosure.md)")


def disclosure_summary(fig: Figures) -> dict:
    """For the manifest: base, figures, hidden, the audit's verdict and whether the previous
    report took part."""
    return {"rounded_to": BASE, "cells": len(fig.cells.counts), "hidden": len(fig.cells.hidden_cells),
            "audit_passed": fig.safe, "audited_with_previous_report": len(fig.audit.reports) > 1,
            "pinned_by_the_previous_report_alone": len(fig.inherited)}


def write_counts_csv(fig: Figures, path: Path, rules_hash: str | None = None) -> Path:
    """leadership_counts.csv: every published figure (breakdown, group, subgroup, count as shown,
    rounded_to), each row with the rule set's content hash."""
    frame = pd.DataFrame(published_rows(fig), columns=["breakdown", "group", "subgroup", "count", "rounded_to"])
    frame["rules_hash"] = rules_hash
    return write_csv(path, frame)


def counts_frame(fig: Figures) -> pd.DataFrame:
    """All figures of this run as a frame (for the analysts' Parquet): count is the published
    (rounded) number, null when hidden; the true small counts never leave the report's audit."""
    rows = [{"figure": k[0], "group": str(k[1]), "subgroup": k[2] if len(k) > 2 else None,
             "count": fig.value(k), "shown": fig.show(k)} for k in fig.cells.counts]
    return pd.DataFrame(rows, columns=["figure", "group", "subgroup", "count", "shown"])
