"""The synthetic municipality generator: determinism, CPR numbers, vocabulary, links, overlap."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest
import yaml

from targetgroup.errors import ConfigError
from targetgroup.sample import SAMPLE_SOURCES, generate

REFERENCE = date(2026, 11, 1)


@pytest.fixture(scope="module")
def csv_sample(tmp_path_factory) -> Path:
    """5,000 citizens, every extract as UTF-8 comma CSV, with its derived sources.yaml."""
    out = tmp_path_factory.mktemp("csv_sample")
    generate(out, citizens=5_000, seed=7, fmt="csv")
    return out


@pytest.fixture(scope="module")
def sources(csv_sample) -> dict:
    return yaml.safe_load((csv_sample / "sources.yaml").read_text(encoding="utf-8"))


def _csv(path: Path) -> str:
    """A DuckDB table expression reading a generated CSV as text (CPRs keep their leading zero)."""
    return f"read_csv('{path}', all_varchar = true, header = true)"


def test_same_arguments_give_byte_identical_files(tmp_path):
    first = generate(tmp_path / "a", citizens=2_000, seed=3)
    second = generate(tmp_path / "b", citizens=2_000, seed=3)
    assert first == second
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_mixed_format_follows_the_sample_sources(tmp_path):
    counts = generate(tmp_path, citizens=2_000, seed=3)
    declared = yaml.safe_load(SAMPLE_SOURCES.read_text(encoding="utf-8"))
    assert set(counts) == {declared["persons"]["path"], *(s["path"] for s in declared["sources"])}
    assert (tmp_path / "sources.yaml").read_bytes() == SAMPLE_SOURCES.read_bytes()
    buf = (tmp_path / "buf_dubu.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        buf.decode("utf-8")
    header, first = buf.decode("latin-1").splitlines()[:2]
    assert header.startswith("CPR-nr;Sagsnr;") and "Rådgiver" in header
    assert first[6] == "-" and first.split(";")[1] == "BUF-000001"


def test_cpr_numbers_are_unique_synthetic_and_match_the_birth_date(csv_sample):
    rows = duckdb.sql(f"select cpr, foedselsdato from {_csv(csv_sample / 'cpr_register.csv')}").fetchall()
    cprs = [cpr for cpr, _ in rows]
    assert all(len(c) == 10 and c.isdigit() for c in cprs)
    assert len(set(cprs)) == len(cprs)
    digits = np.array([[int(ch) for ch in c] for c in cprs])
    assert not ((digits @ np.array([4, 3, 2, 7, 6, 5, 4, 3, 2, 1])) % 11 == 0).any()
    for cpr, born in rows:
        yy, digit7 = int(cpr[4:6]), int(cpr[6])
        if digit7 <= 3 or (digit7 in (4, 9) and yy > 36):
            century = 1900
        elif digit7 in (4, 9) or yy <= 57:
            century = 2000
        else:
            century = 1800
        assert f"{century + yy}-{cpr[2:4]}-{cpr[0:2]}" == born, cpr


def test_status_codes_and_case_types_are_declared(csv_sample, sources):
    for source in sources["sources"]:
        cols = source["columns"]
        used = duckdb.sql(f'select distinct "{cols["status"]}", "{cols["case_type"]}" '
                          f"from {_csv(csv_sample / source['path'])}").fetchall()
        statuses = {str(code) for code in source["statuses"]}
        assert {status for status, _ in used} <= statuses, source["name"]
        assert {case_type for _, case_type in used} <= set(source["case_types"]), source["name"]


def test_parent_links_point_to_citizens_in_the_register(csv_sample):
    register = _csv(csv_sample / "cpr_register.csv")
    dangling, linked = duckdb.connect().execute(f"""
        with links as (
            select mor_cpr as parent from {register} where mor_cpr is not null
            union all
            select far_cpr from {register} where far_cpr is not null
        )
        select count(*) filter (where parent not in (select cpr from {register})), count(*) from links
    """).fetchone()
    assert dangling == 0 and linked > 1_000


def test_share_active_in_two_departments_is_realistic(csv_sample, sources):
    con = duckdb.connect()
    selects = []
    for source in sources["sources"]:
        cols = source["columns"]
        active = ", ".join(f"'{str(code).lower()}'" for code, on in source["statuses"].items() if on)
        selects.append(
            f"select '{source['department']}' as dept, replace(replace(\"{cols['cpr']}\", '-', ''), ' ', '') as cpr "
            f"from {_csv(csv_sample / source['path'])} "
            f"where lower(trim(\"{cols['status']}\")) in ({active}) "
            f"and \"{cols['start_date']}\"::date <= date '{REFERENCE}' "
            f"and coalesce(\"{cols['end_date']}\"::date >= date '{REFERENCE}', true)")
    register = _csv(csv_sample / "cpr_register.csv")
    share = con.execute(f"""
        with active_cases as ({' union all '.join(selects)}),
        here as (
            select cpr from {register}
            where coalesce(doedsdato::date > date '{REFERENCE}', true)
              and coalesce(fraflytningsdato::date > date '{REFERENCE}', true)
        ),
        overlap as (
            select cpr from active_cases join here using (cpr) group by cpr having count(distinct dept) >= 2
        )
        select (select count(*) from overlap) / (select count(*) from {register})
    """).fetchone()[0]
    assert 0.005 <= share <= 0.04


def test_derived_sources_point_to_the_written_files(tmp_path):
    counts = generate(tmp_path, citizens=1_000, seed=1, fmt="parquet")
    derived = yaml.safe_load((tmp_path / "sources.yaml").read_text(encoding="utf-8"))
    for spec in [derived["persons"], *derived["sources"]]:
        assert spec["format"] == "parquet" and "encoding" not in spec
        assert (tmp_path / spec["path"]).is_file()
        assert counts[spec["path"]] == duckdb.connect().execute(
            f"select count(*) from '{tmp_path / spec['path']}'").fetchone()[0]


def test_unknown_format_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="unknown sample format"):
        generate(tmp_path, citizens=1_000, fmt="xml")
