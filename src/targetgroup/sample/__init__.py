"""A synthetic municipality: a CPR register extract and one case extract per department.

    generate(out_dir, citizens=20_000, seed=42, reference_date=date(2026, 11, 1), fmt="mixed")

writes the files and returns the number of rows per file name. With fmt="mixed" every extract
is written as the shipped sample's sources.yaml (`SAMPLE_SOURCES`) declares (formats, encodings, delimiters, date formats,
column names); "csv" and "parquet" write every extract in that one format and a matching
sources.yaml next to them. The same arguments give byte-identical files.

Stages: population.py (citizens, households, CPR) -> cases.py (cases per department)
-> write.py (files). All CPR numbers are synthetic: none passes the modulus-11 check.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import numpy as np
import yaml

from targetgroup.config import SAMPLE_SOURCES
from targetgroup.errors import ConfigError
from targetgroup.sample.cases import build_cases, check_vocabulary
from targetgroup.sample.population import build_population
from targetgroup.sample.write import CPR_STYLE, case_table, derived_sources, person_table, styled_cpr, write_extract

__all__ = ["generate", "SAMPLE_SOURCES"]

FORMATS = ("mixed", "csv", "parquet")


def load_sample_sources(path: Path = SAMPLE_SOURCES) -> dict:
    """The sample's sources configuration as plain data (the generator's contract)."""
    if not path.is_file():
        raise ConfigError("the sample sources configuration is missing", file=path,
                          hint="reinstall targetgroup (the sample ships in the package); the generator writes what it declares")
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def generate(out_dir: Path, citizens: int = 20_000, seed: int = 42,
             reference_date: date = date(2026, 11, 1), fmt: str = "mixed") -> dict[str, int]:
    """Write a synthetic municipality into out_dir; return row counts per file name."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown sample format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    if citizens < 200:
        raise ConfigError(f"{citizens} citizens is too few for every planted pattern", hint="use 200 or more")
    sources = load_sample_sources()
    check_vocabulary(sources, str(SAMPLE_SOURCES))
    rng = np.random.default_rng(seed)
    population = build_population(rng, citizens, reference_date)
    cases = build_cases(rng, population, reference_date)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    spec = sources if fmt == "mixed" else derived_sources(sources, fmt)
    persons = spec["persons"]
    counts = {persons["path"]: write_extract(person_table(population, persons["columns"]), out_dir, persons)}
    for source in spec["sources"]:
        dept = source["department"]
        style = CPR_STYLE[dept] if fmt == "mixed" or CPR_STYLE[dept] != "number" else "plain"
        cpr = styled_cpr(cases[dept]["cpr"].to_numpy(), style, rng)
        counts[source["path"]] = write_extract(case_table(cases[dept], source["columns"], cpr), out_dir, source)

    target = out_dir / "sources.yaml"
    if fmt == "mixed":
        if target.resolve() != SAMPLE_SOURCES:
            shutil.copyfile(SAMPLE_SOURCES, target)
    else:
        header = f"# Derived from the sample's sources.yaml by targetgroup.sample.generate(fmt={fmt!r}).\n"
        target.write_text(header + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return counts
