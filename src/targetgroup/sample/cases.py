"""The departments' cases for a synthetic population.

`build_cases(rng, pop, reference_date, departments)` returns one pyarrow table per department
(grain: one row per case) with canonical columns: cpr (int64), case_id, case_type, status,
start_date, end_date (date32, null = open), caseworker, team and, for SOC, consent.

Vulnerable households get active cases in several departments; other citizens get background
cases in one department; a few planted groups make every example rule in DOMAIN.md match.
Status codes and case types are checked against the sources configuration before use.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from targetgroup.errors import ConfigError
from targetgroup.sample.population import Population, add_months, age_on, alive_and_resident, unique_cprs

DEPARTMENTS = ("BUF", "JOB", "SOC", "SUND", "UNG")
ACTIVE, PASSIVE, CLOSED, PENDING = range(4)
# Which of each system's codes plays which role. PENDING is used for created-but-not-started cases.
STATUS_ROLES = {
    "BUF": ("Aktiv", "Passiv", "Afsluttet", "Oprettet"),
    "JOB": ("AKT", "PAS", "AFS", "AKT"),
    "SOC": ("Bevilget", "Pause", "Afsluttet", "Bevilget"),
    "SUND": ("1", "2", "9", "1"),
    "UNG": ("I gang", "Venter", "Afsluttet", "Venter"),
}
CASE_TYPES = {
    "BUF": {"Forebyggende foranstaltning": 0.55, "Anbringelse": 0.12,
            "Børnefaglig undersøgelse": 0.23, "Handicapkompenserende ydelse": 0.10},
    "JOB": {"Aktivitetsparat kontanthjælp": 0.30, "Jobparat kontanthjælp": 0.25,
            "Uddannelseshjælp": 0.15, "Sygedagpenge": 0.20, "Ressourceforløb": 0.10},
    "SOC": {"Bostøtte": 0.4, "Misbrugsbehandling": 0.2, "Botilbud": 0.1, "Kontaktperson": 0.3},
    "SUND": {"Psykiatri": 0.4, "Rehabilitering": 0.3, "Hjemmesygepleje": 0.3},
    "UNG": {"Uddannelsesvejledning": 0.5, "Mentorforløb": 0.25, "Kontaktforløb": 0.25},
}
ACTIVATION_READY = "Aktivitetsparat kontanthjælp"
TEAMS = {
    "BUF": ["Familieteam Nord", "Familieteam Syd", "Handicapteamet"],
    "JOB": ["Jobcenter Syd - Kontanthjælp", "Ungeenheden", "Sygedagpengeteamet", "Ressourceteamet"],
    "SOC": ["Socialpsykiatri Øst", "Bostøtte Vest", "Misbrugscentret"],
    "SUND": ["Psykiatriteam Centrum", "Rehabilitering Midt"],
    "UNG": ["Ungevejledningen Nord", "Ungevejledningen Syd"],
}
CASEWORKERS = {
    "BUF": ["Mette Lund", "Sofie Kjær", "Jens Østergaard", "Lone Bæk", "Rikke Holm", "Anders Møller",
            "Tina Dahl", "Birgitte Søndergaard", "Kasper Frølund", "Hanne Ærenlund"],
    "JOB": ["Lars Nørgaard", "Pia Skov", "Mads Høj", "Karina Juhl", "Ole Bøgh", "Dorthe Lykke",
            "Søren Friis", "Maria Ågesen", "Jesper Krog", "Nina Vestergård", "Henrik Bjørnholm",
            "Louise Kirk"],
    "SOC": ["Gitte Brøndum", "Torben Hald", "Susanne Mølgaard", "Peter Aagaard", "Marianne Lønborg",
            "Kim Sæbye", "Helle Rønne", "Jacob Wæver"],
    "SUND": ["Camilla Thøgersen", "Niels Hørup", "Inge Kærgaard", "Frederik Lerche", "Anja Præst",
             "Bente Ørum"],
    "UNG": ["Emil Vang", "Julie Bækkelund", "Sara Ølgaard", "Mikkel Dyrholm", "Ida Skjødt",
            "Rasmus Fønss", "Katrine Hjort"],
}
# Ages (on the reference date, inclusive) for which a department opens cases.
ELIGIBLE = {"BUF": (0, 17), "JOB": (16, 67), "SOC": (18, 100), "SUND": (0, 100), "UNG": (15, 29)}
# Probability of an active case per department for members of vulnerable households, by age band.
AGE_BANDS = np.array([0, 15, 18, 30, 68])
VULNERABLE_ACTIVE = np.array([
    # BUF  JOB   SOC   SUND  UNG
    [0.65, 0.00, 0.00, 0.15, 0.00],  # 0-14
    [0.60, 0.10, 0.00, 0.15, 0.45],  # 15-17
    [0.00, 0.60, 0.20, 0.25, 0.45],  # 18-29
    [0.00, 0.55, 0.30, 0.30, 0.00],  # 30-67
    [0.00, 0.00, 0.30, 0.50, 0.00],  # 68+
])
BACKGROUND_WEIGHT = np.array([0.20, 0.35, 0.12, 0.25, 0.08])
KINDS = ("active", "closed", "passive", "future", "ends_today", "stale")
BACKGROUND_KIND_SHARE = np.array([0.45, 0.33, 0.08, 0.05, 0.03, 0.06])


def check_vocabulary(sources: dict, file: str) -> None:
    """Fail with ConfigError if a status code or case type used here is missing from `sources`."""
    by_department = {s["department"]: s for s in sources["sources"]}
    for dept in DEPARTMENTS:
        if dept not in by_department:
            raise ConfigError(f"no source for department {dept}", file=file, key="sources",
                              hint="the sample generator writes one extract per department")
        declared = {str(code) for code in by_department[dept]["statuses"]}
        for code in STATUS_ROLES[dept]:
            if code not in declared:
                raise ConfigError(f"status code {code!r} is not declared for {dept}", file=file,
                                  key=f"sources.{by_department[dept]['name']}.statuses",
                                  hint="declare it, or change STATUS_ROLES in targetgroup.sample.cases")
        missing = set(CASE_TYPES[dept]) - set(by_department[dept].get("case_types", []))
        if missing:
            raise ConfigError(f"case types {sorted(missing)} are not declared for {dept}", file=file,
                              key=f"sources.{by_department[dept]['name']}.case_types",
                              hint="declare them, or change CASE_TYPES in targetgroup.sample.cases")


class _CaseBook:
    """Collects cases per department as numpy column batches, then builds the tables."""

    def __init__(self, rng: np.random.Generator, pop: Population, ref: np.datetime64):
        self.rng, self.pop, self.ref = rng, pop, ref
        self.age = age_on(pop.birth, ref)
        self.parts: dict[str, list[dict[str, np.ndarray]]] = {d: [] for d in DEPARTMENTS}

    def eligible(self, dept: str) -> np.ndarray:
        low, high = ELIGIBLE[dept]
        return (self.age >= low) & (self.age <= high)

    def add(self, dept: str, who: np.ndarray, kind: str, *, case_type: str | None = None,
            start: np.ndarray | None = None, cpr: np.ndarray | None = None,
            birth: np.ndarray | None = None, until: np.ndarray | None = None) -> None:
        """Add one case of `kind` in `dept` for each citizen index in `who` (or each given cpr);
        `start` and `until` (the end date, NaT: open) replace the kind's drawn dates where given."""
        rng, ref = self.rng, self.ref
        k = len(who) if cpr is None else len(cpr)
        if k == 0:
            return
        days = lambda low, high: rng.integers(low, high, size=k).astype("timedelta64[D]")  # noqa: E731
        open_end = np.full(k, np.datetime64("NaT", "D"))
        role = np.full(k, ACTIVE)
        if kind == "active":
            begin = ref - days(14, 5 * 365)
            end = np.where(rng.random(k) < 0.35, ref + days(1, 730), open_end)
        elif kind == "closed":
            end = ref - days(1, 6 * 365)
            begin = end - days(30, 3 * 365)
            role[:] = CLOSED
        elif kind == "passive":
            begin = ref - days(30, 4 * 365)
            end = np.where(rng.random(k) < 0.3, ref + days(1, 365), open_end)
            role[:] = np.where(rng.random(k) < 0.2, PENDING, PASSIVE)
        elif kind == "future":
            begin = ref + days(1, 120)
            end = open_end
            role[:] = np.where(rng.random(k) < 0.5, PENDING, ACTIVE)
        elif kind == "ends_today":
            begin = ref - days(60, 3 * 365)
            end = np.full(k, ref)
        elif kind == "stale":  # still marked active, but its end date has passed
            begin = ref - days(400, 4 * 365)
            end = ref - days(1, 300)
        else:
            raise ValueError(f"unknown case kind {kind!r}")
        if start is not None:
            begin = start
        if until is not None:
            end = np.asarray(until, dtype="datetime64[D]")
        born = self.pop.birth[who] if birth is None else birth
        begin = np.maximum(begin, born)
        end = np.where(np.isnat(end), end, np.maximum(end, begin))
        types = list(CASE_TYPES[dept])
        if case_type is None:
            weights = np.array(list(CASE_TYPES[dept].values()))
            type_idx = rng.choice(len(types), size=k, p=weights / weights.sum())
            if dept == "JOB":  # education benefit is for the under-30s
                over_30 = (self.age[who] if cpr is None else np.full(k, 40)) >= 30
                type_idx[over_30 & (type_idx == types.index("Uddannelseshjælp"))] = types.index(ACTIVATION_READY)
        else:
            type_idx = np.full(k, types.index(case_type))
        self.parts[dept].append({
            "cpr": self.pop.cpr[who] if cpr is None else cpr,
            "type": type_idx, "role": role, "start": begin, "end": end,
        })

    def tables(self) -> dict[str, pa.Table]:
        return {dept: self._table(dept) for dept in DEPARTMENTS}

    def _table(self, dept: str) -> pa.Table:
        rng = self.rng
        cols = {key: np.concatenate([p[key] for p in self.parts[dept]]) for key in self.parts[dept][0]}
        order = rng.permutation(len(cols["cpr"]))
        cols = {key: value[order] for key, value in cols.items()}
        k = len(order)
        width = max(6, len(str(k)))
        ids = _ids(dept, k, width)
        worker = rng.integers(0, len(CASEWORKERS[dept]), size=k)
        worker_team = np.arange(len(CASEWORKERS[dept])) % len(TEAMS[dept])
        columns = {
            "cpr": pa.array(cols["cpr"]),
            "case_id": ids,
            "case_type": pa.array(list(CASE_TYPES[dept])).take(pa.array(cols["type"])),
            "status": pa.array(list(STATUS_ROLES[dept])).take(pa.array(cols["role"])),
            "start_date": pa.array(cols["start"], type=pa.date32()),
            "end_date": pa.array(cols["end"], type=pa.date32(), from_pandas=True),
            "caseworker": pa.array(CASEWORKERS[dept]).take(pa.array(worker)),
            "team": pa.array(TEAMS[dept]).take(pa.array(worker_team[worker])),
        }
        if dept == "SOC":
            consent = rng.choice(3, size=k, p=[0.6, 0.15, 0.25])
            columns["consent"] = pa.array(["ja", "nej", None]).take(pa.array(consent))
        return pa.table(columns)


def _ids(dept: str, k: int, width: int) -> pa.Array:
    """'BUF-000001', 'BUF-000002', ...: sequential within the department."""
    numbers = pc.cast(pa.array(np.arange(1, k + 1)), pa.string())
    return pc.binary_join_element_wise(pa.scalar(dept), pc.utf8_lpad(numbers, width=width, padding="0"), "-")


def build_cases(rng: np.random.Generator, pop: Population, reference_date: date) -> dict[str, pa.Table]:
    """Cases per department for `pop`, relative to `reference_date`."""
    ref = np.datetime64(reference_date, "D")
    book = _CaseBook(rng, pop, ref)
    _vulnerable_cases(book)
    _background_cases(book)
    _planted_patterns(book)
    _unmatched_cases(book)
    return book.tables()


def _vulnerable_cases(book: _CaseBook) -> None:
    """Members of vulnerable households: active cases in several departments, plus history."""
    rng, pop = book.rng, book.pop
    members = np.flatnonzero(pop.vulnerable)
    band = np.searchsorted(AGE_BANDS, book.age[members], side="right") - 1
    for d, dept in enumerate(DEPARTMENTS):
        eligible = book.eligible(dept)[members]
        chosen = members[eligible & (rng.random(len(members)) < VULNERABLE_ACTIVE[band, d])]
        today = rng.random(len(chosen)) < 0.03
        book.add(dept, chosen[~today], "active")
        book.add(dept, chosen[today], "ends_today")
    # Cases stay open in the systems for members who died or moved away.
    gone = members[~alive_and_resident(pop, book.ref)[members]]
    working_age = book.eligible("JOB")[gone]
    book.add("JOB", gone[working_age], "active")
    book.add("SUND", gone[~working_age], "active")
    # History: ended, passive and stale cases in a random eligible department.
    for kind, share in (("closed", 0.35), ("passive", 0.10), ("stale", 0.05)):
        _one_department_each(book, members[rng.random(len(members)) < share], kind)


def _background_cases(book: _CaseBook) -> None:
    """About 10 % of the other citizens get cases in one department; some get a second one there."""
    rng, pop = book.rng, book.pop
    others = np.flatnonzero(~pop.vulnerable)
    chosen = others[rng.random(len(others)) < 0.10]
    kind = rng.choice(len(KINDS), size=len(chosen), p=BACKGROUND_KIND_SHARE)
    dept = _pick_department(book, chosen)
    second = rng.random(len(chosen)) < 0.2
    for d, name in enumerate(DEPARTMENTS):
        for k, kind_name in enumerate(KINDS):
            book.add(name, chosen[(dept == d) & (kind == k)], kind_name)
        book.add(name, chosen[(dept == d) & second], "closed")


def _one_department_each(book: _CaseBook, who: np.ndarray, kind: str) -> None:
    dept = _pick_department(book, who)
    for d, name in enumerate(DEPARTMENTS):
        book.add(name, who[dept == d], kind)


def _pick_department(book: _CaseBook, who: np.ndarray) -> np.ndarray:
    """A department index per citizen, drawn from those that serve the citizen's age."""
    eligible = np.stack([book.eligible(d)[who] for d in DEPARTMENTS], axis=1)
    weight = np.cumsum(eligible * BACKGROUND_WEIGHT, axis=1)
    draw = book.rng.random(len(who)) * weight[:, -1]
    return (weight < draw[:, None]).sum(axis=1)


def _planted_patterns(book: _CaseBook) -> None:
    """Make sure each example rule matches a handful of citizens on the reference date."""
    rng, pop, ref, age = book.rng, book.pop, book.ref, book.age
    n = pop.size
    here = alive_and_resident(pop, ref)

    def pick(pool: np.ndarray, k: int) -> np.ndarray:
        pool = np.flatnonzero(pool)
        return rng.choice(pool, size=min(k, len(pool)), replace=False) if len(pool) else pool

    # (a) Family rule through the father: only-father links, and fathers in another household.
    father = np.maximum(pop.father, 0)
    linked = (pop.father >= 0) & here & here[father] & (age[father] >= 18) & (age[father] <= 67) & (age < 18)
    only_father = pick(linked & (pop.mother < 0), max(4, n // 2500))
    other_home = pick(linked & (pop.mother >= 0) & (pop.household != pop.household[father]), max(4, n // 2500))
    children = np.concatenate((only_father, other_home))
    book.add("BUF", children, "active")
    book.add("JOB", np.unique(pop.father[children]), "active")

    # (b) Activity-ready cash benefit for more than 8 years, and a few at exactly 8 years +-2 days.
    adults = here & (age >= 30) & (age <= 62)
    long_term = pick(adults, max(25, int(n * 0.0015)))
    start = (np.datetime64("2009-01-01") + rng.integers(0, 9 * 365 + 180, size=len(long_term))).astype("datetime64[D]")
    book.add("JOB", long_term, "active", case_type=ACTIVATION_READY, start=start)
    eight_years = add_months(np.array([ref]), -96)[0]
    boundary = pick(adults, 5)
    book.add("JOB", boundary, "active", case_type=ACTIVATION_READY,
             start=eight_years + np.arange(-2, 3)[: len(boundary)].astype("timedelta64[D]"))

    # (c) Young people with active UNG and JOB cases; (d) over-30s with JOB and SOC or SUND.
    young = pick(here & (age >= 16) & (age <= 29), max(6, n // 2000))
    book.add("UNG", young, "active")
    book.add("JOB", young, "active")
    over_30 = pick(here & (age > 30) & (age <= 66), max(6, n // 2000))
    book.add("JOB", over_30, "active")
    to_soc = rng.random(len(over_30)) < 0.5
    book.add("SOC", over_30[to_soc], "active")
    book.add("SUND", over_30[~to_soc], "active")

    # (e) Children turning 16, or 17 years and 6 months, within the next 60 days (2-58 days,
    # so the group does not depend on whether the window's ends are inclusive).
    window = lambda day: (day - ref >= np.timedelta64(2, "D")) & (day - ref <= np.timedelta64(58, "D"))  # noqa: E731
    turning = here & (window(add_months(pop.birth, 192)) | window(add_months(pop.birth, 210)))
    book.add("BUF", pick(turning, max(12, int(turning.sum() * 0.2))), "active")


def _unmatched_cases(book: _CaseBook) -> None:
    """A few cases per department for CPR numbers that are not in the register."""
    rng, pop, ref = book.rng, book.pop, book.ref
    k = max(2, pop.size // 5000)
    for dept in DEPARTMENTS:
        low, high = ELIGIBLE[dept]
        years = rng.uniform(max(low, 1) + 0.1, min(high, 60) + 0.9, size=k)
        birth = ref - np.round(years * 365.2425).astype("timedelta64[D]")
        cpr = unique_cprs(rng, birth, rng.random(k) < 0.5, taken=pop.cpr)
        book.add(dept, np.zeros(k, dtype=np.int64), "active", cpr=cpr, birth=birth)
