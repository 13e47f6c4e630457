"""A synthetic municipality as it evolves: monthly extract snapshots drawn from one seed.

    generate_history(out_dir, months=18, citizens=3_000, seed=42, end=date(2026, 11, 1), fmt="parquet")

writes `out_dir/<yyyy-mm-dd>/` for each of `months` monthly dates ending on `end` (the first of
each month when `end` is a first), each with its own `sources.yaml` and extracts, and returns the
dates. The same arguments give the same files.

One population and one case book are drawn for the whole period (population.py, cases.py), and
each snapshot shows what the systems would have delivered on its date (grain of each extract as
in `generate`: one row per citizen, one row per case):
- citizens born after the date, or moving in after it, are not yet in the CPR extract;
- a death or a move away shows from its date on;
- a case shows from its start date; one that ended during the period shows as closed
  (the system's closed code) in snapshots after its end date;
- households split: a parent moves to a household of their own during the period;
- courses end (a case in one of two departments closes) and some citizens come back (a new case
  in that department months later); others come in new (cases in two departments starting
  during the period);
- caseworkers remove a few flags (about 5 % of the citizens with active cases in two departments,
  1-3 months after they first are): each snapshot has the departments' removal files
  (`fjernelser/<DEPT>.csv`, `suppressions:` in its sources.yaml), which list every removal made
  up to its date, as a department keeps adding to one file. Removed citizens and those who refused
  consent in the SOC extract are the outcomes' descriptive comparison group (docs/outcomes.md);
- caseworkers record most review meetings (60 %, around the date a review falls due every 6 months
  of a course: `moeder/<DEPT>.csv`, `meetings:` in its sources.yaml); the others stay overdue.
Status codes and case types are only those `sources.yaml` declares (checked as in `generate`).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import yaml

from targetgroup.errors import ConfigError
from targetgroup.sample import cases as case_book
from targetgroup.sample.cases import ACTIVE, CLOSED, DEPARTMENTS, PASSIVE, STATUS_ROLES, check_vocabulary
from targetgroup.sample.population import Population, add_months, age_on, alive_and_resident, build_population
from targetgroup.sample.write import CPR_STYLE, case_table, derived_sources, person_table, styled_cpr, write_extract

MONTHS = (12, 24)          # the shortest and longest history `--history` accepts
HISTORY_FORMATS = ("parquet", "csv", "mixed")
HISTORY_CITIZENS = 3_000   # small enough that backfilling 18 snapshots takes about a minute
REMOVALS_FOLDER = "fjernelser"
MEETINGS_FOLDER = "moeder"
REMOVAL_SHARE = 0.05       # of the citizens with active cases in two departments at some snapshot
MEETING_SHARE = 0.6        # of the review meetings due, recorded as held
REVIEW_MONTHS = 6          # the sample rule set's review_after
DECISIONS_STREAM = 19      # removals and meetings draw from their own random stream: the rest is unchanged
REMOVAL_RULE = "two_departments"   # the rule id of the sample's (and the default) rule set


def parse_months(text: str) -> int:
    """'18m' or '18' -> 18; ConfigError outside 12-24 months."""
    match = re.fullmatch(r"\s*(\d{1,3})\s*m?\s*", text or "")
    months = int(match.group(1)) if match else -1
    if not MONTHS[0] <= months <= MONTHS[1]:
        raise ConfigError(f"history length {text!r} is not {MONTHS[0]}-{MONTHS[1]} months",
                          hint="write it as e.g. 18m")
    return months


def snapshot_dates(end: date, months: int) -> list[date]:
    """The `months` monthly dates ending on `end`, oldest first (31 Jan - 1 month = 31 Dec; 29-31
    roll over as in population.add_months)."""
    day = np.datetime64(end, "D")
    return [add_months(np.array([day]), -back)[0].astype(date) for back in range(months - 1, -1, -1)]


def generate_history(out_dir: Path, months: int = 18, citizens: int = HISTORY_CITIZENS, seed: int = 42,
                     end: date = date(2026, 11, 1), fmt: str = "parquet") -> list[date]:
    """Write one snapshot folder per month into out_dir; return the snapshot dates (oldest first)."""
    from targetgroup.sample import SAMPLE_SOURCES, load_sample_sources  # noqa: PLC0415 - package init

    if fmt not in HISTORY_FORMATS:
        raise ConfigError(f"unknown sample format {fmt!r}", hint=f"use one of {', '.join(HISTORY_FORMATS)}")
    if not MONTHS[0] <= months <= MONTHS[1]:
        raise ConfigError(f"{months} months of history is outside {MONTHS[0]}-{MONTHS[1]}")
    if citizens < 500:
        raise ConfigError(f"{citizens} citizens is too few for a history", hint="use 500 or more")
    sources = load_sample_sources()
    check_vocabulary(sources, str(SAMPLE_SOURCES))
    dates = snapshot_dates(end, months)
    first, last = np.datetime64(dates[0], "D"), np.datetime64(dates[-1], "D")
    rng = np.random.default_rng(seed)
    pop = build_population(rng, citizens, dates[-1])
    move_in, new_household = _family_changes(rng, pop, first, last)
    tables = _history_cases(rng, pop, first, last, move_in)
    spec = sources if fmt == "mixed" else derived_sources(sources, fmt)
    spec = {**spec, "suppressions": REMOVALS_FOLDER, "meetings": MEETINGS_FOLDER}
    depts_on = _two_departments(tables, dates)
    decisions = np.random.default_rng([seed, DECISIONS_STREAM])
    removals = _removals(decisions, depts_on, dates)
    held = _meetings_held(decisions, depts_on, dates)
    header = (f"# One monthly snapshot of targetgroup's sample with history (seed {seed}); derived from the\n"
              "# sample's sources.yaml by targetgroup.sample.history. Synthetic data, fake CPR numbers.\n")
    out_dir = Path(out_dir)
    for day in dates:
        folder = out_dir / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        d = np.datetime64(day, "D")
        seen = snapshot_population(pop, d, move_in, new_household)
        persons = spec["persons"]
        write_extract(person_table(seen, persons["columns"]), folder, persons)
        known = np.sort(seen.cpr)
        snap_rng = np.random.default_rng([seed, d.astype(np.int64)])
        for source in spec["sources"]:
            dept = source["department"]
            table = snapshot_cases(tables[dept], dept, d, first, known, pop.cpr)
            style = CPR_STYLE[dept] if fmt == "mixed" or CPR_STYLE[dept] != "number" else "plain"
            cpr = styled_cpr(table["cpr"].to_numpy(), style, snap_rng)
            write_extract(case_table(table, source["columns"], cpr), folder, source)
        _write_department_files(folder / REMOVALS_FOLDER, [r for r in removals if r[0] <= day],
                                "cpr,rule,removed_by,reason")
        _write_department_files(folder / MEETINGS_FOLDER, [r for r in held if r[0] <= day],
                                "cpr,rule,kind,held_on,recorded_by")
        (folder / "sources.yaml").write_text(
            header + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return dates


def _two_departments(tables: dict[str, pa.Table], dates: list[date]) -> list[dict[int, list[str]]]:
    """Per snapshot date, the citizens with an active case in two or more departments, and those
    departments (from the case book, as the extracts of that date show them)."""
    out = []
    for day in dates:
        d = np.datetime64(day, "D")
        seen: dict[int, list[str]] = {}
        for dept in DEPARTMENTS:
            table = tables[dept]
            start = table["start_date"].to_numpy(zero_copy_only=False).astype("datetime64[D]")
            end = table["end_date"].to_numpy(zero_copy_only=False).astype("datetime64[D]")
            status = table["status"].to_numpy(zero_copy_only=False).astype(object)
            active = (status == STATUS_ROLES[dept][ACTIVE]) & (start <= d) & (np.isnat(end) | (end >= d))
            for cpr in np.unique(table["cpr"].to_numpy()[active]):
                seen.setdefault(int(cpr), []).append(dept)
        out.append({cpr: found for cpr, found in seen.items() if len(found) >= 2})
    return out


def _first_seen(depts_on: list[dict[int, list[str]]]) -> dict[int, int]:
    first: dict[int, int] = {}
    for at, flagged in enumerate(depts_on):
        for cpr in flagged:
            first.setdefault(cpr, at)
    return first


def _removals(rng: np.random.Generator, depts_on: list[dict[int, list[str]]], dates: list[date]) -> list[tuple]:
    """(date, department, line) of each removal: REMOVAL_SHARE of the citizens with active cases
    in two departments on some snapshot date, removed on a snapshot 1-3 months after the first
    such date while they still have them, in the file of the first of those departments."""
    first_seen = _first_seen(depts_on)
    candidates = np.array(sorted(first_seen), dtype=np.int64)
    chosen = candidates[rng.random(len(candidates)) < REMOVAL_SHARE]
    out = []
    for cpr, later in zip(chosen, rng.integers(1, 4, size=len(chosen))):
        at = first_seen[int(cpr)] + int(later)
        if at < len(dates) and int(cpr) in depts_on[at]:
            out.append((dates[at], depts_on[at][int(cpr)][0],
                        f"{cpr:010d},{REMOVAL_RULE},Fiktiv Rådgiver,samarbejde ikke relevant (fiktivt)"))
    return out


def _meetings_held(rng: np.random.Generator, depts_on: list[dict[int, list[str]]], dates: list[date]) -> list[tuple]:
    """(date held, department, line) of the review meetings caseworkers record: for the citizens
    with active cases in two departments, a review falls due every REVIEW_MONTHS after the first
    snapshot that shows them so (as the sample rule set's review_after); MEETING_SHARE of those
    due by the last snapshot are recorded as held, from 30 days before to 20 days after the date."""
    first_seen = _first_seen(depts_on)
    last = np.datetime64(dates[-1], "D")
    out = []
    for cpr in sorted(first_seen):
        start = np.array([np.datetime64(dates[first_seen[cpr]], "D")])
        dept = depts_on[first_seen[cpr]][cpr][0]
        for k in range(1, 5):
            due = add_months(start, REVIEW_MONTHS * k)[0]
            if due > last:
                break
            if rng.random() < MEETING_SHARE:
                held = (due + np.timedelta64(int(rng.integers(-30, 21)), "D")).astype(date)
                out.append((held, dept, f"{cpr:010d},{REMOVAL_RULE},review,{held.isoformat()},Fiktiv Rådgiver"))
    return out


def _write_department_files(folder: Path, rows: list[tuple], header: str) -> None:
    """One CSV per department with the rows dated up to the snapshot (the folder always exists):
    a department keeps adding to one file."""
    folder.mkdir(parents=True, exist_ok=True)
    for dept in DEPARTMENTS:
        lines = [line for _, d, line in sorted(rows) if d == dept]
        if lines:
            (folder / f"{dept}.csv").write_text(header + "\n" + "\n".join(lines) + "\n", encoding="utf-8")


def _family_changes(rng: np.random.Generator, pop: Population, first: np.datetime64,
                    last: np.datetime64) -> tuple[np.ndarray, np.ndarray]:
    """Move-in dates (NaT: lived here all along) per citizen, whole households at a time, and
    per citizen the (date, household) of a move to a household of their own (NaT: none)."""
    span = int((last - first).astype(np.int64))
    households = np.unique(pop.household)
    arrives = households[rng.random(len(households)) < 0.03]
    day = first + rng.integers(1, span + 1, size=len(arrives)).astype("timedelta64[D]")
    move_in = np.full(pop.size, np.datetime64("NaT", "D"))
    at = np.searchsorted(arrives, pop.household)
    hit = (at < len(arrives)) & (arrives[np.minimum(at, len(arrives) - 1)] == pop.household)
    move_in[hit] = day[at[hit]]
    # separations: a father with children at home moves to a household of his own
    child = np.flatnonzero(pop.father >= 0)
    fathers = np.unique(pop.father[child[pop.household[pop.father[child]] == pop.household[child]]])
    leaving = fathers[rng.random(len(fathers)) < 0.05]
    new_household = np.full(pop.size, -1, dtype=np.int64)
    new_household[leaving] = pop.household.max() + 1 + np.arange(len(leaving))
    leave_day = np.full(pop.size, np.datetime64("NaT", "D"))
    leave_day[leaving] = first + rng.integers(1, span + 1, size=len(leaving)).astype("timedelta64[D]")
    return move_in, np.rec.fromarrays([leave_day, new_household], names="day,household")


def snapshot_population(pop: Population, day: np.datetime64, move_in: np.ndarray,
                        new_household: np.recarray) -> Population:
    """The citizens the CPR extract of `day` holds, with only the events up to `day`."""
    here = (pop.birth <= day) & ~(move_in > day)
    index = np.flatnonzero(here)
    remap = np.full(pop.size, -1, dtype=np.int64)
    remap[index] = np.arange(len(index))
    linked = lambda parent: np.where(parent >= 0, remap[np.maximum(parent, 0)], -1)  # noqa: E731
    moved_out = new_household.day <= day
    household = np.where(moved_out, new_household.household, pop.household)
    no_date = np.datetime64("NaT", "D")
    return replace(
        pop, cpr=pop.cpr[index], birth=pop.birth[index], male=pop.male[index], household=household[index],
        mother=linked(pop.mother[index]), father=linked(pop.father[index]),
        death=np.where(pop.death <= day, pop.death, no_date)[index],
        moved=np.where(pop.moved <= day, pop.moved, no_date)[index],
        protected=pop.protected[index], vulnerable=pop.vulnerable[index], name=pop.name.take(pa.array(index)))


def snapshot_cases(table: pa.Table, dept: str, day: np.datetime64, first: np.datetime64,
                   known: np.ndarray, population_cpr: np.ndarray) -> pa.Table:
    """A department's cases as its system shows them on `day` (same columns as `table`)."""
    start = table["start_date"].to_numpy(zero_copy_only=False).astype("datetime64[D]")
    end = table["end_date"].to_numpy(zero_copy_only=False).astype("datetime64[D]")
    cpr = table["cpr"].to_numpy()
    # citizens of the population show once they are in the CPR extract; planted unmatched
    # CPR numbers (never in it) show throughout
    in_pop = np.isin(cpr, population_cpr)
    listed = np.isin(cpr, known)
    keep = (start <= day) & (listed | ~in_pop)
    codes = STATUS_ROLES[dept]
    status = table["status"].to_numpy(zero_copy_only=False).astype(object)
    ended = (end >= first) & (end < day) & np.isin(status, [codes[ACTIVE], codes[PASSIVE]])
    status = np.where(ended, codes[CLOSED], status)
    shown = table.set_column(table.schema.get_field_index("status"), "status", pa.array(status, pa.string()))
    return shown.filter(pa.array(keep))


def _history_cases(rng: np.random.Generator, pop: Population, first: np.datetime64, last: np.datetime64,
                   move_in: np.ndarray) -> dict[str, pa.Table]:
    """The case book over the whole period: the sample's cases as of the first snapshot, plus
    courses that end and come back and citizens new to several departments."""
    book = case_book._CaseBook(rng, pop, first)
    case_book._vulnerable_cases(book)
    case_book._background_cases(book)
    case_book._planted_patterns(book)
    case_book._unmatched_cases(book)
    span = int((last - first).astype(np.int64))
    days = lambda low, high, k: rng.integers(low, high, size=k).astype("timedelta64[D]")  # noqa: E731
    age = age_on(pop.birth, last)
    here = alive_and_resident(pop, last) & np.isnat(move_in)
    adults = np.flatnonzero(here & (age >= 31) & (age <= 60) & ~pop.vulnerable)
    k = max(8, pop.size // 150)
    # leavers who come back: a jobcentre case throughout; the adult-social case closes early in
    # the period, and half of them get a new one 3-9 months later
    leavers = rng.choice(adults, size=min(k, len(adults)), replace=False)
    open_end = np.full(len(leavers), np.datetime64("NaT", "D"))
    book.add("JOB", leavers, "active", start=first - days(200, 900, len(leavers)), until=open_end)
    closes = first + days(20, max(21, span // 3), len(leavers))
    book.add("SOC", leavers, "active", start=first - days(100, 700, len(leavers)), until=closes)
    back = leavers[: len(leavers) // 2]
    book.add("SOC", back, "active", start=closes[: len(back)] + days(90, 270, len(back)), until=open_end[: len(back)])
    # newcomers: cases in two departments opening during the period; a third of them end again
    rest = np.setdiff1d(adults, leavers)
    new = rng.choice(rest, size=min(k, len(rest)), replace=False)
    opens = first + days(1, span, len(new))
    ends = np.where(rng.random(len(new)) < 0.33, opens + days(60, 240, len(new)), np.datetime64("NaT", "D"))
    book.add("JOB", new, "active", start=opens, until=np.full(len(new), np.datetime64("NaT", "D")))
    book.add("SUND", new, "active", start=opens, until=ends)
    tables = book.tables()
    return {dept: _after_move_in(tables[dept], pop, move_in) for dept in DEPARTMENTS}


def _after_move_in(table: pa.Table, pop: Population, move_in: np.ndarray) -> pa.Table:
    """Cases of citizens who move in during the period start no earlier than the move."""
    order = np.argsort(pop.cpr)
    cpr = table["cpr"].to_numpy()
    at = np.searchsorted(pop.cpr[order], cpr)
    found = pop.cpr[order][np.minimum(at, pop.size - 1)] == cpr
    arrived = np.full(len(cpr), np.datetime64("NaT", "D"))
    arrived[found] = move_in[order][at[found]]
    start = table["start_date"].to_numpy(zero_copy_only=False).astype("datetime64[D]")
    start = np.where(arrived > start, arrived, start)
    end = table["end_date"].to_numpy(zero_copy_only=False).astype("datetime64[D]")
    end = np.where(np.isnat(end), end, np.maximum(end, start))
    table = table.set_column(table.schema.get_field_index("start_date"), "start_date", pa.array(start, pa.date32()))
    return table.set_column(table.schema.get_field_index("end_date"), "end_date",
                            pa.array(end, pa.date32(), from_pandas=True))


__all__ = ["generate_history", "parse_months", "snapshot_dates", "HISTORY_CITIZENS"]
