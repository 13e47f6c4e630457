"""Every shipped rule set on the generated sample municipality, against expected citizens that
this test derives independently with pandas from the raw files (not the project's SQL)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from targetgroup import pipeline
from targetgroup.config import load_sources
from targetgroup.cpr import clean
from targetgroup.rules import DEFAULT_RULES
from targetgroup.sample import generate

D = date(2026, 11, 1)
ACT = "Aktivitetsparat kontanthjælp"
pytestmark = pytest.mark.slow


def add_months(d: date, months: int) -> date:
    """d + months; a day the month lacks rolls over to the 1st of the next month."""
    y, m = divmod(d.month - 1 + months, 12)
    y, m = d.year + y, m + 1
    if d.day > calendar.monthrange(y, m)[1]:
        return date(y + (m == 12), m % 12 + 1, 1)
    return date(y, m, d.day)


def age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    generate(folder, citizens=20_000, seed=42, reference_date=D, fmt="csv")
    return folder / "sources.yaml"


@pytest.fixture(scope="module")
def world(sample) -> dict:
    """Residents and cases on D, computed with pandas from the raw CSV files."""
    config = load_sources(sample)
    p = config.persons
    raw = pd.read_csv(config.base / p.path, dtype=str, sep=p.delimiter, encoding=p.encoding)
    people = pd.DataFrame({k: raw[v] for k, v in p.columns.items()})
    for col in ("cpr", "mother_cpr", "father_cpr"):
        people[col] = people[col].map(lambda v: clean(v) if isinstance(v, str) else None)
    for col in ("birth_date", "death_date", "moved_away_date"):
        people[col] = pd.to_datetime(people[col], format=p.date_format).dt.date
    people["protected"] = people["protected"].fillna("").str.lower().isin(["1", "true", "ja", "yes", "j", "x"])
    gone = people["death_date"].map(lambda x: pd.notna(x) and x <= D) | \
        people["moved_away_date"].map(lambda x: pd.notna(x) and x <= D)
    residents = people[~gone].set_index("cpr")
    residents["age"] = residents["birth_date"].map(lambda b: age(b, D))
    frames = []
    for src in config.sources:
        raw = pd.read_csv(config.base / src.path, dtype=str, sep=src.delimiter, encoding=src.encoding)
        cases = pd.DataFrame({k: raw[v] for k, v in src.columns.items()})
        cases["cpr"] = cases["cpr"].map(clean)
        cases["department"] = src.department
        for col in ("start_date", "end_date"):
            cases[col] = pd.to_datetime(cases[col], format=src.date_format).dt.date
        cases["is_active"] = cases["status"].str.strip().str.lower().isin(src.active_codes)
        cases["consent"] = cases.get("consent", pd.Series(dtype=str)).map(src.consent_values) if "consent" in cases else None
        frames.append(cases)
    cases = pd.concat(frames, ignore_index=True)
    cases = cases[cases["cpr"].isin(residents.index)]
    on_d = cases["is_active"] & (cases["start_date"] <= D) & cases["end_date"].map(lambda e: pd.isna(e) or e >= D)
    active = cases[on_d]
    return {"residents": residents, "cases": cases, "active": active,
            "depts": active.groupby("cpr")["department"].agg(set).to_dict(),
            "refused": set(active.loc[active["consent"] == "refused", "cpr"])}


def has(world, cpr, *departments) -> bool:
    return set(departments) <= world["depts"].get(cpr, set())


def any_of(world, cpr, *departments) -> bool:
    return bool(set(departments) & world["depts"].get(cpr, set()))


def family(world, child_ok, parent_ok, household_adults=False) -> set[str]:
    res = world["residents"]
    members = set()
    for cpr, row in res[res["age"] < 18].iterrows():
        if not child_ok(cpr):
            continue
        parents = {row["mother_cpr"], row["father_cpr"]} - {None}
        if household_adults and pd.notna(row["household_id"]):
            same = res[(res["household_id"] == row["household_id"]) & (res["age"] >= 18)]
            parents |= set(same.index)
        hits = {q for q in parents if q in res.index and parent_ok(q)}
        if hits:
            members |= {cpr} | hits
    return members


def spells_over_8y(world) -> set[str]:
    cases = world["cases"]
    act = cases[(cases["department"] == "JOB") & (cases["case_type"] == ACT)]
    on_d = act["is_active"] & (act["start_date"] <= D) & act["end_date"].map(lambda e: pd.isna(e) or e >= D)
    ended = act["end_date"].map(lambda e: pd.notna(e) and e < D)
    periods = pd.concat([act[on_d].assign(end_date=D), act[ended & ~on_d]])
    out = set()
    for cpr, group in periods.groupby("cpr"):
        start = reach = None
        for s, e in sorted(zip(group["start_date"], group["end_date"])):
            if reach is None or s > reach + timedelta(days=1):
                start, reach = s, e
            else:
                reach = max(reach, e)
        if reach == D and add_months(start, 96) < D:
            out.add(cpr)
    return out


def expected(world, name: str) -> set[tuple[str, str]]:
    res, refused = world["residents"], world["refused"]
    people = list(res.index)
    keep = lambda rule, cprs: {(rule, c) for c in cprs if c not in refused}  # noqa: E731
    if name == "default":
        return {("two_departments", c) for c in people if len(world["depts"].get(c, ())) >= 2}
    if name == "furesoe":
        return keep("two_centres", [c for c in people if len(world["depts"].get(c, ())) >= 2
                                    and not res.loc[c, "protected"]])
    if name == "odense":
        person = [c for c in people if has(world, c, "BUF") and any_of(world, c, "JOB", "SOC")]
        fam = family(world, lambda c: has(world, c, "BUF"), lambda c: any_of(world, c, "JOB", "SOC"))
        return keep("buf_bsf_person", person) | keep("buf_bsf_family", fam)
    if name == "halsnaes":
        young = [c for c in people if 15 <= res.loc[c, "age"] <= 29 and has(world, c, "UNG", "JOB")]
        fam = family(world, lambda c: has(world, c, "BUF"), lambda c: has(world, c, "JOB"))
        over = [c for c in people if res.loc[c, "age"] >= 31 and has(world, c, "JOB") and any_of(world, c, "SOC", "SUND")]
        return keep("young", young) | keep("family", fam) | keep("vulnerable_over_30", over)
    if name == "esbjerg_stepup":
        return keep("stepup", spells_over_8y(world))
    if name == "ballerup_transitions":
        def turning(c):
            birth = res.loc[c, "birth_date"]
            return any(D <= add_months(birth, m) <= D + timedelta(days=60) for m in (192, 210))
        return keep("transition_meeting", [c for c in people if has(world, c, "BUF") and turning(c)])
    if name == "assens_family":
        return keep("family_plan", family(world, lambda c: has(world, c, "BUF"), lambda c: has(world, c, "JOB"),
                                          household_adults=True))
    if name == "sample":
        area = [c for c in people if res.loc[c, "area"] in ("FIKTIV-03", "FIKTIV-07") and any_of(world, c, "JOB", "SOC")]
        return keep("two_departments", [c for c in people if len(world["depts"].get(c, ())) >= 2]) | \
            keep("area_effort", area)
    raise AssertionError(name)


SHIPPED = sorted(p.stem for p in DEFAULT_RULES.parent.glob("*.yaml"))


def test_every_rule_set_is_tested():
    assert SHIPPED == sorted(["default", "odense", "furesoe", "halsnaes", "esbjerg_stepup",
                              "ballerup_transitions", "assens_family", "sample"])


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_rule_set_flags_the_expected_citizens(sample, world, tmp_path, name):
    settings = pipeline.RunSettings(sources=sample, rules=DEFAULT_RULES.parent / f"{name}.yaml", as_of=D,
                                    out=tmp_path, warehouse=tmp_path / "none.duckdb")
    run = pipeline.prepare(settings)
    pipeline.extract(run)
    pipeline.stage(run)
    pipeline.identify(run)
    got = set(run.con.execute("select rule_id, cpr from targets").fetchall())
    run.close()
    want = expected(world, name)
    assert want, f"{name} flags nobody in the sample"
    rules_in_set = {r for r, _ in want}
    assert rules_in_set == {r for r, _ in got}, "every rule of the set flags someone"
    assert got == want
