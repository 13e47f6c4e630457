"""The disclosure audit: how far can a reader narrow each protected leadership figure?

    read_report(folder)                 -> Report (leadership_counts.csv + run id and as-of)
    report_from_frame(frame, run_id, as_of)
    audit(reports)                      -> Audit (one CellRange per protected cell; .passed)

Every figure one or more reports publish becomes an unknown non-negative integer. What a reader
sees constrains it:
- a figure rounded to base b (column `rounded_to`) and shown as R: R-b+1 .. R+b-1, at least 0;
- a hidden figure ('•'): at least 0; a legacy '<5': 1 .. 4; an unrounded number: exactly that;
- relations that hold by construction (grain of each figure: sql/leadership_figures.sql):
  each department = sum of the combinations that contain it; combinations <= total; each rule
  <= total <= sum of the rules; ongoing courses = sum over teams = sum over ongoing durations;
  ended courses = sum over ended durations; coordinators = sum of their buckets, and
  1*c1 + 2*c2 + 3*c3_4 + 5*c5p <= ongoing courses;
- relations that usually hold ("soft"): total = sum of combinations (not with citizens
  included by hand); with one rule, ongoing courses = total, each run's total = previous total
  + new - ended (new and ended count flags, one per citizen per rule), and the earliest run
  shown may be the first of all (total = new, ended = 0); across reports (consecutive in time),
  ended courses grow by the ended flags of the runs in between, ongoing courses by new - ended,
  and ended courses per duration never shrink. A run's size, new and ended are the same
  unknowns in every report that shows them;
- ongoing courses = sum over where their coordinator comes from (recorded, guessed, none);
- outcomes (per cohort and horizon): followed <= cohort, departments 0 + 1 + 2+ = followed,
  back in the group / benefit / education <= followed;
- transition meetings: held + overdue <= due (an overdue meeting is due and not held);
- caseload against a capacity of N courses per coordinator: coordinators over + within =
  coordinators; (N+1)*over + within <= ongoing courses; over <= c5p when N >= 4, else
  c5p <= over.

For each protected cell (rounded or hidden) the smallest and largest value of the integer
program (scipy.optimize.linprog with integrality, HiGHS) are its range. A cell is PINNED when
the range excludes 0 and holds fewer than MIN_VALUES (5) integers: so a range inside 1 .. 4
(excluding both 0 and 5) always is, and so is e.g. 66 .. 69; 0 .. 2 is not (the reader cannot
tell whether anybody is counted). Relations that usually but not always hold are used when the
published figures satisfy them (a reader would try them too) and listed as left out otherwise.
Counts only: the audit reads published figures, never case data.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from targetgroup.errors import InputError

COUNTS_FILE = "leadership_counts.csv"
MIN_VALUES = 5
HIDDEN = ("•", "<5")
SERIES = {"total": "total", "flags_new": "new", "flags_ended": "ended",
          "total_history": "total", "flags_new_history": "new", "flags_ended_history": "ended"}
DURATIONS = ("dur_lt3m", "dur_3_6m", "dur_6_12m", "dur_1_2y", "dur_ge2y")
COORD_WEIGHTS = {"coord_1": 1, "coord_2": 2, "coord_3_4": 3, "coord_5p": 5}


@dataclass
class Report:
    """One report's published figures: rows (breakdown, group, subgroup, count, rounded_to)."""

    name: str
    run_id: str
    as_of: date
    rows: pd.DataFrame


@dataclass
class CellRange:
    """What a reader can know of one protected figure: lo .. hi (hi None: no upper bound)."""

    label: str
    shown: str
    lo: int
    hi: int | None

    @property
    def values(self) -> float:
        """How many integers the range holds."""
        return math.inf if self.hi is None else self.hi - self.lo + 1

    @property
    def pinned(self) -> bool:
        """The reader knows the figure is not 0 and has fewer than MIN_VALUES values left for it.
        So every range inside 1..4 (it excludes both 0 and 5) is pinned; a range that still holds
        0 is not (the reader cannot tell whether anybody is counted at all)."""
        return self.lo >= 1 and self.values < MIN_VALUES


@dataclass
class Audit:
    """The ranges of every protected cell, in report order; `passed` when none is pinned."""

    reports: list[str]
    cells: list[CellRange] = field(default_factory=list)
    keys: list[tuple] = field(default_factory=list)
    neighbours: dict[tuple, set] = field(default_factory=dict)
    unprotected: set = field(default_factory=set)  # figures published exactly (not audited)
    assumed: int = 0
    dropped: list[str] = field(default_factory=list)

    @property
    def pinned(self) -> list[CellRange]:
        """The cells a reader can narrow too far."""
        return [c for c in self.cells if c.pinned]

    @property
    def passed(self) -> bool:
        """True when no protected cell is pinned."""
        return not self.pinned


def report_from_frame(frame: pd.DataFrame, run_id: str, as_of: date, name: str = "report") -> Report:
    """A Report from published rows (columns breakdown, group, subgroup, count[, rounded_to])."""
    rows = frame.copy()
    if "rounded_to" not in rows.columns:
        rows["rounded_to"] = ""
    rows = rows[["breakdown", "group", "subgroup", "count", "rounded_to"]].fillna("").astype(str)
    return Report(name=name, run_id=run_id, as_of=as_of, rows=rows.reset_index(drop=True))


def read_report(folder: Path) -> Report:
    """Read a run folder's leadership_counts.csv; run id and as-of from manifest.json, else the
    folder name (<as-of>_<run-id>). InputError when the folder has no such file."""
    folder = Path(folder)
    path = folder / COUNTS_FILE
    if not path.is_file():
        raise InputError(f"no {COUNTS_FILE} in this folder", file=folder,
                         hint="give a run folder, e.g. reports/2026-11-01_<run-id>")
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"not a readable CSV ({type(exc).__name__})", file=path) from None
    missing = {"breakdown", "group", "subgroup", "count"} - set(frame.columns)
    if missing:
        raise InputError(f"columns missing: {', '.join(sorted(missing))}", file=path)
    run_id, as_of = _identity(folder)
    return report_from_frame(frame, run_id, as_of, name=folder.name)


def _identity(folder: Path) -> tuple[str, date]:
    manifest = folder / "manifest.json"
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        return str(data["run_id"]), date.fromisoformat(str(data["as_of"]))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    as_of, _, run_id = folder.name.partition("_")
    try:
        return run_id or folder.name, date.fromisoformat(as_of)
    except ValueError:
        raise InputError("cannot tell the run's as-of date: no manifest.json and the folder is not named "
                         "<as-of>_<run-id>", file=folder) from None


class _Problem:
    """Unknowns (one per distinct figure), their bounds and the linear relations between them."""

    def __init__(self) -> None:
        self.index: dict[tuple, int] = {}
        self.lo: list[float] = []
        self.hi: list[float] = []
        self.label: dict[tuple, str] = {}
        self.shown: dict[tuple, list[str]] = defaultdict(list)
        self.protected: set[tuple] = set()
        self.eq: list[dict[int, float]] = []
        self.le: list[tuple[dict[int, float], float]] = []
        self.soft: list[tuple[str, str, dict[int, float], float]] = []  # (what, 'eq'|'le', row, bound)

    def var(self, key: tuple) -> int:
        if key not in self.index:
            self.index[key] = len(self.lo)
            self.lo.append(0.0)
            self.hi.append(math.inf)
        return self.index[key]

    def publish(self, key: tuple, label: str, text: str, base: str) -> None:
        """Bound `key` by what one report shows of it."""
        i = self.var(key)
        self.label.setdefault(key, label)
        self.shown[key].append(text)
        text = text.strip()
        if text == "<5":
            lo, hi = 1.0, 4.0
        elif text in HIDDEN or text == "":
            lo, hi = 0.0, math.inf
        else:
            try:
                n = int(text)
            except ValueError:
                raise InputError(f"count '{text[:8]}' of {label} is neither a number nor '•' / '<5'") from None
            b = int(base) if base.strip().isdigit() else 1
            lo, hi = max(0.0, n - b + 1.0), n + b - 1.0
        if text in HIDDEN or (base.strip().isdigit() and int(base) > 1):
            self.protected.add(key)
        self.lo[i], self.hi[i] = max(self.lo[i], lo), min(self.hi[i], hi)

    def equal(self, left: list[tuple], right: list[tuple], sign_right: list[float] | None = None,
              soft: str | None = None) -> None:
        """sum(left) = sum(sign * right); `soft` names a relation that usually holds (see audit)."""
        row: dict[int, float] = defaultdict(float)
        for k in left:
            row[self.var(k)] += 1.0
        for k, s in zip(right, sign_right or [1.0] * len(right)):
            row[self.var(k)] -= s
        if soft:
            self.soft.append((soft, "eq", dict(row), 0.0))
        else:
            self.eq.append(dict(row))

    def at_most(self, terms: dict[tuple, float], bound: float = 0.0, soft: str | None = None) -> None:
        """sum(coef * key) <= bound."""
        row: dict[int, float] = defaultdict(float)
        for k, c in terms.items():
            row[self.var(k)] += c
        if soft:
            self.soft.append((soft, "le", dict(row), bound))
        else:
            self.le.append((dict(row), bound))


def _figures(report: Report, i: int, problem: _Problem) -> dict:
    """Register one report's published rows; returns its cells by kind for the relations."""
    cells: dict = {"series": [], "combo": [], "dept": [], "rule": [], "team": [], "duration": {}, "courses": {},
                   "coord": {}, "outcome": {}, "coord_source": {}, "caseload": {}, "meeting": {}}
    for row in report.rows.itertuples(index=False):
        b, g, s = row.breakdown, row.group, row.subgroup
        if b in SERIES:
            run_id = report.run_id if b in ("total", "flags_new", "flags_ended") else s
            as_of = report.as_of.isoformat() if b in ("total", "flags_new", "flags_ended") else g
            key = ("series", SERIES[b], run_id)
            label = f"{SERIES[b]} of run {as_of}"
            cells["series"].append((as_of, run_id, SERIES[b], key))
        else:
            key = ("cell", i, b, g, s)
            label = f"{report.as_of.isoformat()} {b} {g}{' ' + s if s else ''}"
            kind = {"department_combination": "combo", "department": "dept", "rule": "rule",
                    "ongoing_courses_by_team": "team"}.get(b)
            if kind:
                cells[kind].append((g, key))
            elif b == "course_duration":
                cells["duration"][(g, s)] = key
            elif b == "courses":
                cells["courses"][g] = key
            elif b == "coordinators_by_courses":
                cells["coord"][g] = key
            elif b == "outcomes":
                cells["outcome"][(g, s)] = key
            elif b == "transition_meetings":
                cells["meeting"][g] = key
            elif b == "courses_by_coordinator_source":
                cells["coord_source"][g] = key
            elif b == "caseload_against_capacity" and s.startswith("capacity_") and s[9:].isdigit():
                cells["caseload"][g] = (key, int(s[9:]))
        problem.publish(key, label, row.count, row.rounded_to)
    return cells


def _caseload_relations(caseload: dict, coord: dict, ongoing, problem: _Problem) -> None:
    """Coordinators over / within a capacity of N courses: they split the coordinators, each
    over one holds at least N+1 ongoing courses, and the 5+ bucket is inside or around them."""
    if set(caseload) != {"caseworkers_over", "caseworkers_within"}:
        return
    (over, capacity), (within, _) = caseload["caseworkers_over"], caseload["caseworkers_within"]
    if "total" in coord:
        problem.equal([coord["total"]], [over, within])
    if ongoing:
        problem.at_most({over: float(capacity + 1), within: 1.0, ongoing: -1.0})
    if "coord_5p" in coord:
        problem.at_most({over: 1.0, coord["coord_5p"]: -1.0} if capacity >= 4 else {coord["coord_5p"]: 1.0, over: -1.0})


def _relations(report: Report, cells: dict, problem: _Problem) -> dict:
    """The relations inside one report; returns its series in time order for the cross-report ones."""
    total = ("series", "total", report.run_id)
    combos, depts, rules = cells["combo"], cells["dept"], cells["rule"]
    if combos:
        problem.at_most({**{k: 1.0 for _, k in combos}, total: -1.0})
        problem.equal([total], [k for _, k in combos], soft=f"{report.as_of}: every citizen flagged has a combination")
    for dept, key in depts:
        problem.equal([key], [k for g, k in combos if dept in g.split("+")])
    for _, key in rules:
        problem.at_most({key: 1.0, total: -1.0})
    if rules:
        problem.at_most({total: 1.0, **{k: -1.0 for _, k in rules}})
    ongoing, ended = cells["courses"].get("ongoing"), cells["courses"].get("ended")
    if ongoing and cells["team"]:
        problem.equal([ongoing], [k for _, k in cells["team"]])
    for state, key in (("ongoing", ongoing), ("ended", ended)):
        parts = [cells["duration"][(b, state)] for b in DURATIONS if (b, state) in cells["duration"]]
        if key and parts:
            problem.equal([key], parts)
    coord = cells["coord"]
    if "total" in coord:
        problem.equal([coord["total"]], [coord[b] for b in COORD_WEIGHTS if b in coord])
    if ongoing and cells["coord_source"]:
        problem.equal([ongoing], list(cells["coord_source"].values()))
    if ongoing and all(b in coord for b in COORD_WEIGHTS):
        problem.at_most({**{coord[b]: float(w) for b, w in COORD_WEIGHTS.items()}, ongoing: -1.0})
    _outcome_relations(cells["outcome"], problem)
    _caseload_relations(cells["caseload"], coord, ongoing, problem)
    meeting = cells["meeting"]
    if set(meeting) == {"due", "held", "overdue"}:
        problem.at_most({meeting["held"]: 1.0, meeting["overdue"]: 1.0, meeting["due"]: -1.0})
    runs: dict[str, dict] = {}
    for as_of, run_id, kind, key in cells["series"]:
        runs.setdefault(run_id, {"as_of": as_of})[kind] = key
    series = sorted(runs.items(), key=lambda item: item[1]["as_of"])
    if len(rules) == 1:
        if ongoing:
            problem.equal([ongoing], [total], soft=f"{report.as_of}: one rule, one course per citizen")
        first = series[0][1] if series else {}
        if {"total", "new", "ended"} <= set(first):
            problem.equal([first["total"]], [first["new"]], soft=f"run {first['as_of']} was the first: size = new")
            problem.equal([first["ended"]], [], soft=f"run {first['as_of']} was the first: nothing ended")
        for (_, prev), (_, now) in zip(series, series[1:]):
            if {"total", "new", "ended"} <= set(now) and "total" in prev:
                problem.equal([now["total"]], [prev["total"], now["new"], now["ended"]], [1.0, 1.0, -1.0],
                              soft=f"size of run {now['as_of']} = previous size + new - ended")
    return {"series": series, "courses": cells["courses"], "duration": cells["duration"]}


def _outcome_relations(cells: dict[tuple[str, str], tuple], problem: _Problem) -> None:
    """Outcomes (deliver.outcomes): per cohort and horizon, followed <= cohort; departments
    0 + 1 + 2+ = followed; back in the group, benefit and education each <= followed."""
    for (group, sub), key in cells.items():
        horizon, _, measure = sub.partition(":")
        if measure != "followed":
            continue
        cohort = cells.get((group, "cohort"))
        if cohort:
            problem.at_most({key: 1.0, cohort: -1.0})
        parts = [cells.get((group, f"{horizon}:departments_{b}")) for b in ("0", "1", "2p")]
        if all(parts):
            problem.equal([key], parts)
        for other in ("back_in_group", "benefit", "education"):
            part = cells.get((group, f"{horizon}:{other}"))
            if part:
                problem.at_most({part: 1.0, key: -1.0})


def _across(before: Report, after: Report, b: dict, a: dict, problem: _Problem) -> None:
    """Relations between a report and the next one in time."""
    later = [run for run_id, run in a["series"] if run["as_of"] > before.as_of.isoformat()]
    known = [run_id for run_id, _ in a["series"]]
    if before.run_id not in known or not all("new" in r and "ended" in r for r in later):
        return  # the later report's series does not reach back to the earlier run
    news, ends = [r["new"] for r in later], [r["ended"] for r in later]
    if "ended" in a["courses"] and "ended" in b["courses"]:
        problem.equal([a["courses"]["ended"]], [b["courses"]["ended"], *ends],
                      soft=f"ended courses {after.as_of} = {before.as_of} + ended flags in between")
    if "ongoing" in a["courses"] and "ongoing" in b["courses"]:
        problem.equal([a["courses"]["ongoing"]], [b["courses"]["ongoing"], *news, *ends],
                      [1.0] + [1.0] * len(news) + [-1.0] * len(ends),
                      soft=f"ongoing courses {after.as_of} = {before.as_of} + new - ended in between")
    for bucket in DURATIONS:
        old, new = b["duration"].get((bucket, "ended")), a["duration"].get((bucket, "ended"))
        if old and new:
            problem.at_most({old: 1.0, new: -1.0}, soft=f"ended courses of {bucket} never shrink")


def audit(reports: list[Report]) -> Audit:
    """The range of every protected figure under everything `reports` publish together."""
    import numpy as np  # noqa: PLC0415
    from scipy.optimize import linprog  # noqa: PLC0415 - scipy is slow to import; only the audit needs it

    reports = sorted(reports, key=lambda r: (r.as_of, r.run_id))
    problem = _Problem()
    parsed = [_relations(r, _figures(r, i, problem), problem) for i, r in enumerate(reports)]
    for (before, b), (after, a) in zip(zip(reports, parsed), list(zip(reports, parsed))[1:]):
        _across(before, after, b, a, problem)

    n = len(problem.lo)
    bounds = [(lo, None if math.isinf(hi) else hi) for lo, hi in zip(problem.lo, problem.hi)]

    def solve(objective: np.ndarray, eq: list, le: list):
        a_eq = np.zeros((len(eq), n))
        for r, row in enumerate(eq):
            for j, c in row.items():
                a_eq[r, j] = c
        a_ub = np.zeros((len(le), n))
        for r, (row, _) in enumerate(le):
            for j, c in row.items():
                a_ub[r, j] = c
        common = {"A_ub": a_ub if le else None, "b_ub": np.array([b for _, b in le]) if le else None,
                  "A_eq": a_eq if eq else None, "b_eq": np.zeros(len(eq)) if eq else None,
                  "bounds": bounds, "method": "highs", "options": {"presolve": False}}
        # The linear relaxation first: when its optimum is integral it is the integer optimum too
        # (sums of counts almost always are); otherwise the integer program decides.
        found = linprog(objective, **common)
        if found.status == 0 and not np.allclose(found.x, np.round(found.x), atol=1e-7):
            found = linprog(objective, integrality=np.ones(n), **common)
        return found

    zero = np.zeros(n)
    eq, le = list(problem.eq), list(problem.le)
    if solve(zero, eq, le).status == 2:
        raise InputError("the published figures contradict relations that hold by construction (no solution): "
                         "were the files edited, or written by another version?",
                         file=", ".join(r.name for r in reports))
    dropped = []
    for what, kind, row, bound in problem.soft:
        trial = (eq + [row], le) if kind == "eq" else (eq, le + [(row, bound)])
        if solve(zero, *trial).status == 2:
            dropped.append(what)  # does not hold for these figures: a reader cannot use it either
        else:
            eq, le = trial

    result = Audit(reports=[r.name for r in reports], assumed=len(problem.soft) - len(dropped), dropped=dropped)
    names = {i: k for k, i in problem.index.items()}
    result.unprotected = set(problem.index) - problem.protected
    for row in [*eq, *(r for r, _ in le)]:
        for j in row:
            result.neighbours.setdefault(names[j], set()).update(names[m] for m in row if m != j)
    # Each cell's range depends only on the figures tied to it through some relation (its
    # connected component): solving on that component alone gives the same range, much faster.
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    rows_eq, rows_le = eq, le
    for row in [*rows_eq, *(r for r, _ in rows_le)]:
        first, *rest = list(row) or [None]
        for j in rest:
            parent[root(j)] = root(first)
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        members[root(i)].append(i)

    def component(i: int) -> tuple[list[int], list, list]:
        cols = members[root(i)]
        where = {j: c for c, j in enumerate(cols)}
        sub_eq = [{where[j]: c for j, c in row.items()} for row in rows_eq if root(next(iter(row))) == root(i)]
        sub_le = [({where[j]: c for j, c in row.items()}, b) for row, b in rows_le if root(next(iter(row))) == root(i)]
        return cols, sub_eq, sub_le

    def solve_on(cols: list[int], objective: np.ndarray, sub_eq: list, sub_le: list):
        m = len(cols)
        a_eq = np.zeros((len(sub_eq), m))
        for r, row in enumerate(sub_eq):
            for j, c in row.items():
                a_eq[r, j] = c
        a_ub = np.zeros((len(sub_le), m))
        for r, (row, _) in enumerate(sub_le):
            for j, c in row.items():
                a_ub[r, j] = c
        common = {"A_ub": a_ub if sub_le else None, "b_ub": np.array([b for _, b in sub_le]) if sub_le else None,
                  "A_eq": a_eq if sub_eq else None, "b_eq": np.zeros(len(sub_eq)) if sub_eq else None,
                  "bounds": [bounds[j] for j in cols], "method": "highs", "options": {"presolve": False}}
        found = linprog(objective, **common)
        if found.status == 0 and not np.allclose(found.x, np.round(found.x), atol=1e-7):
            found = linprog(objective, integrality=np.ones(m), **common)
        return found

    cache: dict[int, tuple] = {}
    for key in sorted(problem.protected, key=lambda k: problem.index[k]):
        i = problem.index[key]
        if root(i) not in cache:
            cache[root(i)] = component(i)
        cols, sub_eq, sub_le = cache[root(i)]
        objective = np.zeros(len(cols))
        objective[cols.index(i)] = 1.0
        if not sub_eq and not sub_le:   # tied to nothing: its own bounds are its range
            lo, hi = bounds[i]
            result.cells.append(CellRange(label=problem.label[key], shown="/".join(dict.fromkeys(problem.shown[key])),
                                          lo=round(lo), hi=None if hi is None else round(hi)))
            result.keys.append(key)
            continue
        low = solve_on(cols, objective, sub_eq, sub_le)
        high = solve_on(cols, -objective, sub_eq, sub_le)
        hi = None if high.status == 3 else round(-high.fun)
        result.cells.append(CellRange(label=problem.label[key], shown="/".join(dict.fromkeys(problem.shown[key])),
                                      lo=round(low.fun), hi=hi))
        result.keys.append(key)
    return result
