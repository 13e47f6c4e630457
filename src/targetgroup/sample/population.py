"""The synthetic CPR register: citizens, households, parent links, CPR numbers, names.

`build_population(rng, n, reference_date)` returns a `Population`: one array entry per citizen
(grain: one row per citizen), index i being the same citizen in every array. Everything is
vectorised with numpy; there is no loop over citizens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NO_DATE = np.datetime64("NaT", "D")

# Household kinds and their shares; the vulnerable share per kind weights the ~6 % of
# vulnerable households towards families, as in the municipalities' own target groups.
SINGLE, COUPLE, COUPLE_KIDS, SINGLE_MOTHER, SINGLE_FATHER = range(5)
KIND_SHARE = np.array([0.36, 0.24, 0.28, 0.09, 0.03])
KIND_VULNERABLE = np.array([0.04, 0.02, 0.08, 0.18, 0.15])
KIND_ADULTS = np.array([1, 2, 2, 1, 1])

FEMALE_NAMES = [
    "Anne", "Mette", "Kirsten", "Hanne", "Helle", "Susanne", "Lene", "Marianne", "Camilla",
    "Pia", "Louise", "Charlotte", "Maria", "Bodil", "Inger", "Birthe", "Sørine", "Åse", "Solvejg",
    "Ida", "Emma", "Sofie", "Freja", "Clara", "Karoline", "Astrid", "Signe", "Maja", "Bjørg",
]
MALE_NAMES = [
    "Peter", "Jens", "Lars", "Henrik", "Søren", "Thomas", "Jørgen", "Niels", "Morten", "Anders",
    "Jesper", "Rasmus", "Martin", "Bjørn", "Ole", "Poul", "Kåre", "Torben", "Mads", "Frederik",
    "William", "Noah", "Oscar", "Lucas", "Malthe", "Emil", "Aksel", "Jørn", "Ulrik",
]
SURNAMES = [
    "Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen",
    "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen", "Thomsen", "Møller",
    "Kjær", "Holm", "Dahl", "Bøgh", "Østergaard", "Ærø-Hansen", "Bækgaard", "Lund", "Søndergaard",
    "Højgaard", "Skovgård", "Frølund", "Kjærsgaard", "Nørgaard", "Lykke-Møller", "Ågesen",
]

# Modulus-11 weights of the ten CPR digits (most significant first).
MOD11_WEIGHTS = np.array([4, 3, 2, 7, 6, 5, 4, 3, 2, 1], dtype=np.int64)


@dataclass(frozen=True)
class Population:
    """One entry per citizen. Parent links and households are indices/numbers, -1 meaning none."""

    cpr: np.ndarray          # int64, ten digits as a number
    birth: np.ndarray        # datetime64[D]
    male: np.ndarray         # bool
    household: np.ndarray    # int64, 1-based household number
    mother: np.ndarray       # int64 index of the mother in this population, -1 if not linked
    father: np.ndarray       # int64 index of the father, -1 if not linked
    death: np.ndarray        # datetime64[D], NaT if none
    moved: np.ndarray        # datetime64[D], NaT if none
    protected: np.ndarray    # bool: name and address protection
    vulnerable: np.ndarray   # bool: member of a vulnerable household (gets cases in several departments)
    name: pa.Array           # utf8

    @property
    def size(self) -> int:
        return len(self.cpr)


def age_on(birth: np.ndarray, day: np.datetime64) -> np.ndarray:
    """Whole years of age on `day` for each birth date (birthday counted on the day itself)."""
    b_y, b_md = _year_and_monthday(birth)
    d_y, d_md = _year_and_monthday(np.array([day], dtype="datetime64[D]"))
    return d_y[0] - b_y - (b_md > d_md[0])


def add_months(days: np.ndarray, months: int) -> np.ndarray:
    """`days` plus whole months; a day beyond the target month's end rolls over (29 Feb + 1 y = 1 Mar)."""
    month_start = days.astype("datetime64[M]")
    offset = days - month_start.astype("datetime64[D]")
    return (month_start + months).astype("datetime64[D]") + offset


def alive_and_resident(pop: Population, day: np.datetime64) -> np.ndarray:
    """True where the citizen neither died nor moved away on or before `day` (NaT compares False)."""
    return ~(pop.death <= day) & ~(pop.moved <= day)


def _year_and_monthday(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    month = (months - years.astype("datetime64[M]")).astype(np.int64) + 1
    day = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    return years.astype(np.int64) + 1970, month * 100 + day


def build_population(rng: np.random.Generator, n: int, reference_date: date) -> Population:
    """Draw `n` citizens in households, with parent links, CPR numbers, names and life events."""
    ref = np.datetime64(reference_date, "D")
    kind, kids = _households(rng, n)
    size = KIND_ADULTS[kind] + kids
    hh = np.repeat(np.arange(len(kind)), size)
    start = np.concatenate(([0], np.cumsum(size)[:-1]))
    pos = np.arange(n) - start[hh]
    hh_kind = kind[hh]
    adult = pos < KIND_ADULTS[hh_kind]

    male = _sex(rng, hh_kind, pos, adult)
    age = _ages(rng, kind, hh, hh_kind, pos, adult)
    birth = ref - np.maximum(1, np.round(age * 365.2425)).astype("timedelta64[D]")

    mother, father = _parents(rng, hh, hh_kind, pos, start, adult, male, age, kind)
    cpr = unique_cprs(rng, birth, male)
    vulnerable_hh = rng.random(len(kind)) < KIND_VULNERABLE[kind]
    vulnerable = vulnerable_hh[hh]
    protected = _protection(rng, vulnerable_hh, kids)[hh]
    death, moved = _life_events(rng, ref, birth, age, vulnerable)
    name = _names(rng, hh, pos, male, len(kind))
    return Population(cpr=cpr, birth=birth, male=male, household=hh.astype(np.int64) + 1,
                      mother=mother, father=father, death=death, moved=moved,
                      protected=protected, vulnerable=vulnerable, name=name)


def _households(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Household kinds and child counts whose sizes add up to exactly `n` (singles fill the rest)."""
    drawn = int(n / 2.1) + 16
    kind = rng.choice(len(KIND_SHARE), size=drawn, p=KIND_SHARE)
    kids = np.zeros(drawn, dtype=np.int64)
    couple_kids = kind == COUPLE_KIDS
    kids[couple_kids] = rng.choice([1, 2, 3, 4], size=couple_kids.sum(), p=[0.35, 0.42, 0.17, 0.06])
    single_parent = (kind == SINGLE_MOTHER) | (kind == SINGLE_FATHER)
    kids[single_parent] = rng.choice([1, 2, 3], size=single_parent.sum(), p=[0.5, 0.38, 0.12])
    keep = np.cumsum(KIND_ADULTS[kind] + kids) <= n
    kind, kids = kind[keep], kids[keep]
    rest = n - int((KIND_ADULTS[kind] + kids).sum())
    return (np.concatenate((kind, np.full(rest, SINGLE))),
            np.concatenate((kids, np.zeros(rest, dtype=np.int64))))


def _sex(rng, hh_kind, pos, adult) -> np.ndarray:
    male = rng.random(len(pos)) < 0.5
    with_partner = (hh_kind == COUPLE) | (hh_kind == COUPLE_KIDS)
    male[adult & with_partner] = pos[adult & with_partner] == 1
    male[adult & (hh_kind == SINGLE_MOTHER)] = False
    male[adult & (hh_kind == SINGLE_FATHER)] = True
    return male


def _ages(rng, kind, hh, hh_kind, pos, adult) -> np.ndarray:
    """Fractional ages in years on the reference date, 0 to just under 101."""
    n_hh = len(kind)
    # Adults without children at home: flat 18-65, thinning out towards 100.
    years = np.arange(18, 101)
    weight = np.where(years <= 65, 1.0, np.maximum(0.03, 1.0 - (years - 65) / 36.0))
    lone_age = rng.choice(years, size=n_hh, p=weight / weight.sum()) + rng.random(n_hh)
    parent_age = rng.uniform(22, 58, size=n_hh)
    with_kids = kind >= COUPLE_KIDS
    first_age = np.where(with_kids, parent_age, lone_age)
    partner_age = first_age + rng.normal(2, 3, size=n_hh)
    # Redraw out-of-range partners within a year of the limit: clipping would pile thousands of
    # citizens onto one birth date, more than that date has CPR numbers for.
    partner_age = np.where(partner_age < 18, 18 + rng.random(n_hh), partner_age)
    partner_age = np.where(partner_age >= 101, 100 + rng.random(n_hh), partner_age)
    eldest_child = np.minimum(parent_age - 19, 24.9)

    age = np.where(pos == 0, first_age[hh], partner_age[hh])
    child = ~adult
    age[child] = rng.random(child.sum()) * eldest_child[hh[child]]
    return np.clip(age, 0.003, 100.99)


def _parents(rng, hh, hh_kind, pos, start, adult, male, age, kind):
    """Mother/father indices: own household parents, some in another household, some missing."""
    n = len(hh)
    child = ~adult
    mother = np.full(n, -1, dtype=np.int64)
    father = np.full(n, -1, dtype=np.int64)
    first_adult = start[hh]
    couple = child & (hh_kind == COUPLE_KIDS)
    mother[couple] = first_adult[couple]
    father[couple] = first_adult[couple] + 1
    single_mother = child & (hh_kind == SINGLE_MOTHER)
    mother[single_mother] = first_adult[single_mother]
    single_father = child & (hh_kind == SINGLE_FATHER)
    father[single_father] = first_adult[single_father]

    # Parents living in another household: chosen among singles of a plausible age, per household
    # so that siblings share them.
    lone = adult & (hh_kind == SINGLE)
    hh_child_age = np.zeros(len(kind))
    np.maximum.at(hh_child_age, hh[child], age[child])
    ext_father = _pick_external(rng, lone & male, age, hh_child_age, (kind == SINGLE_MOTHER) & (rng.random(len(kind)) < 0.45))
    ext_mother = _pick_external(rng, lone & ~male, age, hh_child_age, (kind == SINGLE_FATHER) & (rng.random(len(kind)) < 0.4))
    father[single_mother] = ext_father[hh[single_mother]]
    mother[single_father] = ext_mother[hh[single_father]]

    # Step-parents: in a few couple households the children are linked through the father only.
    step = couple & (rng.random(len(kind)) < 0.04)[hh]
    mother[step] = -1
    # Foster children and unknown parents: no links at all.
    unlinked = child & (rng.random(n) < 0.02)
    mother[unlinked] = -1
    father[unlinked] = -1
    return mother, father


def _pick_external(rng, candidate, age, hh_child_age, wanted) -> np.ndarray:
    """Per household: a candidate parent 19-45 years older than its eldest child, or -1."""
    who = np.flatnonzero(candidate)
    order = np.argsort(age[who], kind="stable")
    who, ages = who[order], age[who][order]
    lo = np.searchsorted(ages, hh_child_age + 19)
    hi = np.searchsorted(ages, hh_child_age + 45)
    span = hi - lo
    pick = lo + np.floor(rng.random(len(hh_child_age)) * span).astype(np.int64)
    found = wanted & (span > 0)
    result = np.full(len(hh_child_age), -1, dtype=np.int64)
    result[found] = who[pick[found]]
    return result


def unique_cprs(rng: np.random.Generator, birth: np.ndarray, male: np.ndarray,
                taken: np.ndarray | None = None) -> np.ndarray:
    """Unique synthetic CPR numbers (int64) matching birth date, century digit and sex.

    None passes the modulus-11 check, so they can never be mistaken for real, old-style CPRs.
    Numbers in `taken` are avoided too.
    """
    years, monthday = _year_and_monthday(birth)
    ddmmyy = (monthday % 100) * 10_000 + (monthday // 100) * 100 + years % 100
    cpr = np.zeros(len(birth), dtype=np.int64)
    todo = np.arange(len(birth))
    # `settled` stays sorted: sorting and searchsorted instead of np.unique/np.isin, whose hash
    # tables take seconds per call at millions of rows.
    settled = np.sort(np.array([], dtype=np.int64) if taken is None else taken)
    for _ in range(200):
        if not len(todo):
            return cpr
        drawn = _draw_cpr(rng, ddmmyy[todo], years[todo], male[todo])
        order = np.argsort(drawn, kind="stable")
        ordered = drawn[order]
        repeat = np.zeros(len(drawn), dtype=bool)
        repeat[order[1:][ordered[1:] == ordered[:-1]]] = True
        at = np.searchsorted(settled, drawn)
        repeat |= settled[np.minimum(at, len(settled) - 1)] == drawn if len(settled) else False
        cpr[todo[~repeat]] = drawn[~repeat]
        accepted = np.sort(drawn[~repeat])  # np.insert keeps sorted order only for sorted values
        settled = np.insert(settled, np.searchsorted(settled, accepted), accepted)
        todo = todo[repeat]
    raise ValueError(f"{len(todo)} citizens share a birth date with too many others to get a unique CPR number")


def _draw_cpr(rng, ddmmyy, years, male) -> np.ndarray:
    n = len(ddmmyy)
    # Seventh digit: 0-3 in the 1900s (4 or 9 too from 1937); 4-9 in 2000-2036.
    digit7 = rng.integers(0, 4, size=n)
    late_1900s = (years < 2000) & (years % 100 >= 37) & (rng.random(n) < 0.1)
    digit7[late_1900s] = rng.choice([4, 9], size=late_1900s.sum())
    modern = years >= 2000
    digit7[modern] = rng.integers(4, 10, size=modern.sum())
    middle = rng.integers(0, 100, size=n)
    last = rng.integers(0, 5, size=n) * 2 + male
    cpr = ddmmyy * 10_000 + digit7 * 1000 + middle * 10 + last
    # Moving the last digit by 2 keeps the sex and changes the weighted sum by 2 or -8 (never 0 mod 11).
    passes = mod11_passes(cpr)
    cpr[passes] += np.where(last[passes] >= 8, -8, 2)
    return cpr


def mod11_passes(cpr: np.ndarray) -> np.ndarray:
    """True where the ten-digit number passes the old modulus-11 check."""
    digits = (cpr[:, None] // 10 ** np.arange(9, -1, -1, dtype=np.int64)) % 10
    return (digits @ MOD11_WEIGHTS) % 11 == 0


def _protection(rng, vulnerable_hh, kids) -> np.ndarray:
    """Name and address protection per household: ~3 %, and a few vulnerable families for sure."""
    protected = rng.random(len(vulnerable_hh)) < 0.03
    families = np.flatnonzero(vulnerable_hh & (kids > 0))
    if len(families):
        chosen = rng.choice(families, size=min(len(families), max(3, len(families) // 40)), replace=False)
        protected[chosen] = True
    return protected


def _life_events(rng, ref, birth, age, vulnerable):
    """Death (~0.5 %, mostly the old) and moving away (~1 %); some before, some after `ref`."""
    n = len(birth)
    p_death = 0.002 + 0.05 * (age / 100) ** 4
    dies = rng.random(n) < p_death * (0.005 * n / p_death.sum())
    moves = ~dies & (rng.random(n) < 0.01)
    offset = rng.integers(-1500, 200, size=n).astype("timedelta64[D]")
    event = np.maximum(ref + offset, birth + np.timedelta64(1, "D"))
    # Vulnerable citizens who died or moved before the reference date while their cases stay open.
    members = np.flatnonzero(vulnerable & ~dies & ~moves)
    k = min(len(members), max(4, n // 4000))
    gone = rng.choice(members, size=k, replace=False)
    dies[gone[: k // 2]] = True
    moves[gone[k // 2:]] = True
    event[gone] = np.maximum(ref - rng.integers(1, 300, size=k).astype("timedelta64[D]"),
                             birth[gone] + np.timedelta64(1, "D"))
    # Boundary cases: one death and one move exactly on the reference date.
    edge = rng.choice(np.flatnonzero(vulnerable & ~dies & ~moves), size=2, replace=False)
    dies[edge[0]] = True
    moves[edge[1]] = True
    event[edge] = ref
    death = np.where(dies, event, NO_DATE)
    moved = np.where(moves, event, NO_DATE)
    return death, moved


def _names(rng, hh, pos, male, n_hh) -> pa.Array:
    """'First [Middle] Surname'; household members share a surname, some partners keep their own."""
    n = len(hh)
    surname = rng.integers(0, len(SURNAMES), size=n_hh)[hh]
    own = (pos == 1) & (rng.random(n) < 0.4)
    surname[own] = rng.integers(0, len(SURNAMES), size=own.sum())
    first = np.where(male, rng.integers(0, len(MALE_NAMES), size=n) + len(FEMALE_NAMES),
                     rng.integers(0, len(FEMALE_NAMES), size=n))
    firsts = pa.array(FEMALE_NAMES + MALE_NAMES).take(pa.array(first))
    lasts = pa.array(SURNAMES).take(pa.array(surname))
    middles = pa.array(SURNAMES).take(pa.array(rng.integers(0, len(SURNAMES), size=n)))
    plain = pc.binary_join_element_wise(firsts, lasts, " ")
    middle = pc.binary_join_element_wise(firsts, middles, lasts, " ")
    return pc.if_else(pa.array(rng.random(n) < 0.25), middle, plain)
