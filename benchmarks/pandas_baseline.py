"""The pandas baseline: the benchmark's two rules written the way an analyst would, in plain pandas.

    python benchmarks/pandas_baseline.py SOURCES_YAML [--as-of 2026-11-01]

Reads every extract the sources file names (CSV or Parquet) into DataFrames, cleans CPR numbers,
keeps citizens alive and resident on the as-of date, keeps cases active on that date, and finds
- two_departments: citizens with active cases in at least two departments;
- buf_child_job_parent: minors with an active BUF case and a parent (mother or father in the
  CPR extract) with an active JOB case; both the child and the parent are flagged.
Prints one JSON line of counts and, per rule, a sha256 digest of the sorted flagged CPR numbers
(no CPR number itself). benchmarks/run.py times it in a fresh process and compares both with the
pipeline's; tests/test_benchmark_baseline.py compares the sets themselves (`flagged`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from datetime import date
from pathlib import Path

import pandas as pd
import yaml


def read_extract(base: Path, spec: dict) -> pd.DataFrame:
    path = base / spec["path"]
    if spec["format"] == "parquet":
        return pd.read_parquet(path).astype("string")
    encoding = "utf-8-sig" if spec.get("encoding", "utf-8") == "utf-8" else spec["encoding"]
    return pd.read_csv(path, sep=spec.get("delimiter", ","), encoding=encoding, dtype=str, keep_default_na=False)


def clean_cpr(values: pd.Series) -> pd.Series:
    cpr = values.str.strip().str.replace(r"\.0$", "", regex=True).str.replace(r"[-\s]", "", regex=True)
    cpr = cpr.where(cpr.str.len() != 9, "0" + cpr)
    return cpr.where(cpr.str.fullmatch(r"\d{10}"))


def to_date(values: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(values.str.strip().str[:10].replace("", None), format=fmt, errors="coerce")


def flagged(sources: Path, as_of_date: date) -> tuple[dict[str, set[str]], int]:
    """The CPR numbers each rule flags on `as_of_date` (rule id -> set), and the active cases counted."""
    as_of = pd.Timestamp(as_of_date)
    config = yaml.safe_load(sources.read_text(encoding="utf-8"))
    base = sources.parent

    # --- citizens alive and resident on the as-of date
    spec = config["persons"]
    col = spec["columns"]
    people = read_extract(base, spec)
    persons = pd.DataFrame({
        "cpr": clean_cpr(people[col["cpr"]]),
        "birth_date": to_date(people[col["birth_date"]], spec.get("date_format", "%Y-%m-%d")),
        "mother_cpr": clean_cpr(people[col["mother_cpr"]]),
        "father_cpr": clean_cpr(people[col["father_cpr"]]),
        "death_date": to_date(people[col["death_date"]], spec.get("date_format", "%Y-%m-%d")),
        "moved_away_date": to_date(people[col["moved_away_date"]], spec.get("date_format", "%Y-%m-%d")),
    }).dropna(subset=["cpr", "birth_date"]).drop_duplicates("cpr")
    alive = persons["death_date"].isna() | (persons["death_date"] > as_of)
    here = persons["moved_away_date"].isna() | (persons["moved_away_date"] > as_of)
    residents = persons[alive & here].copy()
    # a minor's 18th birthday falls after the as-of date
    residents["minor"] = residents["birth_date"] > as_of.replace(year=as_of.year - 18)

    # --- cases active on the as-of date, of resident citizens
    frames = []
    for spec in config["sources"]:
        col = spec["columns"]
        raw = read_extract(base, spec)
        active_codes = {str(k).strip().lower() for k, v in spec["statuses"].items() if v}
        fmt = spec.get("date_format", "%Y-%m-%d")
        cases = pd.DataFrame({
            "cpr": clean_cpr(raw[col["cpr"]]),
            "status": raw[col["status"]].str.strip().str.lower(),
            "start": to_date(raw[col["start_date"]], fmt),
            "end": to_date(raw[col["end_date"]], fmt) if "end_date" in col else pd.NaT,
        })
        cases["department"] = spec["department"]
        active = cases["status"].isin(active_codes) & (cases["start"] <= as_of) \
            & (cases["end"].isna() | (cases["end"] >= as_of))
        frames.append(cases[active & cases["cpr"].notna()])
    active = pd.concat(frames, ignore_index=True)
    active = active[active["cpr"].isin(residents["cpr"])]

    # --- rule 1: active cases in at least two departments
    departments = active.groupby("cpr")["department"].nunique()
    two = set(departments[departments >= 2].index)

    # --- rule 2: a minor with an active BUF case and a parent with an active JOB case
    buf = set(active.loc[active["department"] == "BUF", "cpr"])
    job = set(active.loc[active["department"] == "JOB", "cpr"])
    children = residents[residents["minor"] & residents["cpr"].isin(buf)]
    links = pd.concat([children[["cpr", "mother_cpr"]].rename(columns={"mother_cpr": "parent"}),
                       children[["cpr", "father_cpr"]].rename(columns={"father_cpr": "parent"})])
    links = links[links["parent"].isin(job) & links["parent"].isin(residents["cpr"])]
    family = set(links["cpr"]) | set(links["parent"])
    return {"two_departments": two, "buf_child_job_parent": family}, int(len(active))


def digest(cprs: set[str]) -> str:
    """sha256 of the sorted CPR numbers, one per line: equal digests, equal sets (no CPR shown)."""
    return hashlib.sha256("".join(f"{c}\n" for c in sorted(cprs)).encode()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sources", type=Path)
    parser.add_argument("--as-of", default="2026-11-01")
    args = parser.parse_args()
    rules, active_cases = flagged(args.sources, date.fromisoformat(args.as_of))
    every = set().union(*rules.values())
    print(json.dumps({"active_cases": active_cases, **{rule: len(cprs) for rule, cprs in rules.items()},
                      "citizens_flagged": len(every),
                      "digests": {**{rule: digest(cprs) for rule, cprs in rules.items()}, "all": digest(every)}}))


if __name__ == "__main__":
    main()
